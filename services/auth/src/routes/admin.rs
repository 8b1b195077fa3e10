//! Admin sign-in with a second factor, re-enrolment of that factor, and key rotation.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use internal_token::Caller;
use serde::Deserialize;
use service_kit::{Json, Permission};
use uuid::Uuid;

use super::AppState;
use crate::error::{ApiError, Result};

#[derive(Deserialize)]
pub struct AdminLogin {
    email: String,
    password: String,
    /// The current TOTP code.
    code: Option<String>,
    /// Or one of the recovery codes, when the authenticator is lost.
    recovery_code: Option<String>,
}

/// `POST /auth/admin/login`: password and a TOTP (or recovery) code; an admin session with
/// shorter-lived tokens that carry the admin permissions.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<AdminLogin>,
) -> Result<Response> {
    let client = super::client(&headers);
    let account = match state.accounts.check_password(&body.email, &body.password, client.ip).await {
        Err(ApiError::InvalidCredentials) => return Err(ApiError::InvalidAdminCredentials),
        other => other?,
    };
    if account.role != "admin" {
        return Err(ApiError::InvalidAdminCredentials);
    }
    let (code, recovery) = (body.code.as_deref(), body.recovery_code.as_deref());
    if !crate::admin::second_factor_ok(&state.pool, &state.vault, account.id, code, recovery).await? {
        tracing::warn!(security_event = "admin_second_factor_failed", user_id = %account.id, "wrong or reused admin code");
        state.accounts.second_factor_failed(&body.email, client.ip).await;
        return Err(ApiError::InvalidAdminCredentials);
    }
    let opened = state.sessions.open(&account, true, client).await?;
    Ok(super::session::render(&state.sessions, opened))
}

/// `POST /auth/admin/totp/enroll`: a new TOTP seed and recovery codes for the calling admin,
/// shown once.
pub async fn enroll(State(state): State<AppState>, caller: Caller) -> Result<Json<crate::admin::Enrolment>> {
    caller.require_perm(Permission::AdminAccess)?;
    let user_id = Uuid::parse_str(&caller.subject().sub).map_err(|_| ApiError::AdminsOnly)?;
    let enrolment = crate::admin::re_enroll(&state.pool, &state.vault, user_id).await?.ok_or(ApiError::AdminsOnly)?;
    tracing::info!(security_event = "admin_second_factor_enrolled", %user_id, "second factor re-enrolled");
    Ok(Json(enrolment))
}

/// `POST /auth/admin/keys/rotate` (permission `keys:rotate`): publishes a new signing key.
pub async fn rotate_keys(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>> {
    caller.require_perm(Permission::KeysRotate)?;
    let (kid, activates_at) = state.sessions.tokens().ring().rotate().await?;
    tracing::info!(security_event = "signing_key_rotated", by = %caller.subject().sub, %kid, "key rotation requested");
    Ok(Json(serde_json::json!({"kid": kid, "activates_at": activates_at})))
}
