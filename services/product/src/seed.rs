//! The demo catalog `cargo xtask up` seeds (`product seed-demo`): six categories in a small tree
//! and 60 active products. Idempotent: a second run adds nothing.

use sqlx::PgPool;

use crate::store;

/// A category of the demo tree.
pub struct DemoCategory {
    pub slug: &'static str,
    pub name: &'static str,
    pub parent: Option<&'static str>,
}

/// A product of the demo catalog.
pub struct DemoProduct {
    pub sku: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub price_minor: i64,
    pub category: &'static str,
    pub attributes: serde_json::Value,
    /// How long ago it was created, so the listing has an order.
    pub age_hours: i32,
}

const CATEGORIES: &[DemoCategory] = &[
    DemoCategory { slug: "apparel", name: "Apparel", parent: None },
    DemoCategory { slug: "t-shirts", name: "T-shirts", parent: Some("apparel") },
    DemoCategory { slug: "hoodies", name: "Hoodies", parent: Some("apparel") },
    DemoCategory { slug: "home", name: "Home", parent: None },
    DemoCategory { slug: "mugs", name: "Mugs", parent: Some("home") },
    DemoCategory { slug: "posters", name: "Posters", parent: Some("home") },
];

const ADJECTIVES: &[&str] = &["Classic", "Rusty", "Async", "Fearless", "Borrowed", "Zero-Cost"];
const THEMES: &[&str] = &[
    "Crab", "Ferris", "Tokio", "Lifetime", "Trait", "Macro", "Cargo", "Iterator", "Future", "Closure", "Borrow",
    "Pattern", "Enum", "Slice", "Channel",
];
const KINDS: &[(&str, &str, i64)] = &[
    ("t-shirts", "T-shirt", 2_400),
    ("hoodies", "Hoodie", 5_900),
    ("mugs", "Mug", 1_400),
    ("posters", "Poster", 1_900),
];

/// The 60 demo products, always the same.
pub fn demo_products() -> Vec<DemoProduct> {
    THEMES
        .iter()
        .flat_map(|theme| KINDS.iter().map(move |kind| (theme, kind)))
        .take(60)
        .zip(1i64..)
        .map(|((theme, (category, kind, base_price)), n)| {
            let adjective = ADJECTIVES[(n as usize) % ADJECTIVES.len()];
            let name = format!("{adjective} {theme} {kind}");
            let color = ["black", "white", "orange"][(n % 3) as usize];
            DemoProduct {
                sku: format!("DEMO-{n:04}"),
                slug: name.to_ascii_lowercase().replace(' ', "-"),
                description: format!("A {kind} for people who love {theme}s. Demo data."),
                name,
                price_minor: base_price + (n % 5) * 100,
                category,
                attributes: serde_json::json!({"color": color, "demo": true}),
                age_hours: n as i32 * 7,
            }
        })
        .collect()
}

/// Inserts the demo catalog; returns how many products were new.
pub async fn seed_demo_catalog(pool: &PgPool) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    for category in CATEGORIES {
        store::seed::insert_category(&mut tx, category).await?;
    }
    let mut inserted = 0;
    for product in demo_products() {
        inserted += u64::from(store::seed::insert_product(&mut tx, &product).await?);
    }
    tx.commit().await?;
    Ok(inserted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_catalog_has_sixty_products_with_unique_skus_and_slugs() {
        let products = demo_products();
        assert_eq!(products.len(), 60);
        let mut skus: Vec<_> = products.iter().map(|p| p.sku.clone()).collect();
        let mut slugs: Vec<_> = products.iter().map(|p| p.slug.clone()).collect();
        skus.sort();
        skus.dedup();
        slugs.sort();
        slugs.dedup();
        assert_eq!((skus.len(), slugs.len()), (60, 60));
        assert!(products.iter().all(|p| CATEGORIES.iter().any(|c| c.slug == p.category)));
    }
}
