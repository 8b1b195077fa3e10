//! Reviews and what they change: a review and the product's rating (sum and count of published
//! reviews) in one transaction, with the product's version bumped and PRODUCT_UPDATED enqueued
//! (search ranks by rating); moderation that hides or shows a review and moves the rating with
//! it; helpful votes (one per shopper); purchases from ORDER_DELIVERED that verify reviews.

use chrono::{DateTime, Utc};
use events::catalog::ProductUpdated;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{PageSize, ReviewCursor, ReviewSort};
use crate::error::{ApiError, Result};

/// A review as shown. Staff views add who wrote it and its moderation state.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct Review {
    pub id: Uuid,
    pub product_id: Uuid,
    pub rating: i16,
    pub title: String,
    pub body: String,
    /// The author bought the product (from paid orders).
    pub verified_purchase: bool,
    pub helpful_count: i32,
    pub created_at: DateTime<Utc>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[sqlx(default)]
    pub user_id: Option<Uuid>,
    /// Staff only: `published` or `hidden`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[sqlx(default)]
    pub status: Option<String>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[sqlx(default)]
    pub moderation_note: Option<String>,
}

const PUBLIC_COLUMNS: &str =
    "r.id, r.product_id, r.rating, r.title, r.body, r.verified_purchase, r.helpful_count, r.created_at";
const STAFF_COLUMNS: &str = "r.id, r.product_id, r.rating, r.title, r.body, r.verified_purchase, r.helpful_count, \
     r.created_at, r.user_id, r.status, r.moderation_note";

/// The id of an active product by id or slug.
pub(crate) async fn active_product(pool: &PgPool, id: Option<Uuid>, slug: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select id from products where status = 'active' and (id = $1 or slug = $2)")
        .bind(id)
        .bind(slug)
        .fetch_optional(pool)
        .await
}

/// Moves a product's rating by a published review's arrival (`sign` 1) or departure (-1), bumps
/// its version and enqueues PRODUCT_UPDATED.
async fn rate(tx: &mut PgConnection, product_id: Uuid, rating: i16, sign: i32) -> sqlx::Result<()> {
    let (version, slug, status): (i64, String, String) = sqlx::query_as(
        "update products set rating_sum = rating_sum + $2, rating_count = rating_count + $3, version = version + 1 \
         where id = $1 returning version, slug, status",
    )
    .bind(product_id)
    .bind(i32::from(rating) * sign)
    .bind(sign)
    .fetch_one(&mut *tx)
    .await?;
    events::enqueue(tx, crate::SERVICE, &ProductUpdated { product_id, version, slug, status }).await?;
    Ok(())
}

/// Writes a shopper's review of an active product (a second one is 409 `review_exists`).
pub(crate) async fn create(
    pool: &PgPool,
    product_id: Uuid,
    user_id: Uuid,
    rating: i16,
    title: &str,
    body: &str,
) -> Result<Review> {
    let mut tx = pool.begin().await?;
    // The product row is locked so its rating moves with each review in turn.
    let active: Option<Uuid> =
        sqlx::query_scalar("select id from products where id = $1 and status = 'active' for update")
            .bind(product_id)
            .fetch_optional(&mut *tx)
            .await?;
    active.ok_or(ApiError::ProductNotFound)?;
    let sql = format!(
        "insert into reviews as r (id, product_id, user_id, rating, title, body, verified_purchase) \
         values ($1, $2, $3, $4, $5, $6, exists (select 1 from purchases where user_id = $3 and product_id = $2)) \
         returning {PUBLIC_COLUMNS}"
    );
    let review: Review = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::now_v7())
        .bind(product_id)
        .bind(user_id)
        .bind(rating)
        .bind(title)
        .bind(body)
        .fetch_one(&mut *tx)
        .await?;
    rate(&mut tx, product_id, rating, 1).await?;
    tx.commit().await?;
    Ok(review)
}

/// A page of a product's published reviews (plus one to tell whether more exist).
pub(crate) async fn list(
    pool: &PgPool,
    product_id: Uuid,
    sort: ReviewSort,
    limit: PageSize,
    after: Option<&ReviewCursor>,
) -> sqlx::Result<Vec<Review>> {
    let (keyset, order) = match sort {
        ReviewSort::Newest => {
            ("($3::timestamptz is null or (r.created_at, r.id) < ($3, $4))", "r.created_at desc, r.id desc")
        }
        ReviewSort::Helpful => (
            "($3::timestamptz is null or r.helpful_count < $5 or (r.helpful_count = $5 and (r.created_at, r.id) < ($3, $4)))",
            "r.helpful_count desc, r.created_at desc, r.id desc",
        ),
    };
    let sql = format!(
        "select {PUBLIC_COLUMNS} from reviews r where r.product_id = $1 and r.status = 'published' and {keyset} \
         order by {order} limit $2"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(product_id)
        .bind(limit.get() + 1)
        .bind(after.map(|c| c.created_at))
        .bind(after.map(|c| c.id))
        .bind(after.and_then(|c| c.helpful))
        .fetch_all(pool)
        .await
}

/// Reviews for moderation, newest first, optionally of one status.
pub(crate) async fn staff_list(
    pool: &PgPool,
    status: Option<&str>,
    limit: PageSize,
    after: Option<&ReviewCursor>,
) -> sqlx::Result<Vec<Review>> {
    let sql = format!(
        "select {STAFF_COLUMNS} from reviews r where ($1::text is null or r.status = $1) \
           and ($2::timestamptz is null or (r.created_at, r.id) < ($2, $3)) \
         order by r.created_at desc, r.id desc limit $4"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(status)
        .bind(after.map(|c| c.created_at))
        .bind(after.map(|c| c.id))
        .bind(limit.get() + 1)
        .fetch_all(pool)
        .await
}

/// Publishes or hides a review (moving the product's rating with it) and keeps a note, as
/// `actor` (audited with the review before and after).
pub(crate) async fn moderate(
    pool: &PgPool,
    actor: &str,
    review_id: Uuid,
    status: &str,
    note: Option<&str>,
) -> Result<Review> {
    let mut tx = pool.begin().await?;
    let current: Option<(Uuid, String, i16)> =
        sqlx::query_as("select product_id, status, rating from reviews where id = $1")
            .bind(review_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (product_id, _, _) = current.ok_or(ApiError::ReviewNotFound)?;
    // Lock order: the product, then the review (as `create` does).
    sqlx::query("select 1 from products where id = $1 for update").bind(product_id).execute(&mut *tx).await?;
    let (was, rating): (String, i16) = sqlx::query_as("select status, rating from reviews where id = $1 for update")
        .bind(review_id)
        .fetch_one(&mut *tx)
        .await?;
    let view = format!("select {STAFF_COLUMNS} from reviews r where r.id = $1");
    let before: Review = sqlx::query_as(sqlx::AssertSqlSafe(view)).bind(review_id).fetch_one(&mut *tx).await?;
    let sql = format!(
        "update reviews r set status = $2, moderation_note = coalesce($3, moderation_note), updated_at = now() \
         where id = $1 returning {STAFF_COLUMNS}"
    );
    let review: Review =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(review_id).bind(status).bind(note).fetch_one(&mut *tx).await?;
    match (was.as_str(), status) {
        ("published", "hidden") => rate(&mut tx, product_id, rating, -1).await?,
        ("hidden", "published") => rate(&mut tx, product_id, rating, 1).await?,
        _ => {}
    }
    let json = |r: &Review| serde_json::to_value(r).ok();
    let target = format!("review:{review_id}");
    super::writes::audit(&mut tx, actor, "review.moderate", target, json(&before), json(&review)).await?;
    tx.commit().await?;
    Ok(review)
}

/// Every review a shopper wrote, with its status and note, oldest first (their data export).
pub(crate) async fn of_author(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Vec<Review>> {
    let sql = format!("select {STAFF_COLUMNS} from reviews r where r.user_id = $1 order by r.created_at, r.id");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(pool).await
}

/// Erases a deleted account's reviews (each published one leaves its product's rating, which
/// moves like a moderation), its helpful votes (each voted review's count goes down) and its
/// purchases. Returns how many reviews went.
pub(crate) async fn erase_author(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<usize> {
    sqlx::query(
        "update reviews r set helpful_count = r.helpful_count - 1 from review_votes v \
         where v.review_id = r.id and v.user_id = $1",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from review_votes where user_id = $1").bind(user_id).execute(&mut *tx).await?;
    let reviews: Vec<(Uuid, String, i16)> =
        sqlx::query_as("select product_id, status, rating from reviews where user_id = $1 order by product_id")
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await?;
    for (product_id, status, rating) in &reviews {
        // Lock order: the product, then the review (as `create` and `moderate` do).
        sqlx::query("select 1 from products where id = $1 for update").bind(product_id).execute(&mut *tx).await?;
        if status == "published" {
            rate(tx, *product_id, *rating, -1).await?;
        }
    }
    sqlx::query("delete from reviews where user_id = $1").bind(user_id).execute(&mut *tx).await?;
    sqlx::query("delete from purchases where user_id = $1").bind(user_id).execute(&mut *tx).await?;
    Ok(reviews.len())
}

/// Counts a shopper's helpful vote on a published review (once per shopper).
pub(crate) async fn vote_helpful(pool: &PgPool, review_id: Uuid, user_id: Uuid) -> Result<Review> {
    let mut tx = pool.begin().await?;
    let published: Option<Uuid> =
        sqlx::query_scalar("select id from reviews where id = $1 and status = 'published' for update")
            .bind(review_id)
            .fetch_optional(&mut *tx)
            .await?;
    published.ok_or(ApiError::ReviewNotFound)?;
    let voted = sqlx::query("insert into review_votes (review_id, user_id) values ($1, $2) on conflict do nothing")
        .bind(review_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let sql =
        format!("update reviews r set helpful_count = helpful_count + $2 where id = $1 returning {PUBLIC_COLUMNS}");
    let review =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(review_id).bind(voted as i32).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(review)
}

/// Records what a paid order bought and verifies the buyer's reviews of those products.
pub(crate) async fn record_purchase(tx: &mut PgConnection, user_id: Uuid, skus: &[String]) -> sqlx::Result<()> {
    sqlx::query(
        "insert into purchases (user_id, product_id) \
         select distinct $1::uuid, product_id from variants where sku = any($2) on conflict do nothing",
    )
    .bind(user_id)
    .bind(skus)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "update reviews set verified_purchase = true where user_id = $1 and not verified_purchase \
           and product_id in (select product_id from variants where sku = any($2))",
    )
    .bind(user_id)
    .bind(skus)
    .execute(tx)
    .await?;
    Ok(())
}
