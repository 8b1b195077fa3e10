//! Staff invitations (the public accept route) and the back office's account routes (internal:
//! only the admin service calls them, with the staff member's identity and permissions).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use contracts::auth::{Disable, NewStaff, StaffList};
use internal_token::Caller;
use serde::Deserialize;
use service_kit::problem_schema::{JsonBodyProblems, ProblemSchema};
use service_kit::{Json, Problem, Query};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppState, NoStore};
use crate::error::{ApiError, Result};

/// The invitation's token and the staff member's new password.
#[derive(Deserialize, ToSchema)]
pub(crate) struct Accept {
    token: String,
    /// 12 to 128 characters.
    password: String,
}

/// `POST /auth/staff/accept`: the invited staff member sets a password and enrols the second
/// factor; the seed and recovery codes are shown once.
#[utoipa::path(post, path = "/auth/staff/accept", tag = "admin", summary = "Accept a staff invitation",
    description = "Takes the token from the invitation email: sets the password, marks the address verified and \
        enrols the second factor. Sign in afterwards at `/auth/admin/login` with the password and a code from the \
        authenticator. The link works once.",
    request_body = Accept,
    responses(
        (status = 200, description = "The TOTP seed (as an `otpauth://` URI) and ten recovery codes, shown once (no-store).", body = crate::admin::Enrolment),
        JsonBodyProblems,
        (status = 422, description = "`validation_failed`: `token` (`invalid_or_expired`), `password` (`password_too_short`, `password_too_long`).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`busy`: retry shortly.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(crate) async fn accept(
    State(state): State<AppState>,
    Json(body): Json<Accept>,
) -> Result<NoStore<crate::admin::Enrolment>> {
    Ok(NoStore(state.accounts.accept_invitation(&body.token, &body.password).await?))
}

fn account_id(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::Problem(Problem::not_found("no account with this id")))
}

/// `GET /internal/staff` (admin; `staff:write`).
pub(crate) async fn list_staff(State(state): State<AppState>, caller: Caller) -> Result<Json<StaffList>> {
    Ok(Json(StaffList { items: state.accounts.list_staff(&caller).await? }))
}

/// `POST /internal/staff` (admin; `staff:write`) → 201.
pub(crate) async fn invite_staff(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewStaff>,
) -> Result<Response> {
    let invited = state.accounts.invite_staff(&caller, &body.email, &body.role).await?;
    Ok((StatusCode::CREATED, Json(invited)).into_response())
}

/// `GET /internal/accounts?email=` (admin; `customers:read`).
pub(crate) async fn account_by_email(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let Some(email) = query.get("email") else {
        return Err(
            service_kit::FieldError::new("email", service_kit::FieldCode::Required, "the email to look up").into()
        );
    };
    Ok(Json(state.accounts.account_by_email(&caller, email).await?).into_response())
}

/// `GET /internal/accounts/{id}` (admin; `customers:read`).
pub(crate) async fn account(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response> {
    Ok(Json(state.accounts.account(&caller, account_id(&id)?).await?).into_response())
}

/// `POST /internal/accounts/{id}/disable` (admin; `customers:write`, and `staff:write` for staff).
pub(crate) async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Disable>,
) -> Result<Response> {
    let id = account_id(&id)?;
    Ok(Json(state.accounts.set_disabled(&state.sessions, &caller, id, Some(&body.reason)).await?).into_response())
}

/// `POST /internal/accounts/{id}/enable` (admin; as disabling).
pub(crate) async fn enable(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response> {
    let id = account_id(&id)?;
    Ok(Json(state.accounts.set_disabled(&state.sessions, &caller, id, None).await?).into_response())
}
