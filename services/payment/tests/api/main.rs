//! The payment service's API tests: paying an order with the sandbox provider and refunding it,
//! in the checkout harness's shop (product, inventory, cart, user, order and payment on one
//! database and one Redis prefix), called as the gateway would.

use checkout_harness as helpers;

mod paying;
mod refunding;
