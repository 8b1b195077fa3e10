//! The product service's API tests.

mod cache;
mod helpers;
mod listing;
mod reviews;
mod staff;
mod stock;
mod transfer;
