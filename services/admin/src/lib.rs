//! The admin service: the back office's composition. Staff writes live on the owners' own
//! routes; this service composes what needs several owners, calling them over internal REST
//! with the staff member's own identity and permissions (so each owner decides for itself).
//! The dashboard (key figures as JSON, and a page with inline SVG charts) from analytics'
//! reports; the audit log of every staff write (gathered from every owner's AUDIT_RECORDED,
//! schema `admin`); staff (invitations, through auth), customers (auth's accounts, order's
//! orders; disabling an account) and orders with their payment and timeline (order, payment).
//! The figures and the page in `domain`.

mod app;
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

service_kit::fleet_service!(AdminConfig, AdminConfig::from_env, consumes = events::CONSUMES, openapi = openapi,);

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// The admin schema's migrations (the audit log), applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/admin");

/// Connects and migrates, starts the audit log's consumer, binds the listener.
pub async fn build(config: AdminConfig) -> Result<Application, StartError> {
    build_with(config, |_| {}).await
}

/// Like [`build`], with the consumer's settings adjusted (tests shorten its timings).
pub async fn build_with(
    config: AdminConfig,
    tune: impl FnOnce(&mut ::events::ConsumerConfig),
) -> Result<Application, StartError> {
    let settings = Arc::new(config.clone());
    let mut context = Context::start(config.service).await?.with_database(&MIGRATOR).await?.with_redis().await?;
    let mut consumer_config = context.consumer_config(events::CONSUMES);
    tune(&mut consumer_config);
    let metrics = ::events::EventMetrics::new(&context.metrics);
    context.spawn_consumer(consumer_config, Arc::new(events::AuditLog), metrics).await?;
    let state = app::AppState {
        analytics: AnalyticsClient::new(context.client.clone()),
        auth: contracts::auth::AuthClient::new(context.client.clone()),
        orders: contracts::order::OrderClient::new(context.client.clone()),
        payments: contracts::payment::PaymentClient::new(context.client.clone()),
        pool: context.db.clone(),
        settings,
    };
    context.serve_internal(routes::router(state)).await
}
