//! The search service's HTTP routes: `GET /search` (typo-tolerant, faceted) and
//! `GET /search/suggest` (search as you type). Both read the replica's own index; until it is
//! built they answer 503 `not_ready`.

use axum::Router;
use axum::extract::State;
use serde::Serialize;
use service_kit::problem_schema::ProblemSchema;
use service_kit::{Json, Problem, Query};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) use crate::app::AppState;
use crate::app::queries::{self, Hit, Suggestion};
use crate::domain::SearchRequest;
use crate::error::Result;
use crate::store::query::FacetCounts;

/// The business routes with their OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search)).routes(routes!(suggest))
}

/// The business routes, served behind the internal-token guard.
pub(crate) fn router(state: AppState) -> Router {
    api().with_state(state).split_for_parts().0
}

/// The OpenAPI description of the service's public routes.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// A page of results.
#[derive(Serialize, ToSchema)]
pub(crate) struct SearchPage {
    items: Vec<Hit>,
    /// How many products match in all.
    total: usize,
    /// Pass as `cursor` (with the same query) for the next page; absent on the last page.
    next_cursor: Option<String>,
    /// With `facets=true`: shaped like the catalog listing's facets.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    facets: Option<serde_json::Value>,
}

fn facets_json(facets: FacetCounts) -> serde_json::Value {
    let categories: Vec<serde_json::Value> = facets
        .categories
        .into_iter()
        .map(|(slug, name, count)| serde_json::json!({"slug": slug, "name": name, "count": count}))
        .collect();
    let price: Vec<serde_json::Value> = facets
        .price
        .into_iter()
        .map(|(min, max, count)| serde_json::json!({"min": min, "max": max, "count": count}))
        .collect();
    let attributes: serde_json::Map<String, serde_json::Value> = facets
        .attributes
        .into_iter()
        .map(|(name, values)| {
            let values: Vec<serde_json::Value> =
                values.into_iter().map(|(value, count)| serde_json::json!({"value": value, "count": count})).collect();
            (name, serde_json::Value::Array(values))
        })
        .collect();
    serde_json::json!({
        "categories": categories,
        "price": price,
        "attributes": attributes,
        "in_stock": {"true": facets.in_stock, "false": facets.out_of_stock},
    })
}

/// `GET /search`.
#[utoipa::path(get, path = "/search", tag = "search",
    summary = "Search active products: typo-tolerant, filtered, sorted, with facets",
    description = "BM25 over title, brand, category names and description (boosted in that order). Each word may be \
        off by edits that grow with its length (none up to 4 letters, 1 up to 8, 2 above; swapping two adjacent \
        letters is one edit); the last word also matches as a beginning; words written together match words written \
        apart (`tshirt` finds \"T-Shirt\"). Every word must match somewhere. Ties newest first. An empty `q` lists by \
        the chosen sort.",
    params(
        ("q" = Option<String>, Query, description = "The words, at most 200 characters (the first 8 words count)."),
        ("sort" = Option<String>, Query, description = "`relevance` (default), `price_asc`, `price_desc` (by the lowest variant price), `newest`."),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 100 (default 20)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page (same query, filters and sort); up to 1000 results deep."),
        ("category" = Option<String>, Query, description = "A category slug; includes its descendants."),
        ("brand" = Option<String>, Query, description = "Exact brand, case-insensitive."),
        ("min_price" = Option<i64>, Query, description = "Minor units; products with a variant at or above."),
        ("max_price" = Option<i64>, Query, description = "Minor units; products with a variant at or below."),
        ("in_stock" = Option<bool>, Query, description = "Only products with a variant in stock."),
        ("facets" = Option<bool>, Query, description = "Add facet counts over every match."),
        ("attr.<name>" = Option<String>, Query, description = "An attribute value, e.g. `attr.color=black` (repeatable, all must hold)."),
    ),
    responses(
        (status = 200, description = "A page of results.", body = SearchPage),
        (status = 400, description = "`malformed_query`: the query string cannot be read.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: each bad parameter named (`q`, `sort`, `limit`, `cursor`, prices, `attr.<name>`).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`not_ready`: this replica's index is still being built; `busy`: as many queries as this replica runs at once are running (Retry-After).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn search(State(state): State<AppState>, Query(pairs): Query<Vec<(String, String)>>) -> Result<Json<SearchPage>> {
    let request = SearchRequest::parse(&pairs).map_err(Problem::validation)?;
    let (items, total, facets) = queries::search(&state, request.clone()).await?;
    Ok(Json(SearchPage { items, next_cursor: request.next_cursor(total), total, facets: facets.map(facets_json) }))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Suggestions {
    suggestions: Vec<Suggestion>,
}

/// `GET /search/suggest`.
#[utoipa::path(get, path = "/search/suggest", tag = "search",
    summary = "Complete what a shopper is typing",
    description = "Up to 10 completions: matching categories and brands first (up to 3 each), then product titles. \
        The last word matches as a beginning; typos are forgiven as in search.",
    params(("q" = String, Query, description = "What has been typed so far, 1 to 100 characters.")),
    responses(
        (status = 200, description = "The completions (none when nothing matches).", body = Suggestions),
        (status = 400, description = "`malformed_query`: the query string cannot be read.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `q` missing, empty or too long.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`not_ready`: this replica's index is still being built; `busy`: as many queries as this replica runs at once are running (Retry-After).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn suggest(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Suggestions>> {
    let q = contracts::listing::last(&pairs, "q").unwrap_or_default();
    Ok(Json(Suggestions { suggestions: queries::suggest(&state, q).await? }))
}
