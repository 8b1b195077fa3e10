//! What the payment service emits and consumes: it emits PAYMENT_SUCCEEDED / PAYMENT_FAILED on
//! `events.payment`, each in the transaction that records the provider's verdict; it consumes
//! nothing.

use service_kit::{Context, Redis, StartError};
use sqlx::PgPool;

/// Starts the relay to `events.payment`, stopped with the service.
pub async fn start(context: &mut Context<PgPool, Redis>) -> Result<(), StartError> {
    let relay = ::events::Relay::start(
        context.db.clone(),
        context.redis.connection.clone(),
        ::events::RelayConfig::new(crate::SERVICE, context.schema(), &context.redis.prefix),
        ::events::EventMetrics::new(&context.metrics),
    )
    .await
    .map_err(|e| StartError::part("event outbox", e))?;
    context.background.add(relay.spawn(context.background.stop_signal()));
    Ok(())
}
