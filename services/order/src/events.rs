//! What the order service emits and consumes. It emits ORDER_CREATED (with the order in the
//! same transaction), ORDER_PAID, ORDER_CANCELLED, ORDER_EXPIRED and ORDER_REFUNDED (with their
//! transitions) on
//! `events.order`. It consumes the payment's stream: PAYMENT_SUCCEEDED moves the order to paid
//! and emits ORDER_PAID in the consumer's transaction; PAYMENT_FAILED leaves it awaiting payment
//! (the shopper may retry until the deadline); PAYMENT_REFUNDED records the refund (refunded /
//! partially refunded when it was paid) and emits ORDER_REFUNDED. From auth's stream,
//! USER_DELETED anonymises the person's orders (address down to its country, contact email
//! replaced) and forgets their Idempotency-Keys. From inventory's stream, INVENTORY_COMMIT_FAILED
//! (a paid order whose released stock was sold meanwhile) cancels the order with its reason and
//! emits ORDER_CANCELLED (`was_paid`), on which payment refunds it in full and notification tells
//! the shopper. The
//! expiry job (the order service alone decides expiry) moves unpaid orders past their deadline
//! to `expired`, safe with several replicas, and forgets Idempotency-Keys older than a day.

use std::sync::Arc;
use std::time::Duration;

use events::Event as _;
use events::catalog::{
    AuthEvent, InventoryCommitFailed, InventoryEvent, OrderCancelled, OrderRefunded, PaymentEvent, PaymentRefunded,
    UserDeleted,
};
use events::consumer::HandleFuture;
use events::{Envelope, EventMetrics, Handled, Handler};
use service_kit::{Context, Redis, StartError};
use sqlx::{PgConnection, PgPool};

use crate::domain::Event;
use crate::store;

pub use crate::app::orders::expire_overdue;

/// The streams this service consumes.
pub const CONSUMES: &[&str] = &[PaymentEvent::DOMAIN, AuthEvent::DOMAIN, InventoryEvent::DOMAIN];

/// Applies the payment's verdicts to orders (and issues a paid order's invoice as `seller`).
struct Payments {
    seller: crate::invoices::Seller,
}

impl Handler for Payments {
    /// Of auth's and inventory's streams only what changes orders; every payment event.
    fn wants(&self, event_type: &str) -> bool {
        PaymentEvent::TYPES.contains(&event_type)
            || event_type == <UserDeleted as events::Event>::TYPE
            || event_type == InventoryCommitFailed::TYPE
    }

    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            if let Some(InventoryEvent::InventoryCommitFailed(lost)) = InventoryEvent::decode(event)? {
                return stock_lost(tx, lost).await;
            }
            if let Some(AuthEvent::UserDeleted(deleted)) = AuthEvent::decode(event)? {
                // The orders stay for the books (lines, amounts, dates), without the person.
                let orders = store::anonymise_customer(tx, deleted.user_id.into()).await?;
                tracing::info!(orders, "a deleted account's orders anonymised");
                return Ok(Handled::Applied);
            }
            let paid = match PaymentEvent::decode(event)? {
                Some(PaymentEvent::PaymentSucceeded(paid)) => paid,
                Some(PaymentEvent::PaymentRefunded(refund)) => return refunded(tx, refund, &self.seller).await,
                // A decline changes nothing: the order stays payable until its deadline.
                _ => return Ok(Handled::Ignored),
            };
            // The order is paid only by what it costs (review f5592e3 L4): a success for another
            // amount or currency leaves it awaiting payment, so it expires and payment refunds
            // what was taken.
            if let Some((total, currency)) = store::amount(tx, paid.order_id.into()).await?
                && (paid.amount_minor != total || paid.currency != currency)
            {
                tracing::error!(
                    order_id = %paid.order_id, paid = %paid.amount_minor, %paid.currency, %total, %currency,
                    "a payment succeeded for another amount than the order's; the order is not paid"
                );
                return Ok(Handled::Ignored);
            }
            let outcome =
                store::transition(tx, paid.order_id.into(), None, Event::Pay, "payment", "payment succeeded").await?;
            match outcome {
                Some(Ok((_, facts))) => {
                    let order_id = facts.id;
                    let event = store::paid_event(tx, facts).await?;
                    events::enqueue(tx, crate::SERVICE, &event).await?;
                    // Its invoice, numbered in this same transaction (no gaps).
                    crate::app::invoices::issue(tx, order_id, &self.seller).await?;
                    Ok(Handled::Applied)
                }
                Some(Err(illegal)) => {
                    // Paid after it expired or was cancelled: the payment service refunds such
                    // a late success by itself (it hears of the order's end on ORDER_EXPIRED /
                    // ORDER_CANCELLED), and PAYMENT_REFUNDED then tells the shopper.
                    tracing::warn!(order_id = %paid.order_id, %illegal, "a payment succeeded for an order that ended; it is refunded");
                    Ok(Handled::Ignored)
                }
                None => Ok(Handled::Ignored),
            }
        })
    }
}

/// INVENTORY_COMMIT_FAILED: the paid order's stock is gone, so it is cancelled with the reason
/// recorded, and ORDER_CANCELLED (`was_paid`) has payment refund it and notification tell the
/// shopper. An order already shipped or ended keeps its state (staff see the warning).
async fn stock_lost(tx: &mut PgConnection, lost: InventoryCommitFailed) -> Result<Handled, events::HandlerError> {
    let reason = format!("out of stock after payment ({}); the payment is refunded in full", lost.skus.join(", "));
    match store::transition(tx, lost.reservation_id.into(), None, Event::StockLost, "inventory", &reason).await? {
        Some(Ok((_, facts))) => {
            let event = OrderCancelled {
                order_id: facts.id.into(),
                number: facts.number,
                user_id: facts.user_id.into(),
                email: facts.contact_email,
                reason,
                was_paid: true,
                by: events::catalog::CancelledBy::System,
            };
            events::enqueue(tx, crate::SERVICE, &event).await?;
            Ok(Handled::Applied)
        }
        Some(Err(illegal)) => {
            tracing::error!(order_id = %lost.reservation_id, %illegal, skus = ?lost.skus, "stock lost for an order that can no longer be cancelled");
            Ok(Handled::Ignored)
        }
        None => Ok(Handled::Ignored),
    }
}

/// PAYMENT_REFUNDED: the order records it (and moves to refunded / partially refunded when it
/// was paid) and ORDER_REFUNDED tells the shopper.
async fn refunded(
    tx: &mut PgConnection,
    refund: PaymentRefunded,
    seller: &crate::invoices::Seller,
) -> Result<Handled, events::HandlerError> {
    let full = refund.refunded_minor >= refund.captured_minor;
    let Some((status, facts)) =
        store::record_refund(tx, refund.order_id.into(), refund.refunded_minor, full, &refund.reason).await?
    else {
        return Ok(Handled::Ignored);
    };
    let event = OrderRefunded {
        order_id: facts.id.into(),
        number: facts.number,
        user_id: facts.user_id.into(),
        email: facts.contact_email,
        refund_id: refund.refund_id,
        amount_minor: refund.amount_minor,
        refunded_minor: refund.refunded_minor,
        currency: refund.currency,
        status,
        reason: refund.reason,
    };
    events::enqueue(tx, crate::SERVICE, &event).await?;
    // Its credit note against the order's invoice, numbered in this same transaction.
    let credited = crate::app::invoices::Refund {
        refund_id: event.refund_id.into(),
        amount: event.amount_minor,
        reason: &event.reason,
    };
    crate::app::invoices::credit(tx, facts.id, &credited, seller).await?;
    Ok(Handled::Applied)
}

/// The job that expires unpaid orders, prunes idempotency keys and gives back orphaned
/// discount uses.
pub const EXPIRY: &str = "expiry";

/// Starts the relay to `events.order`, the consumer of `events.payment` and the expiry job,
/// all stopped with the service.
/// A discount use whose checkout died without writing its order is given back after
/// `orphan_grace` (a retry of that checkout counts it again).
pub async fn start(
    context: &mut Context<PgPool, Redis>,
    expiry_every: Duration,
    orphan_grace: Duration,
    seller: crate::invoices::Seller,
) -> Result<(), StartError> {
    let metrics = EventMetrics::new(&context.metrics);
    context.spawn_relay(metrics.clone()).await?;
    let config = context.consumer_config(CONSUMES);
    context.spawn_consumer(config, Arc::new(Payments { seller }), metrics).await?;

    let pool = context.db.clone();
    context.background.every(EXPIRY, expiry_every, move || {
        let pool = pool.clone();
        async move {
            match expire_overdue(&pool).await {
                Ok(0) => {}
                Ok(expired) => tracing::info!(expired, "unpaid orders expired"),
                Err(error) => tracing::error!(error = %service_kit::Chain(&error), "expiring orders failed"),
            }
            if let Err(error) = store::prune_keys(&pool).await {
                tracing::error!(error = %service_kit::Chain(&error), "pruning idempotency keys failed");
            }
            match crate::app::discounts::release_orphans(&pool, orphan_grace).await {
                Ok(0) => {}
                Ok(released) => tracing::info!(released, "discount uses of checkouts that never finished given back"),
                Err(error) => {
                    tracing::error!(error = %service_kit::Chain(&error), "giving back orphaned discount uses failed")
                }
            }
        }
    });
    Ok(())
}
