//! The demo shop `cargo xtask up` fills: a category tree three levels deep with active products
//! in every subtree, sixty products with variants, and the stock of every demo SKU. Only data:
//! the product service seeds the catalog from it (`product seed-demo`), inventory the stock
//! (`inventory seed-demo`), each into its own schema.

/// A category of the demo tree.
#[derive(Clone, Copy, Debug)]
pub struct Category {
    pub slug: &'static str,
    pub name: &'static str,
    pub parent: Option<&'static str>,
}

/// The demo tree: two roots, each with two levels below.
pub const CATEGORIES: &[Category] = &[
    Category { slug: "apparel", name: "Apparel", parent: None },
    Category { slug: "tops", name: "Tops", parent: Some("apparel") },
    Category { slug: "t-shirts", name: "T-shirts", parent: Some("tops") },
    Category { slug: "hoodies", name: "Hoodies", parent: Some("tops") },
    Category { slug: "accessories", name: "Accessories", parent: Some("apparel") },
    Category { slug: "caps", name: "Caps", parent: Some("accessories") },
    Category { slug: "home", name: "Home", parent: None },
    Category { slug: "kitchen", name: "Kitchen", parent: Some("home") },
    Category { slug: "mugs", name: "Mugs", parent: Some("kitchen") },
    Category { slug: "wall-art", name: "Wall art", parent: Some("home") },
    Category { slug: "posters", name: "Posters", parent: Some("wall-art") },
];

/// The colours of the demo (an enum attribute).
pub const COLORS: &[&str] = &["black", "white", "orange"];

/// A variant of a demo product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    pub sku: String,
    /// (option name, value) pairs.
    pub options: Vec<(&'static str, String)>,
    pub price_minor: i64,
    pub compare_at_minor: Option<i64>,
}

/// A product of the demo catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    pub slug: String,
    pub title: String,
    pub brand: &'static str,
    pub description: String,
    pub category: &'static str,
    pub color: &'static str,
    pub organic: bool,
    pub variants: Vec<Variant>,
}

const ADJECTIVES: &[&str] = &["Classic", "Rusty", "Async", "Fearless", "Borrowed", "Zero-Cost"];
const THEMES: &[&str] = &[
    "Crab", "Ferris", "Tokio", "Lifetime", "Trait", "Macro", "Cargo", "Iterator", "Future", "Closure", "Borrow",
    "Pattern",
];
/// (category, kind, base price, option name, option values).
const KINDS: &[(&str, &str, i64, &str, &[&str])] = &[
    ("t-shirts", "T-shirt", 2_400, "size", &["S", "M", "L", "XL"]),
    ("hoodies", "Hoodie", 5_900, "size", &["S", "M", "L"]),
    ("caps", "Cap", 1_900, "size", &["One size"]),
    ("mugs", "Mug", 1_400, "volume", &["300 ml", "450 ml"]),
    ("posters", "Poster", 1_900, "format", &["A3", "A2"]),
];
const BRANDS: &[&str] = &["Ferrous", "Oxide Goods"];

/// The sixty demo products, always the same (five kinds times twelve themes).
pub fn products() -> Vec<Product> {
    THEMES
        .iter()
        .flat_map(|theme| KINDS.iter().map(move |kind| (theme, kind)))
        .zip(1i64..)
        .map(|((theme, (category, kind, base_price, option, values)), n)| {
            let adjective = ADJECTIVES[(n as usize) % ADJECTIVES.len()];
            let title = format!("{adjective} {theme} {kind}");
            let slug = title.to_ascii_lowercase().replace(' ', "-");
            let price = base_price + (n % 5) * 100;
            let variants = values
                .iter()
                .enumerate()
                .map(|(i, value)| Variant {
                    sku: format!("DEMO-{n:04}-{}", value.replace(' ', "").to_ascii_uppercase()),
                    options: vec![(*option, (*value).to_owned())],
                    // Bigger sizes and formats cost a little more.
                    price_minor: price + i as i64 * 200,
                    compare_at_minor: (n % 7 == 0).then_some(price + 1_000),
                })
                .collect();
            Product {
                slug,
                description: format!("A **{kind}** for people who love {theme}s.\n\n- printed in the EU\n- demo data"),
                title,
                brand: BRANDS[(n % 2) as usize],
                category,
                color: COLORS[(n % 3) as usize],
                organic: n % 4 == 0,
                variants,
            }
        })
        .collect()
}

/// Every demo SKU.
pub fn skus() -> Vec<String> {
    products().into_iter().flat_map(|p| p.variants.into_iter().map(|v| v.sku)).collect()
}

/// The on-hand stock each demo SKU starts with.
pub const STOCK_ON_HAND: i64 = 100;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_demo_catalog_is_sixty_products_with_unique_slugs_and_skus_in_leaf_categories() {
        let products = products();
        assert_eq!(products.len(), 60);
        assert_eq!(products.iter().map(|p| &p.slug).collect::<HashSet<_>>().len(), 60);
        let skus = skus();
        assert_eq!(skus.iter().collect::<HashSet<_>>().len(), skus.len());
        assert!(skus.len() > 100);
        for category in CATEGORIES {
            let is_leaf = !CATEGORIES.iter().any(|c| c.parent == Some(category.slug));
            if is_leaf {
                assert!(products.iter().any(|p| p.category == category.slug), "{} has products", category.slug);
            }
        }
        let depth = |mut slug: &str| {
            let mut depth = 1;
            while let Some(parent) = CATEGORIES.iter().find(|c| c.slug == slug).and_then(|c| c.parent) {
                depth += 1;
                slug = parent;
            }
            depth
        };
        assert!(CATEGORIES.iter().all(|c| depth(c.slug) <= 3) && CATEGORIES.iter().any(|c| depth(c.slug) == 3));
    }
}
