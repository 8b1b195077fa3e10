//! The errors of the inventory's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use contracts::types::Sku;
use service_kit::{Code, Constraint, FieldCode, Problem};

/// Why a request to the inventory service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404 `not_found`: no stock is kept for this SKU.
    #[error("no such SKU")]
    UnknownSku,
    /// 404 `not_found`: no reservation with this id.
    #[error("no such reservation")]
    ReservationNotFound,
    /// 409 `out_of_stock`: these SKUs lack the quantity asked for (`skus` names them); nothing
    /// was held.
    #[error("out of stock: {0:?}")]
    OutOfStock(Vec<Sku>),
    /// 409 `reservation_conflict`: the id is held for other lines, or the reservation's state
    /// does not allow the change (committing a released one, releasing a sale).
    #[error("reservation conflict")]
    ReservationConflict,
    /// 409 `reservation_released`: a reservation asked for again under its id is no longer
    /// held (swept, expired, or its order ended): nothing is held now.
    #[error("reservation released")]
    ReservationReleased,
    /// A released reservation's paid order cannot be covered by the stock on sale now
    /// (these SKUs are short); never an HTTP answer, the order event's handler tells the order.
    #[error("stock lost for {0:?}")]
    StockLost(Vec<Sku>),
    /// The problem's own status: a problem already made (invalid fields 422, an unreadable
    /// body 400/413/415, a missing permission 403, a violated constraint), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 500 `internal_error`: the database failed; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(sqlx::Error),
}

/// What the inventory schema's named constraints mean to the client. Overselling cannot get
/// past these even if a check above them were wrong.
pub const CONSTRAINTS: &[Constraint] = &[
    Constraint::field("stock_on_hand_not_negative", "on_hand", FieldCode::OutOfRange, "stock cannot go below zero"),
    Constraint::field(
        "stock_reserved_within_on_hand",
        "on_hand",
        FieldCode::OutOfRange,
        "on hand cannot go below what is reserved",
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
            ApiError::UnknownSku => Problem::not_found("no stock is kept for this SKU"),
            ApiError::ReservationNotFound => Problem::not_found("no such reservation"),
            ApiError::OutOfStock(skus) => {
                Problem::new(Code::OutOfStock, format!("not enough stock for {}", skus.join(", ")))
                    .with_extension("skus", serde_json::json!(skus))
            }
            ApiError::ReservationConflict => Problem::new(
                Code::ReservationConflict,
                "this reservation id is held for other lines, or its state does not allow this",
            ),
            ApiError::ReservationReleased => Problem::new(
                Code::ReservationReleased,
                "this reservation is no longer held; nothing is held under its id",
            ),
            ApiError::StockLost(skus) => {
                Problem::new(Code::OutOfStock, format!("not enough stock for {}", skus.join(", ")))
                    .with_extension("skus", serde_json::json!(skus))
            }
            ApiError::Problem(problem) => problem,
            ApiError::Database(error) => Problem::internal_error(&error),
        };
        problem.into_response()
    }
}

/// The result of an inventory route.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
