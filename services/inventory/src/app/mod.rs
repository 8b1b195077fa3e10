//! The inventory service's use cases, between the routes (HTTP) and the store (SQL): every
//! change of stock, each owning its transaction (or, for an order's event, running in the
//! consumer's) with its movement, events and audit entry in it.

pub mod stock;
