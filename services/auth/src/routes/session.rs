//! Refresh, logout, logout everywhere, and the list of active sessions.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use internal_token::Caller;
use redis::AsyncCommands;
use serde::Deserialize;
use service_kit::{Code, Json, Problem};
use uuid::Uuid;

use super::token_response;
use crate::sessions::{self, Rotation};
use crate::{AppState, store};

#[derive(Deserialize)]
pub struct RefreshBody {
    refresh_token: String,
}

/// `POST /auth/refresh`: the presented token dies and a new pair is issued. Presenting a token
/// that was already rotated revokes its whole family.
pub async fn refresh(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, Problem> {
    let token = presented_refresh_token(&state, &headers, &body)?;
    match sessions::rotate(&state.pool, &token, state.refresh).await.map_err(|e| Problem::internal(&e))? {
        Rotation::Rotated { user_id, issued, admin } => {
            let (role, email_verified) = store::account(&state.pool, user_id)
                .await
                .map_err(|e| Problem::internal(&e))?
                .ok_or_else(|| Problem::new(Code::RefreshTokenInvalid, "the refresh token is not valid"))?;
            // Admin tokens only come from sessions opened with a second factor.
            let role = if admin { role } else { auth_jwt::Role::Customer };
            Ok(token_response(&state, user_id, role, email_verified, issued))
        }
        Rotation::Reused { user_id, family_id } => {
            tracing::warn!(security_event = "refresh_token_reuse", %user_id, session = %family_id,
                "a rotated refresh token was presented again; the session is revoked");
            Err(Problem::new(Code::RefreshTokenReused, "this refresh token was already used; sign in again"))
        }
        Rotation::Expired => Err(Problem::new(Code::RefreshTokenExpired, "the session has expired; sign in again")),
        Rotation::Invalid => Err(Problem::new(Code::RefreshTokenInvalid, "the refresh token is not valid")),
    }
}

/// The name of the HttpOnly cookie that carries the refresh token for the storefront.
pub const REFRESH_COOKIE: &str = "shopfleet_refresh";

/// The refresh token as a `Set-Cookie` value: HttpOnly (no script reads it), SameSite=Strict (no
/// other site's page sends it), scoped to the auth API; `max_age` 0 clears it.
pub(crate) fn refresh_cookie(state: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let secure = if state.cookie_secure { "; Secure" } else { "" };
    let value =
        format!("{REFRESH_COOKIE}={token}; Path=/api/v1/auth; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::from_str(&value).expect("tokens are base64url")
}

/// The refresh token of a `POST /auth/refresh`: from the JSON body, or else from the cookie.
/// The cookie path is the one a browser could be tricked into (CSRF), so besides SameSite=Strict
/// it requires an Origin from the allowed storefront origins.
fn presented_refresh_token(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<String, Problem> {
    if !body.iter().all(u8::is_ascii_whitespace) {
        if !problem::is_json(headers.get(header::CONTENT_TYPE)) {
            return Err(Problem::new(Code::UnsupportedMediaType, "expected Content-Type: application/json"));
        }
        return problem::parse_json::<RefreshBody>(body).map(|b| b.refresh_token);
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if !origin.is_some_and(|o| state.allowed_origins.iter().any(|allowed| allowed == o)) {
        return Err(Problem::forbidden("the refresh cookie is accepted only from the storefront's origin"));
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REFRESH_COOKIE)
        .map(|(_, value)| value.to_owned())
        .ok_or_else(|| Problem::new(Code::RefreshTokenMissing, "no refresh token in the body or cookie"))
}

/// The signed-in user behind a call, with the access token it was made with.
fn signed_in(caller: &Caller) -> Result<(Uuid, &internal_token::Session), Problem> {
    let subject = caller.subject();
    let user_id = Uuid::parse_str(&subject.sub).map_err(|_| Problem::new(Code::TokenMissing, "sign in first"))?;
    let session = subject.session.as_ref().ok_or_else(|| Problem::new(Code::TokenMissing, "sign in first"))?;
    Ok((user_id, session))
}

/// 204 that also clears the refresh cookie.
fn cleared_cookie(state: &AppState) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, refresh_cookie(state, "", 0));
    response
}

/// Puts an access token on the revocation list until it would have expired anyway.
async fn revoke_access_token(state: &AppState, session: &internal_token::Session) -> Result<(), Problem> {
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    // A little past `exp`, for the verifiers' clock leeway.
    let ttl = session.exp.saturating_sub(now) + auth_jwt::DEFAULT_LEEWAY_SECS;
    let key = auth_jwt::revocation::token_key(&state.key_prefix, &session.jti);
    let mut redis = state.redis.clone();
    redis.set_ex::<_, _, ()>(key, 1, ttl).await.map_err(|e| Problem::internal(&e))
}

/// `POST /auth/logout`: ends this session: its refresh family and, at once, this access token.
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, Problem> {
    let (user_id, session) = signed_in(&caller)?;
    if let Some(family) = session.sid.as_deref().and_then(|s| Uuid::parse_str(s).ok()) {
        sessions::revoke_family(&state.pool, user_id, family, "logout").await.map_err(|e| Problem::internal(&e))?;
    }
    revoke_access_token(&state, session).await?;
    tracing::info!(%user_id, "logged out");
    Ok(cleared_cookie(&state))
}

/// `POST /auth/logout-all`: ends every session of the user, and every access token issued so far.
pub async fn logout_all(State(state): State<AppState>, caller: Caller) -> Result<Response, Problem> {
    let (user_id, session) = signed_in(&caller)?;
    let mut tx = state.pool.begin().await.map_err(|e| Problem::internal(&e))?;
    let revoked = sessions::revoke_all(&mut tx, user_id, "logout_all").await.map_err(|e| Problem::internal(&e))?;
    tx.commit().await.map_err(|e| Problem::internal(&e))?;
    revoke_user_tokens(&state, user_id).await?;
    revoke_access_token(&state, session).await?;
    tracing::info!(%user_id, sessions = revoked, "logged out everywhere");
    Ok(cleared_cookie(&state))
}

/// Every access token of the user issued before now is refused from now on.
pub(crate) async fn revoke_user_tokens(state: &AppState, user_id: Uuid) -> Result<(), Problem> {
    let now = chrono::Utc::now().timestamp();
    let key = auth_jwt::revocation::user_key(&state.key_prefix, &user_id.to_string());
    let ttl = state.tokens.longest_lifetime_secs() + auth_jwt::DEFAULT_LEEWAY_SECS;
    let mut redis = state.redis.clone();
    redis.set_ex::<_, _, ()>(key, now, ttl).await.map_err(|e| Problem::internal(&e))
}

/// `GET /auth/sessions`: the user's active logins, the current one marked.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, Problem> {
    let (user_id, session) = signed_in(&caller)?;
    let mut items = sessions::active(&state.pool, user_id).await.map_err(|e| Problem::internal(&e))?;
    for item in &mut items {
        item.current = session.sid.as_deref() == Some(item.id.to_string().as_str());
    }
    Ok(Json(serde_json::json!({ "items": items })))
}
