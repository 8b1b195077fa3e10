//! Admin sign-in with a second factor, and re-enrolment of that factor.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use internal_token::Caller;
use serde::Deserialize;
use service_kit::{Code, Json, Permission, Problem};
use uuid::Uuid;

use super::{Credentials, check_password, open_session};
use crate::AppState;

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
) -> Result<Response, Problem> {
    let wrong = || Problem::new(Code::InvalidCredentials, "the email, password or code is wrong");
    let credentials = Credentials { email: body.email, password: body.password };
    let account = check_password(&state, &headers, &credentials).await?;
    if account.role != "admin" {
        return Err(wrong());
    }
    let ok = crate::admin::second_factor_ok(
        &state.pool,
        &state.vault,
        account.id,
        body.code.as_deref(),
        body.recovery_code.as_deref(),
    )
    .await
    .map_err(|e| Problem::internal(&e))?;
    if !ok {
        tracing::warn!(security_event = "admin_second_factor_failed", user_id = %account.id, "wrong or reused admin code");
        state.throttle.failed(&credentials.email.trim().to_lowercase(), super::client_ip(&headers)).await;
        return Err(wrong());
    }
    open_session(&state, &headers, account, true).await
}

/// `POST /auth/admin/totp/enroll`: a new TOTP seed and recovery codes for the calling admin,
/// shown once.
pub async fn enroll(State(state): State<AppState>, caller: Caller) -> Result<Json<crate::admin::Enrolment>, Problem> {
    caller.require_perm(Permission::AdminAccess)?;
    let user_id = Uuid::parse_str(&caller.subject().sub).map_err(|_| Problem::forbidden("admins only"))?;
    let email = store_email(&state, user_id).await?;
    let mut tx = state.pool.begin().await.map_err(|e| Problem::internal(&e))?;
    let enrolment =
        crate::admin::enroll(&mut tx, &state.vault, user_id, &email).await.map_err(|e| Problem::internal(&e))?;
    tx.commit().await.map_err(|e| Problem::internal(&e))?;
    tracing::info!(security_event = "admin_second_factor_enrolled", %user_id, "second factor re-enrolled");
    Ok(Json(enrolment))
}

async fn store_email(state: &AppState, user_id: Uuid) -> Result<String, Problem> {
    sqlx::query_scalar("select email from users where id = $1 and role = 'admin'")
        .bind(user_id)
        .fetch_optional(&state.pool)
        .await
        .map_err(|e| Problem::internal(&e))?
        .ok_or_else(|| Problem::forbidden("admins only"))
}

/// `POST /auth/admin/keys/rotate` (permission `keys:rotate`): publishes a new signing key.
pub async fn rotate_keys(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, Problem> {
    caller.require_perm(Permission::KeysRotate)?;
    let (kid, activates_at) = state.tokens.ring().rotate().await.map_err(|e| Problem::internal(&e))?;
    tracing::info!(security_event = "signing_key_rotated", by = %caller.subject().sub, %kid, "key rotation requested");
    Ok(Json(serde_json::json!({"kid": kid, "activates_at": activates_at})))
}
