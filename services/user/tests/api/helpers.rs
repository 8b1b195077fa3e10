//! auth and user sharing one database and one Redis prefix.

use std::time::Duration;

use internal_token::Subject;
use secrecy::SecretString;
use testkit::{ServiceCaller, TestDb};
use uuid::Uuid;

pub(crate) struct TestShop {
    pub auth: ServiceCaller,
    pub user_addr: std::net::SocketAddr,
    pub db: TestDb,
}

impl TestShop {
    pub(crate) async fn spawn() -> Self {
        let db = TestDb::new().await;
        let auth_service = testkit::service_config("auth", Some(&db));
        let prefix = auth_service.redis.as_ref().unwrap().key_prefix.clone();
        let key = SecretString::from(testkit::env().keys.access_signing_pem.clone());
        let auth_addr = auth::build(auth::AuthConfig::new(auth_service, key)).await.unwrap().spawn();
        let mut user_service = testkit::service_config("user", Some(&db));
        user_service.redis.as_mut().unwrap().key_prefix = prefix;
        let user_addr = user::build_with(user_service, |c| c.block = Duration::from_millis(200)).await.unwrap().spawn();
        Self { auth: ServiceCaller::new("auth", auth_addr), user_addr, db }
    }

    /// The user service as the gateway calls it for `user_id`.
    pub(crate) fn as_user(&self, user_id: Uuid) -> ServiceCaller {
        ServiceCaller::new("user", self.user_addr).as_subject(Subject::user(
            user_id.to_string(),
            auth_jwt::Role::Customer,
            vec![],
        ))
    }

    pub(crate) fn anonymous(&self) -> ServiceCaller {
        ServiceCaller::new("user", self.user_addr)
    }

    /// Registers through auth; returns the new user's id.
    pub(crate) async fn register(&self, email: &str) -> Uuid {
        let (status, body) = self
            .auth
            .post_json(
                "/auth/register",
                serde_json::json!({"email": email, "password": "correct horse battery staple"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        Uuid::parse_str(body["id"].as_str().unwrap()).unwrap()
    }

    pub(crate) async fn profile_email(&self, user_id: Uuid) -> Option<Option<String>> {
        let pool = self.db.pool_as("user").await;
        sqlx::query_scalar("select email from profiles where user_id = $1")
            .bind(user_id)
            .fetch_optional(&pool)
            .await
            .unwrap()
    }
}

/// Sends a JSON body with `method` and returns status and body.
pub(crate) async fn send(
    caller: &ServiceCaller,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = caller.request(method, path).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}
