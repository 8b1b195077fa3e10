//! The catalog's HTTP routes: extract, call the store, render. The storefront's reads are here;
//! staff writes in `staff`.

mod internal;
mod reviews;
mod staff;

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, VARY};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::from_fn;
use axum::response::Response;
use internal_token::{Caller, only_from};
use serde::Serialize;
use service_kit::problem_schema::ProblemSchema;
use service_kit::{Permission, Problem, Query, fleet};
use sqlx::PgPool;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::cache::{Cache, Cached};
use crate::domain::{CategoryNode, Listing, category_tree};
use crate::error::{ApiError, Result};
use crate::store::{self, CategoryRef, ListItem, ProductDetail};

/// How long NGINX, Cloudflare and browsers may keep an anonymous catalog response, and serve it
/// stale while they revalidate: the documented bound on a stale read downstream.
pub(crate) const PUBLIC_MAX_AGE: Duration = Duration::from_secs(30);
pub(crate) const STALE_WHILE_REVALIDATE: Duration = Duration::from_secs(60);
/// How long a cached response lives in Redis (a backstop: changes invalidate at once).
pub(crate) const CACHE_TTL: Duration = Duration::from_secs(300);

/// What every catalog handler reads.
#[derive(Clone)]
pub(crate) struct AppState {
    pub pool: PgPool,
    /// The shop's one currency; prices in any other are refused.
    pub currency: contracts::types::Currency,
    pub cache: Cache,
}

impl AppState {
    /// Answers a storefront read from the cache, or computes, caches and answers it. The
    /// response carries its ETag (a matching `If-None-Match` gets a 304) and is marked public
    /// only for anonymous callers; a signed-in user's response is private.
    async fn cached<F, Fut, T>(&self, caller: &Caller, headers: &HeaderMap, key: &str, compute: F) -> Result<Response>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
        T: Serialize,
    {
        let lookup = self.cache.get(key).await;
        let cached = match lookup.hit {
            Some(hit) => hit,
            None => {
                let body =
                    serde_json::to_vec(&compute().await?).map_err(|e| ApiError::Problem(Problem::internal(&e)))?;
                let fresh = Cached::new(body);
                if let Some(generation) = &lookup.generation {
                    self.cache.put(generation, key, &fresh).await;
                }
                fresh
            }
        };
        Ok(respond(cached, caller.subject().is_anonymous(), headers))
    }
}

/// The response for a cached body: 304 when `If-None-Match` names its ETag.
fn respond(cached: Cached, public: bool, headers: &HeaderMap) -> Response {
    let cache_control = if public {
        format!(
            "public, max-age={}, stale-while-revalidate={}",
            PUBLIC_MAX_AGE.as_secs(),
            STALE_WHILE_REVALIDATE.as_secs()
        )
    } else {
        "private, no-cache".to_owned()
    };
    let mut response = cached.respond(headers, &cache_control);
    response.headers_mut().insert(VARY, HeaderValue::from_static("Authorization"));
    response
}

/// The 304 every cached read may answer.
const NOT_MODIFIED: &str = "Not modified: `If-None-Match` named the current ETag.";

/// The catalog's routes and their OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products, staff::create_product))
        .routes(routes!(get_product))
        .routes(routes!(staff::update_product, staff::archive_product))
        .routes(routes!(staff::add_variant))
        .routes(routes!(staff::update_variant))
        .routes(routes!(list_categories, staff::create_category))
        .routes(routes!(get_category, staff::update_category))
        .routes(routes!(reviews::list_reviews, reviews::create_review))
        .routes(routes!(reviews::vote_helpful))
        .routes(routes!(reviews::moderation_queue))
        .routes(routes!(reviews::moderate))
        .routes(routes!(staff::export_products))
        .merge(
            // The CSV import takes files larger than the kit's default body limit.
            OpenApiRouter::new()
                .routes(routes!(staff::import_products))
                .layer(axum::extract::DefaultBodyLimit::max(staff::IMPORT_MAX_BYTES)),
        )
}

/// The catalog's routes: the public ones for the gateway, the variant lookup for cart and order,
/// the export for search.
pub(crate) fn router(state: AppState) -> Router {
    let public = api().with_state(state.clone()).split_for_parts().0.route_layer(from_fn(only_from(&[fleet::GATEWAY])));
    public
        .merge(internal::router(state.clone()).route_layer(from_fn(only_from(&[fleet::CART, fleet::ORDER]))))
        .merge(internal::search_router(state.clone()).route_layer(from_fn(only_from(&[fleet::SEARCH]))))
        .merge(internal::export_router(state).route_layer(from_fn(only_from(&[fleet::USER]))))
}

/// The OpenAPI description of the catalog's public routes.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// Facet counts for the current filter.
#[derive(Serialize, ToSchema)]
pub(crate) struct Facets {
    /// The direct children of the filtered category (the roots when unfiltered), each counted
    /// over its whole subtree: `[{"slug", "name", "count"}]`.
    #[schema(value_type = Vec<Object>)]
    categories: serde_json::Value,
    /// Buckets of the lowest variant price: `[{"min", "max" (null: open), "count"}]`.
    #[schema(value_type = Vec<Object>)]
    price: serde_json::Value,
    /// Per attribute name, its values with counts: `{"color": [{"value", "count"}]}`.
    #[schema(value_type = Object)]
    attributes: serde_json::Value,
    /// `{"true": n, "false": m}`.
    #[schema(value_type = Object)]
    in_stock: serde_json::Value,
}

/// One page of the listing.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProductPage {
    items: Vec<ListItem>,
    /// Pass as `cursor` (with the same sort) for the next page; absent on the last page.
    next_cursor: Option<String>,
    /// With `facets=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    facets: Option<Facets>,
}

/// `GET /products`: active products, filtered, sorted and paged by keyset.
#[utoipa::path(get, path = "/products", tag = "catalog",
    summary = "List active products with filters, sorting and facets",
    params(
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 100 (default 20)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page (same sort)."),
        ("sort" = Option<String>, Query, description = "`newest` (default), `price_asc`, `price_desc` (by the lowest variant price), `rating`, `name`; ties newest first, then by id."),
        ("category" = Option<String>, Query, description = "A category slug; includes its descendants."),
        ("min_price" = Option<i64>, Query, description = "Minor units; products with a variant at or above."),
        ("max_price" = Option<i64>, Query, description = "Minor units; products with a variant at or below."),
        ("brand" = Option<String>, Query, description = "Exact brand, case-insensitive."),
        ("in_stock" = Option<bool>, Query, description = "Only products with a variant in stock."),
        ("facets" = Option<bool>, Query, description = "Add facet counts for the current filter."),
        ("attr.<name>" = Option<String>, Query, description = "An attribute value, e.g. `attr.color=black` (repeatable, all must hold)."),
    ),
    responses(
        (status = 200, description = "A page of products (with `ETag`; `Cache-Control: public` for anonymous callers).", body = ProductPage),
        (status = 304, description = NOT_MODIFIED),
        (status = 400, description = "`malformed_query`: the query string cannot be read.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: each bad parameter named (`limit`, `cursor`, `sort`, prices, `attr.<name>`).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response> {
    let listing = Listing::parse(&pairs).map_err(Problem::validation)?;
    let key = format!("products?{}", listing.normalized());
    state.cached(&caller, &headers, &key, || page(&state, &listing)).await
}

async fn page(state: &AppState, listing: &Listing) -> Result<ProductPage> {
    let mut items = store::list(&state.pool, listing).await?;
    let next_cursor = if items.len() as i64 > listing.limit.get() {
        items.truncate(listing.limit.get() as usize);
        items.last().map(|item| item.cursor(listing.sort).encode())
    } else {
        None
    };
    let facets = if listing.facets {
        let mut all = store::facets(&state.pool, &listing.filters).await?;
        let mut take = |name: &str| all.get_mut(name).map(serde_json::Value::take).unwrap_or_default();
        Some(Facets {
            categories: take("categories"),
            price: take("price"),
            attributes: take("attributes"),
            in_stock: take("in_stock"),
        })
    } else {
        None
    };
    Ok(ProductPage { items, next_cursor, facets })
}

/// Whether the caller may see drafts and archived products (staff who write the catalog).
fn sees_every_status(caller: &Caller) -> bool {
    caller.require_perm(Permission::CatalogWrite).is_ok()
}

/// `GET /products/{id-or-slug}`.
#[utoipa::path(get, path = "/products/{id}", tag = "catalog",
    summary = "One product by id or slug, with variants and categories",
    description = "Shoppers see active products only; staff with `catalog:write` see drafts and archived ones too.",
    params(("id" = String, Path, description = "The product's UUID or its slug.")),
    responses(
        (status = 200, description = "The product (with `ETag`; `Cache-Control: public` for anonymous callers).", body = ProductDetail),
        (status = 304, description = NOT_MODIFIED),
        (status = 404, description = "`not_found`: no (active) product with this id or slug.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_product(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id_or_slug): Path<String>,
) -> Result<Response> {
    let id = Uuid::parse_str(&id_or_slug).ok();
    let (pool, slug) = (&state.pool, id_or_slug.as_str());
    let find =
        |any_status| async move { store::find(pool, id, slug, any_status).await?.ok_or(ApiError::ProductNotFound) };
    if sees_every_status(&caller) {
        // Staff see drafts: never cached, never shared.
        let body = serde_json::to_vec(&find(true).await?).map_err(|e| ApiError::Problem(Problem::internal(&e)))?;
        let mut response = respond(Cached::new(body), false, &headers);
        response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        return Ok(response);
    }
    let key = format!("product/{}", id.map(|id| id.to_string()).unwrap_or_else(|| id_or_slug.clone()));
    state.cached(&caller, &headers, &key, || find(false)).await
}

/// `GET /categories`.
#[utoipa::path(get, path = "/categories", tag = "catalog",
    summary = "The category tree",
    responses(
        (status = 200, description = "The roots, each with its children, to any depth (with `ETag`).", body = Vec<CategoryNode>),
        (status = 304, description = NOT_MODIFIED),
    ))]
async fn list_categories(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<Response> {
    state
        .cached(&caller, &headers, "categories", || async { Ok(category_tree(&store::categories(&state.pool).await?)) })
        .await
}

/// A category with where it sits.
#[derive(Serialize, ToSchema)]
pub(crate) struct CategoryPage {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// From the root down to this category (itself last): the breadcrumbs.
    pub path: Vec<CategoryRef>,
    /// Its subtree.
    pub children: Vec<CategoryNode>,
}

/// `GET /categories/{slug}`.
#[utoipa::path(get, path = "/categories/{slug}", tag = "catalog",
    summary = "One category with its breadcrumbs and subtree",
    params(("slug" = String, Path, description = "The category's slug.")),
    responses(
        (status = 200, description = "The category (with `ETag`).", body = CategoryPage),
        (status = 304, description = NOT_MODIFIED),
        (status = 404, description = "`not_found`: no category with this slug.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_category(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Result<Response> {
    let key = format!("category/{slug}");
    state.cached(&caller, &headers, &key, || category_page(&state.pool, &slug)).await
}

/// The page of a category by slug, or 404.
async fn category_page(pool: &PgPool, slug: &str) -> Result<CategoryPage> {
    let path = store::category_path(pool, slug).await?;
    let node = path.last().cloned().ok_or(ApiError::CategoryNotFound)?;
    let all = store::categories(pool).await?;
    let children = find_node(category_tree(&all), node.id).map(|n| n.children).unwrap_or_default();
    Ok(CategoryPage {
        id: node.id,
        slug: node.slug,
        name: node.name,
        path: path.into_iter().map(|c| CategoryRef { id: c.id, slug: c.slug, name: c.name }).collect(),
        children,
    })
}

fn find_node(nodes: Vec<CategoryNode>, id: Uuid) -> Option<CategoryNode> {
    for node in nodes {
        if node.id == id {
            return Some(node);
        }
        if let Some(found) = find_node(node.children, id) {
            return Some(found);
        }
    }
    None
}
