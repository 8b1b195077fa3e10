//! The demo seed's inserts: categories by slug under their parent, products by SKU, each
//! skipped when it exists, so a second run adds nothing.

use sqlx::PgConnection;

use crate::seed::{DemoCategory, DemoProduct};

/// Inserts a category under the one with `parent` as slug, unless its slug exists.
pub async fn insert_category(tx: &mut PgConnection, category: &DemoCategory) -> sqlx::Result<()> {
    sqlx::query(
        "insert into categories (id, parent_id, slug, name) \
         values ($1, (select id from categories where slug = $2), $3, $4) \
         on conflict (slug) do nothing",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(category.parent)
    .bind(category.slug)
    .bind(category.name)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Inserts an active product unless its SKU or slug exists; returns whether it was new.
pub async fn insert_product(tx: &mut PgConnection, product: &DemoProduct) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "insert into products (id, sku, slug, name, description, price_minor, currency, category_id, attributes, status, created_at) \
         values ($1, $2, $3, $4, $5, $6, 'EUR', (select id from categories where slug = $7), $8, 'active', \
                 now() - make_interval(hours => $9)) \
         on conflict do nothing",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(&product.sku)
    .bind(&product.slug)
    .bind(&product.name)
    .bind(&product.description)
    .bind(product.price_minor)
    .bind(product.category)
    .bind(&product.attributes)
    .bind(product.age_hours)
    .execute(&mut *tx)
    .await?;
    Ok(result.rows_affected() == 1)
}
