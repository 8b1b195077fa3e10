//! Integration tests of the auth service against real PostgreSQL, in-process on port 0.

mod admin;
mod helpers;
mod login;
mod register;
mod self_service;
mod staff;
mod tokens;
