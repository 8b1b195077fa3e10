//! Refresh, logout, logout everywhere, and the list of active sessions.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::{JsonBodyProblems, ProblemSchema, SignInRequired};
use service_kit::{Code, Json, Problem};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppState, NoStore};
use crate::error::{ApiError, Result};
use crate::session::{Opened, Presented, REFRESH_COOKIE, Sessions};
use crate::store::sessions::SessionView;

/// What a sign-in or a refresh answers.
#[derive(Serialize, ToSchema)]
pub(crate) struct Tokens {
    /// The RS256 access token (15 minutes; 5 for administrators).
    access_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds the access token lives.
    expires_in: u64,
    /// Opaque, single use: refreshing rotates it. Also set as the HttpOnly cookie; for an
    /// administrator only there (absent here).
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// Seconds the refresh token lives.
    refresh_expires_in: i64,
}

/// 200 with a new access token and its refresh token (also as the HttpOnly cookie), never cached.
pub(crate) fn render(sessions: &Sessions, opened: Opened) -> Response {
    let cookie = sessions.refresh_cookie(&opened.refresh_token, opened.refresh_expires_in);
    let body = Tokens {
        access_token: opened.access_token,
        token_type: "Bearer",
        expires_in: opened.expires_in,
        refresh_token: (!opened.admin).then_some(opened.refresh_token),
        refresh_expires_in: opened.refresh_expires_in,
    };
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    headers.insert(header::SET_COOKIE, cookie);
    response
}

/// The refresh token, when the client keeps it itself (else the cookie is used).
#[derive(Deserialize, ToSchema)]
pub(crate) struct RefreshBody {
    refresh_token: String,
}

/// `POST /auth/refresh`: the presented token dies and a new pair is issued.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", summary = "Rotate the refresh token for a new pair",
    description = "Takes the refresh token from a JSON body, or, with an empty body, from the HttpOnly `__Host-shopfleet_refresh` cookie (then the `Origin` must be an allowed storefront origin); an administrator's session refreshes from the cookie only. A token rotated moments ago (two tabs) still refreshes within the reuse grace; presenting one later revokes its whole session and its access tokens.",
    request_body(content = Option<RefreshBody>, description = "Omit to use the cookie."),
    responses(
        (status = 200, description = "A new pair.", body = Tokens),
        JsonBodyProblems,
        (status = 401, description = "`refresh_token_missing`, `refresh_token_invalid` (also for two cookies of the name, or an administrator's token in a body), `refresh_token_reused` (the session is revoked) or `refresh_token_expired`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: the cookie came without an allowed Origin.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the body lacks `refresh_token`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(crate) async fn refresh(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response> {
    let (token, presented) = presented_refresh_token(&state, &headers, &body)?;
    let opened = state.sessions.refresh(&token, presented).await?;
    Ok(render(&state.sessions, opened))
}

/// The refresh token of a `POST /auth/refresh`: from the JSON body, or else from the cookie.
/// The cookie path is the one a browser could be tricked into (CSRF), so besides SameSite=Strict
/// it requires an Origin from the allowed storefront origins.
fn presented_refresh_token(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(String, Presented)> {
    if !body.iter().all(u8::is_ascii_whitespace) {
        if !problem::is_json(headers.get(header::CONTENT_TYPE)) {
            return Err(Problem::new(Code::UnsupportedMediaType, "expected Content-Type: application/json").into());
        }
        return Ok((problem::parse_json::<RefreshBody>(body)?.refresh_token, Presented::Body));
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if !origin.is_some_and(|o| state.allowed_origins.iter().any(|allowed| allowed == o)) {
        return Err(ApiError::OriginNotAllowed);
    }
    let found: Vec<&str> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == REFRESH_COOKIE)
        .map(|(_, value)| value)
        .collect();
    match found.as_slice() {
        [token] => Ok(((*token).to_owned(), Presented::Cookie)),
        [] => Err(ApiError::RefreshTokenMissing),
        // Two cookies of one name: one was planted (review L5); trust neither.
        _ => Err(ApiError::RefreshTokenInvalid),
    }
}

/// The signed-in user behind a call, with the access token it was made with.
pub(super) fn signed_in(caller: &Caller) -> Result<(Uuid, &internal_token::Session)> {
    let subject = caller.subject();
    let user_id = Uuid::parse_str(&subject.sub).map_err(|_| ApiError::NotSignedIn)?;
    let session = subject.session.as_ref().ok_or(ApiError::NotSignedIn)?;
    Ok((user_id, session))
}

/// 204 that also clears the refresh cookie.
pub(super) fn cleared_cookie(sessions: &Sessions) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, sessions.refresh_cookie("", 0));
    response
}

/// `POST /auth/logout`: ends this session: its refresh family and, at once, this access token.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", summary = "End this session", security(("bearer" = [])),
    responses(
        (status = 204, description = "Ended; the refresh cookie is cleared."),
        SignInRequired,
    ))]
pub(crate) async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response> {
    let (user_id, session) = signed_in(&caller)?;
    state.sessions.logout(user_id, session).await?;
    Ok(cleared_cookie(&state.sessions))
}

/// `POST /auth/logout-all`: ends every session of the user, and every access token issued so far.
#[utoipa::path(post, path = "/auth/logout-all", tag = "auth", summary = "End every session of the user", security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session and every access token issued so far are ended."),
        SignInRequired,
    ))]
pub(crate) async fn logout_all(State(state): State<AppState>, caller: Caller) -> Result<Response> {
    let (user_id, session) = signed_in(&caller)?;
    state.sessions.logout_all(user_id, session).await?;
    Ok(cleared_cookie(&state.sessions))
}

/// The user's active logins.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionList {
    items: Vec<SessionView>,
}

/// `GET /auth/sessions`: the user's active logins, the current one marked.
#[utoipa::path(get, path = "/auth/sessions", tag = "auth", summary = "The user's active sessions", security(("bearer" = [])),
    responses(
        (status = 200, description = "Active sessions, most recently used first; `current` marks this one.", body = SessionList),
        SignInRequired,
    ))]
pub(crate) async fn list(State(state): State<AppState>, caller: Caller) -> Result<NoStore<SessionList>> {
    let (user_id, session) = signed_in(&caller)?;
    let items = state.sessions.list(user_id, session.sid.as_deref()).await?;
    Ok(NoStore(SessionList { items }))
}
