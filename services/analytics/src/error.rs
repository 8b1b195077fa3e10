//! The errors of the analytics service's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use service_kit::Problem;

/// Why a request to the analytics service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The problem's own status: a problem already made (invalid fields 422 naming
    /// `events[<i>].<field>`, an unreadable body 400/413/415, a missing permission 403), sent
    /// as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 500 `internal_error`: the database failed; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Problem(problem) => problem.into_response(),
            ApiError::Database(error) => Problem::internal_error(&error).into_response(),
        }
    }
}

/// The result of a route of the analytics service.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
