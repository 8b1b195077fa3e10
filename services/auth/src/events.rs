//! What the auth service emits and consumes. It emits, through its outbox in the transaction of
//! each change, USER_REGISTERED, EMAIL_VERIFICATION_REQUESTED, USER_EMAIL_VERIFIED,
//! PASSWORD_RESET_REQUESTED and PASSWORD_CHANGED on `events.auth` (the one-time tokens inside
//! are secret fields, redacted everywhere but in the payload the notification service reads);
//! it consumes nothing.

use service_kit::{Context, Redis, StartError};
use sqlx::PgPool;

/// Starts the relay that moves the outbox to `events.auth`, stopped with the service.
pub(crate) async fn spawn_relay(context: &mut Context<PgPool, Redis>) -> Result<(), StartError> {
    let metrics = ::events::EventMetrics::new(&context.metrics);
    context.spawn_relay(metrics).await
}
