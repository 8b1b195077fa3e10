//! The internal read for the payment service (`contracts::order`): an order's amount and owner.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use contracts::order::{ORDER_PATH, OrderSummary};
use service_kit::Json;

use super::{AppState, order_id};
use crate::error::{ApiError, Result};
use crate::store;

pub fn router(state: AppState) -> Router {
    Router::new().route(ORDER_PATH, get(summary)).with_state(state)
}

/// `GET /internal/orders/{id}`.
async fn summary(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<OrderSummary>> {
    store::summary(&state.pool, order_id(&id)?).await?.map(Json).ok_or(ApiError::OrderNotFound)
}
