//! The errors of the catalog's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use service_kit::Problem;

/// Why a request to the product service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404 `not_found`: no active product with this id or slug.
    #[error("no such product")]
    ProductNotFound,
    /// The problem's own status: a problem already made (invalid listing parameters 422, an
    /// unreadable query 400), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 500 `internal_error`: the database failed; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match self {
            ApiError::ProductNotFound => Problem::not_found("no such product"),
            ApiError::Problem(problem) => problem,
            ApiError::Database(error) => Problem::internal(&error),
        };
        problem.into_response()
    }
}

/// The result of a catalog route.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
