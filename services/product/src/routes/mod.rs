//! HTTP handlers of the catalog.

use std::collections::HashMap;

use axum::extract::{Path, State};
use serde::Serialize;
use service_kit::{Json, Problem, Query};
use sqlx::PgPool;

use crate::domain::{Cursor, listing_params};
use crate::store::{self, Product};

#[derive(Serialize)]
pub struct ProductPage {
    items: Vec<Product>,
    next_cursor: Option<String>,
}

/// `GET /products?limit=&cursor=`: active products, newest first.
pub async fn list_products(
    State(pool): State<PgPool>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<ProductPage>, Problem> {
    let (limit, cursor) =
        listing_params(params.get("limit").map(String::as_str), params.get("cursor").map(String::as_str))?;
    let mut items = store::list_active(&pool, limit, cursor.as_ref()).await.map_err(|e| Problem::internal(&e))?;
    let next_cursor = if items.len() as i64 > limit.get() {
        items.truncate(limit.get() as usize);
        items.last().map(|p| Cursor { created_at: p.created_at, id: p.id }.encode())
    } else {
        None
    };
    Ok(Json(ProductPage { items, next_cursor }))
}

/// `GET /products/{id-or-slug}`.
pub async fn get_product(State(pool): State<PgPool>, Path(id_or_slug): Path<String>) -> Result<Json<Product>, Problem> {
    let id = uuid::Uuid::parse_str(&id_or_slug).ok();
    store::find_active(&pool, id, &id_or_slug)
        .await
        .map_err(|e| Problem::internal(&e))?
        .map(Json)
        .ok_or_else(|| Problem::not_found("no such product"))
}
