//! The auth service's HTTP routes: extract, call the account or session module, render.

pub mod admin;
pub mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use service_kit::Json;

use crate::accounts::Accounts;
use crate::error::{ApiError, Result};
use crate::session::{Client, Sessions};
use crate::vault::Vault;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub accounts: Arc<Accounts>,
    pub sessions: Arc<Sessions>,
    pub vault: Arc<Vault>,
    pub pool: sqlx::PgPool,
    /// Origins (the storefront) whose pages may refresh with the HttpOnly cookie.
    pub allowed_origins: Arc<Vec<String>>,
}

/// Every route of the auth service.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route(contracts::auth::JWKS_PATH, get(jwks))
        .route("/auth/verify-email", post(verify_email))
        .route("/auth/password-reset", post(request_password_reset))
        .route("/auth/password-reset/confirm", post(confirm_password_reset))
        .route("/auth/refresh", post(session::refresh))
        .route("/auth/logout", post(session::logout))
        .route("/auth/logout-all", post(session::logout_all))
        .route("/auth/sessions", get(session::list))
        .route("/auth/admin/login", post(admin::login))
        .route("/auth/admin/totp/enroll", post(admin::enroll))
        .route("/auth/admin/keys/rotate", post(admin::rotate_keys))
        .with_state(state)
}

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct Registered {
    id: uuid::Uuid,
    email: String,
}

/// `POST /auth/register` → 201, 409 `email_taken`, 422 naming the invalid fields.
async fn register(State(state): State<AppState>, Json(body): Json<Credentials>) -> Result<Response> {
    let (id, email) = state.accounts.register(&body.email, &body.password).await?;
    Ok((StatusCode::CREATED, Json(Registered { id, email })).into_response())
}

#[derive(Deserialize)]
pub struct TokenBody {
    token: String,
}

/// `POST /auth/verify-email` with the token from the email's link: marks the address verified.
async fn verify_email(State(state): State<AppState>, Json(body): Json<TokenBody>) -> Result<Response> {
    state.accounts.verify_email(&body.token).await?;
    Ok(Json(serde_json::json!({"email_verified": true})).into_response())
}

#[derive(Deserialize)]
pub struct ResetRequest {
    email: String,
}

/// `POST /auth/password-reset`: the same 202 whether or not an account has this email.
async fn request_password_reset(State(state): State<AppState>, Json(body): Json<ResetRequest>) -> Result<Response> {
    state.accounts.request_password_reset(&body.email).await?;
    let body =
        serde_json::json!({"status": "accepted", "detail": "if an account has this email, a reset link is on its way"});
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[derive(Deserialize)]
pub struct ResetConfirm {
    token: String,
    password: String,
}

/// `POST /auth/password-reset/confirm`: sets the new password and ends every session.
async fn confirm_password_reset(State(state): State<AppState>, Json(body): Json<ResetConfirm>) -> Result<Response> {
    state.accounts.confirm_password_reset(&state.sessions, &body.token, &body.password).await?;
    Ok(Json(serde_json::json!({"status": "password_changed"})).into_response())
}

/// `POST /auth/login` → 200 with an access token, or the same 401 whether the email is
/// unknown or the password wrong (and in about the same time).
async fn login(State(state): State<AppState>, headers: HeaderMap, Json(body): Json<Credentials>) -> Result<Response> {
    let client = client(&headers);
    let account = state.accounts.check_password(&body.email, &body.password, client.ip).await?;
    if account.role == "admin" {
        // An admin's password alone opens nothing: admins sign in with their second factor.
        return Err(ApiError::AdminLoginRequired);
    }
    let opened = state.sessions.open(&account, false, client).await?;
    Ok(session::render(&state.sessions, opened))
}

/// Who is calling, as the gateway passes it (trusted: this service only answers calls that
/// carry a valid internal token from the gateway).
fn client(headers: &HeaderMap) -> Client<'_> {
    let text = |name: &header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    Client { user_agent: text(&header::USER_AGENT), ip: text(&service_kit::headers::CLIENT_IP) }
}

/// `GET /auth/.well-known/jwks.json`: the public keys access tokens are verified with.
async fn jwks(State(state): State<AppState>) -> Response {
    let mut response = Json(state.sessions.tokens().jwks()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("public, max-age=300"));
    response
}
