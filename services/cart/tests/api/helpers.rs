//! A cart service in front of a seeded product service (every demo variant in stock), called as
//! the gateway would: as a guest with a cart token, or on behalf of a signed-in shopper.

use std::time::Duration;

use auth_jwt::Role;
use internal_token::Subject;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::{ServiceCaller, TestDb};
use uuid::Uuid;

pub(crate) struct TestApp {
    pub addr: std::net::SocketAddr,
    pub product_staff: ServiceCaller,
    pub redis_prefix: String,
    pub product_pool: sqlx::PgPool,
    _db: TestDb,
}

/// A guest or a shopper.
pub(crate) struct Shopper {
    pub caller: ServiceCaller,
    pub token: Option<String>,
    pub user_id: Option<Uuid>,
}

impl TestApp {
    pub(crate) async fn spawn() -> Self {
        let db = TestDb::new().await;
        let product_config = testkit::service_config("product", Some(&db));
        let product_addr =
            product::build(product::ProductConfig::new(product_config)).await.expect("product starts").spawn();
        let product_pool = db.pool_as("product").await;
        product::seed::seed_demo_catalog(&product_pool, contracts::types::Currency::EUR).await.expect("seed");
        sqlx::query("update variants set in_stock = true").execute(&product_pool).await.unwrap();
        let mut service = testkit::service_config("cart", None);
        testkit::point_at(&mut service, "product", product_addr);
        let redis_prefix = service.redis.as_ref().expect("redis").key_prefix.clone();
        let mut config = cart::CartConfig::new(service);
        config.price_cache = Duration::ZERO;
        config.max_line_quantity = 5;
        config.guest_ttl = Duration::from_secs(600);
        let addr = cart::build(config).await.expect("cart starts").spawn();
        let staff = Subject::user(Uuid::now_v7().to_string(), Role::Admin, vec!["catalog:write".into()]);
        Self {
            addr,
            product_staff: ServiceCaller::new("product", product_addr).as_subject(staff),
            redis_prefix,
            product_pool,
            _db: db,
        }
    }

    /// A guest with a new cart token.
    pub(crate) async fn guest(&self) -> Shopper {
        let caller = ServiceCaller::new("cart", self.addr);
        let (status, created) = caller.send_json(Method::POST, "/carts", None).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["cart"]["lines"], json!([]));
        Shopper { caller, token: Some(created["cart_token"].as_str().unwrap().to_owned()), user_id: None }
    }

    /// A signed-in shopper.
    pub(crate) fn shopper(&self) -> Shopper {
        let user_id = Uuid::now_v7();
        let caller = ServiceCaller::new("cart", self.addr).as_subject(Subject::user(
            user_id.to_string(),
            Role::Customer,
            vec![],
        ));
        Shopper { caller, token: None, user_id: Some(user_id) }
    }

    /// Redis keys of carts under this test's prefix.
    pub(crate) async fn cart_keys(&self) -> Vec<String> {
        let mut redis = self.redis().await;
        redis::cmd("KEYS").arg(format!("{}cart:*", self.redis_prefix)).query_async(&mut redis).await.unwrap()
    }

    /// The test Redis as its administrator (one server, or the cluster of the cluster pass).
    pub(crate) async fn redis(&self) -> service_kit::redis::Connection {
        testkit::env().redis.admin().await
    }
}

impl Shopper {
    pub(crate) async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.caller.request(method, path);
        if let Some(token) = &self.token {
            request = request.header("x-cart-token", token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        if response.status() == 200 || response.status() == 201 {
            assert_eq!(response.headers()["cache-control"], "no-store", "a cart is private");
        }
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    pub(crate) async fn add(&self, sku: &str, quantity: i64) -> (u16, Value) {
        self.call(Method::POST, "/carts/current/items", Some(json!({"sku": sku, "quantity": quantity}))).await
    }

    pub(crate) async fn cart(&self) -> Value {
        let (status, cart) = self.call(Method::GET, "/carts/current", None).await;
        assert_eq!(status, 200, "{cart}");
        cart
    }
}

/// (sku, quantity) of a cart's lines.
pub(crate) fn lines(cart: &Value) -> Vec<(String, i64)> {
    cart["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap().to_owned(), l["quantity"].as_i64().unwrap()))
        .collect()
}
