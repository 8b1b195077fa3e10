//! Staff writes to the catalog as use cases. Each runs in one transaction that also bumps the
//! aggregate's version, keeps the product's price range and stock flag in step with its
//! variants, enqueues the PRODUCT_* / CATEGORY_* event and records the audit entry, so the
//! change, its event and its record commit together. The `*_in` variants run inside a caller's
//! transaction (the CSV import, the seed).

use contracts::types::ProductStatus;
use events::catalog::{CategoryCreated, CategoryUpdated, ProductArchived, ProductCreated, ProductUpdated};
use service_kit::{FieldCode, FieldErrors, Problem};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::check_attributes;
use crate::error::{ApiError, Result};
use crate::store::writes::{
    self, CategoryChanges, NewCategory, NewProduct, NewVariant, ProductChanges, VariantChanges, product_snapshot,
};

/// Records `actor`'s catalog write in the audit log, in its transaction.
pub(crate) async fn audit(
    tx: &mut PgConnection,
    actor: &str,
    action: &str,
    target: String,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> sqlx::Result<()> {
    let entry = events::audit::AuditRecorded::new(actor, action, target, before, after);
    events::audit::record(tx, crate::SERVICE, &entry).await.map(|_| ())
}

/// Audits a change of a product: `before` as it was, and the product as it is now.
pub(crate) async fn audit_product(
    tx: &mut PgConnection,
    actor: &str,
    action: &str,
    product_id: Uuid,
    before: Option<serde_json::Value>,
) -> sqlx::Result<()> {
    let after = product_snapshot(tx, product_id).await?;
    audit(tx, actor, action, format!("product:{product_id}"), before, after).await
}

/// Checks attributes against their declared kinds and declares new ones, in the transaction.
async fn typed_attributes(
    tx: &mut PgConnection,
    attributes: &serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let names: Vec<String> = attributes.keys().cloned().collect();
    let declared = writes::declared_attributes(&mut *tx, &names).await?;
    let mut errors = FieldErrors::default();
    let new = check_attributes(&mut errors, attributes, &declared);
    errors.finish()?;
    for (name, kind) in new {
        writes::declare_if_missing(&mut *tx, &name, &kind).await?;
    }
    Ok(())
}

/// Puts a product in the categories of these slugs; an unknown one is a 422 naming its index.
async fn set_categories(tx: &mut PgConnection, product_id: Uuid, slugs: &[String]) -> Result<()> {
    let rows = writes::category_ids(&mut *tx, slugs).await?;
    let mut errors = FieldErrors::default();
    let ids: Vec<Uuid> = slugs
        .iter()
        .enumerate()
        .filter_map(|(i, slug)| match rows.iter().find(|(s, _)| s == slug) {
            Some((_, id)) => Some(*id),
            None => {
                errors.push(format!("categories[{i}]"), FieldCode::InvalidValue, format!("no category {slug}"));
                None
            }
        })
        .collect();
    errors.finish()?;
    writes::replace_categories(tx, product_id, &ids).await?;
    Ok(())
}

/// Locks a product for a change; its status, or 404.
async fn lock_product(tx: &mut PgConnection, product_id: Uuid) -> Result<ProductStatus> {
    writes::lock_product(tx, product_id).await?.ok_or(ApiError::ProductNotFound)
}

/// Emits the event of a product change: ARCHIVED when it was archived, else UPDATED.
async fn product_changed(tx: &mut PgConnection, product_id: Uuid, was_archived: bool) -> Result<i64> {
    let (version, slug, status) = writes::refresh(&mut *tx, product_id).await?;
    if status == ProductStatus::Archived && !was_archived {
        events::enqueue(tx, crate::SERVICE, &ProductArchived { product_id: product_id.into(), version, slug }).await?;
    } else {
        events::enqueue(tx, crate::SERVICE, &ProductUpdated { product_id: product_id.into(), version, slug, status })
            .await?;
    }
    Ok(version)
}

/// Creates a product with its variants and categories as `actor` (audited); returns its id.
#[tracing::instrument(skip_all, fields(slug = %product.slug))]
pub(crate) async fn create_product(pool: &PgPool, actor: &str, product: &NewProduct) -> Result<Uuid> {
    let mut tx = pool.begin().await?;
    let id = create_product_in(&mut tx, product).await?;
    audit_product(&mut tx, actor, "product.create", id, None).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`create_product`] inside the caller's transaction.
pub(crate) async fn create_product_in(tx: &mut PgConnection, product: &NewProduct) -> Result<Uuid> {
    let id = Uuid::now_v7();
    typed_attributes(&mut *tx, &product.attributes).await?;
    writes::insert_product(&mut *tx, id, product).await?;
    for (position, variant) in product.variants.iter().enumerate() {
        writes::insert_variant(&mut *tx, id, position as i32, variant).await?;
    }
    set_categories(&mut *tx, id, &product.categories).await?;
    let (version, slug, status) = writes::refresh(&mut *tx, id).await?;
    events::enqueue(&mut *tx, crate::SERVICE, &ProductCreated { product_id: id.into(), version, slug, status }).await?;
    Ok(id)
}

/// Changes a product's fields as `actor` (audited with the product before and after).
#[tracing::instrument(skip_all, fields(product_id = %product_id))]
pub(crate) async fn update_product(
    pool: &PgPool,
    actor: &str,
    product_id: Uuid,
    changes: &ProductChanges,
) -> Result<i64> {
    let mut tx = pool.begin().await?;
    lock_product(&mut tx, product_id).await?;
    let before = product_snapshot(&mut tx, product_id).await?;
    let version = update_product_in(&mut tx, product_id, changes).await?;
    audit_product(&mut tx, actor, "product.update", product_id, before).await?;
    tx.commit().await?;
    Ok(version)
}

/// [`update_product`] inside the caller's transaction.
pub(crate) async fn update_product_in(
    tx: &mut PgConnection,
    product_id: Uuid,
    changes: &ProductChanges,
) -> Result<i64> {
    let status = lock_product(&mut *tx, product_id).await?;
    if let Some(attributes) = &changes.attributes {
        typed_attributes(&mut *tx, attributes).await?;
    }
    writes::update_product_fields(&mut *tx, product_id, changes).await?;
    if let Some(categories) = &changes.categories {
        set_categories(&mut *tx, product_id, categories).await?;
    }
    product_changed(tx, product_id, status == ProductStatus::Archived).await
}

/// Archives a product (it leaves the storefront; orders keep their snapshots). Archiving an
/// archived product changes nothing and emits nothing.
#[tracing::instrument(skip_all, fields(product_id = %product_id))]
pub(crate) async fn archive_product(pool: &PgPool, actor: &str, product_id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    if lock_product(&mut tx, product_id).await? == ProductStatus::Archived {
        return Ok(());
    }
    let before = product_snapshot(&mut tx, product_id).await?;
    writes::archive(&mut tx, product_id).await?;
    product_changed(&mut tx, product_id, false).await?;
    audit_product(&mut tx, actor, "product.archive", product_id, before).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a variant to a product.
#[tracing::instrument(skip_all, fields(product_id = %product_id, sku = %variant.sku))]
pub(crate) async fn add_variant(pool: &PgPool, actor: &str, product_id: Uuid, variant: &NewVariant) -> Result<i64> {
    let mut tx = pool.begin().await?;
    let status = lock_product(&mut tx, product_id).await?;
    let before = product_snapshot(&mut tx, product_id).await?;
    let position = writes::next_variant_position(&mut tx, product_id).await?;
    writes::insert_variant(&mut tx, product_id, position, variant).await?;
    let version = product_changed(&mut tx, product_id, status == ProductStatus::Archived).await?;
    audit_product(&mut tx, actor, "variant.add", product_id, before).await?;
    tx.commit().await?;
    Ok(version)
}

/// Changes a variant of a product (by SKU); 404 when the product has no such variant.
#[tracing::instrument(skip_all, fields(product_id = %product_id, sku = %sku))]
pub(crate) async fn update_variant(
    pool: &PgPool,
    actor: &str,
    product_id: Uuid,
    sku: &str,
    changes: &VariantChanges,
) -> Result<i64> {
    let mut tx = pool.begin().await?;
    let status = lock_product(&mut tx, product_id).await?;
    let before = product_snapshot(&mut tx, product_id).await?;
    if !writes::update_variant_fields(&mut tx, product_id, sku, changes).await? {
        return Err(ApiError::VariantNotFound);
    }
    let version = product_changed(&mut tx, product_id, status == ProductStatus::Archived).await?;
    audit_product(&mut tx, actor, "variant.update", product_id, before).await?;
    tx.commit().await?;
    Ok(version)
}

/// A 422 naming `parent`.
fn bad_parent(detail: impl Into<String>) -> ApiError {
    Problem::validation(vec![service_kit::FieldError::new("parent", FieldCode::InvalidValue, detail)]).into()
}

async fn parent_id(tx: &mut PgConnection, parent: Option<&str>) -> Result<Option<Uuid>> {
    let Some(slug) = parent else { return Ok(None) };
    match writes::category_id(tx, slug).await? {
        Some(id) => Ok(Some(id)),
        None => Err(bad_parent(format!("no category {slug}"))),
    }
}

/// Creates a category; returns its id.
#[tracing::instrument(skip_all, fields(slug = %category.slug))]
pub(crate) async fn create_category(pool: &PgPool, actor: &str, category: &NewCategory) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    let parent_id = parent_id(&mut tx, category.parent.as_deref()).await?;
    writes::insert_category(&mut tx, id, parent_id, category).await?;
    let event = CategoryCreated {
        category_id: id.into(),
        version: 1,
        slug: category.slug.clone(),
        parent_id: parent_id.map(Into::into),
    };
    events::enqueue(&mut tx, crate::SERVICE, &event).await?;
    let after = writes::category_snapshot(&mut tx, id).await?;
    audit(&mut tx, actor, "category.create", format!("category:{id}"), None, after).await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a category by slug. Moving it under itself or one of its descendants is a 422.
#[tracing::instrument(skip_all, fields(slug = %slug))]
pub(crate) async fn update_category(pool: &PgPool, actor: &str, slug: &str, changes: &CategoryChanges) -> Result<()> {
    let mut tx = pool.begin().await?;
    writes::lock_categories(&mut tx).await?;
    let id = writes::category_id(&mut tx, slug).await?.ok_or(ApiError::CategoryNotFound)?;
    let before = writes::category_snapshot(&mut tx, id).await?;
    let new_parent = match &changes.parent {
        Some(parent) => Some(parent_id(&mut tx, parent.as_deref()).await?),
        None => None,
    };
    if let Some(Some(parent)) = new_parent
        && writes::is_within(&mut tx, id, parent).await?
    {
        return Err(bad_parent("a category cannot move under itself or its own descendants"));
    }
    let (version, slug, parent_id) = writes::update_category_fields(&mut tx, id, changes, new_parent).await?;
    events::enqueue(
        &mut tx,
        crate::SERVICE,
        &CategoryUpdated { category_id: id.into(), version, slug, parent_id: parent_id.map(Into::into) },
    )
    .await?;
    let after = writes::category_snapshot(&mut tx, id).await?;
    audit(&mut tx, actor, "category.update", format!("category:{id}"), before, after).await?;
    tx.commit().await?;
    Ok(())
}
