//! The errors of the search service's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use service_kit::Problem;

use crate::store::IndexError;

/// Why a request to the search service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The problem's own status: a problem the kit already made (an unreadable query 400, bad
    /// parameters 422, the index still building 503), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 500: the index could not be read; the cause is logged, never sent.
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Problem(problem) => problem.into_response(),
            ApiError::Index(error) => Problem::internal(&error).into_response(),
        }
    }
}

/// The result of a route of the search service.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
