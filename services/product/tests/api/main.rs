//! Integration tests of the product service against real PostgreSQL, in-process on port 0.

mod helpers;
mod listing;
