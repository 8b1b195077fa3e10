//! The errors of the admin service's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use contracts::CallError;
use service_kit::{Code, Problem};

/// Why a request to the admin service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The problem's own status: a problem already made (invalid fields 422, a missing
    /// permission 403), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// An owner's answer: its own problem when it refused the request with one, 403 `forbidden`
    /// when it refused the staff member (a permission this role lacks), else 503
    /// `upstream_unavailable` (logged).
    #[error(transparent)]
    Owner(#[from] CallError),
    /// 500 `internal_error`: the database failed; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match self {
            ApiError::Problem(problem) => problem,
            // The owner's own refusal (a taken email, an invalid field, a missing permission).
            ApiError::Owner(CallError::Refused { problem, .. }) => problem,
            ApiError::Owner(CallError::Status { service, status }) if status.as_u16() == 403 => {
                Problem::forbidden(format!("your role may not read what {service} holds for this"))
            }
            ApiError::Database(error) => Problem::internal_error(&error),
            ApiError::Owner(error) => {
                tracing::error!(error = %service_kit::Chain(&error), "an owner did not answer");
                Problem::new(
                    Code::UpstreamUnavailable,
                    "a service the back office needs is not answering; retry shortly",
                )
            }
        };
        problem.into_response()
    }
}

/// The result of a route of the admin service.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
