//! Reviews: a product's published reviews for everyone, writing one (signed in, one per
//! product), a helpful vote (signed in, once), and moderation for staff with
//! `reviews:moderate`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use contracts::types::{Parsed, ReviewStatus};
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldErrors, Json, Permission, Problem, Query};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use crate::app;
use crate::domain::{ReviewCursor, ReviewSort, check_review, review_listing};
use crate::error::{ApiError, Result};
use crate::store::reviews::{self, Review};

/// A page of reviews.
#[derive(Serialize, ToSchema)]
pub(super) struct ReviewPage {
    items: Vec<Review>,
    next_cursor: Option<String>,
}

fn page(mut items: Vec<Review>, limit: i64, sort: ReviewSort) -> ReviewPage {
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|r| {
            let helpful = (sort == ReviewSort::Helpful).then_some(r.helpful_count);
            ReviewCursor { sort, helpful, created_at: r.created_at, id: r.id }.encode()
        })
    } else {
        None
    };
    ReviewPage { items, next_cursor }
}

fn signed_in(caller: &Caller) -> Result<Uuid> {
    caller.user_id().ok_or(ApiError::NotSignedIn)
}

async fn product_of(state: &AppState, id_or_slug: &str) -> Result<Uuid> {
    reviews::active_product(&state.pool, Uuid::parse_str(id_or_slug).ok(), id_or_slug)
        .await?
        .ok_or(ApiError::ProductNotFound)
}

/// `GET /products/{id}/reviews`.
#[utoipa::path(get, path = "/products/{id}/reviews", tag = "reviews", summary = "A product's published reviews",
    params(
        ("id" = String, Path, description = "The product's UUID or its slug."),
        ("sort" = Option<String>, Query, description = "`newest` (default) or `helpful`."),
        ("limit" = Option<u32>, Query, description = "1 to 100 (default 20)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page (same sort)."),
    ),
    responses(
        (status = 200, description = "A page of reviews.", body = ReviewPage),
        (status = 404, description = "`not_found`: no active product with this id or slug.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `sort`, `limit` or `cursor`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_reviews(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<ReviewPage>> {
    let (sort, limit, cursor) = review_listing(&pairs).map_err(Problem::validation)?;
    let product_id = product_of(&state, &id).await?;
    let items = reviews::list(&state.pool, product_id, sort, limit, cursor.as_ref()).await?;
    Ok(Json(page(items, limit.get(), sort)))
}

/// A review as a shopper writes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReviewBody {
    /// 1 to 5.
    rating: i64,
    title: String,
    /// Plain text.
    body: String,
}

/// `POST /products/{id}/reviews`.
#[utoipa::path(post, path = "/products/{id}/reviews", tag = "reviews", summary = "Review a product (one review per shopper)",
    params(("id" = String, Path, description = "The product's UUID or its slug.")),
    request_body = ReviewBody,
    responses(
        (status = 201, description = "The review, published; the product's rating includes it.", body = Review),
        (status = 404, description = "`not_found`: no active product with this id or slug.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`review_exists`: this shopper reviewed the product already.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `rating` (1 to 5), `title`, `body`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ReviewBody>,
) -> Result<Response> {
    let user_id = signed_in(&caller)?;
    let mut errors = FieldErrors::default();
    check_review(&mut errors, body.rating, &body.title, &body.body);
    errors.finish()?;
    let product_id = product_of(&state, &id).await?;
    let review =
        app::reviews::create(&state.pool, product_id, user_id, body.rating as i16, body.title.trim(), body.body.trim())
            .await?;
    state.cache.invalidate().await;
    Ok((StatusCode::CREATED, Json(review)).into_response())
}

fn review_id(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::ReviewNotFound)
}

/// `POST /reviews/{id}/helpful`.
#[utoipa::path(post, path = "/reviews/{id}/helpful", tag = "reviews", summary = "Mark a review helpful (once per shopper)",
    params(("id" = Uuid, Path, description = "The review's id.")),
    responses(
        (status = 200, description = "The review with its count (a second vote changes nothing).", body = Review),
        (status = 404, description = "`not_found`: no published review with this id.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn vote_helpful(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Review>> {
    let user_id = signed_in(&caller)?;
    Ok(Json(app::reviews::vote_helpful(&state.pool, review_id(&id)?, user_id).await?))
}

/// `GET /reviews` (staff).
#[utoipa::path(get, path = "/reviews", tag = "reviews", summary = "Reviews for moderation, newest first",
    params(
        ("status" = Option<String>, Query, description = "`published` or `hidden`; all when absent."),
        ("limit" = Option<u32>, Query, description = "1 to 100 (default 20)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of reviews with author and status.", body = ReviewPage),
        (status = 422, description = "`validation_failed`: `status`, `limit` or `cursor`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn moderation_queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<ReviewPage>> {
    caller.require_perm(Permission::ReviewsModerate)?;
    let status = pairs.iter().find(|(k, _)| k == "status").map(|(_, v)| v.as_str());
    let mut rest: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "status" && k != "sort").cloned().collect();
    rest.push(("sort".into(), "newest".into()));
    let parsed = review_listing(&rest);
    let mut errors = FieldErrors::default();
    if status.is_some_and(|s| !matches!(s, "published" | "hidden")) {
        errors.push("status", FieldCode::InvalidValue, "status is published or hidden");
    }
    let (_, limit, cursor) = match parsed {
        Ok(parsed) if errors.is_empty() => parsed,
        Ok(_) => return Err(errors.finish().expect_err("an error was recorded").into()),
        Err(more) => {
            more.into_iter().for_each(|e| errors.add(e));
            return Err(errors.finish().expect_err("errors were recorded").into());
        }
    };
    let items = reviews::staff_list(&state.pool, status, limit, cursor.as_ref()).await?;
    Ok(Json(page(items, limit.get(), ReviewSort::Newest)))
}

/// A moderation decision.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Moderation {
    #[schema(value_type = ReviewStatus)]
    status: Parsed<ReviewStatus>,
    /// Why (kept with the review, staff only).
    note: Option<String>,
}

/// `PATCH /reviews/{id}` (staff).
#[utoipa::path(patch, path = "/reviews/{id}", tag = "reviews", summary = "Hide or publish a review",
    description = "A hidden review leaves the product's page and its rating; publishing it again brings both back.",
    params(("id" = Uuid, Path, description = "The review's id.")),
    request_body = Moderation,
    responses(
        (status = 200, description = "The review with its moderation state.", body = Review),
        (status = 404, description = "`not_found`: no review with this id.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `status` or `note`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn moderate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Moderation>,
) -> Result<Json<Review>> {
    caller.require_perm(Permission::ReviewsModerate)?;
    let mut errors = FieldErrors::default();
    let status = body.status.valid();
    if status.is_none() {
        errors.push("status", FieldCode::InvalidValue, "status is published or hidden");
    }
    if body.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        errors.push("note", FieldCode::InvalidLength, "a note is at most 500 characters");
    }
    let status = errors.finish_with(status)?;
    let review =
        app::reviews::moderate(&state.pool, &caller.subject().sub, review_id(&id)?, status, body.note.as_deref())
            .await?;
    state.cache.invalidate().await;
    Ok(Json(review))
}
