//! Reviews as use cases: a shopper's review and the product's rating in one transaction, with
//! PRODUCT_UPDATED enqueued (search ranks by rating); moderation that hides or shows a review
//! and moves the rating with it (audited); helpful votes; and erasing a deleted account's
//! reviews, inside the transaction of the event that asks for it. Lock order everywhere: the
//! product, then the review.

use contracts::types::ReviewStatus;
use events::catalog::ProductUpdated;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::store::reviews::{self, Review};

/// Moves a product's rating by a published review's arrival (`sign` 1) or departure (-1), with
/// its PRODUCT_UPDATED event.
async fn rate(tx: &mut PgConnection, product_id: Uuid, rating: i16, sign: i32) -> sqlx::Result<()> {
    let (version, slug, status) = reviews::rate(&mut *tx, product_id, rating, sign).await?;
    events::enqueue(tx, crate::SERVICE, &ProductUpdated { product_id: product_id.into(), version, slug, status })
        .await?;
    Ok(())
}

/// Writes a shopper's review of an active product (a second one is 409 `review_exists`).
#[tracing::instrument(skip_all, fields(product_id = %product_id, user_id = %user_id))]
pub(crate) async fn create(
    pool: &PgPool,
    product_id: Uuid,
    user_id: Uuid,
    rating: i16,
    title: &str,
    body: &str,
) -> Result<Review> {
    let mut tx = pool.begin().await?;
    reviews::lock_active_product(&mut tx, product_id).await?.ok_or(ApiError::ProductNotFound)?;
    let review = reviews::insert(&mut tx, product_id, user_id, rating, title, body).await?;
    rate(&mut tx, product_id, rating, 1).await?;
    tx.commit().await?;
    Ok(review)
}

/// Publishes or hides a review (moving the product's rating with it) and keeps a note, as
/// `actor` (audited with the review before and after).
#[tracing::instrument(skip_all, fields(review_id = %review_id))]
pub(crate) async fn moderate(
    pool: &PgPool,
    actor: &str,
    review_id: Uuid,
    status: ReviewStatus,
    note: Option<&str>,
) -> Result<Review> {
    let mut tx = pool.begin().await?;
    let product_id = reviews::product_of(&mut tx, review_id).await?.ok_or(ApiError::ReviewNotFound)?;
    reviews::lock_product(&mut tx, product_id).await?;
    let before = reviews::lock_staff_view(&mut tx, review_id).await?;
    let review = reviews::set_status(&mut tx, review_id, status, note).await?;
    match (before.status, status) {
        (Some(ReviewStatus::Published), ReviewStatus::Hidden) => rate(&mut tx, product_id, before.rating, -1).await?,
        (Some(ReviewStatus::Hidden), ReviewStatus::Published) => rate(&mut tx, product_id, before.rating, 1).await?,
        _ => {}
    }
    let json = |r: &Review| serde_json::to_value(r).ok();
    let target = format!("review:{review_id}");
    super::catalog::audit(&mut tx, actor, "review.moderate", target, json(&before), json(&review)).await?;
    tx.commit().await?;
    Ok(review)
}

/// Counts a shopper's helpful vote on a published review (once per shopper).
#[tracing::instrument(skip_all, fields(review_id = %review_id, user_id = %user_id))]
pub(crate) async fn vote_helpful(pool: &PgPool, review_id: Uuid, user_id: Uuid) -> Result<Review> {
    let mut tx = pool.begin().await?;
    reviews::lock_published(&mut tx, review_id).await?.ok_or(ApiError::ReviewNotFound)?;
    let new = reviews::add_vote(&mut tx, review_id, user_id).await?;
    let review = reviews::add_helpful(&mut tx, review_id, i32::from(new)).await?;
    tx.commit().await?;
    Ok(review)
}

/// Erases a deleted account's reviews (each published one leaves its product's rating, which
/// moves like a moderation), its helpful votes and its purchases, in the caller's transaction.
/// Returns how many reviews went.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub(crate) async fn erase_author(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<usize> {
    reviews::erase_votes(&mut *tx, user_id).await?;
    let authored = reviews::authored(&mut *tx, user_id).await?;
    for (product_id, status, rating) in &authored {
        reviews::lock_product(&mut *tx, *product_id).await?;
        if *status == ReviewStatus::Published {
            rate(&mut *tx, *product_id, *rating, -1).await?;
        }
    }
    reviews::delete_authored(&mut *tx, user_id).await?;
    Ok(authored.len())
}
