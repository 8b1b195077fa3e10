//! The admin service: the back office's composition. Staff writes live on the owners' own
//! routes; this service composes what needs several owners, calling them over internal REST
//! with the staff member's own identity and permissions (so each owner decides for itself).
//! So far: the dashboard (key figures as JSON, and a page with inline SVG charts) from
//! analytics' reports. The figures and the page in `domain`.

pub mod config;
pub mod domain;
pub mod error;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use contracts::analytics::AnalyticsClient;
use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::AdminConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::ADMIN;

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects what the service uses and binds its listener.
pub async fn build(config: AdminConfig) -> Result<Application, StartError> {
    let settings = Arc::new(config.clone());
    let context = Context::start(config.service).await?;
    let state = routes::AppState { analytics: AnalyticsClient::new(context.client.clone()), settings };
    context.serve_internal(&[fleet::GATEWAY], routes::router(state)).await
}
