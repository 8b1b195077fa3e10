//! What the order service emits and consumes. It emits ORDER_CREATED (with the order in the
//! same transaction), ORDER_CANCELLED and ORDER_EXPIRED (with their transitions) on
//! `events.order`; it consumes nothing yet (the payment service, not built, will produce the
//! PAYMENT_* events that move orders to paid). The
//! expiry job (the order service alone decides expiry) moves unpaid orders past their deadline
//! to `expired`, safe with several replicas, and forgets Idempotency-Keys older than a day.

use std::time::Duration;

use events::catalog::OrderExpired;
use service_kit::{Context, Redis, StartError};
use sqlx::PgPool;

use crate::domain::Event;
use crate::store;

/// Expires what is overdue; how many orders it expired.
pub async fn expire_overdue(pool: &PgPool) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let overdue = store::lock_overdue(&mut tx, 100).await?;
    let mut expired = 0;
    for id in overdue {
        if let Some(Ok((_, facts))) =
            store::transition(&mut tx, id, None, Event::Expire, "system", "payment deadline passed").await?
        {
            let event = OrderExpired {
                order_id: facts.id,
                number: facts.number,
                user_id: facts.user_id,
                email: facts.contact_email,
            };
            events::enqueue(&mut tx, crate::SERVICE, &event).await?;
            expired += 1;
        }
    }
    tx.commit().await?;
    Ok(expired)
}

/// Starts the relay to `events.order` and the expiry job, both stopped with the service.
pub async fn start(context: &mut Context<PgPool, Redis>, expiry_every: Duration) -> Result<(), StartError> {
    let relay = ::events::Relay::start(
        context.db.clone(),
        context.redis.connection.clone(),
        ::events::RelayConfig::new(crate::SERVICE, context.schema(), &context.redis.prefix),
        ::events::EventMetrics::new(&context.metrics),
    )
    .await
    .map_err(|e| StartError::part("event outbox", e))?;
    context.background.add(relay.spawn(context.background.stop_signal()));

    let pool = context.db.clone();
    let mut stop = context.background.stop_signal();
    context.background.add(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(expiry_every) => {}
                _ = stop.changed() => return,
            }
            match expire_overdue(&pool).await {
                Ok(0) => {}
                Ok(expired) => tracing::info!(expired, "unpaid orders expired"),
                Err(error) => tracing::error!(%error, "expiring orders failed"),
            }
            if let Err(error) = store::prune_keys(&pool).await {
                tracing::error!(%error, "pruning idempotency keys failed");
            }
        }
    }));
    Ok(())
}
