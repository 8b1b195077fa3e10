//! An inventory service on a fresh database, called as the gateway (anonymous or staff with
//! `inventory:write`) or as the order service.

use std::sync::Arc;
use std::time::Duration;

use auth_jwt::Role;
use internal_token::Subject;
use serde_json::{Value, json};
use sqlx::PgPool;
use testkit::{ServiceCaller, TestDb};

pub(crate) struct TestApp {
    pub shopper: ServiceCaller,
    pub staff: ServiceCaller,
    pub order: Arc<ServiceCaller>,
    pub pool: PgPool,
    pub redis_prefix: String,
}

impl TestApp {
    pub(crate) async fn spawn() -> Self {
        let db = TestDb::new().await;
        let service = testkit::service_config("inventory", Some(&db));
        let redis_prefix = service.redis.as_ref().expect("redis").key_prefix.clone();
        let mut config = inventory::InventoryConfig::new(service);
        // Tests sweep by hand.
        config.sweep_every = Duration::from_secs(3600);
        config.show_quantity = true;
        let addr = inventory::build(config).await.expect("inventory starts").spawn();
        let staff = Subject::user(uuid::Uuid::now_v7().to_string(), Role::Admin, vec!["inventory:write".into()]);
        let pool = db.pool_as("inventory").await;
        Self {
            shopper: ServiceCaller::new("inventory", addr),
            staff: ServiceCaller::new("inventory", addr).as_subject(staff),
            order: Arc::new(ServiceCaller::new("inventory", addr).as_issuer("order")),
            pool,
            redis_prefix,
        }
    }

    /// Sets a SKU's stock through the staff route.
    pub(crate) async fn stock(&self, sku: &str, on_hand: i64) {
        let (status, body) = self
            .staff
            .send_json(
                reqwest::Method::PUT,
                &format!("/stock/{sku}"),
                Some(json!({"on_hand": on_hand, "reason": "count"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// (on hand, reserved) of a SKU, from the table.
    pub(crate) async fn levels(&self, sku: &str) -> (i64, i64) {
        sqlx::query_as("select on_hand, reserved from stock where sku = $1")
            .bind(sku)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// The ledger of every SKU sums to its totals.
    pub(crate) async fn assert_ledger_matches(&self) {
        let mismatched: Vec<(String,)> = sqlx::query_as(
            "select s.sku from stock s left join (select sku, sum(on_hand_delta) as h, sum(reserved_delta) as r \
             from movements group by sku) m on m.sku = s.sku \
             where s.on_hand <> coalesce(m.h, 0) or s.reserved <> coalesce(m.r, 0)",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        assert!(mismatched.is_empty(), "ledger differs from totals for {mismatched:?}");
    }

    pub(crate) fn reservation(id: uuid::Uuid, lines: &[(&str, i64)]) -> Value {
        let lines: Vec<Value> = lines.iter().map(|(sku, q)| json!({"sku": sku, "quantity": q})).collect();
        json!({"id": id, "lines": lines})
    }

    /// Event types in the outbox, oldest first, with their payloads.
    pub(crate) async fn outbox(&self) -> Vec<(String, Value)> {
        let rows: Vec<(String, Value)> =
            sqlx::query_as("select event_type, envelope from outbox order by created_at, id")
                .fetch_all(&self.pool)
                .await
                .unwrap();
        rows.into_iter().map(|(t, e)| (t, e["payload"].clone())).collect()
    }
}
