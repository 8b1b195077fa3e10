//! The statements of reviews: a review and the product's rating (sum and count of published
//! reviews, the version bumped with it), moderation, helpful votes (one per shopper), purchases
//! from ORDER_DELIVERED that verify reviews, and erasing an author. `app::reviews` puts them
//! together in transactions with their events.

use chrono::{DateTime, Utc};
use contracts::types::{ProductStatus, ReviewStatus, Sku};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{PageSize, ReviewCursor, ReviewSort};

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
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[sqlx(default)]
    pub status: Option<ReviewStatus>,
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

/// Moves a product's rating by a published review's arrival (`sign` 1) or departure (-1) and
/// bumps its version; (version, slug, status) for its event.
pub(crate) async fn rate(
    tx: &mut PgConnection,
    product_id: Uuid,
    rating: i16,
    sign: i32,
) -> sqlx::Result<(i64, String, ProductStatus)> {
    sqlx::query_as(
        "update products set rating_sum = rating_sum + $2, rating_count = rating_count + $3, version = version + 1 \
         where id = $1 returning version, slug, status",
    )
    .bind(product_id)
    .bind(i32::from(rating) * sign)
    .bind(sign)
    .fetch_one(&mut *tx)
    .await
}

/// Locks an active product (so its rating moves with each review in turn); none if it is not
/// active or not there.
pub(crate) async fn lock_active_product(tx: &mut PgConnection, product_id: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select id from products where id = $1 and status = 'active' for update")
        .bind(product_id)
        .fetch_optional(&mut *tx)
        .await
}

/// Locks a product, whatever its status.
pub(crate) async fn lock_product(tx: &mut PgConnection, product_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("select 1 from products where id = $1 for update").bind(product_id).execute(&mut *tx).await?;
    Ok(())
}

/// Inserts a shopper's review, verified when they bought the product (a second one violates
/// `reviews_product_id_user_id_key`).
pub(crate) async fn insert(
    tx: &mut PgConnection,
    product_id: Uuid,
    user_id: Uuid,
    rating: i16,
    title: &str,
    body: &str,
) -> sqlx::Result<Review> {
    let sql = format!(
        "insert into reviews as r (id, product_id, user_id, rating, title, body, verified_purchase) \
         values ($1, $2, $3, $4, $5, $6, exists (select 1 from purchases where user_id = $3 and product_id = $2)) \
         returning {PUBLIC_COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::now_v7())
        .bind(product_id)
        .bind(user_id)
        .bind(rating)
        .bind(title)
        .bind(body)
        .fetch_one(&mut *tx)
        .await
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

/// The product of a review, unlocked (to take the product's lock first).
pub(crate) async fn product_of(tx: &mut PgConnection, review_id: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select product_id from reviews where id = $1").bind(review_id).fetch_optional(&mut *tx).await
}

/// Locks a review; it as staff see it.
pub(crate) async fn lock_staff_view(tx: &mut PgConnection, review_id: Uuid) -> sqlx::Result<Review> {
    let sql = format!("select {STAFF_COLUMNS} from reviews r where r.id = $1 for update");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(review_id).fetch_one(&mut *tx).await
}

/// Sets a review's status and (when given) its moderation note; it as staff see it now.
pub(crate) async fn set_status(
    tx: &mut PgConnection,
    review_id: Uuid,
    status: ReviewStatus,
    note: Option<&str>,
) -> sqlx::Result<Review> {
    let sql = format!(
        "update reviews r set status = $2, moderation_note = coalesce($3, moderation_note), updated_at = now() \
         where id = $1 returning {STAFF_COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(review_id).bind(status).bind(note).fetch_one(&mut *tx).await
}

/// Every review a shopper wrote, with its status and note, oldest first (their data export).
pub(crate) async fn of_author(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Vec<Review>> {
    let sql = format!("select {STAFF_COLUMNS} from reviews r where r.user_id = $1 order by r.created_at, r.id");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(pool).await
}

/// Takes a shopper's helpful votes back (each voted review's count goes down).
pub(crate) async fn erase_votes(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "update reviews r set helpful_count = r.helpful_count - 1 from review_votes v \
         where v.review_id = r.id and v.user_id = $1",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from review_votes where user_id = $1").bind(user_id).execute(&mut *tx).await?;
    Ok(())
}

/// A shopper's reviews as (product, status, rating), by product (the order to lock them in).
pub(crate) async fn authored(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Vec<(Uuid, ReviewStatus, i16)>> {
    sqlx::query_as("select product_id, status, rating from reviews where user_id = $1 order by product_id")
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await
}

/// Deletes a shopper's reviews and purchases.
pub(crate) async fn delete_authored(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from reviews where user_id = $1").bind(user_id).execute(&mut *tx).await?;
    sqlx::query("delete from purchases where user_id = $1").bind(user_id).execute(&mut *tx).await?;
    Ok(())
}

/// Locks a published review; none if it is hidden or not there.
pub(crate) async fn lock_published(tx: &mut PgConnection, review_id: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select id from reviews where id = $1 and status = 'published' for update")
        .bind(review_id)
        .fetch_optional(&mut *tx)
        .await
}

/// Records a shopper's helpful vote; whether it is new (one per shopper).
pub(crate) async fn add_vote(tx: &mut PgConnection, review_id: Uuid, user_id: Uuid) -> sqlx::Result<bool> {
    let added = sqlx::query("insert into review_votes (review_id, user_id) values ($1, $2) on conflict do nothing")
        .bind(review_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    Ok(added == 1)
}

/// Adds `votes` to a review's helpful count; the review as shown.
pub(crate) async fn add_helpful(tx: &mut PgConnection, review_id: Uuid, votes: i32) -> sqlx::Result<Review> {
    let sql =
        format!("update reviews r set helpful_count = helpful_count + $2 where id = $1 returning {PUBLIC_COLUMNS}");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(review_id).bind(votes).fetch_one(&mut *tx).await
}

/// Records what a paid order bought and verifies the buyer's reviews of those products.
pub(crate) async fn record_purchase(tx: &mut PgConnection, user_id: Uuid, skus: &[Sku]) -> sqlx::Result<()> {
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
