//! The auth service's use cases, between the routes (HTTP) and the store (SQL): accounts
//! (registration, sign-in with its throttle, verification), sessions (refresh rotation, sign-out
//! everywhere), self-service (password, email change, reset, deletion), staff accounts and
//! their second factor, admin actions, and the signing-key ring. Each opens and commits its own
//! transaction with its events and audit entries in it.

pub(crate) mod accounts;
pub(crate) mod admin;
pub mod keyring;
pub(crate) mod self_service;
pub(crate) mod session;
pub(crate) mod staff;
