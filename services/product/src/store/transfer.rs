//! The SQL of the CSV import and export (`transfer.rs`): what the import checks against (existing products by
//! slug, the owners of SKUs), and every variant row for the export, in one statement each.

use contracts::types::{ProductStatus, Sku};
use sqlx::PgConnection;
use uuid::Uuid;

/// Products by slug: (slug, id).
pub(crate) async fn products_by_slug(tx: &mut PgConnection, slugs: &[String]) -> sqlx::Result<Vec<(String, Uuid)>> {
    sqlx::query_as("select slug, id from products where slug = any($1) for update").bind(slugs).fetch_all(tx).await
}

/// The product slug owning each of these SKUs: (sku, slug).
pub(crate) async fn sku_owners(tx: &mut PgConnection, skus: &[Sku]) -> sqlx::Result<Vec<(Sku, String)>> {
    sqlx::query_as("select v.sku, p.slug from variants v join products p on p.id = v.product_id where v.sku = any($1)")
        .bind(skus)
        .fetch_all(tx)
        .await
}

/// One exported row: a variant with its product's fields.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ExportRow {
    pub slug: String,
    pub title: String,
    pub status: ProductStatus,
    pub brand: Option<String>,
    pub categories: String,
    pub description: String,
    pub attributes: serde_json::Value,
    pub sku: String,
    pub options: serde_json::Value,
    pub price_minor: i64,
    pub compare_at_minor: Option<i64>,
    pub weight_grams: Option<i32>,
    pub barcode: Option<String>,
}

/// Every variant of every product (archived included), products oldest first.
pub(crate) async fn export(tx: &mut PgConnection) -> sqlx::Result<Vec<ExportRow>> {
    sqlx::query_as(
        "select p.slug, p.title, p.status, p.brand, \
           coalesce((select string_agg(c.slug, '|' order by c.slug) from product_categories pc \
                     join categories c on c.id = pc.category_id where pc.product_id = p.id), '') as categories, \
           p.description, p.attributes, v.sku, v.options, v.price_minor, v.compare_at_minor, v.weight_grams, v.barcode \
         from products p join variants v on v.product_id = p.id \
         order by p.created_at, p.id, v.position, v.sku",
    )
    .fetch_all(tx)
    .await
}
