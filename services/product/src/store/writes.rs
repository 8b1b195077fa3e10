//! The statements of staff writes to the catalog: products, variants, categories and declared
//! attributes, the snapshots the audit log keeps, and `refresh`, which keeps a product's price
//! range and stock flag in step with its variants and bumps its version. `app::catalog` puts
//! them together in transactions with their events and audit entries.

use contracts::types::{Amount, Currency, ProductStatus, Sku};
use std::collections::BTreeMap;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::AttributeKind;

/// A product as the audit log keeps it: its row (without the rendered HTML) with its variants
/// and category ids.
pub(crate) async fn product_snapshot(
    tx: &mut PgConnection,
    product_id: Uuid,
) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar(
        "select (to_jsonb(p) - 'description_html') || jsonb_build_object( \
            'variants', coalesce((select jsonb_agg(to_jsonb(v) order by v.position) from variants v \
                where v.product_id = p.id), '[]'::jsonb), \
            'categories', coalesce((select jsonb_agg(pc.category_id) from product_categories pc \
                where pc.product_id = p.id), '[]'::jsonb)) \
         from products p where p.id = $1",
    )
    .bind(product_id)
    .fetch_optional(&mut *tx)
    .await
}

/// A category as the audit log keeps it.
pub(crate) async fn category_snapshot(
    tx: &mut PgConnection,
    category_id: Uuid,
) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar("select to_jsonb(c) from categories c where c.id = $1")
        .bind(category_id)
        .fetch_optional(&mut *tx)
        .await
}

/// A variant to create.
#[derive(Clone, Debug)]
pub(crate) struct NewVariant {
    pub sku: Sku,
    pub options: serde_json::Map<String, serde_json::Value>,
    pub price_minor: Amount,
    pub compare_at_minor: Option<Amount>,
    pub currency: Currency,
    pub weight_grams: Option<i32>,
    pub barcode: Option<String>,
    /// `None`: `standard` for a new variant, unchanged for an imported one that exists.
    pub tax_class: Option<String>,
}

/// A product to create, validated but for its attributes' kinds and its categories' existence.
#[derive(Clone, Debug)]
pub(crate) struct NewProduct {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub description_html: String,
    pub status: ProductStatus,
    pub brand: Option<String>,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub images: Vec<Uuid>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    /// Category slugs.
    pub categories: Vec<String>,
    pub variants: Vec<NewVariant>,
}

/// The fields of a product to change; `None` leaves one as it is (`Some(None)` clears it).
#[derive(Clone, Debug, Default)]
pub(crate) struct ProductChanges {
    pub slug: Option<String>,
    pub title: Option<String>,
    /// Markdown and its rendering.
    pub description: Option<(String, String)>,
    pub status: Option<ProductStatus>,
    pub brand: Option<Option<String>>,
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    pub images: Option<Vec<Uuid>>,
    pub seo_title: Option<Option<String>>,
    pub seo_description: Option<Option<String>>,
    pub categories: Option<Vec<String>>,
}

/// The fields of a variant to change.
#[derive(Clone, Debug, Default)]
pub(crate) struct VariantChanges {
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
    pub price_minor: Option<Amount>,
    pub compare_at_minor: Option<Option<Amount>>,
    pub weight_grams: Option<Option<i32>>,
    pub barcode: Option<Option<String>>,
    pub tax_class: Option<String>,
}

/// The declared kinds of these attribute names.
pub(crate) async fn declared_attributes(
    tx: &mut PgConnection,
    names: &[String],
) -> sqlx::Result<BTreeMap<String, AttributeKind>> {
    let rows: Vec<(String, String, Vec<String>)> =
        sqlx::query_as("select name, kind, choices from attributes where name = any($1)")
            .bind(names)
            .fetch_all(tx)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, kind, choices)| AttributeKind::parse(&kind, choices).map(|kind| (name, kind)))
        .collect())
}

/// Declares a typed attribute (the seed's enums; text/number/boolean also declare themselves).
pub(crate) async fn declare_attribute(
    tx: &mut PgConnection,
    name: &str,
    kind: &AttributeKind,
    label: &str,
) -> sqlx::Result<()> {
    let choices = match kind {
        AttributeKind::Enum(choices) => choices.clone(),
        _ => Vec::new(),
    };
    sqlx::query(
        "insert into attributes (name, kind, choices, label) values ($1, $2, $3, $4) \
         on conflict (name) do update set kind = excluded.kind, choices = excluded.choices, label = excluded.label",
    )
    .bind(name)
    .bind(kind.as_str())
    .bind(choices)
    .bind(label)
    .execute(tx)
    .await?;
    Ok(())
}

pub(crate) async fn insert_variant(
    tx: &mut PgConnection,
    product_id: Uuid,
    position: i32,
    variant: &NewVariant,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into variants (id, product_id, sku, options, price_minor, compare_at_minor, currency, weight_grams, \
         barcode, position, in_stock, stock_seq, tax_class) \
         select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce(f.available, false), coalesce(f.seq, 0), \
           coalesce($11, 'standard') \
         from (select 1) one left join stock_flags f on f.sku = $3",
    )
    .bind(Uuid::now_v7())
    .bind(product_id)
    .bind(&variant.sku)
    .bind(sqlx::types::Json(&variant.options))
    .bind(variant.price_minor)
    .bind(variant.compare_at_minor)
    .bind(variant.currency)
    .bind(variant.weight_grams)
    .bind(&variant.barcode)
    .bind(position)
    .bind(&variant.tax_class)
    .execute(tx)
    .await?;
    Ok(())
}

/// After a change: the price range and stock flag from the variants, the version bumped.
/// Returns (version, slug, status).
pub(crate) async fn refresh(tx: &mut PgConnection, product_id: Uuid) -> sqlx::Result<(i64, String, ProductStatus)> {
    sqlx::query_as(
        "update products p set \
           price_min_minor = coalesce((select min(price_minor) from variants where product_id = p.id), 0), \
           price_max_minor = coalesce((select max(price_minor) from variants where product_id = p.id), 0), \
           in_stock = exists (select 1 from variants where product_id = p.id and in_stock), \
           version = version + 1 \
         where id = $1 returning version, slug, status",
    )
    .bind(product_id)
    .fetch_one(tx)
    .await
}

/// Writes a variant of `product_id` by SKU: its fields replaced when the SKU is this product's
/// already (`true`), else inserted (`false`; a SKU of another product is then refused by its
/// unique constraint: callers check ownership first).
pub(crate) async fn upsert_variant(
    tx: &mut PgConnection,
    product_id: Uuid,
    variant: &NewVariant,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "update variants set options = $3, price_minor = $4, compare_at_minor = $5, weight_grams = $6, barcode = $7, \
           tax_class = coalesce($8, tax_class) \
         where sku = $1 and product_id = $2",
    )
    .bind(&variant.sku)
    .bind(product_id)
    .bind(sqlx::types::Json(&variant.options))
    .bind(variant.price_minor)
    .bind(variant.compare_at_minor)
    .bind(variant.weight_grams)
    .bind(&variant.barcode)
    .bind(&variant.tax_class)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 1 {
        return Ok(true);
    }
    let position: i32 = sqlx::query_scalar("select coalesce(max(position) + 1, 0) from variants where product_id = $1")
        .bind(product_id)
        .fetch_one(&mut *tx)
        .await?;
    insert_variant(tx, product_id, position, variant).await?;
    Ok(false)
}

/// A category to create.
#[derive(Clone, Debug)]
pub(crate) struct NewCategory {
    pub slug: String,
    pub name: String,
    pub description: String,
    /// The parent's slug; a root when `None`.
    pub parent: Option<String>,
    pub position: i32,
}

/// The fields of a category to change; `parent: Some(None)` makes it a root.
#[derive(Clone, Debug, Default)]
pub(crate) struct CategoryChanges {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub parent: Option<Option<String>>,
    pub position: Option<i32>,
}

/// Declares an attribute of a kind unless it is declared already (its label its name).
pub(crate) async fn declare_if_missing(tx: &mut PgConnection, name: &str, kind: &AttributeKind) -> sqlx::Result<()> {
    sqlx::query("insert into attributes (name, kind, label) values ($1, $2, $1) on conflict (name) do nothing")
        .bind(name)
        .bind(kind.as_str())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The (slug, id) of these category slugs that exist.
pub(crate) async fn category_ids(tx: &mut PgConnection, slugs: &[String]) -> sqlx::Result<Vec<(String, Uuid)>> {
    sqlx::query_as("select slug, id from categories where slug = any($1)").bind(slugs).fetch_all(&mut *tx).await
}

/// Puts a product in exactly these categories.
pub(crate) async fn replace_categories(tx: &mut PgConnection, product_id: Uuid, ids: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query("delete from product_categories where product_id = $1").bind(product_id).execute(&mut *tx).await?;
    sqlx::query(
        "insert into product_categories (product_id, category_id) select $1, unnest($2::uuid[]) on conflict do nothing",
    )
    .bind(product_id)
    .bind(ids)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Inserts a product's row (version 0; `refresh` after its variants sets the rest).
pub(crate) async fn insert_product(tx: &mut PgConnection, id: Uuid, product: &NewProduct) -> sqlx::Result<()> {
    sqlx::query(
        "insert into products (id, slug, title, description, description_html, status, brand, attributes, images, \
         seo_title, seo_description, currency, version) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0)",
    )
    .bind(id)
    .bind(&product.slug)
    .bind(&product.title)
    .bind(&product.description)
    .bind(&product.description_html)
    .bind(product.status)
    .bind(&product.brand)
    .bind(sqlx::types::Json(&product.attributes))
    .bind(sqlx::types::Json(&product.images))
    .bind(&product.seo_title)
    .bind(&product.seo_description)
    .bind(product.variants.first().map(|v| v.currency).unwrap_or_default())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Locks a product for a change; its status, or none when there is no such product.
pub(crate) async fn lock_product(tx: &mut PgConnection, product_id: Uuid) -> sqlx::Result<Option<ProductStatus>> {
    sqlx::query_scalar("select status from products where id = $1 for update").bind(product_id).fetch_optional(tx).await
}

/// Writes the changed fields of a product's row.
pub(crate) async fn update_product_fields(
    tx: &mut PgConnection,
    product_id: Uuid,
    changes: &ProductChanges,
) -> sqlx::Result<()> {
    sqlx::query(
        "update products set slug = coalesce($2, slug), title = coalesce($3, title), \
           description = coalesce($4, description), description_html = coalesce($5, description_html), \
           status = coalesce($6, status), brand = case when $7 then $8 else brand end, \
           attributes = coalesce($9, attributes), images = coalesce($10, images), \
           seo_title = case when $11 then $12 else seo_title end, \
           seo_description = case when $13 then $14 else seo_description end \
         where id = $1",
    )
    .bind(product_id)
    .bind(&changes.slug)
    .bind(&changes.title)
    .bind(changes.description.as_ref().map(|d| &d.0))
    .bind(changes.description.as_ref().map(|d| &d.1))
    .bind(changes.status)
    .bind(changes.brand.is_some())
    .bind(changes.brand.clone().flatten())
    .bind(changes.attributes.as_ref().map(sqlx::types::Json))
    .bind(changes.images.as_ref().map(sqlx::types::Json))
    .bind(changes.seo_title.is_some())
    .bind(changes.seo_title.clone().flatten())
    .bind(changes.seo_description.is_some())
    .bind(changes.seo_description.clone().flatten())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Marks a product archived.
pub(crate) async fn archive(tx: &mut PgConnection, product_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update products set status = 'archived' where id = $1").bind(product_id).execute(&mut *tx).await?;
    Ok(())
}

/// The position after a product's last variant.
pub(crate) async fn next_variant_position(tx: &mut PgConnection, product_id: Uuid) -> sqlx::Result<i32> {
    sqlx::query_scalar("select coalesce(max(position) + 1, 0) from variants where product_id = $1")
        .bind(product_id)
        .fetch_one(&mut *tx)
        .await
}

/// Writes the changed fields of a product's variant; whether the product has that SKU.
pub(crate) async fn update_variant_fields(
    tx: &mut PgConnection,
    product_id: Uuid,
    sku: &str,
    changes: &VariantChanges,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "update variants set options = coalesce($3, options), price_minor = coalesce($4, price_minor), \
           compare_at_minor = case when $5 then $6 else compare_at_minor end, \
           weight_grams = case when $7 then $8 else weight_grams end, \
           barcode = case when $9 then $10 else barcode end, tax_class = coalesce($11, tax_class) \
         where product_id = $1 and sku = $2",
    )
    .bind(product_id)
    .bind(sku)
    .bind(changes.options.as_ref().map(sqlx::types::Json))
    .bind(changes.price_minor)
    .bind(changes.compare_at_minor.is_some())
    .bind(changes.compare_at_minor.flatten())
    .bind(changes.weight_grams.is_some())
    .bind(changes.weight_grams.flatten())
    .bind(changes.barcode.is_some())
    .bind(changes.barcode.clone().flatten())
    .bind(&changes.tax_class)
    .execute(&mut *tx)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// The id of the category with this slug.
pub(crate) async fn category_id(tx: &mut PgConnection, slug: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select id from categories where slug = $1").bind(slug).fetch_optional(tx).await
}

/// Serializes category moves, so two concurrent moves cannot build a cycle between them.
pub(crate) async fn lock_categories(tx: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("lock table categories in share row exclusive mode").execute(&mut *tx).await?;
    Ok(())
}

/// Whether `other` is `category` itself or one of its descendants.
pub(crate) async fn is_within(tx: &mut PgConnection, category: Uuid, other: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "with recursive sub as (select id from categories where id = $1 \
           union all select c.id from categories c join sub on c.parent_id = sub.id) \
         select exists (select 1 from sub where id = $2)",
    )
    .bind(category)
    .bind(other)
    .fetch_one(&mut *tx)
    .await
}

/// Inserts a category.
pub(crate) async fn insert_category(
    tx: &mut PgConnection,
    id: Uuid,
    parent_id: Option<Uuid>,
    category: &NewCategory,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into categories (id, parent_id, slug, name, description, position) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(parent_id)
    .bind(&category.slug)
    .bind(&category.name)
    .bind(&category.description)
    .bind(category.position)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Writes a category's changed fields (`new_parent`: `Some` moves it) and bumps its version;
/// (version, slug, parent) for its event.
pub(crate) async fn update_category_fields(
    tx: &mut PgConnection,
    id: Uuid,
    changes: &CategoryChanges,
    new_parent: Option<Option<Uuid>>,
) -> sqlx::Result<(i64, String, Option<Uuid>)> {
    sqlx::query_as(
        "update categories set slug = coalesce($2, slug), name = coalesce($3, name), \
           description = coalesce($4, description), parent_id = case when $5 then $6 else parent_id end, \
           position = coalesce($7, position), version = version + 1, updated_at = now() \
         where id = $1 returning version, slug, parent_id",
    )
    .bind(id)
    .bind(&changes.slug)
    .bind(&changes.name)
    .bind(&changes.description)
    .bind(new_parent.is_some())
    .bind(new_parent.flatten())
    .bind(changes.position)
    .fetch_one(&mut *tx)
    .await
}
