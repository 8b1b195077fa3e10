//! The inventory service: stock per SKU with a movements ledger that sums to the totals,
//! all-or-nothing multi-line reservations idempotent by the order's id (rows locked in SKU
//! order, CHECKs that make overselling impossible), commit on ORDER_PAID, release on
//! ORDER_CANCELLED / ORDER_EXPIRED, a sweeper for orphaned reservations only, and
//! STOCK_CHANGED / STOCK_LOW whenever availability crosses zero or the threshold.

mod app;
pub mod cli;
pub mod config;
mod domain;
pub mod error;
mod events;
mod routes;
pub mod store;

use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use app::stock;
pub use config::InventoryConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::INVENTORY;

service_kit::fleet_service!(
    InventoryConfig,
    InventoryConfig::from_env,
    produces = true,
    consumes = events::CONSUMES,
    jobs = &[events::ORPHAN_SWEEP],
    openapi = openapi,
);

/// The inventory's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/inventory");

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects and migrates, starts the relay, the order-event consumer and the sweeper, and binds
/// the listener (public routes for the gateway, reservations for the order service).
pub async fn build(config: InventoryConfig) -> Result<Application, StartError> {
    let InventoryConfig { service, hold, orphan_grace, sweep_every, show_quantity } = config;
    let mut context = Context::start(service).await?.with_database(&MIGRATOR).await?.with_redis().await?;
    events::start(&mut context, sweep_every, orphan_grace).await?;
    let state = routes::AppState { pool: context.db.clone(), show_quantity, hold_secs: hold.as_secs_f64() };
    context.serve_internal(routes::router(state)).await
}
