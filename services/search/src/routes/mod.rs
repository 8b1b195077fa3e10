//! The search service's HTTP routes: `GET /search` (typo-tolerant, faceted) and
//! `GET /search/suggest` (search as you type). Both read the replica's own index; until it is
//! built they answer 503 `not_ready`.

use contracts::types::{Amount, Currency};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use serde::Serialize;
use service_kit::problem_schema::ProblemSchema;
use service_kit::{Code, FieldCode, FieldError, Json, Problem, Query};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::domain::{SearchRequest, Terms, highlight, match_distance, snippet, words};
use crate::error::{ApiError, Result};
use crate::store::query::{FacetCounts, Search};
use crate::store::{SearchIndex, in_stock};

#[derive(Clone)]
pub(crate) struct AppState {
    pub index: Arc<SearchIndex>,
    /// Set once the index is built (or found built).
    pub ready: Arc<AtomicBool>,
    /// The query work running at once, per lane (`SEARCH_CONCURRENCY` each): every search and
    /// suggestion runs on the blocking pool holding a permit of its lane, so a flood of heavy
    /// queries waits here instead of taking the runtime's threads from `/health`, and never
    /// queues the light ones (see [`Lane`]) behind it.
    pub heavy: Arc<tokio::sync::Semaphore>,
    pub light: Arc<tokio::sync::Semaphore>,
}

/// Which permits a query waits for: a query of at most two words asking for at most 24 hits
/// (what a storefront's search box and suggestions send) is light; longer queries and bigger
/// pages, whose fuzzy expansion and highlighting cost grows with both, are heavy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lane {
    Light,
    Heavy,
}

impl Lane {
    fn of(words: usize, limit: usize) -> Self {
        if words <= 2 && limit <= 24 { Lane::Light } else { Lane::Heavy }
    }
}

/// How long a query waits for a permit before it is turned away (503 `busy`).
const PERMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl AppState {
    /// Runs `job` on the blocking pool once a permit of its lane is free.
    async fn run<T: Send + 'static>(&self, lane: Lane, job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let permits = match lane {
            Lane::Light => &self.light,
            Lane::Heavy => &self.heavy,
        };
        let permit = tokio::time::timeout(PERMIT_WAIT, Arc::clone(permits).acquire_owned())
            .await
            .map_err(|_| Problem::new(Code::Busy, "search is at capacity; retry shortly").with_retry_after(1))?
            .map_err(|e| Problem::internal(&e))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|e| ApiError::Problem(Problem::internal(&e)))
    }

    fn index(&self) -> Result<Arc<SearchIndex>> {
        if self.ready.load(Ordering::Acquire) {
            Ok(self.index.clone())
        } else {
            Err(Problem::new(Code::NotReady, "the search index is still being built; retry shortly").into())
        }
    }
}

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

/// A product found.
#[derive(Serialize, ToSchema)]
pub(crate) struct Hit {
    product_id: Uuid,
    slug: String,
    title: String,
    price_min_minor: Amount,
    price_max_minor: Amount,
    currency: Currency,
    in_stock: bool,
    /// The first image's media id.
    image: Option<Uuid>,
    /// The first image's `medium` variant URL, once the media service announced it.
    image_url: Option<String>,
    /// HTML with the matching words in `<mark>` (everything else escaped): `title`, and
    /// `description` (a snippet) when it matched.
    highlights: BTreeMap<&'static str, String>,
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
    let index = state.index()?;
    // The query and the highlighting of its hits (bounded: a snippet scans the start of a
    // description only, to its first match) run on the blocking pool under a permit.
    let job_request = request.clone();
    let lane = Lane::of(request.terms.words.len(), request.limit.get() as usize);
    let (items, total, facets) = state
        .run(lane, move || -> Result<_> {
            let request = job_request;
            let terms = &request.terms;
            let found = index.search(&Search {
                terms,
                filters: &request.filters,
                sort: request.sort,
                offset: request.offset,
                limit: request.limit.get() as usize,
                facets: request.facets,
            })?;
            let items: Vec<Hit> = found
                .hits
                .into_iter()
                .map(|document| {
                    let mut highlights = BTreeMap::new();
                    if !terms.is_empty() {
                        if let Some(title) = highlight(&document.title, terms) {
                            highlights.insert("title", title);
                        }
                        if let Some(description) = snippet(&document.description, terms, 160) {
                            highlights.insert("description", description);
                        }
                    }
                    Hit {
                        in_stock: in_stock(&document),
                        product_id: document.product_id,
                        slug: document.slug,
                        title: document.title,
                        price_min_minor: document.price_min_minor,
                        price_max_minor: document.price_max_minor,
                        currency: document.currency,
                        image: document.image,
                        image_url: document.image_url,
                        highlights,
                    }
                })
                .collect();
            Ok((items, found.total, found.facets))
        })
        .await??;
    Ok(Json(SearchPage { items, next_cursor: request.next_cursor(total), total, facets: facets.map(facets_json) }))
}

/// A completion.
#[derive(Serialize, ToSchema)]
pub(crate) struct Suggestion {
    text: String,
    /// `product`, `category` or `brand`.
    kind: &'static str,
    /// The product's or category's slug; for a brand, the value of the `brand` filter.
    slug: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Suggestions {
    suggestions: Vec<Suggestion>,
}

/// The most completions one answer gives.
const MAX_SUGGESTIONS: usize = 10;

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
    if q.trim().is_empty() || q.chars().count() > 100 {
        let error = FieldError::new("q", FieldCode::InvalidLength, "q is 1 to 100 characters");
        return Err(Problem::validation(vec![error]).into());
    }
    let terms = Terms::new(q);
    let index = state.index()?;
    if terms.is_empty() {
        return Ok(Json(Suggestions { suggestions: Vec::new() }));
    }
    let categories = index.categories();
    let mut suggestions: Vec<Suggestion> = categories
        .entries
        .iter()
        .filter(|c| name_matches(&c.name, &terms))
        .take(3)
        .map(|c| Suggestion { text: c.name.clone(), kind: "category", slug: c.slug.clone() })
        .collect();
    let (products, brands) = {
        let terms = terms.clone();
        let lane = Lane::of(terms.words.len(), MAX_SUGGESTIONS);
        state.run(lane, move || index.suggest_products(&terms, MAX_SUGGESTIONS)).await??
    };
    suggestions.extend(brands.into_iter().take(3).map(|brand| Suggestion {
        slug: brand.clone(),
        text: brand,
        kind: "brand",
    }));
    let room = MAX_SUGGESTIONS.saturating_sub(suggestions.len());
    suggestions.extend(products.into_iter().take(room).map(|p| Suggestion {
        text: p.title,
        kind: "product",
        slug: p.slug,
    }));
    Ok(Json(Suggestions { suggestions }))
}

/// Whether every typed word matches a word of `name` (the last as a beginning).
fn name_matches(name: &str, terms: &Terms) -> bool {
    let name_words = words(name);
    terms
        .words
        .iter()
        .enumerate()
        .all(|(i, typed)| name_words.iter().any(|w| match_distance(typed, w, terms.is_prefix(i)).is_some()))
}
