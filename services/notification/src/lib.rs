//! The notification service: turns domain events into messages: email, and for order messages
//! also an SMS and a push to each registered device when the shopper's preferences ask for them.
//!
//! An event is consumed in a transaction that renders the message from its template and records
//! it (one row per event, kind and channel, so a redelivered event adds nothing). A sender loop
//! then delivers pending messages through the configured transport, retrying with backoff, and
//! records the outcome. Sending is at least once; the Message-ID is derived from the event id so
//! receivers can de-duplicate too.

mod app;
pub mod config;
mod domain;
pub mod error;
mod events;
mod routes;
pub mod store;
pub mod transport;

use std::sync::Arc;

use ::events::EventMetrics;
use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::NotificationConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::NOTIFICATION;

/// The job that delivers queued messages.
const SENDER: &str = "sender";

service_kit::fleet_service!(
    NotificationConfig,
    NotificationConfig::from_env,
    consumes = events::CONSUMES,
    jobs = &[SENDER],
    openapi = openapi,
);

/// The notifications schema's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/notification");

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects, starts the event consumer and the sender, and binds the listener.
pub async fn build(config: NotificationConfig) -> Result<Application, StartError> {
    let templates = Arc::new(domain::Templates::new());
    let transports = Arc::new(config.transports().map_err(|e| StartError::part("message transports", e))?);
    let NotificationConfig {
        service,
        storefront_url,
        consumer: consumer_tuning,
        sender: sender_tuning,
        sms_limits,
        ..
    } = config;
    let mut context = Context::start(service).await?.with_database(&MIGRATOR).await?.with_redis().await?;

    let event_metrics = EventMetrics::new(&context.metrics);
    let mut consumer_config = context.consumer_config(events::CONSUMES);
    consumer_tuning.apply(&mut consumer_config);
    let auth = contracts::auth::AuthClient::new(context.client.clone());
    let users = contracts::user::UserClient::new(context.client.clone());
    let handler =
        Arc::new(events::Notifier::new(Arc::clone(&templates), storefront_url, auth, users.clone(), sms_limits));
    context.spawn_consumer(consumer_config, handler, event_metrics).await?;

    let sender = app::sender::Sender::new(context.db.clone(), transports, sender_tuning, &context.metrics);
    context.background.job(SENDER, sender.spawn(context.background.stop_signal()));

    let state = app::AppState { pool: context.db.clone(), users, templates, sms_limits };
    context.serve_internal(routes::router(state)).await
}
