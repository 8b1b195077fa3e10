//! What the cms service emits: CONTENT_PUBLISHED when a page version, a menu or a snippet goes
//! live and CONTENT_UNPUBLISHED when a page is taken down, each in the transaction of its
//! change, through the relay to `events.cms`. It consumes nothing.

use service_kit::{Context, Redis, StartError};
use sqlx::PgPool;

/// Starts the relay of the cms outbox, stopped with the service.
pub(crate) async fn start(context: &mut Context<PgPool, Redis>) -> Result<(), StartError> {
    let metrics = events::EventMetrics::new(&context.metrics);
    context.spawn_relay(metrics).await
}
