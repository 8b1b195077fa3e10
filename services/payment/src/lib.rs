//! The payment service: one intent per order with the built-in sandbox provider (test cards,
//! verdicts delivered as webhooks signed like Stripe's), webhook verification (HMAC-SHA256 over
//! `t.payload`, tolerance, rotation, constant time, events applied once by id), and
//! PAYMENT_SUCCEEDED / PAYMENT_FAILED in the verdict's transaction. Stripe's adapter, refunds
//! and reconciliation are the next slices of the checkout issue.

pub mod config;
pub mod domain;
pub mod error;
mod events;
mod routes;
pub mod sandbox;
mod store;

use std::sync::Arc;

use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::PaymentConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::PAYMENT;

/// The payment schema's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/payment");

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects and migrates, starts the relay, binds the listener. The sandbox's own deliveries
/// (straight to this service) carry an internal token of this service, hence its place among
/// the allowed issuers.
pub async fn build(config: PaymentConfig) -> Result<Application, StartError> {
    let PaymentConfig { service, webhook_secret, webhook_url } = config;
    let mut context = Context::start(service).await?.with_database(&MIGRATOR).await?.with_redis().await?;
    events::start(&mut context).await?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| StartError::part("webhook client", e))?;
    let sandbox =
        sandbox::Sandbox { secret: webhook_secret, url: webhook_url, http, minter: Arc::clone(&context.minter) };
    let state = routes::AppState {
        pool: context.db.clone(),
        orders: contracts::order::OrderClient::new(context.client.clone()),
        sandbox,
    };
    context.serve_internal(&[fleet::GATEWAY, fleet::PAYMENT], routes::router(state)).await
}
