//! What search reads of the catalog (`contracts::product`): products as search documents, a
//! page of active ones in id order (the rebuild) or some by id in any status (after an event),
//! each in one statement.

use contracts::types::{Amount, Currency, ProductStatus};
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use contracts::product::{SearchDocument, StockMark};
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    version: i64,
    status: ProductStatus,
    slug: String,
    title: String,
    brand: Option<String>,
    description: String,
    attributes: Json<BTreeMap<String, String>>,
    image: Option<Uuid>,
    image_url: Option<String>,
    price_min_minor: Amount,
    price_max_minor: Amount,
    currency: Currency,
    category_ids: Vec<Uuid>,
    variants: Json<Vec<StockMark>>,
    created_at: DateTime<Utc>,
}

const COLUMNS: &str = "p.id, p.version, p.status, p.slug, p.title, p.brand, p.description, \
     coalesce((select jsonb_object_agg(e.key, e.value) from jsonb_each_text(p.attributes) e), '{}'::jsonb) as attributes, \
     (p.images ->> 0)::uuid as image, \
     (select coalesce(m.variants ->> 'medium', m.url) from media_urls m where m.media_id = (p.images ->> 0)::uuid) as image_url, \
     p.price_min_minor, p.price_max_minor, p.currency::text as currency, \
     array(select pc.category_id from product_categories pc where pc.product_id = p.id order by pc.category_id) as category_ids, \
     coalesce((select jsonb_agg(jsonb_build_object('sku', v.sku, 'in_stock', v.in_stock, 'stock_seq', v.stock_seq) \
        order by v.sku) from variants v where v.product_id = p.id), '[]'::jsonb) as variants, \
     p.created_at";

fn document(row: Row) -> SearchDocument {
    SearchDocument {
        product_id: row.id.into(),
        version: row.version,
        status: row.status,
        slug: row.slug,
        title: row.title,
        brand: row.brand,
        description: row.description,
        attributes: row.attributes.0,
        image: row.image.map(Into::into),
        image_url: row.image_url,
        price_min_minor: row.price_min_minor,
        price_max_minor: row.price_max_minor,
        currency: row.currency,
        category_ids: row.category_ids.into_iter().map(Into::into).collect(),
        variants: row.variants.0,
        created_at: row.created_at,
    }
}

/// Up to `limit` active products with an id above `after`, in id order.
pub(crate) async fn page(pool: &PgPool, after: Option<Uuid>, limit: i64) -> sqlx::Result<Vec<SearchDocument>> {
    let sql = format!(
        "select {COLUMNS} from products p where p.status = 'active' and ($1::uuid is null or p.id > $1) \
         order by p.id limit $2"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(after).bind(limit).fetch_all(pool).await?;
    Ok(rows.into_iter().map(document).collect())
}

/// These products, in any status.
pub(crate) async fn by_id(pool: &PgPool, ids: &[Uuid]) -> sqlx::Result<Vec<SearchDocument>> {
    let sql = format!("select {COLUMNS} from products p where p.id = any($1) order by p.id");
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(ids).fetch_all(pool).await?;
    Ok(rows.into_iter().map(document).collect())
}
