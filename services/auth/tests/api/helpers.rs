//! An auth service on a fresh database, called as the gateway would.

use internal_token::{Minter, Subject};
use secrecy::SecretString;
use testkit::TestDb;

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    gateway: Minter,
    _db: TestDb,
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    pub async fn spawn() -> Self {
        let db = TestDb::new().await;
        let service = testkit::service_config("auth", Some(&db));
        let config = auth::AuthConfig::new(
            service,
            SecretString::from(testkit::env().keys.access_signing_pem.clone()),
        );
        let addr = auth::build(config).await.expect("auth starts").spawn();
        Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            gateway: testkit::minter("gateway"),
            _db: db,
        }
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        let token = self.gateway.mint("auth", &Subject::anonymous());
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&*token)
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let token = self.gateway.mint("auth", &Subject::anonymous());
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&*token)
            .send()
            .await
            .expect("request");
        (
            response.status().as_u16(),
            response.json().await.unwrap_or_default(),
        )
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let response = self.post(path).json(&body).send().await.expect("request");
        (
            response.status().as_u16(),
            response.json().await.unwrap_or_default(),
        )
    }

    pub async fn register(&self, email: &str, password: &str) -> (u16, serde_json::Value) {
        self.post_json(
            "/auth/register",
            serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> (u16, serde_json::Value) {
        self.post_json(
            "/auth/login",
            serde_json::json!({"email": email, "password": password}),
        )
        .await
    }
}
