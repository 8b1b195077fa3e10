//! Test-only: starts any service of the fleet in-process, so the rules every service must keep
//! (zero trust, database isolation, graceful shutdown) are checked against all of them, not
//! against a sample. Each service's type (`auth::Service`, …, its `service_kit::FleetService`)
//! says here how a test configures it ([`Conforming`]); the suite reaches a service by its name
//! only through those types.

use std::future::Future;
use std::net::SocketAddr;

use secrecy::SecretString;
use service_kit::app::Application;
use service_kit::{FleetService, ServiceConfig, StartError};
use testkit::TestDb;

/// A service as the conformance suite starts it.
pub trait Conforming: FleetService {
    /// Its configuration for a test on `db` around the shared part the testkit gives (port 0).
    fn test_config(db: &TestDb) -> impl Future<Output = Result<Self::Config, StartError>>;

    /// A route it really has (200 with a valid token), where it has one yet.
    const REAL_ROUTE: Option<&'static str> = None;
}

fn shared(service: &str, db: &TestDb) -> ServiceConfig {
    testkit::service_config(service, Some(db))
}

/// The services whose own settings all have defaults: the shared part is all a test gives.
macro_rules! by_defaults {
    ($($service:ident: $config:ty $(, route = $route:literal)?;)+) => {$(
        impl Conforming for $service::Service {
            async fn test_config(db: &TestDb) -> Result<$config, StartError> {
                Ok(<$config>::new(shared($service::SERVICE, db)))
            }
            $(const REAL_ROUTE: Option<&'static str> = Some($route);)?
        }
    )+};
}

by_defaults! {
    product: product::ProductConfig, route = "/products";
    inventory: inventory::InventoryConfig;
    cart: cart::CartConfig;
    order: order::OrderConfig;
    admin: admin::AdminConfig;
    notification: notification::NotificationConfig, route = "/notifications/messages";
    analytics: analytics::AnalyticsConfig;
}

impl Conforming for cms::Service {
    /// With a storefront revalidation hook, so that all it can run in the background runs (the
    /// hook is never called: nothing is published here).
    async fn test_config(db: &TestDb) -> Result<cms::CmsConfig, StartError> {
        let mut config = cms::CmsConfig::new(shared(cms::SERVICE, db));
        let url = format!("http://127.0.0.1:{}/api/revalidate", testkit::unused_port());
        config.revalidation = Some(cms::config::Revalidation { url, secret: SecretString::from("conformance") });
        Ok(config)
    }
}

impl Conforming for user::Service {
    async fn test_config(db: &TestDb) -> Result<user::Config, StartError> {
        Ok(shared(user::SERVICE, db))
    }
}

impl Conforming for auth::Service {
    async fn test_config(db: &TestDb) -> Result<auth::AuthConfig, StartError> {
        let key = SecretString::from(testkit::env().keys.access_signing_pem.clone());
        Ok(auth::AuthConfig::new(shared(auth::SERVICE, db), key))
    }

    const REAL_ROUTE: Option<&'static str> = Some("/auth/.well-known/jwks.json");
}

impl Conforming for payment::Service {
    async fn test_config(db: &TestDb) -> Result<payment::PaymentConfig, StartError> {
        let secret = SecretString::from("whsec_conformance");
        Ok(payment::PaymentConfig::new(shared(payment::SERVICE, db), secret))
    }
}

impl Conforming for media::Service {
    async fn test_config(db: &TestDb) -> Result<media::MediaConfig, StartError> {
        let s3 = testkit::s3();
        let base = format!("{}/{}", s3.endpoint, s3.bucket);
        let settings = media::S3Settings::local(&s3.endpoint, &s3.bucket, &s3.access_key, &s3.secret_key, &base);
        Ok(media::MediaConfig::new(shared(media::SERVICE, db), settings))
    }
}

impl Conforming for gateway::Service {
    async fn test_config(db: &TestDb) -> Result<gateway::GatewayConfig, StartError> {
        Ok(gateway::GatewayConfig::with_service(shared(gateway::SERVICE, db)))
    }
}

impl Conforming for search::Service {
    /// Search is ready once it has built its index from the catalog's export: a product service
    /// on the same database (and Redis prefix) serves it. Its index is in a directory of its
    /// own under the system's temporary directory, named like the testkit's run directories so
    /// that those of dead test processes are swept.
    async fn test_config(db: &TestDb) -> Result<search::SearchConfig, StartError> {
        let mut config = shared(search::SERVICE, db);
        let mut product_config = shared(product::SERVICE, db);
        product_config.redis = config.redis.clone();
        let product = product::build(product::ProductConfig::new(product_config)).await?.spawn();
        testkit::point_at(&mut config, product::SERVICE, product);
        let dir = std::env::temp_dir().join(format!("shopfleet-test-{}-search-conformance", std::process::id()));
        static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let replica = format!("c{}", STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        Ok(search::SearchConfig::new(config, dir.join(&replica), &replica))
    }
}

/// Builds `S` on `db` with its test configuration.
pub async fn build_service<S: Conforming>(db: &TestDb) -> Result<Application, StartError> {
    S::build(S::test_config(db).await?).await
}

/// Runs `$each::<S>($args)` for the fleet's service type whose name is `$name`; the value of the
/// last expression when no type has that name.
macro_rules! on_service {
    ($name:expr, $each:ident ($($args:expr),*), $otherwise:expr) => {{
        let name = $name;
        if name == auth::Service::NAME { $each::<auth::Service>($($args),*) }
        else if name == user::Service::NAME { $each::<user::Service>($($args),*) }
        else if name == product::Service::NAME { $each::<product::Service>($($args),*) }
        else if name == inventory::Service::NAME { $each::<inventory::Service>($($args),*) }
        else if name == cart::Service::NAME { $each::<cart::Service>($($args),*) }
        else if name == order::Service::NAME { $each::<order::Service>($($args),*) }
        else if name == payment::Service::NAME { $each::<payment::Service>($($args),*) }
        else if name == admin::Service::NAME { $each::<admin::Service>($($args),*) }
        else if name == notification::Service::NAME { $each::<notification::Service>($($args),*) }
        else if name == search::Service::NAME { $each::<search::Service>($($args),*) }
        else if name == analytics::Service::NAME { $each::<analytics::Service>($($args),*) }
        else if name == cms::Service::NAME { $each::<cms::Service>($($args),*) }
        else if name == media::Service::NAME { $each::<media::Service>($($args),*) }
        else if name == gateway::Service::NAME { $each::<gateway::Service>($($args),*) }
        else { $otherwise }
    }};
}

fn real_route_of<S: Conforming>() -> Option<&'static str> {
    S::REAL_ROUTE
}

/// Builds the fleet's service named `service` on `db` with its test configuration.
pub async fn build(service: &str, db: &TestDb) -> Result<Application, StartError> {
    let unknown = || StartError::part("conformance", format!("no such service: {service}"));
    on_service!(service, build_boxed(db), Box::pin(async move { Err(unknown()) })).await
}

type Built<'a> = std::pin::Pin<Box<dyn Future<Output = Result<Application, StartError>> + 'a>>;

fn build_boxed<S: Conforming + 'static>(db: &TestDb) -> Built<'_> {
    Box::pin(build_service::<S>(db))
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
    on_service!(service, real_route_of(), None)
}
