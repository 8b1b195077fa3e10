//! The product service: the catalog (products, categories), read over the fleet's internal
//! REST behind the gateway. Today: the listing with keyset pagination and the product detail by
//! id or slug; filtering, reviews and caching arrive in later issues.

mod domain;
mod routes;
pub mod seed;
mod store;

use axum::Router;
use axum::routing::get;
use service_kit::app::Application;
use service_kit::{Context, ServiceConfig, StartError};

/// The service's name in the fleet table.
pub const SERVICE: &str = "product";

/// The catalog's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/product");

/// Connects and migrates the catalog and binds the listener.
pub async fn build(config: ServiceConfig) -> Result<Application, StartError> {
    let context = Context::start(config, Some(&MIGRATOR), false).await?;
    let routes = Router::new()
        .route("/products", get(routes::list_products))
        .route("/products/{id_or_slug}", get(routes::get_product))
        .with_state(context.pool());
    context.serve_internal(&["gateway"], routes).await
}
