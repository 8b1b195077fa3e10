//! The errors of the payment service's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use service_kit::{Code, FieldCode, FieldError, Problem};

/// Why a request to the payment service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 `token_missing`: paying is a signed-in shopper's.
    #[error("not signed in")]
    NotSignedIn,
    /// 404 `not_found`: no such order or payment of this shopper (another's included).
    #[error("not found")]
    NotFound,
    /// 422 `idempotency_key_reused`: the refund's key was used for another request.
    #[error("idempotency key reused")]
    KeyReused,
    /// 422 `validation_failed` on `amount_minor`: more than is left to refund (given).
    #[error("at most {0} is left to refund")]
    TooMuch(i64),
    /// 502 `bad_gateway` / 503 `upstream_unavailable`: the provider refused or is unreachable.
    #[error(transparent)]
    Provider(#[from] crate::provider::ProviderError),
    /// 409 `invalid_transition`: the order is not awaiting payment, or the payment is not
    /// confirmable (processing or succeeded).
    #[error("{0}")]
    InvalidTransition(String),
    /// 422 `validation_failed` on `test_card`: not a sandbox test card.
    #[error("unknown test card")]
    UnknownCard,
    /// 400 `invalid_signature`: the webhook's signature is forged, stale or malformed.
    #[error("webhook signature: {0}")]
    Signature(#[from] crate::domain::SignatureError),
    /// 503 `upstream_unavailable`: the order service could not be asked.
    #[error("{0}")]
    Upstream(#[from] contracts::CallError),
    /// The problem's own status (invalid fields 422, an unreadable body 400/413/415).
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
            ApiError::NotSignedIn => Problem::new(Code::TokenMissing, "sign in to pay"),
            ApiError::NotFound => Problem::not_found("no such order or payment"),
            ApiError::KeyReused => {
                Problem::new(Code::IdempotencyKeyReused, "this Idempotency-Key was used for another refund")
            }
            ApiError::TooMuch(left) => field(
                "amount_minor",
                FieldCode::OutOfRange,
                &format!("at most {left} is left to refund (captured minus refunded and pending)"),
            ),
            ApiError::Provider(crate::provider::ProviderError::Unavailable(cause)) => {
                tracing::error!(%cause, "the payment provider is unavailable");
                Problem::new(Code::UpstreamUnavailable, "the payment provider cannot be reached; retry")
            }
            ApiError::Provider(crate::provider::ProviderError::Refused(cause)) => {
                tracing::error!(%cause, "the payment provider refused");
                Problem::new(Code::BadGateway, "the payment provider refused the request")
            }
            ApiError::InvalidTransition(detail) => Problem::new(Code::InvalidTransition, detail),
            ApiError::UnknownCard => field(
                "test_card",
                FieldCode::InvalidValue,
                "use 4242424242424242 (succeeds) or 4000000000000002 (declines)",
            ),
            ApiError::Signature(error) => Problem::new(Code::InvalidSignature, error.to_string()),
            ApiError::Upstream(error) => {
                tracing::error!(error = %service_kit::Chain(&error), "the order service call failed");
                Problem::new(Code::UpstreamUnavailable, "the payment cannot start right now; retry")
            }
            ApiError::Problem(problem) => problem,
            ApiError::Database(error) => Problem::internal_error(&error),
        };
        problem.into_response()
    }
}

/// The result of a route of the payment service.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
