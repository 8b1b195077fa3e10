//! What the inventory service emits and consumes. It emits STOCK_CHANGED (whenever a SKU's
//! availability crosses zero, reservations, commits and releases included), STOCK_LOW and
//! INVENTORY_RESERVED / COMMITTED / RELEASED on `events.inventory`, through its outbox in the
//! transaction of each change. It consumes the order's stream: ORDER_CREATED marks the
//! reservation as having an order (no orphan), ORDER_PAID commits it (a reservation released
//! meanwhile is sold from what is on sale now, or INVENTORY_COMMIT_FAILED tells the order
//! service, which cancels and refunds the order), ORDER_CANCELLED and ORDER_EXPIRED release
//! it; a declined payment changes nothing here. It also runs the sweeper of orphaned
//! reservations.

use std::sync::Arc;
use std::time::Duration;

use events::catalog::{InventoryCommitFailed, OrderEvent};
use events::consumer::HandleFuture;
use events::{Envelope, EventMetrics, Handled, Handler, HandlerError};
use service_kit::{Context, Redis, StartError};
use sqlx::{PgConnection, PgPool};

use crate::error::ApiError;
use crate::{stock, store};

/// The streams this service consumes.
pub(crate) const CONSUMES: &[&str] = &[OrderEvent::DOMAIN];

/// Applies the order's events to reservations, in the consumer's transaction.
struct Reservations;

fn failed(error: ApiError) -> HandlerError {
    HandlerError::new(error)
}

impl Handler for Reservations {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            let outcome = match OrderEvent::decode(event)? {
                Some(OrderEvent::OrderCreated(e)) => {
                    store::mark_order_written(tx, e.order_id.into()).await?;
                    return Ok(Handled::Applied);
                }
                Some(OrderEvent::OrderPaid(e)) => match stock::commit(tx, e.order_id.into(), "order").await {
                    Err(ApiError::StockLost(skus)) => {
                        // Paid, but its stock is gone: the order is cancelled and refunded.
                        tracing::warn!(order_id = %e.order_id, ?skus, "a paid order's released stock is sold out");
                        let lost = InventoryCommitFailed {
                            reservation_id: e.order_id,
                            skus,
                            reason: "its reservation was released and the stock is no longer available".into(),
                        };
                        events::enqueue(tx, crate::SERVICE, &lost).await?;
                        return Ok(Handled::Applied);
                    }
                    other => other,
                },
                // A paid order cancelled by staff before it shipped: what it bought goes back.
                Some(OrderEvent::OrderCancelled(e)) if e.was_paid => {
                    stock::restock(tx, e.order_id.into(), "paid order cancelled: restocked", "order").await
                }
                Some(OrderEvent::OrderCancelled(e)) => {
                    stock::release(tx, e.order_id.into(), "order cancelled", "order").await
                }
                Some(OrderEvent::OrderExpired(e)) => {
                    stock::release(tx, e.order_id.into(), "order expired", "order").await
                }
                Some(OrderEvent::OrderShipped(_) | OrderEvent::OrderDelivered(_) | OrderEvent::OrderRefunded(_))
                | None => {
                    return Ok(Handled::Ignored);
                }
            };
            match outcome {
                Ok(_) => Ok(Handled::Applied),
                // Releasing a sale, or an order without a reservation here (it holds no stock).
                Err(error @ (ApiError::ReservationConflict | ApiError::ReservationNotFound)) => {
                    tracing::warn!(error = %service_kit::Chain(&error), event_type = %event.event_type, "order event for a reservation in another state");
                    Ok(Handled::Ignored)
                }
                Err(other) => Err(failed(other)),
            }
        })
    }
}

/// The job that releases reservations whose checkout never wrote its order.
pub(crate) const ORPHAN_SWEEP: &str = "orphan reservation sweep";

/// Starts the relay to `events.inventory`, the consumer of `events.order` and the sweeper,
/// all stopped with the service.
pub(crate) async fn start(
    context: &mut Context<PgPool, Redis>,
    sweep_every: Duration,
    orphan_grace: Duration,
) -> Result<(), StartError> {
    let metrics = EventMetrics::new(&context.metrics);
    context.spawn_relay(metrics.clone()).await?;
    let config = context.consumer_config(CONSUMES);
    context.spawn_consumer(config, Arc::new(Reservations), metrics).await?;

    let pool = context.db.clone();
    context.background.every(ORPHAN_SWEEP, sweep_every, move || {
        let pool = pool.clone();
        async move {
            match stock::sweep_orphans(&pool, orphan_grace.as_secs_f64()).await {
                Ok(0) => {}
                Ok(released) => tracing::info!(released, "orphaned reservations released"),
                Err(error) => {
                    tracing::error!(error = %service_kit::Chain(&error), "sweeping orphaned reservations failed")
                }
            }
        }
    });
    Ok(())
}
