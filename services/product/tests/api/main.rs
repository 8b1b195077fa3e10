//! The product service's API tests.

mod cache;
mod helpers;
mod listing;
mod reviews;
mod search_export;
mod staff;
mod stock;
mod transfer;
