//! What the media service emits: MEDIA_UPLOADED (with the public URLs of the original and its
//! variants) and MEDIA_DELETED, each in the transaction of its change, through the relay to
//! `events.media`. It consumes nothing.

use service_kit::{Context, Redis, StartError};
use sqlx::PgPool;

/// Starts the relay of the media outbox, stopped with the service.
pub(crate) async fn start(context: &mut Context<PgPool, Redis>) -> Result<(), StartError> {
    let metrics = events::EventMetrics::new(&context.metrics);
    context.spawn_relay(metrics).await
}
