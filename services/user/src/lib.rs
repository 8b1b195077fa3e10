//! The user service: a profile per account (made from USER_REGISTERED, or on demand by the first
//! `/users/me`), preferences (locale, currency, marketing and notification opt-ins) and
//! addresses with one default shipping and one default billing address. A user reaches only
//! their own data: the subject of the internal token is the only key used.

mod app;
pub mod config;
mod domain;
pub mod error;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use ::events::{ConsumerConfig, EventMetrics};
use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::Config;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::USER;

service_kit::fleet_service!(Config, config::from_env, consumes = events::CONSUMES, openapi = openapi,);

/// The users schema's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/user");

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects, starts the USER_REGISTERED consumer, binds the listener.
pub async fn build(config: Config) -> Result<Application, StartError> {
    build_with(config, |_| {}).await
}

/// Like [`build`], with the consumer's settings adjusted (tests shorten its timings).
pub async fn build_with(config: Config, tune: impl FnOnce(&mut ConsumerConfig)) -> Result<Application, StartError> {
    let mut context = Context::start(config).await?.with_database(&MIGRATOR).await?.with_redis().await?;
    let mut consumer_config = context.consumer_config(events::CONSUMES);
    tune(&mut consumer_config);
    let metrics = EventMetrics::new(&context.metrics);
    context.spawn_consumer(consumer_config, Arc::new(events::Profiles), metrics).await?;
    let state = routes::export::ExportState {
        pool: context.db.clone(),
        orders: contracts::order::OrderClient::new(context.client.clone()),
        products: contracts::product::ProductClient::new(context.client.clone()),
    };
    context.serve_internal(routes::router(state)).await
}
