//! The order service's use cases, between the routes (HTTP) and the store (SQL): each opens
//! and commits its own transaction, writes its change with its event (and, for staff, its audit
//! entry) in it, and answers with a typed error; none holds a transaction across a call to
//! another service. `checkout` places an order, `orders` moves it on (cancel, ship, deliver,
//! expire), `fulfillments` ships it in parts, `discounts` keeps the codes and their uses, `shipping` the zones and methods and
//! what ships an order.

pub(crate) mod checkout;
pub(crate) mod discounts;
pub(crate) mod fulfillments;
pub(crate) mod invoices;
pub(crate) mod orders;
pub(crate) mod shipping;
pub(crate) mod taxes;

use std::time::Duration;

use contracts::cart::CartClient;
use contracts::inventory::InventoryClient;
use contracts::product::ProductClient;
use contracts::user::UserClient;
use sqlx::PgPool;

/// What every order handler reads.
#[derive(Clone)]
pub(crate) struct AppState {
    pub pool: PgPool,
    pub currency: contracts::types::Currency,
    pub payment_window: Duration,
    /// How long an order without a started payment holds its stock (at most the window).
    pub unpaid_hold: Duration,
    /// What one shopper may hold unpaid.
    pub limits: crate::domain::Limits,
    /// How long an unfinished request keeps its key (then a retry resumes it).
    pub key_in_flight: Duration,
    pub cart: CartClient,
    pub products: ProductClient,
    pub users: UserClient,
    pub inventory: InventoryClient,
}
