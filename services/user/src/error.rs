//! The errors of the user service's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use service_kit::{Code, Constraint, Problem};

/// Why a request to the user service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 `token_missing`: the call is anonymous; these routes are the caller's own data.
    #[error("not signed in")]
    NotSignedIn,
    /// 401 `token_invalid_subject`: the token's subject is not a user id.
    #[error("the subject is not a user")]
    InvalidSubject,
    /// 404 `not_found`: no such address of this user (another user's id included).
    #[error("no such address")]
    AddressNotFound,
    /// 404 `not_found`: no such device of this user.
    #[error("no such device")]
    DeviceNotFound,
    /// 404 `not_found`: no profile for this user id (internal reads).
    #[error("no such profile")]
    ProfileNotFound,
    /// The problem's own status: a problem already made (invalid fields 422, an unreadable body
    /// 400/413/415, a violated constraint from [`CONSTRAINTS`]), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 500 `internal_error`: the database failed; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(sqlx::Error),
}

/// What the users schema's named constraints mean to the client.
pub const CONSTRAINTS: &[Constraint] = &[
    // Two requests making different addresses the default at the same moment: the partial
    // unique index keeps one default, the loser hears it and may retry.
    Constraint::problem(
        "addresses_one_default_shipping",
        Code::ConcurrentUpdate,
        "another change to your default address happened at the same time; try again",
    ),
    Constraint::problem(
        "addresses_one_default_billing",
        Code::ConcurrentUpdate,
        "another change to your default address happened at the same time; try again",
    ),
];

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match service_kit::db::constraint_problem(&error, CONSTRAINTS) {
            Some(problem) => ApiError::Problem(problem),
            None => ApiError::Database(error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match self {
            ApiError::NotSignedIn => Problem::new(Code::TokenMissing, "sign in to see your account"),
            ApiError::InvalidSubject => Problem::new(Code::TokenInvalidSubject, "the token's subject is not a user"),
            ApiError::AddressNotFound => Problem::not_found("no such address"),
            ApiError::DeviceNotFound => Problem::not_found("no such device"),
            ApiError::ProfileNotFound => Problem::not_found("no such profile"),
            ApiError::Problem(problem) => problem,
            ApiError::Database(error) => Problem::internal_error(&error),
        };
        problem.into_response()
    }
}

/// The result of a user route.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
