//! What the payment service emits and consumes: it emits PAYMENT_SUCCEEDED / PAYMENT_FAILED on
//! `events.payment`, each in the transaction that records the provider's verdict; it consumes
//! nothing.

use service_kit::{Context, Redis, StartError};
use sqlx::PgPool;

/// Starts the relay to `events.payment`, stopped with the service.
pub async fn start(context: &mut Context<PgPool, Redis>) -> Result<(), StartError> {
    let metrics = ::events::EventMetrics::new(&context.metrics);
    context.spawn_relay(metrics).await
}
