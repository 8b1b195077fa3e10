//! A small shop for search: product and inventory services with a fixed test catalog, and any
//! number of search replicas, each with its own index directory and consumer group.

use std::time::{Duration, Instant};

use auth_jwt::Role;
use internal_token::Subject;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::{ServiceCaller, TestDb};
use uuid::Uuid;

pub(crate) struct Shop {
    pub db: TestDb,
    pub prefix: String,
    pub product_addr: std::net::SocketAddr,
    pub catalog: ServiceCaller,
    pub stock: ServiceCaller,
    pub dir: tempfile::TempDir,
    /// What keeps the replicas started with [`Shop::search`] running (dropped, they stop).
    running: std::sync::Mutex<Vec<tokio::sync::oneshot::Sender<()>>>,
}

fn config(service: &str, db: &TestDb, prefix: &str) -> service_kit::ServiceConfig {
    let mut config = testkit::service_config(service, Some(db));
    config.redis.as_mut().expect("redis").key_prefix = prefix.to_owned();
    config
}

/// The fixed test catalog: (slug, title, brand, category, price, color, description).
pub(crate) const CATALOG: &[(&str, &str, &str, &str, i64, &str, &str)] = &[
    ("ferris-t-shirt", "Ferris T-Shirt", "Rustacean", "tops", 1990, "black", "Soft cotton tee with Ferris the crab."),
    ("async-hoodie", "Async Hoodie", "Tokio", "tops", 4990, "grey", "A warm hoodie for long compile times."),
    (
        "lifetime-sweatshirt",
        "Lifetime Sweatshirt",
        "Ferrous",
        "tops",
        3990,
        "black",
        "Heavy fleece that outlives every borrow.",
    ),
    ("cargo-cap", "Cargo Cap", "Tokio", "accessories", 1490, "black", "A cap with an embroidered crate."),
    (
        "borrow-checker-mug",
        "Borrow Checker Mug",
        "Rustacean",
        "kitchen",
        1290,
        "white",
        "Ceramic mug, 350 ml, dishwasher safe.",
    ),
    (
        "unsafe-sticker-pack",
        "Unsafe Sticker Pack",
        "Ferrous",
        "office",
        490,
        "red",
        "Ten vinyl stickers for your laptop.",
    ),
    (
        "zero-cost-tote",
        "Zero-Cost Tote Bag",
        "Rustacean",
        "accessories",
        2490,
        "white",
        "Canvas tote bag; holds a hoodie and a mug.",
    ),
    (
        "trait-object-tshirt",
        "Trait Object Tshirt",
        "Ferrous",
        "tops",
        2290,
        "white",
        "Dynamic dispatch, printed on a shirt.",
    ),
];

/// (slug, name, parent).
const CATEGORIES: &[(&str, &str, Option<&str>)] = &[
    ("apparel", "Apparel", None),
    ("tops", "Tops", Some("apparel")),
    ("accessories", "Accessories", Some("apparel")),
    ("home", "Home", None),
    ("kitchen", "Kitchen", Some("home")),
    ("office", "Office", Some("home")),
];

impl Shop {
    /// Product and inventory with the test catalog (every SKU stocked except the mug's).
    pub(crate) async fn start() -> Self {
        let db = TestDb::new().await;
        let prefix = testkit::redis_prefix();
        let product_addr =
            product::build(product::ProductConfig::new(config("product", &db, &prefix))).await.unwrap().spawn();
        let inventory = inventory::InventoryConfig::new(config("inventory", &db, &prefix));
        let inventory_addr = inventory::build(inventory).await.unwrap().spawn();
        let staff = Subject::user(
            Uuid::now_v7().to_string(),
            Role::Admin,
            vec!["catalog:write".into(), "inventory:write".into()],
        );
        let shop = Self {
            db,
            prefix,
            product_addr,
            catalog: ServiceCaller::new("product", product_addr).as_subject(staff.clone()),
            stock: ServiceCaller::new("inventory", inventory_addr).as_subject(staff),
            dir: tempfile::tempdir().unwrap(),
            running: std::sync::Mutex::default(),
        };
        for (slug, name, parent) in CATEGORIES {
            let body = json!({"slug": slug, "name": name, "parent": parent});
            let (status, answer) = shop.catalog.post_json("/categories", body).await;
            assert_eq!(status, 201, "{answer}");
        }
        for (slug, title, brand, category, price, color, description) in CATALOG {
            shop.add_product(slug, title, brand, category, *price, color, description).await;
        }
        for (slug, ..) in CATALOG {
            let on_hand = if *slug == "borrow-checker-mug" { 0 } else { 10 };
            shop.set_stock(&format!("{slug}-1"), on_hand).await;
        }
        shop
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn add_product(
        &self,
        slug: &str,
        title: &str,
        brand: &str,
        category: &str,
        price: i64,
        color: &str,
        description: &str,
    ) -> String {
        let body = json!({
            "slug": slug, "title": title, "brand": brand, "status": "active", "description": description,
            "categories": [category], "attributes": {"color": color},
            "variants": [{"sku": format!("{slug}-1"), "price_minor": price}],
        });
        let (status, product) = self.catalog.post_json("/products", body).await;
        assert_eq!(status, 201, "{product}");
        product["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn set_stock(&self, sku: &str, on_hand: i64) {
        let body = json!({"on_hand": on_hand, "reason": "search test"});
        let (status, row) = self.stock.send_json(Method::PUT, &format!("/stock/{sku}"), Some(body)).await;
        assert_eq!(status, 200, "{row}");
    }

    /// A search replica named `replica` with its index in `dir/<replica>`, once ready.
    pub(crate) async fn search(&self, replica: &str) -> ServiceCaller {
        let (caller, stop, _) = self.search_stoppable(replica).await;
        self.running.lock().unwrap().push(stop);
        caller
    }

    /// The same, with what stops it (and the task to wait for).
    pub(crate) async fn search_stoppable(
        &self,
        replica: &str,
    ) -> (ServiceCaller, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
        let mut config = config("search", &self.db, &self.prefix);
        testkit::point_at(&mut config, "product", self.product_addr);
        let config = search::SearchConfig::new(config, self.dir.path().join(replica), replica);
        // A replica stopped just before may still be letting go of its index (its drain runs
        // under the shutdown deadline): its directory's writer lock is free again shortly.
        let lock_deadline = Instant::now() + Duration::from_secs(10);
        let app = loop {
            match search::build(config.clone()).await {
                Ok(app) => break app,
                Err(error) if format!("{error:?}").contains("LockBusy") && Instant::now() < lock_deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("search starts: {error}"),
            }
        };
        let (addr, stop, task) = app.spawn_stoppable();
        let caller = ServiceCaller::new("search", addr);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, body) = caller.get("/search?q=").await;
            if status == 200 {
                return (caller, stop, task);
            }
            assert_eq!(status, 503, "{body}");
            assert!(Instant::now() < deadline, "the index was not built in 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The slugs of a search's items, in order.
pub(crate) async fn slugs(search: &ServiceCaller, query: &str) -> Vec<String> {
    let (status, page) = search.get(&format!("/search?{query}")).await;
    assert_eq!(status, 200, "{query}: {page}");
    page["items"].as_array().unwrap().iter().map(|i| i["slug"].as_str().unwrap().to_owned()).collect()
}

/// Waits up to `within` until `check` holds for the search's answer to `query`.
pub(crate) async fn eventually(
    search: &ServiceCaller,
    query: &str,
    within: Duration,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let (status, page) = search.get(&format!("/search?{query}")).await;
        assert_eq!(status, 200, "{page}");
        if check(&page) {
            return page;
        }
        assert!(Instant::now() < deadline, "{query} did not change within {within:?}: {page}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
