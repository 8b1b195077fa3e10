//! HTTP handlers of the auth service.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use service_kit::{Json, Problem};

use crate::AppState;
use crate::domain::{Email, NewPassword, PASSWORD_MAX_CHARS};
use crate::store::{self, InsertOutcome};

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
pub async fn register(
    State(state): State<AppState>,
    Json(body): Json<Credentials>,
) -> Result<Response, Problem> {
    let email = Email::parse(&body.email);
    let password = NewPassword::parse(&body.password);
    let (email, password) = match (email, password) {
        (Ok(email), Ok(password)) => (email, password),
        (email, password) => {
            return Err(Problem::validation(
                email.err().into_iter().chain(password.err()).collect(),
            ));
        }
    };
    let hash = state
        .passwords
        .hash(&password.0)
        .await
        .map_err(|e| Problem::internal(&e))?;
    match store::insert_user(&state.pool, &email, &hash)
        .await
        .map_err(|e| Problem::internal(&e))?
    {
        InsertOutcome::Created(id) => {
            tracing::info!(user_id = %id, "account registered");
            Ok((
                StatusCode::CREATED,
                Json(Registered {
                    id,
                    email: email.as_str().to_owned(),
                }),
            )
                .into_response())
        }
        InsertOutcome::EmailTaken => Err(Problem::conflict(
            "email_taken",
            "an account with this email already exists",
        )),
    }
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

/// `POST /auth/login` → 200 with an access token, or the same 401 whether the email is
/// unknown or the password wrong (and in about the same time).
pub async fn login(
    State(state): State<AppState>,
    Json(body): Json<Credentials>,
) -> Result<Response, Problem> {
    let invalid = || Problem::unauthorized("invalid_credentials", "the email or password is wrong");
    let account = match Email::parse(&body.email) {
        Ok(email) => store::credentials(&state.pool, &email)
            .await
            .map_err(|e| Problem::internal(&e))?,
        Err(_) => None,
    };
    // Over-long passwords cannot belong to anyone; cap the work spent on them.
    let password = if body.password.chars().count() > PASSWORD_MAX_CHARS {
        ""
    } else {
        body.password.as_str()
    };
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let matches = state
        .passwords
        .verify(password, hash)
        .await
        .map_err(|e| Problem::internal(&e))?;
    let Some(account) = account.filter(|_| matches) else {
        return Err(invalid());
    };
    let role = match account.role.as_str() {
        "admin" => auth_jwt::Role::Admin,
        _ => auth_jwt::Role::Customer,
    };
    let (access_token, expires_in) = state.tokens.issue(account.id, role);
    tracing::info!(user_id = %account.id, "logged in");
    let mut response = Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
    })
    .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// `GET /auth/.well-known/jwks.json`: the public keys access tokens are verified with.
pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut response = Json(state.tokens.jwks().clone()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("public, max-age=300"),
    );
    response
}
