//! Refunds as use cases: staff (or an automatic refund) request one under an Idempotency-Key,
//! the payment locked so the amount never exceeds what was captured minus what was refunded or
//! is being refunded, audited in the same transaction; a provider's success is booked once,
//! with PAYMENT_REFUNDED.

use contracts::types::PaymentStatus;
use events::catalog::PaymentRefunded;
use sqlx::PgPool;
use uuid::Uuid;

use crate::store::{self, RefundAsk, RefundClaim};

/// Requests a refund unless this key did before.
#[tracing::instrument(skip_all, fields(payment_id = %ask.payment_id))]
pub(crate) async fn request(pool: &PgPool, ask: &RefundAsk<'_>) -> sqlx::Result<RefundClaim> {
    let mut tx = pool.begin().await?;
    let Some((status, captured, refunded)) = store::lock_for_refund(&mut tx, ask.payment_id).await? else {
        return Ok(RefundClaim::NoSuchPayment);
    };
    if let Some((id, hash)) = store::refund_by_key(&mut tx, ask.payment_id, ask.key).await? {
        return Ok(if hash.as_deref() == Some(ask.request_hash) {
            RefundClaim::Replay(id)
        } else {
            RefundClaim::KeyReused
        });
    }
    if status != PaymentStatus::Succeeded {
        return Ok(RefundClaim::NotCaptured(status));
    }
    let in_flight = store::refunding(&mut tx, ask.payment_id).await?;
    let left = captured - refunded - in_flight;
    if ask.amount_minor > left {
        return Ok(RefundClaim::TooMuch(left));
    }
    let id = Uuid::now_v7();
    store::insert_refund(&mut tx, id, ask).await?;
    let before =
        serde_json::json!({"captured_minor": captured, "refunded_minor": refunded, "refunding_minor": in_flight});
    let after = serde_json::json!({"captured_minor": captured, "refunded_minor": refunded,
        "refunding_minor": in_flight + ask.amount_minor, "refund_id": id, "reason": ask.reason});
    let entry = events::audit::AuditRecorded::new(
        ask.requested_by,
        "payment.refund",
        format!("payment:{}", ask.payment_id),
        Some(before),
        Some(after),
    );
    events::audit::record(&mut tx, crate::SERVICE, &entry).await?;
    tx.commit().await?;
    Ok(RefundClaim::New(id))
}

/// Records a refund's success at the provider, with PAYMENT_REFUNDED, once (a second outcome
/// for the same refund changes nothing); whether it was recorded now.
#[tracing::instrument(skip_all, fields(refund_id = %id))]
pub(crate) async fn succeeded(pool: &PgPool, id: Uuid, provider_refund_id: &str) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let Some((payment_id, amount_minor, reason, automatic)) =
        store::mark_refund_succeeded(&mut tx, id, provider_refund_id).await?
    else {
        return Ok(false);
    };
    let (order_id, refunded_minor, captured_minor, currency) =
        store::add_refunded(&mut tx, payment_id, amount_minor).await?;
    let event = PaymentRefunded {
        payment_id: payment_id.into(),
        order_id: order_id.into(),
        refund_id: id.into(),
        amount_minor,
        refunded_minor,
        captured_minor,
        currency,
        reason,
        automatic,
    };
    events::enqueue(&mut tx, crate::SERVICE, &event).await?;
    tx.commit().await?;
    Ok(true)
}
