//! The errors of the catalog's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use service_kit::{Code, Constraint, FieldCode, Problem};

/// Why a request to the product service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404 `not_found`: no product with this id or slug (for shoppers: no active one).
    #[error("no such product")]
    ProductNotFound,
    /// 404 `not_found`: the product has no variant with this SKU.
    #[error("no such variant")]
    VariantNotFound,
    /// 404 `not_found`: no (published) review with this id.
    #[error("no such review")]
    ReviewNotFound,
    /// 401 `token_missing`: reviewing and voting need a signed-in shopper.
    #[error("not signed in")]
    NotSignedIn,
    /// 404 `not_found`: no category with this slug.
    #[error("no such category")]
    CategoryNotFound,
    /// The problem's own status: a problem already made (invalid fields 422, an unreadable
    /// query or body 400/413/415, a missing permission 403, a violated constraint from
    /// [`CONSTRAINTS`] such as 409 `slug_taken`), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 500 `internal_error`: the database failed; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(sqlx::Error),
}

/// What the catalog schema's named constraints mean to the client.
pub const CONSTRAINTS: &[Constraint] = &[
    Constraint::problem("products_slug_key", Code::SlugTaken, "another product has this slug"),
    Constraint::problem("categories_slug_key", Code::SlugTaken, "another category has this slug"),
    Constraint::problem("variants_sku_key", Code::SkuTaken, "another variant has this SKU"),
    Constraint::problem("reviews_one_per_user", Code::ReviewExists, "you have reviewed this product already"),
    Constraint::field("variants_price_not_negative", "price_minor", FieldCode::OutOfRange, "a price is not negative"),
    Constraint::field(
        "variants_price_within_bound",
        "price_minor",
        FieldCode::OutOfRange,
        "a price is at most 10000000000 minor units",
    ),
    Constraint::field(
        "variants_compare_at_not_negative",
        "compare_at_minor",
        FieldCode::OutOfRange,
        "a price is not negative",
    ),
    Constraint::field(
        "variants_weight_not_negative",
        "weight_grams",
        FieldCode::OutOfRange,
        "a weight is not negative",
    ),
];

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
            ApiError::ProductNotFound => Problem::not_found("no such product"),
            ApiError::VariantNotFound => Problem::not_found("this product has no variant with this SKU"),
            ApiError::CategoryNotFound => Problem::not_found("no such category"),
            ApiError::ReviewNotFound => Problem::not_found("no such review"),
            ApiError::NotSignedIn => Problem::new(Code::TokenMissing, "sign in to review"),
            ApiError::Problem(problem) => problem,
            ApiError::Database(error) => Problem::internal_error(&error),
        };
        problem.into_response()
    }
}

/// The result of a catalog route.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
