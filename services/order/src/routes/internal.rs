//! The internal routes (`contracts::order`): an order's amount and owner for the payment
//! service; what a discount code takes off a cart, for the cart service; orders with their
//! timeline for the admin service.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use contracts::order::{DISCOUNT_QUOTE_PATH, ORDER_PATH, OrderSummary, Quote, QuoteRequest};
use contracts::types::Amount;
use service_kit::Json;

use super::{AppState, order_id};
use crate::domain::{PricedLine, totals};
use crate::error::{ApiError, Result};
use crate::store;

/// For the payment service.
pub(super) fn payment_router(state: AppState) -> Router {
    Router::new()
        .route(ORDER_PATH, get(summary))
        .route(contracts::order::PAYMENT_STARTED_PATH, post(payment_started))
        .with_state(state)
}

/// For the admin service (the staff member's identity; `orders:read` checked per route).
pub(super) fn admin_router(state: AppState) -> Router {
    Router::new()
        .route(contracts::order::STAFF_ORDERS_PATH, get(super::staff::all_orders))
        .route(contracts::order::ORDER_DETAIL_PATH, get(super::staff::detail))
        .with_state(state)
}

/// For the user service: a shopper's orders, for their data export.
pub(super) fn export_router(state: AppState) -> Router {
    Router::new().route(contracts::order::EXPORT_ORDERS_PATH, get(export_orders)).with_state(state)
}

/// `GET /internal/export/orders`: every order of the shopper the call is made for, oldest first.
async fn export_orders(
    State(state): State<AppState>,
    caller: internal_token::Caller,
) -> Result<Json<contracts::order::OrdersPage>> {
    let user_id = caller.user_id().ok_or(ApiError::NotSignedIn)?;
    let mut orders = store::list(&state.pool, Some(user_id), None, None, EXPORT_MAX).await?;
    orders.reverse();
    let items = orders.iter().filter_map(|o| serde_json::to_value(o).ok()).collect();
    Ok(Json(contracts::order::OrdersPage { items, next_cursor: None }))
}

/// More orders than anyone places; the export lists them all.
const EXPORT_MAX: i64 = 1_000_000;

/// For the cart service.
pub(super) fn cart_router(state: AppState) -> Router {
    Router::new()
        .route(DISCOUNT_QUOTE_PATH, post(quote))
        .route(contracts::order::SHIPPING_OFFERS_PATH, post(shipping_offers))
        .with_state(state)
}

/// `GET /internal/orders/{id}`.
async fn summary(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<OrderSummary>> {
    store::summary(&state.pool, order_id(&id)?).await?.map(Json).ok_or(ApiError::OrderNotFound)
}

/// `POST /internal/orders/{id}/payment-started`: the deadline of an order awaiting payment moves
/// out to the payment window.
async fn payment_started(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<OrderSummary>> {
    store::payment_started(&state.pool, order_id(&id)?, state.payment_window.as_secs_f64())
        .await?
        .map(Json)
        .ok_or(ApiError::OrderNotFound)
}

/// What `code` (upper case) takes off `lines` for `user_id`: the lines priced by the one totals
/// function with it (no address: no tax), and why it does not apply, if it does not.
async fn discounted(
    state: &AppState,
    code: &str,
    user_id: Option<contracts::types::UserId>,
    lines: &[PricedLine],
) -> Result<(crate::domain::Totals, Option<String>)> {
    let subtotal = totals(lines, None, &crate::domain::Pricing::none()).subtotal_minor;
    let checked = store::discounts::quote(&state.pool, code, user_id.map(Into::into), subtotal).await?;
    let (discount, refusal) = match checked {
        Ok(discount) => (Some(discount), None),
        Err(refusal) => (None, Some(refusal.public())),
    };
    Ok((totals(lines, discount, &crate::domain::Pricing::none()), refusal))
}

/// `POST /internal/shipping/offers`: the methods that ship the cart's lines to the country now,
/// each priced for them after the cart's discount (a code that does not apply takes nothing).
async fn shipping_offers(
    State(state): State<AppState>,
    Json(request): Json<contracts::order::OffersRequest>,
) -> Result<Json<contracts::order::Offers>> {
    let lines: &[PricedLine] = &request.lines;
    let priced = match &request.code {
        Some(code) => discounted(&state, &code.trim().to_ascii_uppercase(), request.user_id, lines).await?.0,
        None => totals(lines, None, &crate::domain::Pricing::none()),
    };
    let country = request.country.trim().to_ascii_uppercase();
    let offers = crate::app::shipping::offers(&state.pool, &priced, &country, request.weight_grams).await?;
    let items = offers
        .into_iter()
        .map(|offer| contracts::order::ShippingOffer {
            id: offer.method.id,
            name: offer.method.name,
            carrier: offer.method.carrier,
            min_days: offer.method.min_days,
            max_days: offer.method.max_days,
            price_minor: Amount::new(offer.fee_minor),
            currency: state.currency,
        })
        .collect();
    Ok(Json(contracts::order::Offers { items }))
}

/// `POST /internal/discounts/quote`: the code checked for the shopper and the lines' subtotal,
/// the discount from the one totals function (no address yet: no shipping, no tax).
async fn quote(State(state): State<AppState>, Json(request): Json<QuoteRequest>) -> Result<Json<Quote>> {
    let code = request.code.trim().to_ascii_uppercase();
    let (priced, refusal) = discounted(&state, &code, request.user_id, &request.lines).await?;
    Ok(Json(Quote {
        code,
        subtotal_minor: Amount::new(priced.subtotal_minor),
        discount_minor: Amount::new(priced.discount_minor),
        total_minor: Amount::new(priced.total_minor),
        refusal,
    }))
}
