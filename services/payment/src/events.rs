//! What the payment service emits and consumes. It emits PAYMENT_SUCCEEDED / PAYMENT_FAILED on
//! `events.payment`, each in the transaction that records the provider's verdict, and
//! PAYMENT_REFUNDED in the transaction that records a refund's success. It consumes
//! `events.order`: when an order expires or is cancelled, its payment is cancelled, here and at
//! the provider (a success that still arrives is refunded automatically) or, if it had already
//! succeeded, refunded automatically. It also runs reconciliation.

use std::sync::Arc;
use std::time::Duration;

use events::Event;
use events::catalog::{OrderCancelled, OrderEvent, OrderExpired};
use events::consumer::HandleFuture;
use events::{Envelope, EventMetrics, Handled, Handler};
use service_kit::{Context, Redis, StartError};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::provider::Provider;
use crate::{reconcile, store};

/// The streams this service consumes.
pub(crate) const CONSUMES: &[&str] = &[OrderEvent::DOMAIN];

/// The order an ORDER_* event ends, if it is one, and why a payment that succeeded is refunded:
/// a paid order cancelled (its stock was gone) for the cancellation's reason, else a success
/// that came too late.
fn ended(event: &Envelope) -> Result<Option<(Uuid, String)>, events::DecodeError> {
    Ok(match OrderEvent::decode(event)? {
        Some(OrderEvent::OrderExpired(e)) => Some((e.order_id.into(), store::TOO_LATE.to_owned())),
        Some(OrderEvent::OrderCancelled(e)) if e.was_paid => Some((e.order_id.into(), e.reason)),
        Some(OrderEvent::OrderCancelled(e)) => Some((e.order_id.into(), store::TOO_LATE.to_owned())),
        _ => None,
    })
}

/// Cancels the payments of orders that ended unpaid, refunding a success that came first.
struct EndedOrders {
    pool: PgPool,
    provider: Arc<dyn Provider>,
}

impl Handler for EndedOrders {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            let Some((order_id, reason)) = ended(event)? else { return Ok(Handled::Ignored) };
            store::order_ended(tx, order_id, &reason).await?;
            Ok(Handled::Applied)
        })
    }

    fn wants(&self, event_type: &str) -> bool {
        [<OrderExpired as Event>::TYPE, <OrderCancelled as Event>::TYPE].contains(&event_type)
    }

    fn committed<'a>(
        &'a self,
        event: &'a Envelope,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            // The automatic refund requested in the transaction goes out now; reconciliation
            // sends it if this is skipped.
            let Ok(Some((order_id, _))) = ended(event) else { return };
            match store::automatic_refund_of_order(&self.pool, order_id).await {
                Ok(Some(refund_id)) => {
                    reconcile::spawn_refund(self.pool.clone(), Arc::clone(&self.provider), refund_id)
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(error = %service_kit::Chain(&error), "the automatic refund is left to reconciliation")
                }
            }
            // A cancelled payment's intent is cancelled at the provider too, so the shopper can
            // no longer pay an order that ended (reconciliation retries what fails here).
            if let Ok(Some(intent_id)) = store::intent_to_cancel(&self.pool, order_id).await
                && let Err(error) = reconcile::cancel_at_provider(&self.pool, self.provider.as_ref(), &intent_id).await
            {
                tracing::warn!(%intent_id, error = %service_kit::Chain(&error), "the intent is left to reconciliation to cancel");
            }
        })
    }
}

/// The job that settles intents whose webhook never arrived.
pub(crate) const RECONCILIATION: &str = "reconciliation";

/// Starts the relay to `events.payment`, the consumer of `events.order` and reconciliation
/// (every `every`, for what has waited longer than `after`), all stopped with the service.
pub(crate) async fn start(
    context: &mut Context<PgPool, Redis>,
    provider: Arc<dyn Provider>,
    every: Duration,
    after: Duration,
) -> Result<(), StartError> {
    let metrics = EventMetrics::new(&context.metrics);
    context.spawn_relay(metrics.clone()).await?;
    let config = context.consumer_config(CONSUMES);
    let handler = EndedOrders { pool: context.db.clone(), provider: Arc::clone(&provider) };
    context.spawn_consumer(config, Arc::new(handler), metrics).await?;
    let pool = context.db.clone();
    context.background.every(RECONCILIATION, every, move || {
        let (pool, provider) = (pool.clone(), Arc::clone(&provider));
        async move {
            match reconcile::reconcile(&pool, provider.as_ref(), after).await {
                Ok(done) if done == reconcile::Reconciled::default() => {}
                Ok(done) => tracing::info!(?done, "reconciliation round"),
                Err(error) => tracing::error!(error = %service_kit::Chain(&error), "reconciliation failed"),
            }
        }
    });
    Ok(())
}
