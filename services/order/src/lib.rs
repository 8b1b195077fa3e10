//! The order service: placing orders from the cart (Idempotency-Key, current prices, a stock
//! reservation, one totals function, the order and ORDER_CREATED in one transaction), the
//! shopper's orders, cancelling an unpaid one, and the expiry of unpaid orders, which it alone
//! decides; staff shipping and delivery, and discount codes. The one state machine in `domain`,
//! the use cases (each owning its transaction) in `app`, the schema `orders` in `store`.

mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod invoices;
mod routes;
mod store;

use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::OrderConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::ORDER;

service_kit::fleet_service!(
    OrderConfig,
    OrderConfig::from_env,
    produces = true,
    consumes = events::CONSUMES,
    jobs = &[events::EXPIRY],
    openapi = openapi,
);

/// The order schema's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/order");

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects and migrates, starts the relay and the expiry job, binds the listener.
pub async fn build(config: OrderConfig) -> Result<Application, StartError> {
    let OrderConfig { service, payment_window, unpaid_hold, limits, expiry_every, seller, key_in_flight } = config;
    let mut context = Context::start(service).await?.with_database(&MIGRATOR).await?.with_redis().await?;
    events::start(&mut context, expiry_every, key_in_flight * 2, seller).await?;
    let client = context.client.clone();
    let state = routes::AppState {
        pool: context.db.clone(),
        currency: context.config.currency,
        payment_window,
        unpaid_hold: unpaid_hold.min(payment_window),
        limits,
        key_in_flight,
        cart: contracts::cart::CartClient::new(client.clone()),
        products: contracts::product::ProductClient::new(client.clone()),
        users: contracts::user::UserClient::new(client.clone()),
        inventory: contracts::inventory::InventoryClient::new(client),
    };
    context.serve_internal(routes::router(state)).await
}
