//! All of the catalog's SQL (schema `catalog`): the listing and detail reads here, the demo
//! seed's inserts in `seed`.

pub mod seed;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{Cursor, PageSize};

/// A product as the API shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Product {
    pub id: Uuid,
    pub sku: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub price_minor: i64,
    pub currency: String,
    pub category_id: Option<Uuid>,
    pub category_slug: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const PRODUCT_COLUMNS: &str = "p.id, p.sku, p.slug, p.name, p.description, p.price_minor, p.currency, \
     p.category_id, c.slug as category_slug, p.attributes, p.status, p.created_at, p.updated_at";

/// One page of active products, newest first, plus one more row to tell whether a next page exists.
#[tracing::instrument(skip_all, fields(limit = limit.get()))]
pub async fn list_active(pool: &PgPool, limit: PageSize, after: Option<&Cursor>) -> sqlx::Result<Vec<Product>> {
    let sql = format!(
        "select {PRODUCT_COLUMNS} from products p left join categories c on c.id = p.category_id \
         where p.status = 'active' \
           and ($1::timestamptz is null or (p.created_at, p.id) < ($1, $2)) \
         order by p.created_at desc, p.id desc \
         limit $3"
    );
    sqlx::query_as::<_, Product>(sqlx::AssertSqlSafe(sql))
        .bind(after.map(|c| c.created_at))
        .bind(after.map(|c| c.id))
        .bind(limit.get() + 1)
        .fetch_all(pool)
        .await
}

/// An active product by id or by slug.
#[tracing::instrument(skip_all)]
pub async fn find_active(pool: &PgPool, id: Option<Uuid>, slug: &str) -> sqlx::Result<Option<Product>> {
    let sql = format!(
        "select {PRODUCT_COLUMNS} from products p left join categories c on c.id = p.category_id \
         where p.status = 'active' and (p.id = $1 or p.slug = $2)"
    );
    sqlx::query_as::<_, Product>(sqlx::AssertSqlSafe(sql)).bind(id).bind(slug).fetch_optional(pool).await
}
