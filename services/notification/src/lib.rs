//! The notification service: turns domain events into messages (email today; SMS and push
//! adapters ready for when profiles carry phone numbers and devices).
//!
//! An event is consumed in a transaction that renders the message from its template and records
//! it (one row per event, kind and channel, so a redelivered event adds nothing). A sender loop
//! then delivers pending messages through the configured transport, retrying with backoff, and
//! records the outcome. Sending is at least once; the Message-ID is derived from the event id so
//! receivers can de-duplicate too.

pub mod config;
mod handler;
mod routes;
mod sender;
pub mod store;
pub mod templates;
pub mod transport;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use events::{Consumer, ConsumerConfig, EventMetrics};
use service_kit::app::Application;
use service_kit::{Context, StartError};

pub use config::NotificationConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = "notification";

/// The notifications schema's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/notification");

/// The streams this service consumes.
pub const CONSUMES: &[&str] = &["auth"];

/// Connects, starts the event consumer and the sender, and binds the listener.
pub async fn build(config: NotificationConfig) -> Result<Application, StartError> {
    let templates = Arc::new(templates::Templates::new());
    let transports = Arc::new(config.transports().map_err(|e| StartError::Other(e.to_string()))?);
    let NotificationConfig { service, storefront_url, consumer: consumer_tuning, sender: sender_tuning, .. } = config;
    let redis_url = service.redis.as_ref().map(|r| r.url.clone()).unwrap_or_default();
    let mut context = Context::start(service, Some(&MIGRATOR), true).await?;

    let event_metrics = EventMetrics::new(&context.metrics);
    let mut consumer_config = ConsumerConfig::new(SERVICE, &context.key_prefix(), CONSUMES);
    consumer_tuning.apply(&mut consumer_config);
    let handler = Arc::new(handler::Notifier::new(templates, storefront_url));
    let consumer = Consumer::connect(context.pool(), &redis_url, consumer_config, handler, event_metrics).await?;
    context.extra_checks.push(consumer.readiness(context.redis()));
    context.background.add(consumer.spawn(context.background.stop_signal()));

    let sender = sender::Sender::new(context.pool(), transports, sender_tuning, &context.metrics);
    context.background.add(sender.spawn(context.background.stop_signal()));

    let routes =
        Router::new().route("/notifications/messages", get(routes::recent_messages)).with_state(context.pool());
    context.serve_internal(&["gateway"], routes).await
}
