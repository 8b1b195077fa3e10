//! A product service on a fresh database, called as the gateway would.

use internal_token::{Minter, Subject};
use testkit::TestDb;

pub struct TestApp {
    pub base: String,
    pub db: TestDb,
    pub http: reqwest::Client,
    gateway: Minter,
}

impl TestApp {
    pub async fn spawn() -> Self {
        let db = TestDb::new().await;
        let config = testkit::service_config("product", Some(&db));
        let addr = product::build(config)
            .await
            .expect("product starts")
            .spawn();
        Self {
            base: format!("http://{addr}"),
            db,
            http: reqwest::Client::new(),
            gateway: testkit::minter("gateway"),
        }
    }

    pub async fn pool(&self) -> sqlx::PgPool {
        self.db.pool_as("product").await
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let token = self.gateway.mint("product", &Subject::anonymous());
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&*token)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }
}
