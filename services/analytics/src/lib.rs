//! The analytics service: the storefront's tracking events (`POST /analytics/events`, kept raw
//! in day partitions for a configurable retention) and the business metrics the dashboards
//! read, maintained from the domain event stream: revenue, orders and average order value,
//! top sellers, the conversion funnel, new customers, refunds and low stock (`GET
//! /analytics/<report>`, JSON or CSV). The rules in `domain`, the consumer in `events`, the
//! schema `analytics` in `store`.

mod app;
pub mod config;
pub mod domain;
pub mod error;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use ::events::EventMetrics;
use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::AnalyticsConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::ANALYTICS;

/// The job that drops events and rollups past their retention.
const RETENTION_SWEEP: &str = "retention sweep";

service_kit::fleet_service!(
    AnalyticsConfig,
    AnalyticsConfig::from_env,
    consumes = events::CONSUMES,
    jobs = &[RETENTION_SWEEP],
    openapi = openapi,
);

/// The analytics schema's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/analytics");

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects and migrates, starts the domain event consumer and the retention sweep, binds the
/// listener.
pub async fn build(config: AnalyticsConfig) -> Result<Application, StartError> {
    build_with(config, |_| {}).await
}

/// Like [`build`], with the consumer's settings adjusted (tests shorten its timings).
pub async fn build_with(
    config: AnalyticsConfig,
    tune: impl FnOnce(&mut ::events::ConsumerConfig),
) -> Result<Application, StartError> {
    let settings = Arc::new(config.clone());
    let mut context = Context::start(config.service).await?.with_database(&MIGRATOR).await?.with_redis().await?;
    let mut consumer_config = context.consumer_config(events::CONSUMES);
    tune(&mut consumer_config);
    let metrics = EventMetrics::new(&context.metrics);
    context.spawn_consumer(consumer_config, Arc::new(events::Rollups), metrics).await?;
    let (pool, sweep) = (context.db.clone(), settings.clone());
    context.background.every(RETENTION_SWEEP, settings.retention_sweep, move || {
        let (pool, settings) = (pool.clone(), sweep.clone());
        async move {
            match sweep_retention(&pool, settings.clock.now().date_naive(), settings.retention_days).await {
                Ok(0) => {}
                Ok(days) => tracing::info!(days, "old tracking days dropped"),
                Err(error) => tracing::warn!(error = %service_kit::Chain(&error), "dropping old tracking days failed"),
            }
        }
    });
    let state = routes::AppState { pool: context.db.clone(), settings };
    context.serve_internal(routes::router(state)).await
}

/// Drops raw tracking data older than the retention as of `today` (what the sweep runs); how
/// many days went.
pub async fn sweep_retention(
    pool: &sqlx::PgPool,
    today: chrono::NaiveDate,
    retention_days: i64,
) -> Result<usize, sqlx::Error> {
    store::drop_tracking_before(pool, today - chrono::Duration::days(retention_days)).await
}
