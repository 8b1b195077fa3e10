//! A search and the completions of what a shopper is typing.

use std::collections::BTreeMap;

use contracts::types::{Amount, Currency};
use serde::Serialize;
use service_kit::{FieldCode, FieldError, Problem};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppState, Lane};
use crate::domain::{SearchRequest, Terms, highlight, match_distance, snippet, words};
use crate::error::Result;
use crate::store::in_stock;
use crate::store::query::{FacetCounts, Search};

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

/// The page `request` asks for: its hits (with their highlights), how many match in all, and
/// the facet counts when asked for. The query and the highlighting (bounded: a snippet scans
/// the start of a description only, to its first match) run on the blocking pool.
#[tracing::instrument(skip_all, fields(words = request.terms.words.len(), limit = request.limit.get()))]
pub(crate) async fn search(state: &AppState, request: SearchRequest) -> Result<(Vec<Hit>, usize, Option<FacetCounts>)> {
    let index = state.index()?;
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
                        product_id: document.product_id.into(),
                        slug: document.slug,
                        title: document.title,
                        price_min_minor: document.price_min_minor,
                        price_max_minor: document.price_max_minor,
                        currency: document.currency,
                        image: document.image.map(Into::into),
                        image_url: document.image_url,
                        highlights,
                    }
                })
                .collect();
            Ok((items, found.total, found.facets))
        })
        .await??;
    Ok((items, total, facets))
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

/// The most completions one answer gives.
const MAX_SUGGESTIONS: usize = 10;

/// Up to [`MAX_SUGGESTIONS`] completions of `q` (1 to 100 characters): matching categories and
/// brands first (up to 3 each), then product titles.
#[tracing::instrument(skip_all)]
pub(crate) async fn suggest(state: &AppState, q: &str) -> Result<Vec<Suggestion>> {
    if q.trim().is_empty() || q.chars().count() > 100 {
        let error = FieldError::new("q", FieldCode::InvalidLength, "q is 1 to 100 characters");
        return Err(Problem::validation(vec![error]).into());
    }
    let terms = Terms::new(q);
    let index = state.index()?;
    if terms.is_empty() {
        return Ok(Vec::new());
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
    Ok(suggestions)
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
