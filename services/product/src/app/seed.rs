//! `product seed-demo`: the demo catalog of the `demo` crate (a three-level category tree,
//! sixty products with variants, typed attributes), written through the same path as staff
//! writes, so each product's PRODUCT_CREATED is emitted too. Idempotent: categories are
//! upserted by slug, products skipped when their slug exists.

use sqlx::PgPool;

use crate::domain::AttributeKind;
use crate::error::Result;
use crate::store::{self, writes};

/// Seeds the demo catalog into `pool`; returns how many products were new.
pub async fn seed_demo_catalog(pool: &PgPool, currency: &str) -> Result<u64> {
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
        super::catalog::create_product_in(&mut tx, &new_product(&product, currency)).await?;
        tx.commit().await?;
        inserted += 1;
    }
    Ok(inserted)
}

fn new_product(product: &demo::Product, currency: &str) -> writes::NewProduct {
    let attributes = serde_json::json!({"color": product.color, "organic": product.organic});
    writes::NewProduct {
        slug: product.slug.clone(),
        title: product.title.clone(),
        description_html: markdown::to_safe_html(&product.description),
        description: product.description.clone(),
        status: "active".into(),
        brand: Some(product.brand.to_owned()),
        attributes: attributes.as_object().cloned().unwrap_or_default(),
        images: Vec::new(),
        seo_title: None,
        seo_description: None,
        categories: vec![product.category.to_owned()],
        variants: product
            .variants
            .iter()
            .map(|v| writes::NewVariant {
                sku: v.sku.clone(),
                options: v.options.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.clone()))).collect(),
                price_minor: v.price_minor,
                compare_at_minor: v.compare_at_minor,
                currency: currency.to_owned(),
                weight_grams: None,
                barcode: None,
            })
            .collect(),
    }
}
