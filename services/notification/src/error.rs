//! The errors of the notification service's routes, each answered as problem+json.

use axum::response::{IntoResponse, Response};
use service_kit::{Code, FieldCode, FieldError, Problem};

/// Why a request to the notification service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 `token_missing`: verifying a phone is a signed-in shopper's.
    #[error("not signed in")]
    NotSignedIn,
    /// 422 `validation_failed` on `phone` (`required`): the profile has no phone number.
    #[error("no phone number")]
    NoPhone,
    /// 422 `validation_failed` on `code` (`invalid_or_expired`): wrong, used, expired, or out of
    /// guesses.
    #[error("wrong or expired code")]
    WrongCode,
    /// 429 `rate_limited` with Retry-After: a code was asked for moments ago.
    #[error("a code was sent moments ago")]
    TooSoon { retry_after_secs: u64 },
    /// 429 `rate_limited`: the number or the account had as many texts today as allowed.
    #[error("SMS quota used up")]
    SmsQuota,
    /// 503 `upstream_unavailable`: the user service (the phone number's owner) cannot be asked.
    #[error("{0}")]
    Upstream(#[from] contracts::CallError),
    /// The problem's own status: a problem already made (a missing permission 403, an invalid
    /// `limit` 422, an unreadable query or body 400), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 500 `internal_error`: the database failed; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let field = |name: &str, code, message: &str| Problem::validation(vec![FieldError::new(name, code, message)]);
        let problem = match self {
            ApiError::NotSignedIn => Problem::new(Code::TokenMissing, "sign in to verify a phone number"),
            ApiError::NoPhone => field("phone", FieldCode::Required, "add a phone number to your profile first"),
            ApiError::WrongCode => {
                field("code", FieldCode::InvalidOrExpired, "the code is wrong or expired; ask for a new one")
            }
            ApiError::TooSoon { retry_after_secs } => {
                Problem::new(Code::RateLimited, "a code was sent moments ago; wait before asking again")
                    .with_retry_after(retry_after_secs)
            }
            ApiError::SmsQuota => Problem::new(
                Code::RateLimited,
                "this number or account has had as many texts today as the shop sends; try again tomorrow",
            )
            .with_retry_after(3600),
            ApiError::Upstream(error) => {
                tracing::error!(error = %service_kit::Chain(&error), "the user service could not be asked");
                Problem::new(Code::UpstreamUnavailable, "the phone number cannot be read right now; retry shortly")
            }
            ApiError::Problem(problem) => problem,
            ApiError::Database(error) => Problem::internal_error(&error),
        };
        problem.into_response()
    }
}

/// The result of a notification route.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
