//! The user service: a profile per account (made from USER_REGISTERED, or on demand by the first
//! `/users/me`), preferences (locale, currency, marketing and notification opt-ins) and
//! addresses with one default shipping and one default billing address. A user reaches only
//! their own data: the subject of the internal token is the only key used.

mod domain;
mod handler;
mod routes;
mod store;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use events::{Consumer, ConsumerConfig, EventMetrics};
use service_kit::app::Application;
use service_kit::{Context, ServiceConfig, StartError};

/// The service's name in the fleet table.
pub const SERVICE: &str = "user";

/// The users schema's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/user");

/// Connects, starts the USER_REGISTERED consumer, binds the listener.
pub async fn build(config: ServiceConfig) -> Result<Application, StartError> {
    build_with(config, |_| {}).await
}

/// Like [`build`], with the consumer's settings adjusted (tests shorten its timings).
pub async fn build_with(
    config: ServiceConfig,
    tune: impl FnOnce(&mut ConsumerConfig),
) -> Result<Application, StartError> {
    let redis_url = config.redis.as_ref().map(|r| r.url.clone()).unwrap_or_default();
    let mut context = Context::start(config, Some(&MIGRATOR), true).await?;
    let mut consumer_config = ConsumerConfig::new(SERVICE, &context.key_prefix(), &["auth"]);
    tune(&mut consumer_config);
    let metrics = EventMetrics::new(&context.metrics);
    let consumer =
        Consumer::connect(context.pool(), &redis_url, consumer_config, Arc::new(handler::Profiles), metrics).await?;
    context.extra_checks.push(consumer.readiness(context.redis()));
    context.background.add(consumer.spawn(context.background.stop_signal()));

    let routes = Router::new()
        .route("/users/me", get(routes::get_me).patch(routes::patch_me))
        .route("/users/me/preferences", get(routes::get_preferences).patch(routes::patch_preferences))
        .route("/users/me/addresses", get(routes::list_addresses).post(routes::create_address))
        .route(
            "/users/me/addresses/{id}",
            get(routes::get_address).patch(routes::update_address).delete(routes::delete_address),
        )
        .with_state(context.pool());
    context.serve_internal(&["gateway"], routes).await
}
