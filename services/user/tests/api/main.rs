//! Integration tests of the user service: real auth producing USER_REGISTERED, real Redis and
//! PostgreSQL, the user service in-process on port 0.

mod addresses;
mod devices;
mod helpers;
mod internal;
mod profile;
