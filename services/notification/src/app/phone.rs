//! Verifying a shopper's phone number as use cases (review f5592e3 M3): sending a code (within
//! the daily SMS quotas, at most one per interval; the message recorded for the sender in the
//! same transaction as the code) and confirming it (a wrong guess is counted even though the
//! answer is a refusal).

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::AppState;
use crate::domain::Kind;
use crate::error::{ApiError, Result};
use crate::store::{self, Channel, CodeStarted, NewMessage};

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

/// Sends a new code to the phone number on the user's profile; the number and when the code
/// stops being accepted.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub(crate) async fn send_code(state: &AppState, user_id: Uuid) -> Result<(String, DateTime<Utc>)> {
    let phone = state.users.contact(user_id).await?.and_then(|c| c.phone).ok_or(ApiError::NoPhone)?;
    let code = new_code();
    let minutes = state.sms_limits.code_ttl.as_secs().div_ceil(60);
    let rendered = state
        .templates
        .render_short(Kind::PhoneCode, serde_json::json!({"code": code, "minutes": minutes}))
        .map_err(|error| service_kit::Problem::internal(&error))?;
    let mut tx = state.pool.begin().await?;
    if !store::sms_within_quota(&mut tx, user_id, &phone, &state.sms_limits).await? {
        return Err(ApiError::SmsQuota);
    }
    let expires_at = match store::start_code(&mut tx, user_id, &phone, &digest_of(&code), &state.sms_limits).await? {
        CodeStarted::Started { expires_at } => expires_at,
        CodeStarted::TooSoon { retry_after_secs } => return Err(ApiError::TooSoon { retry_after_secs }),
    };
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
    Ok((phone, expires_at))
}

/// Confirms the number with the code it received; the verified number.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub(crate) async fn confirm(state: &AppState, user_id: Uuid, code: &str) -> Result<String> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::WrongCode);
    }
    let mut tx = state.pool.begin().await?;
    let verified = store::confirm_code(&mut tx, user_id, &digest_of(code)).await?;
    // A wrong guess is counted even though the answer is a refusal.
    tx.commit().await?;
    verified.ok_or(ApiError::WrongCode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_random_digits_kept_as_digests() {
        for _ in 0..100 {
            let code = new_code();
            assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        }
        assert_ne!(digest_of("123456"), digest_of("123457"));
    }
}
