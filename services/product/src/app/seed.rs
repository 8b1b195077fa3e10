//! `product seed-demo`: the demo catalog of the `demo` crate (a three-level category tree,
//! sixty products with variants, typed attributes), written through the same path as staff
//! writes, so each product's PRODUCT_CREATED is emitted too. Idempotent: categories are
//! upserted by slug, products skipped when their slug exists.

use contracts::types::{Amount, Currency, ProductStatus, Sku};
use service_kit::Problem;
use sqlx::PgPool;

use crate::domain::AttributeKind;
use crate::error::Result;
use crate::store::{self, writes};

/// Seeds the demo catalog into `pool`; returns how many products were new.
pub async fn seed_demo_catalog(pool: &PgPool, currency: Currency) -> Result<u64> {
    let mut tx = pool.begin().await?;
    let colors = AttributeKind::Enum(demo::COLORS.iter().map(|c| (*c).to_owned()).collect());
    writes::declare_attribute(&mut tx, "color", &colors, "Colour").await?;
    writes::declare_attribute(&mut tx, "organic", &AttributeKind::Boolean, "Organic").await?;
    for category in demo::CATEGORIES {
        store::seed::upsert_category(&mut tx, category).await?;
    }
    tx.commit().await?;
    let mut inserted = 0;
    for product in demo::products() {
        if store::seed::slug_exists(pool, &product.slug).await? {
            continue;
        }
        // Demo data, not a staff write: no audit entry.
        let mut tx = pool.begin().await?;
        super::catalog::create_product_in(&mut tx, &new_product(&product, currency)?).await?;
        tx.commit().await?;
        inserted += 1;
    }
    Ok(inserted)
}

fn new_product(product: &demo::Product, currency: Currency) -> Result<writes::NewProduct> {
    let attributes = serde_json::json!({"color": product.color, "organic": product.organic});
    let variants = product
        .variants
        .iter()
        .map(|v| {
            Ok(writes::NewVariant {
                sku: Sku::parse(v.sku.as_str()).map_err(|e| Problem::internal(&e))?,
                options: v.options.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.clone()))).collect(),
                price_minor: Amount::new(v.price_minor),
                compare_at_minor: v.compare_at_minor.map(Amount::new),
                currency,
                weight_grams: None,
                tax_class: None,
                barcode: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(writes::NewProduct {
        slug: product.slug.clone(),
        title: product.title.clone(),
        description_html: markdown::to_safe_html(&product.description),
        description: product.description.clone(),
        status: ProductStatus::Active,
        brand: Some(product.brand.to_owned()),
        attributes: attributes.as_object().cloned().unwrap_or_default(),
        images: Vec::new(),
        seo_title: None,
        seo_description: None,
        categories: vec![product.category.to_owned()],
        variants,
    })
}
