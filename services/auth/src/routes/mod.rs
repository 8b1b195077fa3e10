//! HTTP handlers of the auth service.

pub mod admin;
pub mod session;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use service_kit::{Code, Json, Problem};

use events::catalog::{
    EmailVerificationRequested, PasswordChanged, PasswordResetRequested, UserEmailVerified, UserRegistered,
};
use service_kit::{FieldCode, FieldError};

use crate::domain::{Email, NewPassword, PASSWORD_MAX_CHARS};
use crate::store::{self, InsertOutcome, Purpose};
use crate::{AppState, SERVICE, one_time, sessions};

#[derive(Deserialize)]
pub struct Credentials {
    pub(crate) email: String,
    pub(crate) password: String,
}

#[derive(Serialize)]
struct Registered {
    id: uuid::Uuid,
    email: String,
}

/// `POST /auth/register` → 201, 409 `email_taken`, 422 naming the invalid fields.
pub async fn register(State(state): State<AppState>, Json(body): Json<Credentials>) -> Result<Response, Problem> {
    let email = Email::parse(&body.email);
    let password = NewPassword::parse(&body.password);
    let (email, password) = match (email, password) {
        (Ok(email), Ok(password)) => (email, password),
        (email, password) => {
            return Err(Problem::validation(email.err().into_iter().chain(password.err()).collect()));
        }
    };
    let hash = state.passwords.hash(&password.0).await.map_err(|e| Problem::internal(&e))?;
    // The account, its verification token and both events commit together or not at all.
    let mut tx = state.pool.begin().await.map_err(|e| Problem::internal(&e))?;
    let id = match store::insert_user(&mut tx, &email, &hash).await.map_err(|e| Problem::internal(&e))? {
        InsertOutcome::Created(id) => id,
        InsertOutcome::EmailTaken => {
            return Err(Problem::new(Code::EmailTaken, "an account with this email already exists"));
        }
    };
    let (token, token_hash) = one_time::generate();
    let expires_at =
        store::insert_token(&mut tx, Purpose::VerifyEmail, id, &token_hash, one_time::VERIFY_EMAIL_TTL_SECS)
            .await
            .map_err(|e| Problem::internal(&e))?;
    let email_text = email.as_str().to_owned();
    events::enqueue(&mut tx, SERVICE, &UserRegistered { user_id: id, email: email_text.clone() })
        .await
        .map_err(|e| Problem::internal(&e))?;
    events::enqueue(
        &mut tx,
        SERVICE,
        &EmailVerificationRequested { user_id: id, email: email_text.clone(), token, expires_at },
    )
    .await
    .map_err(|e| Problem::internal(&e))?;
    tx.commit().await.map_err(|e| Problem::internal(&e))?;
    tracing::info!(user_id = %id, "account registered");
    Ok((StatusCode::CREATED, Json(Registered { id, email: email_text })).into_response())
}

#[derive(Deserialize)]
pub struct TokenBody {
    token: String,
}

fn invalid_token() -> Problem {
    Problem::validation(vec![FieldError::new(
        "token",
        FieldCode::InvalidOrExpired,
        "this link is invalid, used or expired",
    )])
}

/// `POST /auth/verify-email` with the token from the email's link: marks the address verified.
pub async fn verify_email(State(state): State<AppState>, Json(body): Json<TokenBody>) -> Result<Response, Problem> {
    let mut tx = state.pool.begin().await.map_err(|e| Problem::internal(&e))?;
    let user_id = store::consume_token(&mut tx, Purpose::VerifyEmail, &one_time::hash(&body.token))
        .await
        .map_err(|e| Problem::internal(&e))?
        .ok_or_else(invalid_token)?;
    let email = store::mark_email_verified(&mut tx, user_id).await.map_err(|e| Problem::internal(&e))?;
    events::enqueue(&mut tx, SERVICE, &UserEmailVerified { user_id, email })
        .await
        .map_err(|e| Problem::internal(&e))?;
    tx.commit().await.map_err(|e| Problem::internal(&e))?;
    tracing::info!(%user_id, "email verified");
    Ok(Json(serde_json::json!({"email_verified": true})).into_response())
}

#[derive(Deserialize)]
pub struct ResetRequest {
    email: String,
}

/// `POST /auth/password-reset`: the same 202 whether or not an account has this email.
pub async fn request_password_reset(
    State(state): State<AppState>,
    Json(body): Json<ResetRequest>,
) -> Result<Response, Problem> {
    let email = Email::parse(&body.email).map_err(|e| Problem::validation(vec![e]))?;
    let mut tx = state.pool.begin().await.map_err(|e| Problem::internal(&e))?;
    if let Some(user_id) = store::user_id_by_email(&mut tx, &email).await.map_err(|e| Problem::internal(&e))? {
        let (token, token_hash) = one_time::generate();
        let ttl = one_time::RESET_PASSWORD_TTL_SECS;
        let expires_at = store::insert_token(&mut tx, Purpose::ResetPassword, user_id, &token_hash, ttl)
            .await
            .map_err(|e| Problem::internal(&e))?;
        let event = PasswordResetRequested { user_id, email: email.as_str().to_owned(), token, expires_at };
        events::enqueue(&mut tx, SERVICE, &event).await.map_err(|e| Problem::internal(&e))?;
    }
    tx.commit().await.map_err(|e| Problem::internal(&e))?;
    let body =
        serde_json::json!({"status": "accepted", "detail": "if an account has this email, a reset link is on its way"});
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[derive(Deserialize)]
pub struct ResetConfirm {
    token: String,
    password: String,
}

/// `POST /auth/password-reset/confirm`: sets the new password; the token and every other
/// unused reset token of the account stop working.
pub async fn confirm_password_reset(
    State(state): State<AppState>,
    Json(body): Json<ResetConfirm>,
) -> Result<Response, Problem> {
    let password = NewPassword::parse(&body.password).map_err(|e| Problem::validation(vec![e]))?;
    let hash = state.passwords.hash(&password.0).await.map_err(|e| Problem::internal(&e))?;
    let mut tx = state.pool.begin().await.map_err(|e| Problem::internal(&e))?;
    let user_id = store::consume_token(&mut tx, Purpose::ResetPassword, &one_time::hash(&body.token))
        .await
        .map_err(|e| Problem::internal(&e))?
        .ok_or_else(invalid_token)?;
    let email = store::set_password(&mut tx, user_id, &hash).await.map_err(|e| Problem::internal(&e))?;
    store::void_tokens(&mut tx, Purpose::ResetPassword, user_id).await.map_err(|e| Problem::internal(&e))?;
    // A new password ends every session: whoever knew the old one is signed out.
    sessions::revoke_all(&mut tx, user_id, "password_changed").await.map_err(|e| Problem::internal(&e))?;
    events::enqueue(&mut tx, SERVICE, &PasswordChanged { user_id, email }).await.map_err(|e| Problem::internal(&e))?;
    tx.commit().await.map_err(|e| Problem::internal(&e))?;
    session::revoke_user_tokens(&state, user_id).await?;
    tracing::info!(%user_id, "password reset");
    Ok(Json(serde_json::json!({"status": "password_changed"})).into_response())
}

/// `POST /auth/login` → 200 with an access token, or the same 401 whether the email is
/// unknown or the password wrong (and in about the same time).
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Credentials>,
) -> Result<Response, Problem> {
    let account = check_password(&state, &headers, &body).await?;
    if account.role == "admin" {
        // An admin's password alone opens nothing: admins sign in with their second factor.
        return Err(Problem::new(Code::AdminLoginRequired, "administrators sign in at /auth/admin/login"));
    }
    open_session(&state, &headers, account, false).await
}

/// Password check with throttling, shared by customer and admin login: the same 401 (and about
/// the same time) for an unknown email and a wrong password.
pub(crate) async fn check_password(
    state: &AppState,
    headers: &HeaderMap,
    body: &Credentials,
) -> Result<store::Credentials, Problem> {
    let invalid = || Problem::new(Code::InvalidCredentials, "the email or password is wrong");
    let normalized = body.email.trim().to_lowercase();
    if let Err(retry_after) = state.throttle.check(&normalized, client_ip(headers)).await {
        return Err(Problem::new(Code::TooManyAttempts, "too many failed sign-ins; try again later")
            .with_retry_after(retry_after.as_secs()));
    }
    let account = match Email::parse(&body.email) {
        Ok(email) => store::credentials(&state.pool, &email).await.map_err(|e| Problem::internal(&e))?,
        Err(_) => None,
    };
    // Over-long passwords cannot belong to anyone; cap the work spent on them.
    let password = if body.password.chars().count() > PASSWORD_MAX_CHARS { "" } else { body.password.as_str() };
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let matches = state.passwords.verify(password, hash).await.map_err(|e| match e {
        crate::password::HashError::Busy => {
            Problem::new(Code::Busy, "sign-in is busy; try again shortly").with_retry_after(1)
        }
        other => Problem::internal(&other),
    })?;
    match account.filter(|_| matches) {
        Some(account) => {
            state.throttle.succeeded(&normalized).await;
            Ok(account)
        }
        None => {
            state.throttle.failed(&normalized, client_ip(headers)).await;
            Err(invalid())
        }
    }
}

/// Starts a session (refresh family) and answers with its tokens.
pub(crate) async fn open_session(
    state: &AppState,
    headers: &HeaderMap,
    account: store::Credentials,
    admin: bool,
) -> Result<Response, Problem> {
    let role = if admin { store::role(&account.role) } else { auth_jwt::Role::Customer };
    let mut tx = state.pool.begin().await.map_err(|e| Problem::internal(&e))?;
    let refresh =
        sessions::start_family(&mut tx, account.id, state.refresh, user_agent(headers), client_ip(headers), admin)
            .await
            .map_err(|e| Problem::internal(&e))?;
    tx.commit().await.map_err(|e| Problem::internal(&e))?;
    tracing::info!(user_id = %account.id, session = %refresh.family_id, admin, "logged in");
    Ok(token_response(state, account.id, role, account.email_verified, refresh))
}

/// The User-Agent of the shopper, as forwarded by the gateway.
pub(crate) fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok())
}

/// The client IP the gateway passes (trusted: this service only answers calls that carry a
/// valid internal token from the gateway).
pub(crate) fn client_ip(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-client-ip").and_then(|v| v.to_str().ok())
}

/// 200 with a new access token and its refresh token, never cached.
pub(crate) fn token_response(
    state: &AppState,
    user_id: uuid::Uuid,
    role: auth_jwt::Role,
    email_verified: bool,
    refresh: sessions::Issued,
) -> Response {
    let (access_token, expires_in) = state.tokens.issue(user_id, role, email_verified, Some(refresh.family_id));
    let refresh_expires_in = (refresh.expires_at - chrono::Utc::now()).num_seconds().max(0);
    let body = serde_json::json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "refresh_token": refresh.token,
        "refresh_expires_in": refresh_expires_in,
    });
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    let cookie = session::refresh_cookie(state, &refresh.token, refresh_expires_in);
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

/// `GET /auth/.well-known/jwks.json`: the public keys access tokens are verified with.
pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut response = Json(state.tokens.jwks()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("public, max-age=300"));
    response
}
