//! A shopper verifies the phone number on their profile (review f5592e3 M3): a six-digit code
//! goes to it by SMS (within the daily SMS quotas, at most one per interval), and confirming it
//! records the number as the account's. No SMS goes to a number that was not verified for its
//! account; a changed number must be verified again.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::Json;
use service_kit::problem_schema::ProblemSchema;
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use crate::app::phone;
use crate::error::{ApiError, Result};
use crate::store;

fn shopper(caller: &Caller) -> Result<Uuid> {
    caller.user_id().ok_or(ApiError::NotSignedIn)
}

/// The number with all but its last three digits hidden.
fn masked(phone: &str) -> String {
    let keep = phone.len().saturating_sub(3);
    phone.chars().enumerate().map(|(i, c)| if i >= keep || i == 0 { c } else { '•' }).collect()
}

/// The profile's phone number and whether the account verified it.
#[derive(Serialize, ToSchema)]
pub(super) struct PhoneStatus {
    /// The profile's number, masked (`+••••••••••678`); `null` without one.
    phone: Option<String>,
    /// Whether texts may go to it.
    verified: bool,
}

/// `GET /notifications/phone-verification`.
#[utoipa::path(get, path = "/notifications/phone-verification", tag = "notifications",
    summary = "Whether the phone number on the profile is verified", security(("bearer" = [])),
    responses(
        (status = 200, description = "The number (masked) and whether texts may go to it.", body = PhoneStatus),
        (status = 401, description = "`token_missing`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: the profile cannot be read now.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn status(State(state): State<AppState>, caller: Caller) -> Result<Json<PhoneStatus>> {
    let user_id = shopper(&caller)?;
    let phone = state.users.contact(user_id).await?.and_then(|c| c.phone);
    let verified = match &phone {
        Some(phone) => store::phone_verified(&mut *state.pool.acquire().await?, user_id, phone).await?,
        None => false,
    };
    Ok(Json(PhoneStatus { phone: phone.as_deref().map(masked), verified }))
}

/// A code is on its way.
#[derive(Serialize, ToSchema)]
pub(super) struct CodeSent {
    /// Where it went, masked.
    phone: String,
    /// When it stops being accepted.
    expires_at: DateTime<Utc>,
}

/// `POST /notifications/phone-verification`.
#[utoipa::path(post, path = "/notifications/phone-verification", tag = "notifications",
    summary = "Send a verification code to the phone number on the profile", security(("bearer" = [])),
    description = "A six-digit code by SMS, valid for `PHONE_CODE_TTL_SECS` (10 minutes), at most one per `PHONE_CODE_INTERVAL_SECS` (60 s); it counts against the number's and the account's daily SMS quotas. A new code replaces the last.",
    responses(
        (status = 202, description = "The code is on its way.", body = CodeSent),
        (status = 401, description = "`token_missing`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `phone` (`required`): the profile has no phone number.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: a code was sent moments ago, or the daily SMS quota is used up (Retry-After).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: the profile cannot be read now.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn send_code(State(state): State<AppState>, caller: Caller) -> Result<Response> {
    let user_id = shopper(&caller)?;
    let (phone, expires_at) = phone::send_code(&state, user_id).await?;
    Ok((StatusCode::ACCEPTED, Json(CodeSent { phone: masked(&phone), expires_at })).into_response())
}

/// `POST /notifications/phone-verification/confirm`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfirmPhone {
    /// The six digits from the SMS.
    code: String,
}

/// `POST /notifications/phone-verification/confirm`.
#[utoipa::path(post, path = "/notifications/phone-verification/confirm", tag = "notifications",
    summary = "Confirm the phone number with the code it received", security(("bearer" = [])),
    description = "Five wrong guesses end a code. Once confirmed, order messages go to the number by SMS if the shopper's preferences ask for it.",
    request_body = ConfirmPhone,
    responses(
        (status = 200, description = "Verified.", body = PhoneStatus),
        (status = 401, description = "`token_missing`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `code` (`invalid_or_expired`): wrong, used, expired or out of guesses.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ConfirmPhone>,
) -> Result<Json<PhoneStatus>> {
    let user_id = shopper(&caller)?;
    let phone = phone::confirm(&state, user_id, body.code.trim()).await?;
    Ok(Json(PhoneStatus { phone: Some(masked(&phone)), verified: true }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_masked() {
        assert_eq!(masked("+4915112345678"), "+••••••••••678");
    }
}
