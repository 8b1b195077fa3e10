//! A shop for checkout tests: product (seeded, in stock), inventory (stocked through its staff
//! route), cart, user, order and payment, sharing a database and a Redis prefix so events flow.
//! Order's API tests (placing, expiry, staff, discounts) and payment's (paying, refunding) both
//! start it; each service's tests live with the service they are about.

use std::sync::Arc;
use std::time::Duration;

use auth_jwt::Role;
use internal_token::Subject;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;
use testkit::{ServiceCaller, TestDb};
use uuid::Uuid;

/// The sandbox's webhook secret in these tests.
pub const WEBHOOK_SECRET: &str = "whsec_order_tests";

pub struct Shop {
    pub order_addr: std::net::SocketAddr,
    pub payment_addr: std::net::SocketAddr,
    pub payment_pool: PgPool,
    pub cart_addr: std::net::SocketAddr,
    pub user_addr: std::net::SocketAddr,
    pub inventory_staff: ServiceCaller,
    /// Staff with `payments:refund`.
    pub refunds: ServiceCaller,
    pub order_pool: PgPool,
    pub product_pool: PgPool,
    pub inventory_pool: PgPool,
    pub user_pool: PgPool,
    /// The Redis prefix every service of the shop shares (its streams).
    pub prefix: String,
    _db: TestDb,
}

/// A signed-in shopper with a saved German address and a cart.
pub struct Shopper {
    pub order: Arc<ServiceCaller>,
    pub payment: ServiceCaller,
    pub cart: ServiceCaller,
    pub address_id: String,
}

fn config(service: &str, db: &TestDb, prefix: &str) -> service_kit::ServiceConfig {
    let mut config = testkit::service_config(service, Some(db));
    config.redis.as_mut().expect("redis").key_prefix = prefix.to_owned();
    config
}

impl Shop {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A shop whose payment service is configured by `tune` first.
    pub async fn spawn_with(tune: impl FnOnce(&mut payment::PaymentConfig)) -> Self {
        let db = TestDb::new().await;
        let prefix = testkit::redis_prefix();
        let product_addr =
            product::build(product::ProductConfig::new(config("product", &db, &prefix))).await.unwrap().spawn();
        let product_pool = db.pool_as("product").await;
        product::seed::seed_demo_catalog(&product_pool, contracts::types::Currency::EUR).await.unwrap();
        sqlx::query("update variants set in_stock = true").execute(&product_pool).await.unwrap();
        let mut inventory = inventory::InventoryConfig::new(config("inventory", &db, &prefix));
        inventory.sweep_every = Duration::from_secs(3600);
        let inventory_addr = inventory::build(inventory).await.unwrap().spawn();
        let user_addr = user::build(config("user", &db, &prefix)).await.unwrap().spawn();
        // Cart and order call each other: the order service's address is chosen first.
        let order_addr: std::net::SocketAddr = format!("127.0.0.1:{}", testkit::unused_port()).parse().unwrap();
        let mut cart = config("cart", &db, &prefix);
        testkit::point_at(&mut cart, "product", product_addr);
        testkit::point_at(&mut cart, "order", order_addr);
        let mut cart = cart::CartConfig::new(cart);
        cart.price_cache = Duration::ZERO;
        let cart_addr = cart::build(cart).await.unwrap().spawn();
        let mut order = config("order", &db, &prefix);
        for (name, addr) in
            [("product", product_addr), ("inventory", inventory_addr), ("user", user_addr), ("cart", cart_addr)]
        {
            testkit::point_at(&mut order, name, addr);
        }
        order.bind = order_addr;
        let mut order = order::OrderConfig::new(order);
        order.expiry_every = Duration::from_secs(3600);
        let order_addr = order::build(order).await.unwrap().spawn();
        let mut payment = config("payment", &db, &prefix);
        testkit::point_at(&mut payment, "order", order_addr);
        let mut payment = payment::PaymentConfig::new(payment, secrecy::SecretString::from(WEBHOOK_SECRET));
        tune(&mut payment);
        let payment_addr = payment::build(payment).await.unwrap().spawn();
        let staff = Subject::user(Uuid::now_v7().to_string(), Role::Admin, vec!["inventory:write".into()]);
        let refunder = Subject::user(Uuid::now_v7().to_string(), Role::Admin, vec!["payments:refund".into()]);
        Self {
            refunds: ServiceCaller::new("payment", payment_addr).as_subject(refunder),
            order_addr,
            payment_addr,
            payment_pool: db.pool_as("payment").await,
            cart_addr,
            user_addr,
            inventory_staff: ServiceCaller::new("inventory", inventory_addr).as_subject(staff),
            order_pool: db.pool_as("order").await,
            product_pool,
            inventory_pool: db.pool_as("inventory").await,
            user_pool: db.pool_as("user").await,
            prefix,
            _db: db,
        }
    }

    pub async fn stock(&self, sku: &str, on_hand: i64) {
        let body = json!({"on_hand": on_hand, "reason": "count"});
        let (status, row) = self.inventory_staff.send_json(Method::PUT, &format!("/stock/{sku}"), Some(body)).await;
        assert_eq!(status, 200, "{row}");
    }

    /// (on hand, reserved) of a SKU.
    pub async fn levels(&self, sku: &str) -> (i64, i64) {
        sqlx::query_as("select on_hand, reserved from stock where sku = $1")
            .bind(sku)
            .fetch_one(&self.inventory_pool)
            .await
            .unwrap()
    }

    /// A shopper with a verified email (or not), a saved address in Germany, an empty cart.
    pub async fn shopper(&self, verified: bool) -> Shopper {
        let id = Uuid::now_v7();
        let mut subject = Subject::user(id.to_string(), Role::Customer, vec![]);
        subject.email_verified = verified;
        let user = ServiceCaller::new("user", self.user_addr).as_subject(subject.clone());
        let (status, _) = user.get("/users/me").await;
        assert_eq!(status, 200);
        sqlx::query("update profiles set email = $2, email_verified = $3 where user_id = $1")
            .bind(id)
            .bind(format!("{id}@example.com"))
            .bind(verified)
            .execute(&self.user_pool)
            .await
            .unwrap();
        let body = json!({"recipient_name": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10115", "country": "DE"});
        let (status, address) = user.post_json("/users/me/addresses", body).await;
        assert_eq!(status, 201, "{address}");
        Shopper {
            order: Arc::new(ServiceCaller::new("order", self.order_addr).as_subject(subject.clone())),
            payment: ServiceCaller::new("payment", self.payment_addr).as_subject(subject.clone()),
            cart: ServiceCaller::new("cart", self.cart_addr).as_subject(subject),
            address_id: address["id"].as_str().unwrap().to_owned(),
        }
    }
}

impl Shopper {
    pub async fn add(&self, sku: &str, quantity: i64) {
        let (status, cart) =
            self.cart.post_json("/carts/current/items", json!({"sku": sku, "quantity": quantity})).await;
        assert_eq!(status, 200, "{cart}");
    }

    /// POST /orders with `key` and the saved address.
    pub async fn place(&self, key: &str) -> (u16, Value) {
        place(&self.order, key, json!({"shipping_address_id": self.address_id})).await
    }
}

pub async fn place(order: &ServiceCaller, key: &str, body: Value) -> (u16, Value) {
    let response =
        order.request(Method::POST, "/orders").header("idempotency-key", key).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// POST /payments for `order_id` (keyed by the order): the new payment's id.
pub async fn start_payment(shopper: &Shopper, order_id: &str) -> String {
    let response = shopper
        .payment
        .request(Method::POST, "/payments")
        .header("idempotency-key", format!("pay-{order_id}"))
        .json(&json!({"order_id": order_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["payment_id"].as_str().unwrap().to_owned()
}

/// Confirms `payment_id` with a sandbox test card (202: the verdict follows by webhook).
pub async fn confirm(shopper: &Shopper, payment_id: &str, card: &str) {
    let path = format!("/payments/{payment_id}/confirm");
    let (status, body) = shopper.payment.send_json(Method::POST, &path, Some(json!({"test_card": card}))).await;
    assert_eq!(status, 202, "{body}");
}

/// Waits until the shopper's order reaches `status`; its JSON then.
pub async fn wait_for_order(shopper: &Shopper, order_id: &str, status: &str) -> Value {
    let path = format!("/orders/{order_id}");
    testkit::wait::until(&format!("the order is {status}"), || async {
        shopper.order.get(&path).await.1["status"] == status
    })
    .await;
    shopper.order.get(&path).await.1
}

/// One `select count(*)` of the test's own.
pub async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(pool).await.unwrap()
}
