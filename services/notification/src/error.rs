//! The errors of the notification service's routes, each answered as problem+json.

use axum::response::{IntoResponse, Response};
use service_kit::Problem;

/// Why a request to the notification service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The problem's own status: a problem already made (a missing permission 403, an invalid
    /// `limit` 422, an unreadable query 400), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 500 `internal_error`: the database failed; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match self {
            ApiError::Problem(problem) => problem,
            ApiError::Database(error) => Problem::internal(&error),
        };
        problem.into_response()
    }
}

/// The result of a notification route.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
