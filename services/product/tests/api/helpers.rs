//! A product service on a fresh database, called as the gateway would: anonymously, or on
//! behalf of staff holding `catalog:write`.

use auth_jwt::Role;
use internal_token::Subject;
use serde_json::Value;
use sqlx::PgPool;
use testkit::{ServiceCaller, TestDb};

pub(crate) struct TestApp {
    pub caller: ServiceCaller,
    pub staff: std::sync::Arc<ServiceCaller>,
    pub db: TestDb,
    pub pool: PgPool,
    pub redis_prefix: String,
    pub addr: std::net::SocketAddr,
}

impl TestApp {
    pub(crate) async fn spawn() -> Self {
        let db = TestDb::new().await;
        let config = testkit::service_config("product", Some(&db));
        let redis_prefix = config.redis.as_ref().expect("redis").key_prefix.clone();
        let addr = product::build(product::ProductConfig::new(config)).await.expect("product starts").spawn();
        let staff = Subject::user(uuid::Uuid::now_v7().to_string(), Role::Admin, vec!["catalog:write".into()]);
        let pool = db.pool_as("product").await;
        Self {
            caller: ServiceCaller::new("product", addr),
            staff: std::sync::Arc::new(ServiceCaller::new("product", addr).as_subject(staff)),
            db,
            pool,
            redis_prefix,
            addr,
        }
    }

    /// The app with the demo catalog.
    pub(crate) async fn seeded() -> Self {
        let app = Self::spawn().await;
        product::seed::seed_demo_catalog(&app.pool, contracts::types::Currency::EUR).await.expect("seed");
        app
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.caller.get(path).await
    }

    /// Every item of a listing, following `next_cursor` (query without `cursor`).
    pub(crate) async fn walk(&self, query: &str, limit: usize) -> Vec<Value> {
        let mut items = Vec::new();
        let mut path = format!("/products?{query}&limit={limit}");
        loop {
            let (status, page) = self.get(&path).await;
            assert_eq!(status, 200, "{path}: {page}");
            let batch = page["items"].as_array().unwrap();
            assert!(batch.len() <= limit);
            items.extend(batch.iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/products?{query}&limit={limit}&cursor={cursor}"),
                None => return items,
            }
        }
    }

    /// A product body for staff writes.
    pub(crate) fn product_body(slug: &str, skus: &[(&str, i64)]) -> Value {
        let variants: Vec<Value> = skus
            .iter()
            .map(|(sku, price)| serde_json::json!({"sku": sku, "price_minor": price, "options": {"size": "M"}}))
            .collect();
        serde_json::json!({"slug": slug, "title": slug.replace('-', " "), "status": "active", "variants": variants})
    }
}
