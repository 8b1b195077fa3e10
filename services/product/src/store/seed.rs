//! The demo seed's own SQL: categories upserted by slug under their parent (so a re-run also
//! repairs an older demo tree), and whether a product slug exists.

use sqlx::{PgConnection, PgPool};

/// Inserts a category under the one with `parent` as slug, or moves and renames it there.
pub(crate) async fn upsert_category(tx: &mut PgConnection, category: &demo::Category) -> sqlx::Result<()> {
    sqlx::query(
        "insert into categories (id, parent_id, slug, name) \
         values ($1, (select id from categories where slug = $2), $3, $4) \
         on conflict (slug) do update set parent_id = excluded.parent_id, name = excluded.name",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(category.parent)
    .bind(category.slug)
    .bind(category.name)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(crate) async fn slug_exists(pool: &PgPool, slug: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from products where slug = $1)").bind(slug).fetch_one(pool).await
}
