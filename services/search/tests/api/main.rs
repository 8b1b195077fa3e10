//! The search service's API tests: a real product and inventory service on a fresh database,
//! their events through a real Redis, and search's own index in a temporary directory.

mod helpers;
mod indexing;
mod searching;
