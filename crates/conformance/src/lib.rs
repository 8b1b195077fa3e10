//! Test-only: starts any service of the fleet in-process by name, so the rules every service
//! must keep (zero trust, database isolation, graceful shutdown) are checked against all of
//! them, not against a sample.

use std::net::SocketAddr;

use secrecy::SecretString;
use service_kit::StartError;
use service_kit::app::Application;
use testkit::TestDb;

/// Builds `service` on `db` with the test configuration (port 0).
pub async fn build(service: &str, db: &TestDb) -> Result<Application, StartError> {
    let config = testkit::service_config(service, Some(db));
    match service {
        "auth" => {
            let key = SecretString::from(testkit::env().keys.access_signing_pem.clone());
            auth::build(auth::AuthConfig::new(config, key)).await
        }
        "user" => user::build(config).await,
        "product" => product::build(product::ProductConfig::new(config)).await,
        "inventory" => inventory::build(inventory::InventoryConfig::new(config)).await,
        "cart" => cart::build(cart::CartConfig::new(config)).await,
        "order" => order::build(order::OrderConfig::new(config)).await,
        "payment" => {
            payment::build(payment::PaymentConfig::new(config, secrecy::SecretString::from("whsec_conformance"))).await
        }
        "admin" => admin::build(admin::AdminConfig::new(config)).await,
        "notification" => notification::build(notification::NotificationConfig::new(config)).await,
        "search" => {
            // Search is ready once it has built its index from the catalog's export: a product
            // service on the same database (and Redis prefix) serves it.
            let mut product_config = testkit::service_config("product", Some(db));
            product_config.redis = config.redis.clone();
            let product = product::build(product::ProductConfig::new(product_config)).await?.spawn();
            let mut config = config;
            testkit::point_at(&mut config, "product", product);
            // Its index in a directory of its own under the system's temporary directory, named
            // like the testkit's run directories so that those of dead test processes are swept.
            let dir = std::env::temp_dir().join(format!("shopfleet-test-{}-search-conformance", std::process::id()));
            static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let replica = format!("c{}", STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
            search::build(search::SearchConfig::new(config, dir.join(&replica), &replica)).await
        }
        "analytics" => analytics::build(analytics::AnalyticsConfig::new(config)).await,
        "cms" => cms::build(cms::CmsConfig::new(config)).await,
        "media" => {
            let s3 = testkit::s3();
            let base = format!("{}/{}", s3.endpoint, s3.bucket);
            let settings = media::S3Settings::local(&s3.endpoint, &s3.bucket, &s3.access_key, &s3.secret_key, &base);
            media::build(media::MediaConfig::new(config, settings)).await
        }
        "gateway" => gateway::build(gateway::GatewayConfig::with_service(config)).await,
        other => Err(StartError::part("conformance", format!("no such service: {other}"))),
    }
}

/// Starts `service` in the background and returns its address once `/ready` (search builds its
/// index first).
pub async fn spawn(service: &str, db: &TestDb) -> SocketAddr {
    let addr = build(service, db).await.unwrap_or_else(|e| panic!("{service} starts: {e}")).spawn();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let http = reqwest::Client::new();
    while http.get(format!("http://{addr}/ready")).send().await.map_or(true, |r| r.status() != 200) {
        assert!(std::time::Instant::now() < deadline, "{service} not ready within 20 s");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    addr
}

/// A route each service really has (200 with a valid token), where it has one yet.
pub fn real_route(service: &str) -> Option<&'static str> {
    match service {
        "auth" => Some("/auth/.well-known/jwks.json"),
        "product" => Some("/products"),
        "notification" => Some("/notifications/messages"),
        _ => None,
    }
}
