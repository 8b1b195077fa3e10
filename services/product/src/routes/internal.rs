//! The internal routes (`contracts::product`): for cart and order, current prices and
//! availability of variants by SKU, straight from the database (authoritative); for search, the
//! products as search documents (paged export or by id) and the categories.

use contracts::types::Sku;
use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use contracts::product::{
    CATEGORIES_PATH, Categories, CategoryEntry, MAX_DOCUMENTS, MAX_SKUS, SEARCH_DOCUMENTS_PATH, SearchDocuments,
    VARIANTS_PATH, Variants,
};
use service_kit::{FieldCode, FieldError, Json, Problem, Query};
use uuid::Uuid;

use super::AppState;
use crate::error::Result;
use crate::store;

/// The variant lookup (cart and order).
pub(super) fn router(state: AppState) -> Router {
    Router::new().route(VARIANTS_PATH, get(variants)).with_state(state)
}

/// The export and the categories (search).
/// For the user service: a shopper's reviews, for their data export.
pub(super) fn export_router(state: AppState) -> Router {
    Router::new().route(contracts::product::EXPORT_REVIEWS_PATH, get(export_reviews)).with_state(state)
}

/// `GET /internal/export/reviews`: the reviews of the shopper the call is made for.
async fn export_reviews(
    State(state): State<AppState>,
    caller: internal_token::Caller,
) -> Result<Json<contracts::product::ExportedReviews>> {
    let user_id = caller.user_id().ok_or_else(|| Problem::new(service_kit::Code::TokenMissing, "sign in first"))?;
    let reviews = store::reviews::of_author(&state.pool, user_id).await?;
    let items = reviews.iter().filter_map(|r| serde_json::to_value(r).ok()).collect();
    Ok(Json(contracts::product::ExportedReviews { items }))
}

pub(super) fn search_router(state: AppState) -> Router {
    Router::new()
        .route(SEARCH_DOCUMENTS_PATH, get(search_documents))
        .route(CATEGORIES_PATH, get(categories))
        .with_state(state)
}

/// `GET /internal/search-documents?after=&limit=` or `?ids=`.
async fn search_documents(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<SearchDocuments>> {
    if let Some(raw) = query.get("ids") {
        let ids: Option<Vec<Uuid>> =
            raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.parse().ok()).collect();
        let Some(ids) = ids.filter(|ids| !ids.is_empty() && ids.len() <= MAX_DOCUMENTS) else {
            let error = FieldError::new("ids", FieldCode::InvalidValue, format!("1 to {MAX_DOCUMENTS} product ids"));
            return Err(Problem::validation(vec![error]).into());
        };
        let items = store::search::by_id(&state.pool, &ids).await?;
        return Ok(Json(SearchDocuments { items, next_after: None }));
    }
    let mut errors = Vec::new();
    let after = match query.get("after").map(|raw| raw.parse::<Uuid>()) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            errors.push(FieldError::new("after", FieldCode::InvalidValue, "after is a product id"));
            None
        }
    };
    let limit = match query.get("limit").map(|raw| raw.parse::<usize>()) {
        None => MAX_DOCUMENTS,
        Some(Ok(n)) if (1..=MAX_DOCUMENTS).contains(&n) => n,
        Some(_) => {
            errors.push(FieldError::new("limit", FieldCode::OutOfRange, format!("limit is 1 to {MAX_DOCUMENTS}")));
            MAX_DOCUMENTS
        }
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors).into());
    }
    let items = store::search::page(&state.pool, after, limit as i64).await?;
    let next_after = if items.len() == limit { items.last().map(|d| d.product_id) } else { None };
    Ok(Json(SearchDocuments { items, next_after }))
}

/// `GET /internal/categories`.
async fn categories(State(state): State<AppState>) -> Result<Json<Categories>> {
    let items = store::categories(&state.pool)
        .await?
        .into_iter()
        .map(|c| CategoryEntry {
            id: c.id.into(),
            parent_id: c.parent_id.map(Into::into),
            slug: c.slug,
            name: c.name,
            position: c.position,
        })
        .collect();
    Ok(Json(Categories { items }))
}

/// `GET /internal/variants?skus=a,b,c`.
async fn variants(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Variants>> {
    // An unknown SKU is simply absent from the answer, and so is text that is no SKU at all.
    let skus: Vec<Sku> = query
        .get("skus")
        .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).filter_map(|s| Sku::parse(s).ok()).collect())
        .unwrap_or_default();
    if skus.is_empty() || skus.len() > MAX_SKUS {
        let error = FieldError::new("skus", FieldCode::OutOfRange, format!("1 to {MAX_SKUS} comma-separated SKUs"));
        return Err(Problem::validation(vec![error]).into());
    }
    Ok(Json(Variants { items: store::variants_by_sku(&state.pool, &skus).await? }))
}
