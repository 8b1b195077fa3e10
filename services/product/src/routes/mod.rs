//! The catalog's HTTP routes: extract, call the store, render.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Serialize;
use service_kit::{Json, Problem, Query};
use sqlx::PgPool;

use crate::domain::{Cursor, listing_params};
use crate::error::{ApiError, Result};
use crate::store::{self, Product};

/// The catalog's routes, on the catalog's pool.
pub fn router(pool: PgPool) -> Router {
    Router::new()
        .route("/products", get(list_products))
        .route("/products/{id_or_slug}", get(get_product))
        .with_state(pool)
}

#[derive(Serialize)]
pub struct ProductPage {
    items: Vec<Product>,
    next_cursor: Option<String>,
}

/// `GET /products?limit=&cursor=`: active products, newest first.
async fn list_products(
    State(pool): State<PgPool>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<ProductPage>> {
    let (limit, cursor) =
        listing_params(params.get("limit").map(String::as_str), params.get("cursor").map(String::as_str))
            .map_err(Problem::validation)?;
    let mut items = store::list_active(&pool, limit, cursor.as_ref()).await?;
    let next_cursor = if items.len() as i64 > limit.get() {
        items.truncate(limit.get() as usize);
        items.last().map(|p| Cursor { created_at: p.created_at, id: p.id }.encode())
    } else {
        None
    };
    Ok(Json(ProductPage { items, next_cursor }))
}

/// `GET /products/{id-or-slug}`.
async fn get_product(State(pool): State<PgPool>, Path(id_or_slug): Path<String>) -> Result<Json<Product>> {
    let id = uuid::Uuid::parse_str(&id_or_slug).ok();
    store::find_active(&pool, id, &id_or_slug).await?.map(Json).ok_or(ApiError::ProductNotFound)
}
