//! The errors of the auth service's routes, each answered as problem+json with its status.
//! Causes of 500s are logged where they are turned into a response, never sent.

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use service_kit::{Code, FieldCode, FieldError, Problem};

use crate::keyring::KeyRingError;
use crate::password::HashError;

/// Why a request to the auth service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 409 `email_taken`: an account with this email exists (a deliberate UX choice, DESIGN §9).
    #[error("email taken")]
    EmailTaken,
    /// 401 `invalid_credentials`: unknown email or wrong password (the same answer for both).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 401 `invalid_credentials`: an admin sign-in whose password or second factor is wrong.
    #[error("invalid admin credentials")]
    InvalidAdminCredentials,
    /// 429 `too_many_attempts` with `Retry-After`: too many failed sign-ins.
    #[error("too many attempts")]
    TooManyAttempts(Duration),
    /// 503 `busy` with `Retry-After: 1`: every password-hashing slot is taken and the wait is over.
    #[error("hashing is busy")]
    Busy,
    /// 422 `validation_failed` on `token`: the one-time link is invalid, used or expired.
    #[error("invalid one-time token")]
    InvalidLink,
    /// 401 `refresh_token_missing`: neither the body nor the cookie carries a refresh token.
    #[error("no refresh token")]
    RefreshTokenMissing,
    /// 401 `refresh_token_invalid`: not a token this service issued, or its session ended.
    #[error("invalid refresh token")]
    RefreshTokenInvalid,
    /// 401 `refresh_token_reused`: an already rotated token was presented; its family is revoked.
    #[error("refresh token reused")]
    RefreshTokenReused,
    /// 401 `refresh_token_expired`: the session is over.
    #[error("refresh token expired")]
    RefreshTokenExpired,
    /// 401 `token_missing`: the route acts on the caller's session and the call is anonymous.
    #[error("not signed in")]
    NotSignedIn,
    /// 403 `forbidden`: the caller is not an administrator.
    #[error("admins only")]
    AdminsOnly,
    /// 403 `account_disabled`: the password is right but staff disabled the account.
    #[error("account disabled")]
    AccountDisabled,
    /// 403 `forbidden`: the refresh cookie came without an allowed Origin (CSRF defence).
    #[error("origin not allowed")]
    OriginNotAllowed,
    /// The problem's own status: a problem already made (invalid fields 422, an unreadable body
    /// 400/413/415, a missing permission 403), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 500 `internal_error`: the database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// 500 `internal_error`: Redis (the revocation list) failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// 500 `internal_error`: password hashing failed (503 `busy` when only overloaded).
    #[error("password hashing: {0}")]
    Hash(HashError),
    /// 500 `internal_error`: the signing-key ring failed.
    #[error("key ring: {0}")]
    Keys(#[from] KeyRingError),
}

impl From<HashError> for ApiError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => ApiError::Busy,
            other => ApiError::Hash(other),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::Problem(Problem::validation(vec![error]))
    }
}

impl From<ApiError> for Problem {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::EmailTaken => Problem::new(Code::EmailTaken, "an account with this email already exists"),
            ApiError::InvalidCredentials => Problem::new(Code::InvalidCredentials, "the email or password is wrong"),
            ApiError::InvalidAdminCredentials => {
                Problem::new(Code::InvalidCredentials, "the email, password or code is wrong")
            }
            ApiError::TooManyAttempts(retry_after) => {
                Problem::new(Code::TooManyAttempts, "too many failed sign-ins; try again later")
                    .with_retry_after(retry_after.as_secs().max(1))
            }
            ApiError::Busy => Problem::new(Code::Busy, "sign-in is busy; try again shortly").with_retry_after(1),
            ApiError::InvalidLink => Problem::validation(vec![FieldError::new(
                "token",
                FieldCode::InvalidOrExpired,
                "this link is invalid, used or expired",
            )]),
            ApiError::RefreshTokenMissing => {
                Problem::new(Code::RefreshTokenMissing, "no refresh token in the body or cookie")
            }
            ApiError::RefreshTokenInvalid => Problem::new(Code::RefreshTokenInvalid, "the refresh token is not valid"),
            ApiError::RefreshTokenReused => {
                Problem::new(Code::RefreshTokenReused, "this refresh token was already used; sign in again")
            }
            ApiError::RefreshTokenExpired => {
                Problem::new(Code::RefreshTokenExpired, "the session has expired; sign in again")
            }
            ApiError::NotSignedIn => Problem::new(Code::TokenMissing, "sign in first"),
            ApiError::AdminsOnly => Problem::forbidden("admins only"),
            ApiError::AccountDisabled => {
                Problem::new(Code::AccountDisabled, "this account is disabled; contact the shop's support")
            }
            ApiError::OriginNotAllowed => {
                Problem::forbidden("the refresh cookie is accepted only from the storefront's origin")
            }
            ApiError::Problem(problem) => problem,
            ApiError::Database(error) => Problem::internal_error(&error),
            ApiError::Redis(error) => Problem::internal_error(&error),
            ApiError::Hash(error) => Problem::internal(&error),
            ApiError::Keys(error) => Problem::internal(&error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        Problem::from(self).into_response()
    }
}

/// The result of an auth route (and of the modules they call).
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
