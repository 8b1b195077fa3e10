//! A provider's webhook delivery as a use case: verified by its signature, applied once by its
//! event id, the verdict recorded in the transaction that records the delivery; a success that
//! came too late (the order ended meanwhile) is refunded after that transaction commits.

use std::sync::Arc;

use super::AppState;
use super::settle::{Recorded, record_verdict};
use crate::domain;
use crate::error::{ApiError, Result};
use crate::provider::Verdict;
use crate::store;

/// Verifies and applies one provider event (the same path for every delivery).
#[tracing::instrument(skip_all)]
pub(crate) async fn receive(state: &AppState, signature: &str, body: &[u8]) -> Result<Recorded> {
    let provider = state.provider.name();
    let secret = secrecy::ExposeSecret::expose_secret(&state.webhook_secret);
    domain::verify(signature, body, secret, chrono::Utc::now().timestamp())?;
    let event: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| ApiError::Signature(domain::SignatureError::Malformed))?;
    let (Some(event_id), Some(kind), Some(intent)) =
        (event["id"].as_str(), event["type"].as_str(), event.pointer("/data/object/id").and_then(|v| v.as_str()))
    else {
        return Err(ApiError::Signature(domain::SignatureError::Malformed));
    };
    let verdict = match kind {
        "payment_intent.succeeded" => Some(Verdict::Succeeded),
        "payment_intent.payment_failed" => Some(Verdict::Failed(
            event
                .pointer("/data/object/last_payment_error/code")
                .and_then(|v| v.as_str())
                .unwrap_or("declined")
                .to_owned(),
        )),
        _ => None,
    };
    let mut tx = state.pool.begin().await?;
    if !store::first_delivery(&mut tx, provider, event_id, kind).await? {
        return Ok(Recorded::Nothing);
    }
    let recorded = match verdict {
        Some(Verdict::Succeeded) => record_verdict(&mut tx, provider, intent, true, "").await?,
        Some(Verdict::Failed(reason)) => record_verdict(&mut tx, provider, intent, false, &reason).await?,
        Some(Verdict::Pending) | None => Recorded::Nothing,
    };
    tx.commit().await?;
    if let Recorded::SucceededTooLate(refund_id) = recorded {
        super::settle::spawn_refund(state.pool.clone(), Arc::clone(&state.provider), refund_id);
    }
    Ok(recorded)
}
