//! Staff refunds (permission `payments:refund`): full or partial, never more than was captured
//! minus what was refunded or is being refunded, idempotent by `Idempotency-Key` per payment.
//! The refund is written first, then sent to the provider with its id as the provider's own
//! idempotency key, so a retry, a race or a crash between the two never refunds twice.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use contracts::types::{Amount, RefundStatus};
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldErrors, Json, Permission};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use crate::error::{ApiError, Result};
use crate::reconcile;
use crate::store::{self, Refund, RefundAsk, RefundClaim};

/// `POST /payments/{id}/refunds`.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RefundBody {
    /// Minor units, at least 1, at most what is left to refund.
    amount_minor: Amount,
    /// Why (1 to 500 characters); shown to the shopper in the refund email.
    reason: String,
}

/// `POST /payments/{id}/refunds`.
#[utoipa::path(post, path = "/payments/{id}/refunds", tag = "payments", summary = "Refund a payment, fully or in part (staff)",
    description = "Needs `payments:refund`. Never more than was captured minus what was refunded or is being refunded. The same Idempotency-Key with the same body answers the same refund. The provider is asked at once; if it cannot be reached the refund stays `requested` (202) and reconciliation sends it. Its success emits PAYMENT_REFUNDED: the order becomes `refunded` or `partially_refunded` and the shopper is told.",
    params(
        ("id" = Uuid, Path, description = "The payment's id."),
        ("Idempotency-Key" = String, Header, description = "1 to 255 visible characters, unique per refund."),
    ),
    request_body = RefundBody,
    responses(
        (status = 201, description = "Refunded (`succeeded`) or refused by the provider (`failed`).", body = Refund),
        (status = 200, description = "The same key and body as before: that refund.", body = Refund),
        (status = 202, description = "Requested; the provider is not reachable now and reconciliation sends it.", body = Refund),
        (status = 403, description = "`forbidden`: needs `payments:refund`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such payment.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`: the payment has not succeeded.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`idempotency_key_reused`, or `validation_failed` (`Idempotency-Key`, `amount_minor` out of range, `reason`).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn refund(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<RefundBody>,
) -> Result<Response> {
    caller.require_perm(Permission::PaymentsRefund)?;
    let payment_id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let key = service_kit::idempotency::key(&headers)?;
    let mut errors = FieldErrors::default();
    if body.amount_minor < Amount::new(1) {
        errors.push("amount_minor", FieldCode::OutOfRange, "at least 1");
    }
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        errors.push("reason", FieldCode::InvalidLength, "1 to 500 characters");
    } else if reason.chars().any(char::is_control) {
        errors.push("reason", FieldCode::InvalidCharacters, "no control characters");
    }
    errors.finish()?;
    let requested_by = caller.subject().sub.clone();
    let ask = RefundAsk {
        payment_id,
        amount_minor: body.amount_minor.minor(),
        reason,
        requested_by: &requested_by,
        key: &key,
        request_hash: &service_kit::idempotency::fingerprint(&body),
    };
    let (refund_id, new) = match crate::app::refunds::request(&state.pool, &ask).await? {
        RefundClaim::New(id) => (id, true),
        RefundClaim::Replay(id) => (id, false),
        RefundClaim::KeyReused => return Err(ApiError::KeyReused),
        RefundClaim::NoSuchPayment => return Err(ApiError::NotFound),
        RefundClaim::NotCaptured(status) => {
            return Err(ApiError::InvalidTransition(format!("the payment is {status}, not succeeded")));
        }
        RefundClaim::TooMuch(left) => return Err(ApiError::TooMuch(left)),
    };
    // Sent now (again, for a replay still requested: the provider's idempotency key keeps it one).
    if let Err(error) = reconcile::send_refund(&state.pool, state.provider.as_ref(), refund_id).await {
        tracing::warn!(%refund_id, error = %service_kit::Chain(&error), "a refund could not be sent yet; reconciliation retries it");
    }
    let refund = store::refund(&state.pool, refund_id).await?.ok_or(ApiError::NotFound)?;
    let status = match (new, refund.status) {
        (_, RefundStatus::Requested) => StatusCode::ACCEPTED,
        (true, _) => StatusCode::CREATED,
        (false, _) => StatusCode::OK,
    };
    Ok((status, Json(refund)).into_response())
}
