//! The product service's use cases, between the routes (HTTP) and the store (SQL): each opens
//! and commits its own transaction (or runs in the caller's, for an event's), writes its change
//! with its event and audit entry in it, and answers with a typed error. `catalog` holds the
//! staff's writes, `reviews` the shoppers' reviews and their moderation, `transfer` the CSV
//! import and export, `seed` the demo catalog.

pub(crate) mod catalog;
pub(crate) mod reviews;
pub mod seed;
pub(crate) mod transfer;
