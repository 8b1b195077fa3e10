//! The product service: the catalog a storefront is built on. Products with variants (SKU,
//! options, gross price in minor units of the shop's one currency), typed attributes, a category
//! tree of any depth; the listing with filters, five sorts on keyset pagination and facets, each
//! read one SQL statement; staff writes with their PRODUCT_* / CATEGORY_* events through the
//! outbox; `in_stock` kept from inventory's STOCK_CHANGED; `product seed-demo`.

mod app;
mod cache;
pub mod cli;
pub mod config;
mod domain;
pub mod error;
mod events;
mod routes;
mod store;

use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use app::seed;
pub use config::ProductConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::PRODUCT;

service_kit::fleet_service!(
    ProductConfig,
    ProductConfig::from_env,
    produces = true,
    consumes = events::CONSUMES,
    openapi = openapi,
);

/// The catalog's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/product");

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects and migrates the catalog, starts its relay and stock consumer, binds the listener.
pub async fn build(config: ProductConfig) -> Result<Application, StartError> {
    let ProductConfig { service, response_cache } = config;
    let mut context = Context::start(service).await?.with_database(&MIGRATOR).await?.with_redis().await?;
    let mut cache = cache::Cache::new(context.redis.connection.clone(), &context.redis.prefix, routes::CACHE_TTL);
    if !response_cache {
        cache = cache.disabled();
    }
    events::start(&mut context, cache.clone()).await?;
    let state = routes::AppState { pool: context.db.clone(), currency: context.config.currency, cache };
    context.serve_internal(routes::router(state)).await
}
