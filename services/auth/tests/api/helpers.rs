//! An auth service on a fresh database, called as the gateway would.

use secrecy::SecretString;
use testkit::{ServiceCaller, TestDb};

pub(crate) struct TestApp {
    pub caller: ServiceCaller,
    pub db: TestDb,
    pub config: auth::AuthConfig,
}

pub(crate) const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub(crate) async fn spawn_with(tweak: impl FnOnce(&mut auth::AuthConfig)) -> Self {
        let db = TestDb::new().await;
        let service = testkit::service_config("auth", Some(&db));
        let mut config =
            auth::AuthConfig::new(service, SecretString::from(testkit::env().keys.access_signing_pem.clone()));
        tweak(&mut config);
        let addr = auth::build(config.clone()).await.expect("auth starts").spawn();
        Self { caller: ServiceCaller::new("auth", addr), db, config }
    }

    pub(crate) fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.caller.request(reqwest::Method::POST, path)
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.caller.get(path).await
    }

    #[must_use = "assert the status, or call register_ok"]
    pub(crate) async fn register(&self, email: &str, password: &str) -> (u16, serde_json::Value) {
        self.caller.post_json("/auth/register", serde_json::json!({"email": email, "password": password})).await
    }

    /// Registers, asserting the 201 (a set-up step that must not fail silently).
    pub(crate) async fn register_ok(&self, email: &str, password: &str) {
        let (status, body) = self.register(email, password).await;
        assert_eq!(status, 201, "register {email}: {body}");
    }

    #[must_use = "assert the status"]
    pub(crate) async fn login(&self, email: &str, password: &str) -> (u16, serde_json::Value) {
        self.caller.post_json("/auth/login", serde_json::json!({"email": email, "password": password})).await
    }
}

impl TestApp {
    /// The envelopes in auth's outbox, oldest first.
    pub(crate) async fn outbox(&self) -> Vec<serde_json::Value> {
        let pool = self.db.pool_as("auth").await;
        let rows: Vec<(sqlx::types::Json<serde_json::Value>,)> =
            sqlx::query_as("select envelope from outbox order by created_at, id").fetch_all(&pool).await.unwrap();
        rows.into_iter().map(|(envelope,)| envelope.0).collect()
    }

    /// The one-time token of the newest event of `event_type`, fetched by its reference as the
    /// notification service does (the event carries no token).
    pub(crate) async fn token_from(&self, event_type: &str) -> String {
        let outbox = self.outbox().await;
        let event = outbox.iter().rev().find(|e| e["type"] == event_type).expect("the event is in the outbox");
        assert!(event["payload"].get("token").is_none(), "no token in clear in an event: {event}");
        let token_ref = event["payload"]["token_ref"].as_str().unwrap();
        let (status, body) = self.mailer().get(&format!("/internal/one-time-tokens/{token_ref}")).await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// A caller of auth as the notification service.
    pub(crate) fn mailer(&self) -> ServiceCaller {
        let addr = self.caller.base.trim_start_matches("http://").parse().unwrap();
        ServiceCaller::new("auth", addr).as_issuer("notification")
    }
}
