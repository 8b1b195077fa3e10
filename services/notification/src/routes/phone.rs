//! A shopper verifies the phone number on their profile (review f5592e3 M3): a six-digit code
//! goes to it by SMS (within the daily SMS quotas, at most one per interval), and confirming it
//! records the number as the account's. No SMS goes to a number that was not verified for its
//! account; a changed number must be verified again.

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
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
use crate::domain::Kind;
use crate::error::{ApiError, Result};
use crate::store::{self, Channel, CodeStarted, NewMessage};

fn shopper(caller: &Caller) -> Result<Uuid> {
    caller.user_id().ok_or(ApiError::NotSignedIn)
}

/// The digest a code is kept as.
fn digest_of(code: &str) -> String {
    digest::digest(&digest::SHA256, code.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Six random digits (uniform: draws outside the largest multiple of a million are redrawn).
fn new_code() -> String {
    let random = SystemRandom::new();
    loop {
        let mut bytes = [0u8; 4];
        random.fill(&mut bytes).expect("the system's random source");
        let n = u32::from_le_bytes(bytes);
        if n < u32::MAX - u32::MAX % 1_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
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
    let phone = state.users.contact(user_id).await?.and_then(|c| c.phone).ok_or(ApiError::NoPhone)?;
    let code = new_code();
    let mut tx = state.pool.begin().await?;
    if !store::sms_within_quota(&mut tx, user_id, &phone, &state.sms_limits).await? {
        return Err(ApiError::SmsQuota);
    }
    let expires_at = match store::start_code(&mut tx, user_id, &phone, &digest_of(&code), &state.sms_limits).await? {
        CodeStarted::Started { expires_at } => expires_at,
        CodeStarted::TooSoon { retry_after_secs } => return Err(ApiError::TooSoon { retry_after_secs }),
    };
    let minutes = state.sms_limits.code_ttl.as_secs().div_ceil(60);
    let rendered = state
        .templates
        .render_short(Kind::PhoneCode, serde_json::json!({"code": code, "minutes": minutes}))
        .map_err(|error| service_kit::Problem::internal(&error))?;
    // The sender delivers it like any message; its body (the code) is dropped once sent.
    let message = NewMessage {
        event_id: Uuid::now_v7(),
        kind: Kind::PhoneCode,
        channel: Channel::Sms,
        recipient: phone.clone(),
        rendered,
        account: user_id,
    };
    store::insert_message(&mut tx, &message).await?;
    tx.commit().await?;
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
    let code = body.code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::WrongCode);
    }
    let mut tx = state.pool.begin().await?;
    let verified = store::confirm_code(&mut tx, user_id, &digest_of(code)).await?;
    // A wrong guess is counted even though the answer is a refusal.
    tx.commit().await?;
    let phone = verified.ok_or(ApiError::WrongCode)?;
    Ok(Json(PhoneStatus { phone: Some(masked(&phone)), verified: true }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_numbers_are_masked() {
        for _ in 0..100 {
            let code = new_code();
            assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        }
        assert_eq!(masked("+4915112345678"), "+••••••••••678");
        assert_ne!(digest_of("123456"), digest_of("123457"));
    }
}
