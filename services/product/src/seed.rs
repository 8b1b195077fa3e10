//! The demo catalog `cargo xtask up` seeds (`product seed-demo`): six categories in a small tree
//! and 60 active products. Idempotent: a second run adds nothing.

use std::process::ExitCode;

use service_kit::{ServiceConfig, ServiceSpec};
use sqlx::PgPool;

const CATEGORIES: &[(&str, &str, Option<&str>)] = &[
    ("apparel", "Apparel", None),
    ("t-shirts", "T-shirts", Some("apparel")),
    ("hoodies", "Hoodies", Some("apparel")),
    ("home", "Home", None),
    ("mugs", "Mugs", Some("home")),
    ("posters", "Posters", Some("home")),
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

/// Inserts the demo catalog; returns how many products were new.
pub async fn seed_demo_catalog(pool: &PgPool) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    for (slug, name, parent) in CATEGORIES {
        sqlx::query(
            "insert into categories (id, parent_id, slug, name) \
             values ($1, (select id from categories where slug = $2), $3, $4) \
             on conflict (slug) do nothing",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(parent)
        .bind(slug)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    }
    let mut inserted = 0;
    let mut n = 0i64;
    for theme in THEMES {
        for (category, kind, base_price) in KINDS {
            n += 1;
            if n > 60 {
                break;
            }
            let adjective = ADJECTIVES[(n as usize) % ADJECTIVES.len()];
            let name = format!("{adjective} {theme} {kind}");
            let slug = name.to_ascii_lowercase().replace(' ', "-");
            let sku = format!("DEMO-{n:04}");
            let price = base_price + (n % 5) * 100;
            let color = ["black", "white", "orange"][(n % 3) as usize];
            let attributes = serde_json::json!({"color": color, "demo": true});
            let result = sqlx::query(
                "insert into products (id, sku, slug, name, description, price_minor, currency, category_id, attributes, status, created_at) \
                 values ($1, $2, $3, $4, $5, $6, 'EUR', (select id from categories where slug = $7), $8, 'active', \
                         now() - make_interval(hours => $9)) \
                 on conflict do nothing",
            )
            .bind(uuid::Uuid::now_v7())
            .bind(&sku)
            .bind(&slug)
            .bind(&name)
            .bind(format!("A {kind} for people who love {theme}s. Demo data."))
            .bind(price)
            .bind(category)
            .bind(attributes)
            .bind(n as i32 * 7)
            .execute(&mut *tx)
            .await?;
            inserted += result.rows_affected();
        }
    }
    tx.commit().await?;
    Ok(inserted)
}

/// `product seed-demo`: reads the same configuration as the service, migrates, seeds.
pub fn run_from_env(spec: ServiceSpec) -> ExitCode {
    let config = match ServiceConfig::from_env(spec) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("product seed-demo: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio_runtime();
    runtime.block_on(async {
        let database = config.database.as_ref().expect("product owns a schema");
        let outcome = async {
            let pool = service_kit::db::connect(database, Some(&crate::MIGRATOR)).await.map_err(|e| e.to_string())?;
            seed_demo_catalog(&pool).await.map_err(|e| e.to_string())
        };
        match outcome.await {
            Ok(count) => {
                println!("product seed-demo: {count} new demo products");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("product seed-demo: {error}");
                ExitCode::FAILURE
            }
        }
    })
}

fn tokio_runtime() -> service_kit::tokio::runtime::Runtime {
    service_kit::tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
}
