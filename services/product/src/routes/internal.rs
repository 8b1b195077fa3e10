//! The internal route for cart and order (`contracts::product`): current prices and
//! availability of variants by SKU, straight from the database (authoritative).

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use contracts::product::{MAX_SKUS, VARIANTS_PATH, Variants};
use service_kit::{FieldCode, FieldError, Json, Problem, Query};

use super::AppState;
use crate::error::Result;
use crate::store;

pub fn router(state: AppState) -> Router {
    Router::new().route(VARIANTS_PATH, get(variants)).with_state(state)
}

/// `GET /internal/variants?skus=a,b,c`.
async fn variants(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Variants>> {
    let skus: Vec<String> = query
        .get("skus")
        .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    if skus.is_empty() || skus.len() > MAX_SKUS {
        let error = FieldError::new("skus", FieldCode::OutOfRange, format!("1 to {MAX_SKUS} comma-separated SKUs"));
        return Err(Problem::validation(vec![error]).into());
    }
    Ok(Json(Variants { items: store::variants_by_sku(&state.pool, &skus).await? }))
}
