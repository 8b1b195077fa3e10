//! The catalog's HTTP routes: extract, call the store, render.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use serde::Serialize;
use service_kit::problem_schema::ProblemSchema;
use service_kit::{Json, Problem, Query};
use sqlx::PgPool;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::{Cursor, listing_params};
use crate::error::{ApiError, Result};
use crate::store::{self, Product};

/// The catalog's routes and their OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter<PgPool> {
    OpenApiRouter::new().routes(routes!(list_products)).routes(routes!(get_product))
}

/// The catalog's routes, on the catalog's pool.
pub fn router(pool: PgPool) -> Router {
    api().with_state(pool).split_for_parts().0
}

/// The OpenAPI description of the catalog's public routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// One page of the listing.
#[derive(Serialize, ToSchema)]
pub struct ProductPage {
    items: Vec<Product>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// `GET /products?limit=&cursor=`: active products, newest first.
#[utoipa::path(get, path = "/products", tag = "catalog",
    summary = "List active products, newest first",
    params(
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 100 (default 20)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of products.", body = ProductPage),
        (status = 400, description = "`malformed_query`: the query string cannot be read.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `limit` (`out_of_range`) or `cursor` (`invalid_cursor`).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
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
#[utoipa::path(get, path = "/products/{id_or_slug}", tag = "catalog",
    summary = "One active product by id or slug",
    params(("id_or_slug" = String, Path, description = "The product's UUID or its slug.")),
    responses(
        (status = 200, description = "The product.", body = Product),
        (status = 404, description = "`not_found`: no active product with this id or slug.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_product(State(pool): State<PgPool>, Path(id_or_slug): Path<String>) -> Result<Json<Product>> {
    let id = uuid::Uuid::parse_str(&id_or_slug).ok();
    store::find_active(&pool, id, &id_or_slug).await?.map(Json).ok_or(ApiError::ProductNotFound)
}
