//! A product service on a fresh database, called as the gateway would.

use testkit::{ServiceCaller, TestDb};

pub struct TestApp {
    pub caller: ServiceCaller,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn() -> Self {
        let db = TestDb::new().await;
        let config = testkit::service_config("product", Some(&db));
        let addr = product::build(config).await.expect("product starts").spawn();
        Self { caller: ServiceCaller::new("product", addr), db }
    }

    pub async fn pool(&self) -> sqlx::PgPool {
        self.db.pool_as("product").await
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.caller.get(path).await
    }
}
