//! The product service: the catalog (products, categories), read over the fleet's internal
//! REST behind the gateway. Today: the listing with keyset pagination and the product detail by
//! id or slug (variants, categories, filters, reviews and caching come with the catalog issue),
//! and `product seed-demo`.

pub mod cli;
pub mod config;
mod domain;
pub mod error;
mod events;
mod routes;
pub mod seed;
mod store;

use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::Config;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::PRODUCT;

/// The catalog's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/product");

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects and migrates the catalog and binds the listener.
pub async fn build(config: Config) -> Result<Application, StartError> {
    let context = Context::start(config).await?.with_database(&MIGRATOR).await?;
    context.serve_internal(&[fleet::GATEWAY], routes::router(context.db.clone())).await
}
