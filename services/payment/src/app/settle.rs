//! Settling with the provider outside the request path: sending requested refunds (right after
//! they are requested, and again for any a crash or an outage left behind) and the periodic
//! reconciliation that asks the provider about intents still waiting for a verdict past a
//! threshold, repairing missed webhooks through the same recording path.

use contracts::types::Amount;
use std::time::Duration;

use contracts::types::PaymentStatus;
use events::catalog::{PaymentFailed, PaymentSucceeded};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::provider::{Cancellation, Provider, ProviderError, RefundOutcome, RefundRequest, Verdict};
use crate::store;

/// Why settling failed (it is retried by the next reconciliation).
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Sends a requested refund to the provider (its id is the provider's idempotency key), or,
/// once the provider accepted it without settling it, asks what became of it; records the
/// outcome once; nothing when it is no longer requested. A pending refund stays requested, so
/// reconciliation asks again until it is decided (review f5592e3 L1: it was booked as done).
#[tracing::instrument(skip_all, fields(refund_id = %refund_id))]
pub async fn send_refund(pool: &PgPool, provider: &dyn Provider, refund_id: Uuid) -> Result<(), SettleError> {
    let Some((intent_id, amount_minor, accepted_as)) = store::refund_to_send(pool, refund_id).await? else {
        return Ok(());
    };
    let outcome = match accepted_as {
        Some(provider_refund_id) => provider.refund_status(&provider_refund_id).await?,
        None => {
            provider.refund(&RefundRequest { intent_id, amount_minor: Amount::new(amount_minor), refund_id }).await?
        }
    };
    match outcome {
        RefundOutcome::Succeeded { provider_refund_id } => {
            super::refunds::succeeded(pool, refund_id, &provider_refund_id).await?;
        }
        RefundOutcome::Pending { provider_refund_id } => {
            tracing::info!(%refund_id, "the provider accepted a refund that settles later");
            store::refund_pending(pool, refund_id, &provider_refund_id).await?;
        }
        RefundOutcome::Failed(reason) => {
            tracing::error!(%refund_id, %reason, "the provider refused a refund");
            store::refund_failed(pool, refund_id, &reason).await?;
        }
    }
    Ok(())
}

/// Sends a refund in the background (after the transaction that requested it committed).
pub fn spawn_refund(pool: PgPool, provider: std::sync::Arc<dyn Provider>, refund_id: Uuid) {
    tokio::spawn(async move {
        if let Err(error) = send_refund(&pool, provider.as_ref(), refund_id).await {
            tracing::warn!(%refund_id, error = %service_kit::Chain(&error), "a refund could not be sent yet; reconciliation retries it");
        }
    });
}

/// Cancels the intent of a payment whose order ended, so it can no longer be paid; an intent
/// that succeeded in the meantime is recorded (and so refunded) instead.
pub async fn cancel_at_provider(pool: &PgPool, provider: &dyn Provider, intent_id: &str) -> Result<(), SettleError> {
    match provider.cancel(intent_id).await? {
        Cancellation::Cancelled => {
            store::provider_canceled(pool, intent_id).await?;
        }
        Cancellation::Succeeded => {
            apply_verdict(pool, provider, intent_id, &Verdict::Succeeded).await?;
        }
        // Still being decided (a delayed method): it stays unsettled, so reconciliation asks
        // again, applies a late success (refunded at once) and cancels it once it can.
        Cancellation::StillOpen => {
            tracing::info!(%intent_id, "the provider could not cancel an intent still processing; it stays watched");
        }
    }
    Ok(())
}

/// What a provider's verdict changed.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    Succeeded,
    /// A success for a payment whose order had already expired or been cancelled: recorded,
    /// and this automatic refund requested (to be sent once the transaction commits).
    SucceededTooLate(Uuid),
    Failed,
    /// Nothing: an unknown intent, or a state that may not change that way (a success is final).
    Nothing,
}

/// Applies a provider's verdict on an intent with its event, in `tx`. A payment never goes
/// from succeeded to failed; a second success changes nothing; a success for a cancelled
/// payment is kept and refunded in full automatically.
pub(crate) async fn record_verdict(
    tx: &mut PgConnection,
    provider: &str,
    intent_id: &str,
    succeeded: bool,
    reason: &str,
) -> sqlx::Result<Recorded> {
    let Some((payment_id, order_id, status, amount_minor, currency)) =
        store::lock_by_intent(tx, provider, intent_id).await?
    else {
        return Ok(Recorded::Nothing);
    };
    match (status, succeeded) {
        // A success is final; a decline of a cancelled payment, or a second one, adds nothing.
        (PaymentStatus::Succeeded, _) | (PaymentStatus::Canceled | PaymentStatus::Failed, false) => {
            Ok(Recorded::Nothing)
        }
        (_, true) => {
            store::mark_succeeded(tx, payment_id).await?;
            let event = PaymentSucceeded {
                payment_id: payment_id.into(),
                order_id: order_id.into(),
                amount_minor,
                currency,
                provider: provider.to_owned(),
            };
            events::enqueue(tx, crate::SERVICE, &event).await?;
            if status == PaymentStatus::Canceled {
                let refund = store::request_automatic_refund(tx, payment_id, store::TOO_LATE).await?;
                Ok(refund.map_or(Recorded::Succeeded, Recorded::SucceededTooLate))
            } else {
                Ok(Recorded::Succeeded)
            }
        }
        (_, false) => {
            store::mark_failed(tx, payment_id, reason).await?;
            let event =
                PaymentFailed { payment_id: payment_id.into(), order_id: order_id.into(), reason: reason.to_owned() };
            events::enqueue(tx, crate::SERVICE, &event).await?;
            Ok(Recorded::Failed)
        }
    }
}

/// Applies a verdict (from a webhook or from reconciliation) in its own transaction.
#[tracing::instrument(skip_all, fields(intent_id = %intent_id))]
pub async fn apply_verdict(
    pool: &PgPool,
    provider: &dyn Provider,
    intent_id: &str,
    verdict: &Verdict,
) -> Result<Recorded, SettleError> {
    let (succeeded, reason) = match verdict {
        Verdict::Pending => return Ok(Recorded::Nothing),
        Verdict::Succeeded => (true, ""),
        Verdict::Failed(reason) => (false, reason.as_str()),
    };
    let mut tx = pool.begin().await?;
    let recorded = record_verdict(&mut tx, provider.name(), intent_id, succeeded, reason).await?;
    tx.commit().await?;
    if let Recorded::SucceededTooLate(refund_id) = recorded {
        send_refund(pool, provider, refund_id).await?;
    }
    Ok(recorded)
}

/// What one round of reconciliation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Verdicts the provider knew and we had missed.
    pub repaired: usize,
    /// Refunds sent again.
    pub refunds: usize,
}

/// One round: intents unsettled for longer than `after` are looked up at the provider and their
/// verdicts applied; refunds requested longer than `after` ago are sent again.
#[tracing::instrument(skip_all)]
pub async fn reconcile(pool: &PgPool, provider: &dyn Provider, after: Duration) -> Result<Reconciled, SettleError> {
    let mut done = Reconciled::default();
    for (intent_id, status) in store::unsettled(pool, provider.name(), after, 50).await? {
        let verdict = match provider.retrieve(&intent_id).await {
            Ok(verdict) => verdict,
            Err(error) => {
                tracing::warn!(%intent_id, error = %service_kit::Chain(&error), "reconciliation could not ask the provider");
                continue;
            }
        };
        if apply_verdict(pool, provider, &intent_id, &verdict).await? != Recorded::Nothing {
            tracing::warn!(%intent_id, ?verdict, "reconciliation repaired a missed webhook");
            done.repaired += 1;
        }
        if status == "canceled" && verdict != Verdict::Succeeded {
            cancel_at_provider(pool, provider, &intent_id).await?;
        }
    }
    for refund_id in store::stale_refunds(pool, after, 50).await? {
        match send_refund(pool, provider, refund_id).await {
            Ok(()) => done.refunds += 1,
            Err(error) => {
                tracing::warn!(%refund_id, error = %service_kit::Chain(&error), "a refund could not be sent again yet")
            }
        }
    }
    Ok(done)
}
