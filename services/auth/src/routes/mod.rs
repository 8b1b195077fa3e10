//! The auth service's HTTP routes: extract, call the account or session module, render.

pub(crate) mod account;
pub(crate) mod admin;
pub(crate) mod session;
pub(crate) mod staff;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use internal_token::only_from;
use serde::{Deserialize, Serialize};
use service_kit::Json;
use service_kit::fleet;
use service_kit::problem_schema::{JsonBodyProblems, ProblemSchema};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::{Accounts, SignIn};
use crate::error::{ApiError, Result};
use crate::session::{Client, Sessions};
use crate::vault::Vault;

/// What the handlers share.
#[derive(Clone)]
pub(crate) struct AppState {
    pub accounts: Arc<Accounts>,
    pub sessions: Arc<Sessions>,
    pub vault: Arc<Vault>,
    pub pool: sqlx::PgPool,
    /// Origins (the storefront) whose pages may refresh with the HttpOnly cookie.
    pub allowed_origins: Arc<Vec<String>>,
}

/// Every route of the auth service with its OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(jwks))
        .routes(routes!(verify_email))
        .routes(routes!(request_password_reset))
        .routes(routes!(confirm_password_reset))
        .routes(routes!(session::refresh))
        .routes(routes!(session::logout))
        .routes(routes!(session::logout_all))
        .routes(routes!(session::list))
        .routes(routes!(admin::login))
        .routes(routes!(admin::enroll))
        .routes(routes!(admin::rotate_keys))
        .routes(routes!(staff::accept))
        .routes(routes!(account::change_password))
        .routes(routes!(account::request_email_change))
        .routes(routes!(account::confirm_email_change))
        .routes(routes!(account::delete_account))
}

/// Every route of the auth service: the public ones for the gateway, the internal one for the
/// notification service, each narrowed to its caller.
pub(crate) fn router(state: AppState) -> Router {
    let public = api().with_state(state.clone()).split_for_parts().0.route_layer(from_fn(only_from(&[fleet::GATEWAY])));
    let internal = Router::new()
        .route(contracts::auth::ONE_TIME_TOKEN_PATH, get(one_time_token))
        .route_layer(from_fn(only_from(&[fleet::NOTIFICATION])))
        .with_state(state.clone());
    use contracts::auth as paths;
    let back_office = Router::new()
        .route(paths::STAFF_PATH, get(staff::list_staff).post(staff::invite_staff))
        .route(paths::ACCOUNTS_PATH, get(staff::account_by_email))
        .route(paths::ACCOUNT_PATH, get(staff::account))
        .route(paths::ACCOUNT_DISABLE_PATH, post(staff::disable))
        .route(paths::ACCOUNT_ENABLE_PATH, post(staff::enable))
        .route_layer(from_fn(only_from(&[fleet::ADMIN])))
        .with_state(state);
    public.merge(internal).merge(back_office)
}

/// `GET /internal/one-time-tokens/{token_ref}` (notification only): the clear one-time token
/// behind a reference while it is unused and unexpired, to write the link of its email.
async fn one_time_token(State(state): State<AppState>, Path(token_ref): Path<String>) -> Result<Response> {
    let gone = || ApiError::Problem(service_kit::Problem::not_found("no current one-time token with this reference"));
    let token_ref = uuid::Uuid::parse_str(&token_ref).map_err(|_| gone())?;
    let token = state.accounts.one_time_token(token_ref).await?.ok_or_else(gone)?;
    Ok(NoStore(contracts::auth::OneTimeToken { token }).into_response())
}

/// The OpenAPI description of the auth service's public routes.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// An email and a password.
#[derive(Deserialize, ToSchema)]
pub(crate) struct Credentials {
    #[schema(example = "ada@example.com")]
    email: String,
    /// 12 to 128 characters for a new account.
    password: String,
}

/// A new account.
#[derive(Serialize, ToSchema)]
struct Registered {
    id: uuid::Uuid,
    email: String,
}

/// A plain status answer.
#[derive(Serialize, ToSchema)]
struct Status {
    #[schema(example = "accepted")]
    status: &'static str,
    detail: Option<&'static str>,
}

/// The answer to a confirmed email.
#[derive(Serialize, ToSchema)]
struct EmailVerified {
    email_verified: bool,
}

/// `POST /auth/register` → 201, 409 `email_taken`, 422 naming the invalid fields.
#[utoipa::path(post, path = "/auth/register", tag = "auth", summary = "Create an account",
    request_body = Credentials,
    responses(
        (status = 201, description = "The account; a verification email is on its way.", body = Registered),
        JsonBodyProblems,
        (status = 409, description = "`email_taken`: an account with this email exists.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `email` (`invalid_email`), `password` (`password_too_short`, `password_too_long`).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`busy`: every password-hashing slot is taken; retry.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn register(State(state): State<AppState>, Json(body): Json<Credentials>) -> Result<Response> {
    let (id, email) = state.accounts.register(&body.email, &body.password).await?;
    Ok((StatusCode::CREATED, Json(Registered { id, email })).into_response())
}

/// The one-time token from an email's link.
#[derive(Deserialize, ToSchema)]
pub(crate) struct TokenBody {
    token: String,
}

/// `POST /auth/verify-email` with the token from the email's link: marks the address verified.
#[utoipa::path(post, path = "/auth/verify-email", tag = "auth", summary = "Confirm an email address",
    request_body = TokenBody,
    responses(
        (status = 200, description = "The address is verified.", body = EmailVerified),
        JsonBodyProblems,
        (status = 422, description = "`validation_failed`: `token` (`invalid_or_expired`).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn verify_email(State(state): State<AppState>, Json(body): Json<TokenBody>) -> Result<Json<EmailVerified>> {
    state.accounts.verify_email(&body.token).await?;
    Ok(Json(EmailVerified { email_verified: true }))
}

/// Whose password to reset.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ResetRequest {
    email: String,
}

/// `POST /auth/password-reset`: the same 202 whether or not an account has this email.
#[utoipa::path(post, path = "/auth/password-reset", tag = "auth", summary = "Ask for a password-reset link",
    request_body = ResetRequest,
    responses(
        (status = 202, description = "The same answer whether or not an account has this email.", body = Status),
        JsonBodyProblems,
        (status = 422, description = "`validation_failed`: `email` (`invalid_email`).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn request_password_reset(State(state): State<AppState>, Json(body): Json<ResetRequest>) -> Result<Response> {
    state.accounts.request_password_reset(&body.email).await?;
    let body = Status { status: "accepted", detail: Some("if an account has this email, a reset link is on its way") };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// The token from the reset link and the new password.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ResetConfirm {
    token: String,
    password: String,
}

/// `POST /auth/password-reset/confirm`: sets the new password and ends every session.
#[utoipa::path(post, path = "/auth/password-reset/confirm", tag = "auth", summary = "Set a new password with a reset link",
    request_body = ResetConfirm,
    responses(
        (status = 200, description = "The password is changed and every session ended.", body = Status),
        JsonBodyProblems,
        (status = 422, description = "`validation_failed`: `token` (`invalid_or_expired`), `password` (`password_too_short`, `password_too_long`).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`busy`: retry shortly.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn confirm_password_reset(State(state): State<AppState>, Json(body): Json<ResetConfirm>) -> Result<Json<Status>> {
    state.accounts.confirm_password_reset(&state.sessions, &body.token, &body.password).await?;
    Ok(Json(Status { status: "password_changed", detail: None }))
}

/// `POST /auth/login` → 200 with an access token, or the same 401 whether the email is
/// unknown or the password wrong (and in about the same time).
#[utoipa::path(post, path = "/auth/login", tag = "auth", summary = "Sign in",
    request_body = Credentials,
    responses(
        (status = 200, description = "An access token and a refresh token (also set as the HttpOnly `__Host-shopfleet_refresh` cookie).", body = session::Tokens),
        JsonBodyProblems,
        (status = 401, description = "`invalid_credentials`: an unknown email, a wrong password or a staff account (they sign in at /auth/admin/login), alike.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 403, description = "`account_disabled`: the password is right, but the shop disabled the account.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`: too many failed sign-ins for this account or address.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`busy`: retry shortly.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn login(State(state): State<AppState>, headers: HeaderMap, Json(body): Json<Credentials>) -> Result<Response> {
    let client = client(&headers);
    let network = client.network();
    let ok = state.accounts.check_password(&body.email, &body.password, network.as_deref(), SignIn::Customer).await?;
    let account = state.accounts.complete(ok).await;
    let opened = state.sessions.open(&account, false, client).await?;
    Ok(session::render(&state.sessions, opened))
}

/// A JSON answer that carries a secret or a user's own private data: never stored by a cache.
pub(crate) struct NoStore<T>(pub T);

impl<T: Serialize> IntoResponse for NoStore<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.0).into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
        response
    }
}

/// Who is calling, as the gateway passes it (trusted: this service only answers calls that
/// carry a valid internal token from the gateway).
fn client(headers: &HeaderMap) -> Client<'_> {
    let text = |name: &header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    Client { user_agent: text(&header::USER_AGENT), ip: text(&service_kit::headers::CLIENT_IP) }
}

/// `GET /auth/.well-known/jwks.json`: the public keys access tokens are verified with.
#[utoipa::path(get, path = "/auth/.well-known/jwks.json", tag = "auth", summary = "The keys that verify access tokens",
    responses((status = 200, description = "A JSON Web Key Set (RFC 7517).", body = Object)))]
async fn jwks(State(state): State<AppState>) -> Response {
    let mut response = Json(state.sessions.tokens().jwks()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("public, max-age=300"));
    response
}
