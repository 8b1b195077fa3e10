//! The cart service's API tests, against a real product service and Redis.

mod carts;
mod helpers;
