//! Refresh, logout, logout everywhere, and the list of active sessions.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use internal_token::Caller;
use serde::Deserialize;
use service_kit::{Code, Json, Problem};
use uuid::Uuid;

use super::AppState;
use crate::error::{ApiError, Result};
use crate::session::{Opened, REFRESH_COOKIE, Sessions};

/// 200 with a new access token and its refresh token (also as the HttpOnly cookie), never cached.
pub fn render(sessions: &Sessions, opened: Opened) -> Response {
    let body = serde_json::json!({
        "access_token": opened.access_token,
        "token_type": "Bearer",
        "expires_in": opened.expires_in,
        "refresh_token": opened.refresh_token,
        "refresh_expires_in": opened.refresh_expires_in,
    });
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    headers.insert(header::SET_COOKIE, sessions.refresh_cookie(&opened.refresh_token, opened.refresh_expires_in));
    response
}

#[derive(Deserialize)]
pub struct RefreshBody {
    refresh_token: String,
}

/// `POST /auth/refresh`: the presented token dies and a new pair is issued.
pub async fn refresh(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response> {
    let token = presented_refresh_token(&state, &headers, &body)?;
    let opened = state.sessions.refresh(&token).await?;
    Ok(render(&state.sessions, opened))
}

/// The refresh token of a `POST /auth/refresh`: from the JSON body, or else from the cookie.
/// The cookie path is the one a browser could be tricked into (CSRF), so besides SameSite=Strict
/// it requires an Origin from the allowed storefront origins.
fn presented_refresh_token(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<String> {
    if !body.iter().all(u8::is_ascii_whitespace) {
        if !problem::is_json(headers.get(header::CONTENT_TYPE)) {
            return Err(Problem::new(Code::UnsupportedMediaType, "expected Content-Type: application/json").into());
        }
        return Ok(problem::parse_json::<RefreshBody>(body)?.refresh_token);
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if !origin.is_some_and(|o| state.allowed_origins.iter().any(|allowed| allowed == o)) {
        return Err(ApiError::OriginNotAllowed);
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REFRESH_COOKIE)
        .map(|(_, value)| value.to_owned())
        .ok_or(ApiError::RefreshTokenMissing)
}

/// The signed-in user behind a call, with the access token it was made with.
fn signed_in(caller: &Caller) -> Result<(Uuid, &internal_token::Session)> {
    let subject = caller.subject();
    let user_id = Uuid::parse_str(&subject.sub).map_err(|_| ApiError::NotSignedIn)?;
    let session = subject.session.as_ref().ok_or(ApiError::NotSignedIn)?;
    Ok((user_id, session))
}

/// 204 that also clears the refresh cookie.
fn cleared_cookie(sessions: &Sessions) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, sessions.refresh_cookie("", 0));
    response
}

/// `POST /auth/logout`: ends this session: its refresh family and, at once, this access token.
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response> {
    let (user_id, session) = signed_in(&caller)?;
    state.sessions.logout(user_id, session).await?;
    Ok(cleared_cookie(&state.sessions))
}

/// `POST /auth/logout-all`: ends every session of the user, and every access token issued so far.
pub async fn logout_all(State(state): State<AppState>, caller: Caller) -> Result<Response> {
    let (user_id, session) = signed_in(&caller)?;
    state.sessions.logout_all(user_id, session).await?;
    Ok(cleared_cookie(&state.sessions))
}

/// `GET /auth/sessions`: the user's active logins, the current one marked.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>> {
    let (user_id, session) = signed_in(&caller)?;
    let items = state.sessions.list(user_id, session.sid.as_deref()).await?;
    Ok(Json(serde_json::json!({ "items": items })))
}
