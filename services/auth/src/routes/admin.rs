//! Admin sign-in with a second factor, re-enrolment of that factor, and key rotation.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::{JsonBodyProblems, ProblemSchema};
use service_kit::{Json, Permission};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppState, NoStore};
use crate::error::{ApiError, Result};

/// An administrator's sign-in: password and a second factor.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AdminLogin {
    email: String,
    password: String,
    /// The current TOTP code.
    code: Option<String>,
    /// Or one of the recovery codes, when the authenticator is lost.
    recovery_code: Option<String>,
}

/// `POST /auth/admin/login`: password and a TOTP (or recovery) code; an admin session with
/// shorter-lived tokens that carry the admin permissions.
#[utoipa::path(post, path = "/auth/admin/login", tag = "admin", operation_id = "admin_login", summary = "Administrator sign-in with a second factor",
    request_body = AdminLogin,
    responses(
        (status = 200, description = "Admin tokens (shorter-lived, carrying the permissions).", body = super::session::Tokens),
        JsonBodyProblems,
        (status = 401, description = "`invalid_credentials`: the email, password or code is wrong.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 403, description = "`account_disabled`: the password is right, but the account is disabled.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`: too many failed sign-ins, or too many wrong codes for this account (then for the rest of the window, whatever the password).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`busy`: retry shortly.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<AdminLogin>,
) -> Result<Response> {
    let client = super::client(&headers);
    let factor = (body.code.as_deref(), body.recovery_code.as_deref());
    let account = state.accounts.admin_check(&body.email, &body.password, client.network().as_deref(), factor).await?;
    let opened = state.sessions.open(&account, true, client).await?;
    Ok(super::session::render(&state.sessions, opened))
}

/// What re-enrolling the second factor asks for: the password and the current factor.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ReEnrol {
    password: String,
    /// The current TOTP code.
    code: Option<String>,
    /// Or one of the recovery codes.
    recovery_code: Option<String>,
}

/// `POST /auth/admin/totp/enroll`: a new TOTP seed and recovery codes for the calling admin,
/// shown once, after a step-up (password and the current code or a recovery code); every other
/// session of the admin ends and the admin is emailed (review M6).
#[utoipa::path(post, path = "/auth/admin/totp/enroll", tag = "admin", summary = "Re-enrol the second factor",
    security(("bearer" = ["admin:access"])),
    request_body = ReEnrol,
    responses(
        (status = 200, description = "The new seed and recovery codes, shown once (no-store). Every other session is ended and a notice is emailed.", body = crate::admin::Enrolment),
        JsonBodyProblems,
        (status = 401, description = "`token_missing`, or `invalid_credentials`: the password or the current code is wrong.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: administrators only.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`busy`: retry shortly.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(crate) async fn enroll(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<ReEnrol>,
) -> Result<NoStore<crate::admin::Enrolment>> {
    caller.require_perm(Permission::AdminAccess)?;
    let user_id = Uuid::parse_str(&caller.subject().sub).map_err(|_| ApiError::AdminsOnly)?;
    let email = crate::admin::admin_email(&state.pool, user_id).await?.ok_or(ApiError::AdminsOnly)?;
    // Step-up: the same checks, counters and locks as the admin sign-in.
    let network = super::client(&headers).network();
    let factor = (body.code.as_deref(), body.recovery_code.as_deref());
    state.accounts.admin_check(&email, &body.password, network.as_deref(), factor).await?;
    let current =
        caller.subject().session.as_ref().and_then(|s| s.sid.as_deref()).and_then(|s| Uuid::parse_str(s).ok());
    let (enrolment, ended) = crate::admin::re_enroll(&state.pool, &state.vault, user_id, &email, current).await?;
    for family in &ended {
        state.sessions.revoke_session_tokens(user_id, &family.to_string()).await?;
    }
    tracing::info!(security_event = "admin_second_factor_enrolled", %user_id, ended_sessions = ended.len(), "second factor re-enrolled");
    Ok(NoStore(enrolment))
}

/// A new signing key.
#[derive(Serialize, ToSchema)]
pub(crate) struct Rotated {
    kid: String,
    /// When it starts signing (it is published at once).
    activates_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /auth/admin/keys/rotate` (permission `keys:rotate`): publishes a new signing key.
#[utoipa::path(post, path = "/auth/admin/keys/rotate", tag = "admin", summary = "Rotate the access-token signing key",
    security(("bearer" = ["keys:rotate"])),
    responses(
        (status = 200, description = "The new key: published now, signing from `activates_at`.", body = Rotated),
        (status = 401, description = "`token_missing`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: needs `keys:rotate`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(crate) async fn rotate_keys(State(state): State<AppState>, caller: Caller) -> Result<Json<Rotated>> {
    caller.require_perm(Permission::KeysRotate)?;
    let (kid, activates_at) = state.sessions.tokens().ring().rotate_by(&caller.subject().sub).await?;
    tracing::info!(security_event = "signing_key_rotated", by = %caller.subject().sub, %kid, "key rotation requested");
    Ok(Json(Rotated { kid, activates_at }))
}
