//! The errors of the order service's routes, each answered as problem+json with its status.

use axum::response::{IntoResponse, Response};
use service_kit::{Code, Constraint, FieldCode, FieldError, Problem};
use uuid::Uuid;

/// Why a request to the order service failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 `token_missing`: orders are a signed-in shopper's.
    #[error("not signed in")]
    NotSignedIn,
    /// 403 `email_unverified`: the shopper's email address is not confirmed yet.
    #[error("email not verified")]
    EmailUnverified,
    /// 422 `idempotency_key_reused`: the key was used for a different request.
    #[error("idempotency key reused")]
    KeyReused,
    /// 409 `idempotency_key_in_use`: the first request with this key is still running.
    #[error("idempotency key in use")]
    KeyInUse,
    /// 422 `cart_empty`.
    #[error("the cart is empty")]
    CartEmpty,
    /// 422 `validation_failed` on the field named (`shipping_address_id`,
    /// `billing_address_id`): not one of the shopper's addresses.
    #[error("unknown address")]
    UnknownAddress(&'static str),
    /// 409 `out_of_stock`: these SKUs cannot be had (`skus` names them); nothing is held.
    #[error("out of stock: {0:?}")]
    OutOfStock(Vec<contracts::types::Sku>),
    /// 409 `reservation_released`: a resumed checkout's stock was let go meanwhile; nothing
    /// was ordered and the Idempotency-Key is free again (a retry starts afresh).
    #[error("the checkout's reservation was released")]
    ReservationReleased,
    /// 409 `too_many_unpaid_orders` or `quantity_limit_exceeded` (`skus` names them): the
    /// shopper already holds as much unpaid as the shop allows.
    #[error("{0:?}")]
    Limit(crate::domain::LimitRefusal),
    /// 422 `amount_out_of_range`: the cart's amounts are beyond what the shop handles.
    #[error("amount out of range")]
    AmountOutOfRange,
    /// 422 `discount_code_invalid`: the cart's code does not apply (why, in the detail).
    #[error("{0}")]
    DiscountInvalid(crate::domain::DiscountRefusal),
    /// 404 `not_found`: no such discount code.
    #[error("no such discount code")]
    DiscountNotFound,
    /// 422 `shipping_unavailable`: no method ships the order (`method`: the one chosen, which
    /// `detail` names, when one was).
    #[error("{detail}")]
    ShippingUnavailable { method: Option<Uuid>, detail: String },
    /// 404 `not_found`: no such shipping zone or method.
    #[error("no such shipping {0}")]
    ShippingNotFound(&'static str),
    /// 409 `fulfillment_exceeds_order`: more of these SKUs than the order has left to ship.
    #[error("beyond the order: {0:?}")]
    FulfillmentExceedsOrder(Vec<contracts::types::Sku>),
    /// 404 `not_found`: the order has no such invoice (not paid) or credit note, or is not this
    /// shopper's.
    #[error("no invoice")]
    InvoiceNotFound,
    /// 404 `not_found`: no such VAT rate.
    #[error("no such tax rate")]
    TaxRateNotFound,
    /// 404 `not_found`: no such fulfillment of the order.
    #[error("no such fulfillment")]
    FulfillmentNotFound,
    /// 404 `not_found`: no such order of this shopper (another shopper's id included).
    #[error("no such order")]
    OrderNotFound,
    /// 409 `invalid_transition`: the order's state does not allow it.
    #[error("{0}")]
    InvalidTransition(String),
    /// 503 `upstream_unavailable`: a service the checkout reads from could not be asked.
    #[error("{0}")]
    Upstream(#[from] contracts::CallError),
    /// The problem's own status: a problem already made (invalid fields 422, an unreadable body
    /// 400/413/415, a missing permission 403), sent as it is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 500 `internal_error`: the database failed; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(sqlx::Error),
}

/// What the orders schema's named constraints mean to the client.
pub const CONSTRAINTS: &[Constraint] = &[
    Constraint::problem("shipping_zones_name_key", Code::ShippingNameTaken, "another shipping zone has this name"),
    Constraint::problem(
        "shipping_methods_name_key",
        Code::ShippingNameTaken,
        "another method of the zone has this name",
    ),
    Constraint::field(
        "shipping_zones_one_rest_of_world",
        "countries",
        FieldCode::InvalidValue,
        "another zone is the rest of the world already",
    ),
    Constraint::field("shipping_methods_zone_id_fkey", "zone_id", FieldCode::InvalidValue, "no such shipping zone"),
];

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match service_kit::db::constraint_problem(&error, CONSTRAINTS) {
            Some(problem) => ApiError::Problem(problem),
            None => ApiError::Database(error),
        }
    }
}

impl ApiError {
    /// Whether the request made nothing and may be retried with the same Idempotency-Key.
    pub fn made_nothing(&self) -> bool {
        !matches!(self, ApiError::Upstream(_) | ApiError::Database(_))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let field = |name: &str, code, message: &str| Problem::validation(vec![FieldError::new(name, code, message)]);
        let problem = match self {
            ApiError::NotSignedIn => Problem::new(Code::TokenMissing, "sign in to order"),
            ApiError::EmailUnverified => {
                Problem::new(Code::EmailUnverified, "confirm your email address before ordering")
            }
            ApiError::KeyReused => {
                Problem::new(Code::IdempotencyKeyReused, "this Idempotency-Key was used for another request")
            }
            ApiError::KeyInUse => {
                Problem::new(Code::IdempotencyKeyInUse, "the first request with this Idempotency-Key is still running")
                    .with_retry_after(1)
            }
            ApiError::CartEmpty => Problem::new(Code::CartEmpty, "the cart is empty"),
            ApiError::AmountOutOfRange => {
                Problem::new(Code::AmountOutOfRange, "the cart's amounts are beyond what one order may hold")
            }
            ApiError::Limit(crate::domain::LimitRefusal::TooManyUnpaid { limit }) => Problem::new(
                Code::TooManyUnpaidOrders,
                format!("you have {limit} unpaid orders open, as many as the shop allows; pay or cancel one first"),
            ),
            ApiError::Limit(crate::domain::LimitRefusal::Quantity { skus }) => Problem::new(
                Code::QuantityLimitExceeded,
                format!("more of {} than one order or your open unpaid orders may hold", skus.join(", ")),
            )
            .with_extension("skus", serde_json::json!(skus)),
            ApiError::ReservationReleased => Problem::new(
                Code::ReservationReleased,
                "this checkout waited too long and its stock was let go; nothing was ordered, send it again",
            ),
            ApiError::UnknownAddress(name) => field(name, FieldCode::InvalidValue, "not one of your addresses"),
            ApiError::OutOfStock(skus) => {
                Problem::new(Code::OutOfStock, format!("not enough stock for {}", skus.join(", ")))
                    .with_extension("skus", serde_json::json!(skus))
            }
            ApiError::DiscountInvalid(refusal) => Problem::new(Code::DiscountCodeInvalid, refusal.public()),
            ApiError::ShippingUnavailable { method, detail } => {
                let problem = Problem::new(Code::ShippingUnavailable, detail);
                match method {
                    Some(id) => problem.with_extension("shipping_method_id", serde_json::json!(id)),
                    None => problem,
                }
            }
            ApiError::ShippingNotFound(what) => Problem::not_found(format!("no such shipping {what}")),
            ApiError::FulfillmentExceedsOrder(skus) => Problem::new(
                Code::FulfillmentExceedsOrder,
                format!("more of {} than the order has left to ship", skus.join(", ")),
            )
            .with_extension("skus", serde_json::json!(skus)),
            ApiError::FulfillmentNotFound => Problem::not_found("no such fulfillment of this order"),
            ApiError::TaxRateNotFound => Problem::not_found("no such tax rate"),
            ApiError::InvoiceNotFound => {
                Problem::not_found("no such document of this order (an invoice is issued when the order is paid)")
            }
            ApiError::OrderNotFound => Problem::not_found("no such order"),
            ApiError::DiscountNotFound => Problem::not_found("no such discount code"),
            ApiError::InvalidTransition(detail) => Problem::new(Code::InvalidTransition, detail),
            ApiError::Upstream(error) => {
                tracing::error!(error = %service_kit::Chain(&error), "a checkout dependency failed");
                Problem::new(
                    Code::UpstreamUnavailable,
                    "the checkout cannot complete right now; retry with the same Idempotency-Key",
                )
            }
            ApiError::Problem(problem) => problem,
            ApiError::Database(error) => Problem::internal_error(&error),
        };
        problem.into_response()
    }
}

/// The result of a route of the order service.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
