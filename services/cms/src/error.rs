//! The errors of the cms service's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use contracts::CallError;
use service_kit::{Code, Constraint, Problem};

/// Why a request to the cms service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404 `not_found`: no page with this slug (for the public: none published).
    #[error("no such page")]
    PageNotFound,
    /// The problem's own status: a problem already made (invalid fields 422, an unreadable body
    /// 400/413/415, a missing permission 403, a stale `If-Match` 412, a violated constraint from
    /// [`CONSTRAINTS`] such as 409 `slug_taken`), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 503 `upstream_unavailable`: the media service could not resolve a page's images (logged).
    #[error(transparent)]
    Media(#[from] CallError),
    /// 500 `internal_error`: the database failed; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(sqlx::Error),
}

/// What the cms schema's named constraints mean to the client.
pub const CONSTRAINTS: &[Constraint] =
    &[Constraint::problem("pages_slug_key", Code::SlugTaken, "another page has this slug")];

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
            ApiError::PageNotFound => Problem::not_found("no such page"),
            ApiError::Problem(problem) => problem,
            ApiError::Media(error) => {
                tracing::error!(error = %service_kit::Chain(&error), "resolve a page's media");
                Problem::new(Code::UpstreamUnavailable, "the media service is not answering; retry shortly")
            }
            ApiError::Database(error) => Problem::internal_error(&error),
        };
        problem.into_response()
    }
}

/// The result of a route of the cms service.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
