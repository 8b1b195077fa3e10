//! The order service's API tests: the real product, inventory, cart and user services on one
//! database and one Redis prefix, called as the gateway would.

mod discounts;
mod helpers;
mod paying;
mod placing;
mod refunding;
mod released;
mod staff;
