//! The internal route for the order service (`contracts::cart`): a shopper's cart as stored.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use contracts::cart::{USER_CART_PATH, UserCart};
use service_kit::Json;
use uuid::Uuid;

use super::AppState;
use crate::app::carts;
use crate::error::{ApiError, Result};

pub(super) fn router(state: AppState) -> Router {
    Router::new().route(USER_CART_PATH, get(user_cart)).with_state(state)
}

/// `GET /internal/carts/{user_id}` (a checkout is a use: the TTL is refreshed).
async fn user_cart(State(state): State<AppState>, Path(user_id): Path<String>) -> Result<Json<UserCart>> {
    let user_id = Uuid::parse_str(&user_id).map_err(|_| ApiError::NotFound)?;
    Ok(Json(carts::of_user(&state, user_id).await?))
}
