//! The order service's API tests: the real product, inventory, cart and user services on one
//! database and one Redis prefix, called as the gateway would.

use checkout_harness as helpers;

mod discounts;
mod invoices;
mod placing;
mod released;
mod shipping;
mod staff;
mod taxes;
