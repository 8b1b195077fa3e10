//! The errors of the media service's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use service_kit::{Code, Problem};

use crate::domain::Rejected;
use crate::s3::StoreError;

/// Why a request to the media service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The problem's own status: a problem the kit already made (an unreadable body
    /// 400/413/415/422, a missing permission 403), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 415 `unsupported_media_type` or 422 `image_rejected`.
    #[error(transparent)]
    Rejected(#[from] Rejected),
    /// 503 `upstream_unavailable`: the object store did not answer properly (logged).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// 500, logged.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Problem(problem) => problem.into_response(),
            ApiError::Rejected(Rejected::Type(detail)) => {
                Problem::new(Code::UnsupportedMediaType, detail).into_response()
            }
            ApiError::Rejected(Rejected::Image(detail)) => Problem::new(Code::ImageRejected, detail).into_response(),
            ApiError::Store(error) => {
                tracing::error!(error = %service_kit::Chain(&error), "object store failed");
                Problem::new(Code::UpstreamUnavailable, "the object store is not answering; retry shortly")
                    .into_response()
            }
            ApiError::Database(error) => Problem::internal_error(&error).into_response(),
        }
    }
}

/// The result of a route of the media service.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
