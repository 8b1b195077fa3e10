//! An analytics service on a fresh database and its own Redis prefix, called as the gateway
//! would: anonymously (tracking), as a shopper, or as staff holding `analytics:read`. Domain
//! events are put on the streams as their producers' relays would.

use std::time::Duration;

use auth_jwt::Role;
use internal_token::Subject;
use testkit::{ServiceCaller, TestDb};
use uuid::Uuid;

pub(crate) struct TestApp {
    pub public: ServiceCaller,
    pub shopper: ServiceCaller,
    pub shopper_id: String,
    pub staff: ServiceCaller,
    pub pool: sqlx::PgPool,
    pub prefix: String,
    _db: TestDb,
}

impl TestApp {
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// An app whose configuration `tune` changes first.
    pub(crate) async fn spawn_with(tune: impl FnOnce(&mut analytics::AnalyticsConfig)) -> Self {
        let db = TestDb::new().await;
        let service = testkit::service_config("analytics", Some(&db));
        let prefix = service.redis.as_ref().expect("redis").key_prefix.clone();
        let mut config = analytics::AnalyticsConfig::new(service);
        tune(&mut config);
        let addr = analytics::build_with(config, |c| c.block = Duration::from_millis(100)).await.unwrap().spawn();
        let shopper_id = Uuid::now_v7().to_string();
        Self {
            public: ServiceCaller::new("analytics", addr),
            shopper: ServiceCaller::new("analytics", addr).as_subject(Subject::user(
                shopper_id.clone(),
                Role::Customer,
                vec![],
            )),
            shopper_id,
            staff: ServiceCaller::new("analytics", addr).as_subject(Subject::user(
                Uuid::now_v7().to_string(),
                Role::Admin,
                vec!["analytics:read".into()],
            )),
            pool: db.pool_as("analytics").await,
            prefix,
            _db: db,
        }
    }

    /// Puts `envelope` on its stream exactly as given (the same id every time: a redelivery).
    pub(crate) async fn deliver(&self, envelope: &events::Envelope, domain: &str) {
        testkit::stream::publish_envelope(&self.prefix, domain, envelope).await;
    }

    /// GET a report as JSON; its items.
    pub(crate) async fn report(&self, path: &str) -> Vec<serde_json::Value> {
        let (status, body) = self.staff.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body["items"].as_array().cloned().unwrap_or_default()
    }
}

impl TestApp {
    /// Waits until the analytics group has taken and acknowledged everything on the streams of
    /// `domains` (no lag, nothing pending): evidence that even no-op redeliveries were handled.
    pub(crate) async fn wait_consumed(&self, domains: &[&str]) {
        let client = redis::Client::open(testkit::env().redis.url.as_str()).unwrap();
        let mut redis = client.get_multiplexed_async_connection().await.unwrap();
        testkit::wait::until("the analytics group consumed its streams", async || {
            for domain in domains {
                let stream = events::stream_name(&self.prefix, domain);
                let groups: Vec<std::collections::HashMap<String, redis::Value>> =
                    redis::cmd("XINFO").arg("GROUPS").arg(&stream).query_async(&mut redis).await.unwrap_or_default();
                let count = |group: &std::collections::HashMap<String, redis::Value>, field: &str| {
                    group.get(field).and_then(|v| redis::from_redis_value::<i64>(v.clone()).ok())
                };
                let settled = groups.iter().any(|g| count(g, "pending") == Some(0) && count(g, "lag") == Some(0));
                if !settled {
                    return false;
                }
            }
            true
        })
        .await;
    }
}
