//! What the auth service emits and consumes. It emits, through its outbox in the transaction of
//! each change, USER_REGISTERED, EMAIL_VERIFICATION_REQUESTED, USER_EMAIL_VERIFIED,
//! PASSWORD_RESET_REQUESTED and PASSWORD_CHANGED on `events.auth` (the one-time tokens inside
//! are secret fields, redacted everywhere but in the payload the notification service reads);
//! it consumes nothing.

use service_kit::{Context, Redis, StartError};
use sqlx::PgPool;

/// Starts the relay that moves the outbox to `events.auth` (making the outbox first), stopped
/// with the service.
pub async fn spawn_relay(context: &Context<PgPool, Redis>) -> Result<(), StartError> {
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
