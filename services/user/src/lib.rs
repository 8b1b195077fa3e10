//! The user service: profiles, addresses and preferences.
//!
//! Its domain arrives in a later issue. Today it owns its schema (made by the bootstrap), serves
//! `/health`, `/ready` and `/metrics`, and refuses every other route without a valid internal
//! token from the gateway (401 problem+json); with one, an unknown route is a 404 problem+json.

use service_kit::app::Application;
use service_kit::{ServiceConfig, StartError};

/// The service's name in the fleet table.
pub const SERVICE: &str = "user";

/// Connects what the service owns and binds its listener.
pub async fn build(config: ServiceConfig) -> Result<Application, StartError> {
    service_kit::service::start_without_routes(config, false).await
}
