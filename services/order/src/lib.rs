//! The order service: orders and their one state machine.
//!
//! A skeleton until its issue lands: it owns its schema `orders` (made by the bootstrap), serves
//! `/health`, `/ready` and `/metrics`, and refuses every other route without a valid internal token
//! from the gateway (401 problem+json); with one, an unknown route is a 404 problem+json. Its
//! modules have the shape every service has (config, error, routes, domain, store, events); the
//! first to be filled is `domain`: the order state machine and the totals function, public so the
//! coming routes and tests share them.

pub mod config;
pub mod domain;
pub mod error;
mod events;
mod routes;
mod store;

use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::Config;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::ORDER;

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects what the service owns and binds its listener.
pub async fn build(config: Config) -> Result<Application, StartError> {
    let context = Context::start(config).await?;
    context.serve_internal(&[fleet::GATEWAY], routes::router()).await
}
