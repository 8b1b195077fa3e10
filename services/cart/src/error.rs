//! The errors of the cart's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use service_kit::{Code, FieldCode, FieldError, Problem};

/// Why a request to the cart service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 `token_missing`: neither a sign-in nor an `X-Cart-Token` names a cart (for merge: no
    /// sign-in).
    #[error("no cart named")]
    NoCart,
    /// 404 `not_found`: the cart token is not one this service issued (another shop's, forged,
    /// mangled), or the cart has no such line.
    #[error("no such cart or line")]
    NotFound,
    /// 422 `validation_failed` on `sku`: no such SKU is on sale.
    #[error("unknown SKU {0}")]
    UnknownSku(String),
    /// 409 `out_of_stock`: the SKU cannot be bought now (`skus` names it).
    #[error("out of stock: {0}")]
    OutOfStock(contracts::types::Sku),
    /// 422 `validation_failed` on `quantity`: over the per-line maximum, or the cart is full.
    #[error("{0}")]
    Limit(String),
    /// 422 `discount_code_invalid`: the code does not apply (why, in the detail).
    #[error("{0}")]
    DiscountInvalid(String),
    /// 429 `rate_limited`: too many refused discount codes for this cart lately (Retry-After).
    #[error("too many refused discount codes")]
    DiscountTries(u64),
    /// 503 `upstream_unavailable`: the product service (prices) or the order service
    /// (discounts) could not be asked.
    #[error("upstream: {0}")]
    Product(#[from] contracts::CallError),
    /// The problem's own status: a problem already made (invalid fields 422, an unreadable body
    /// 400/413/415), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 500 `internal_error`: Redis failed; the cause is logged, never sent.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match self {
            ApiError::NoCart => Problem::new(Code::TokenMissing, "sign in, or send the X-Cart-Token of a guest cart"),
            ApiError::NotFound => Problem::not_found("no such cart or line"),
            ApiError::UnknownSku(sku) => Problem::validation(vec![FieldError::new(
                "sku",
                FieldCode::InvalidValue,
                format!("{sku} is not on sale"),
            )]),
            ApiError::OutOfStock(sku) => Problem::new(Code::OutOfStock, format!("{sku} is out of stock"))
                .with_extension("skus", serde_json::json!([sku])),
            ApiError::Limit(message) => {
                Problem::validation(vec![FieldError::new("quantity", FieldCode::OutOfRange, message)])
            }
            ApiError::DiscountInvalid(why) => Problem::new(Code::DiscountCodeInvalid, why),
            ApiError::DiscountTries(retry_after) => {
                Problem::new(Code::RateLimited, "too many discount codes were tried on this cart; wait a while")
                    .with_retry_after(retry_after)
            }
            ApiError::Product(error) => {
                tracing::error!(error = %service_kit::Chain(&error), "an upstream call failed");
                Problem::new(
                    Code::UpstreamUnavailable,
                    "prices or discounts cannot be looked up right now; retry shortly",
                )
            }
            ApiError::Problem(problem) => problem,
            ApiError::Redis(error) => Problem::internal_error(&error),
        };
        problem.into_response()
    }
}

/// The result of a cart route.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
