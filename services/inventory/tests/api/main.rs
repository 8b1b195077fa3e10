//! The inventory service's API tests.

mod helpers;
mod levels;
mod reservations;
