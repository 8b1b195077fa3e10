//! The errors of the media service's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use service_kit::Problem;

/// Why a request to the media service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The problem's own status: a problem the kit already made (an unreadable body
    /// 400/413/415/422, a missing permission 403), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Problem(problem) => problem.into_response(),
        }
    }
}

/// The result of a route of the media service.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
