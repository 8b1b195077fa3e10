//! The signed-in account's own changes: password, email (confirmed from the new address) and
//! deleting the account. Each asks for the current password.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::Json;
use service_kit::problem_schema::{JsonBodyProblems, ProblemSchema, SignInRequired};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::session::{cleared_cookie, signed_in};
use crate::error::Result;

/// The current password and the new one.
#[derive(Deserialize, ToSchema)]
pub(crate) struct PasswordChange {
    current_password: String,
    /// 12 to 128 characters.
    new_password: String,
}

/// What a password change did.
#[derive(Serialize, ToSchema)]
pub(crate) struct PasswordChanged {
    /// How many other sessions were ended.
    sessions_ended: usize,
}

/// `POST /auth/password`.
#[utoipa::path(post, path = "/auth/password", tag = "auth", summary = "Change the password", security(("bearer" = [])),
    description = "Needs the current password (a wrong one counts like a failed sign-in). Every other session and \
        its access tokens end; this one stays signed in. The owner is emailed.",
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed.", body = PasswordChanged),
        JsonBodyProblems,
        SignInRequired,
        (status = 422, description = "`validation_failed`: `current_password` (`invalid_value`: not the current one), `new_password` (`password_too_short`, `password_too_long`).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`: too many wrong passwords.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`busy`: retry shortly.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<PasswordChange>,
) -> Result<Json<PasswordChanged>> {
    let (user_id, session) = signed_in(&caller)?;
    let current = session.sid.as_deref().and_then(|s| Uuid::parse_str(s).ok());
    let network = super::client(&headers).network();
    let sessions_ended = state
        .accounts
        .change_password(
            &state.sessions,
            user_id,
            current,
            &body.current_password,
            &body.new_password,
            network.as_deref(),
        )
        .await?;
    Ok(Json(PasswordChanged { sessions_ended }))
}

/// The current password and the address to move to.
#[derive(Deserialize, ToSchema)]
pub(crate) struct EmailChange {
    password: String,
    #[schema(example = "ada.new@example.com")]
    new_email: String,
}

/// Where the confirmation link went.
#[derive(Serialize, ToSchema)]
pub(crate) struct EmailChangePending {
    /// The new address: the link is there; the account keeps its old one until it is used.
    email: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /auth/email`.
#[utoipa::path(post, path = "/auth/email", tag = "auth", summary = "Ask to change the email address", security(("bearer" = [])),
    description = "Needs the current password. A confirmation link goes to the new address (valid 24 hours, once); \
        nothing changes until it is used (`POST /auth/email/confirm`). Then the old address is told.",
    request_body = EmailChange,
    responses(
        (status = 202, description = "The link is on its way to the new address.", body = EmailChangePending),
        JsonBodyProblems,
        SignInRequired,
        (status = 403, description = "`forbidden`: a staff account's email is changed by an administrator.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`: another account has this address.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `password` (`invalid_value`), `new_email` (`invalid_email`, `invalid_value`: the current address).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`: too many wrong passwords.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(crate) async fn request_email_change(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<EmailChange>,
) -> Result<Response> {
    let (user_id, _) = signed_in(&caller)?;
    let network = super::client(&headers).network();
    let (email, expires_at) =
        state.accounts.request_email_change(user_id, &body.password, &body.new_email, network.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Json(EmailChangePending { email, expires_at })).into_response())
}

/// The account's address now.
#[derive(Serialize, ToSchema)]
pub(crate) struct EmailChanged {
    email: String,
}

/// `POST /auth/email/confirm`.
#[utoipa::path(post, path = "/auth/email/confirm", tag = "auth", summary = "Confirm a new email address",
    description = "Takes the token from the link sent to the new address. The account moves to it (verified), and the \
        old address is told.",
    request_body = super::TokenBody,
    responses(
        (status = 200, description = "The account's address now.", body = EmailChanged),
        JsonBodyProblems,
        (status = 409, description = "`email_taken`: another account took the address meanwhile.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `token` (`invalid_or_expired`).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(crate) async fn confirm_email_change(
    State(state): State<AppState>,
    Json(body): Json<super::TokenBody>,
) -> Result<Json<EmailChanged>> {
    Ok(Json(EmailChanged { email: state.accounts.confirm_email_change(&body.token).await? }))
}

/// The current password, to delete the account.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AccountDeletion {
    password: String,
}

/// `POST /auth/account/delete`.
#[utoipa::path(post, path = "/auth/account/delete", tag = "auth", summary = "Delete the account", security(("bearer" = [])),
    description = "Needs the current password. Every session ends; the profile, addresses, devices, cart, reviews \
        and messages are erased; orders keep an anonymised snapshot for the shop's bookkeeping. It cannot be undone.",
    request_body = AccountDeletion,
    responses(
        (status = 204, description = "Deleted; the refresh cookie is cleared."),
        JsonBodyProblems,
        SignInRequired,
        (status = 403, description = "`forbidden`: a staff account is disabled by an administrator, not deleted.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `password` (`invalid_value`).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`: too many wrong passwords.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_account(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<AccountDeletion>,
) -> Result<Response> {
    let (user_id, _) = signed_in(&caller)?;
    let network = super::client(&headers).network();
    state.accounts.delete_account(&state.sessions, user_id, &body.password, network.as_deref()).await?;
    Ok(cleared_cookie(&state.sessions))
}
