//! Test-only support (a dev-dependency of services; `cargo xtask` reuses its process helpers).
//!
//! One PostgreSQL cluster and one Redis per test run: `cargo xtask test` starts them and passes
//! their addresses in `SHOPFLEET_TEST_PG_URL` / `SHOPFLEET_TEST_REDIS_URL`; a plain `cargo test`
//! starts its own once per process. Each test gets a fresh database cloned from a migrated
//! template and its own Redis key prefix, and runs services in-process on port 0.

#![allow(unsafe_code)] // pre_exec and prctl, in `procs` only.

pub mod cluster;
pub mod logs;
pub mod procs;
pub mod stream;
pub mod wait;

use std::sync::OnceLock;

use secrecy::SecretString;
use service_kit::ServiceConfig;
use service_kit::db::DatabaseConfig;
use service_kit::redis::RedisConfig;

pub use bootstrap::keys::{self, FleetKeys};
pub use cluster::{PgCluster, RedisServer, S3Server};

/// Where the run's servers are and the keys every test shares.
pub struct TestEnv {
    pub pg: PgCluster,
    pub redis: RedisServer,
    pub keys: FleetKeys,
}

/// The run's shared environment, started on first use.
pub fn env() -> &'static TestEnv {
    static ENV: OnceLock<TestEnv> = OnceLock::new();
    ENV.get_or_init(|| {
        logs::init();
        let pg = match std::env::var("SHOPFLEET_TEST_PG_URL") {
            Ok(url) => PgCluster::existing(url),
            Err(_) => PgCluster::start().expect("start a throwaway PostgreSQL cluster"),
        };
        let cluster = std::env::var("SHOPFLEET_TEST_REDIS_CLUSTER").is_ok_and(|v| v == "1");
        let redis = match std::env::var("SHOPFLEET_TEST_REDIS_URL") {
            Ok(url) => RedisServer::existing(url, cluster).expect("the test Redis"),
            Err(_) => RedisServer::start(cluster).expect("start a throwaway Redis"),
        };
        let keys = match std::env::var("SHOPFLEET_TEST_KEYS_DIR") {
            Ok(dir) => FleetKeys::load(std::path::Path::new(&dir)).expect("load test keys"),
            Err(_) => FleetKeys::generate(),
        };
        TestEnv { pg, redis, keys }
    })
}

/// A fresh database for one test, cloned from the migrated template.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub async fn new() -> Self {
        let name = env().pg.fresh_database().await;
        Self { name }
    }

    /// The URL a service logs in with: its own role, this database.
    pub fn url_for(&self, service: &str) -> String {
        let spec = service_kit::fleet::spec(service).expect("a fleet service");
        let role = spec.db_role().expect("a data-owning service");
        env().pg.url_as(&role, &self.name)
    }

    /// The cluster administrator's URL of this database (audits that read across schemas).
    pub fn admin_url(&self) -> String {
        env().pg.admin_url_of(&self.name)
    }

    /// A connection as the cluster's administrator to this database (statistics, extensions).
    pub async fn admin(&self) -> sqlx::PgConnection {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&env().pg.admin_url_of(&self.name)).await.expect("connect as the administrator")
    }

    /// A connection pool as `service`'s own role, `search_path` on its schema: how a test
    /// arranges and inspects a service's data.
    pub async fn pool_as(&self, service: &str) -> sqlx::PgPool {
        let schema = service_kit::fleet::spec(service).and_then(|s| s.schema).expect("a data-owning service");
        let options: sqlx::postgres::PgConnectOptions = self.url_for(service).parse().expect("a valid URL");
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options.options([("search_path", schema)]))
            .await
            .expect("connect as the service role")
    }
}

/// A unique Redis key prefix for one test.
pub fn redis_prefix() -> String {
    format!("t{}:", uuid::Uuid::new_v4().simple())
}

/// The configuration of `service` for a test: port 0, its own role on `db`, a fresh Redis
/// prefix, the run's keys, short timeouts.
pub fn service_config(service: &str, db: Option<&TestDb>) -> ServiceConfig {
    let env = env();
    let spec = *service_kit::fleet::spec(service).expect("a fleet service");
    let database = match (spec.schema, db) {
        (Some(schema), Some(db)) => Some(DatabaseConfig {
            url: SecretString::from(db.url_for(service)),
            schema: schema.to_owned(),
            max_connections: 5,
            statement_cache: true,
        }),
        _ => None,
    };
    ServiceConfig {
        spec,
        bind: ([127, 0, 0, 1], 0).into(),
        database,
        redis: Some(RedisConfig {
            url: env.redis.url_for(service),
            key_prefix: redis_prefix(),
            cluster: env.redis.cluster,
        }),
        internal_private_key: SecretString::from(env.keys.internal_private(service).to_owned()),
        internal_jwks: env.keys.internal_jwks.clone(),
        internal_token_ttl: std::time::Duration::from_secs(60),
        shutdown_timeout: std::time::Duration::from_secs(5),
        max_body_bytes: 64 * 1024,
        client_connect_timeout: std::time::Duration::from_millis(500),
        client_request_timeout: std::time::Duration::from_secs(5),
        service_urls: service_kit::SERVICES
            .iter()
            .map(|s| (s.name.to_owned(), vec![format!("http://127.0.0.1:{}", unused_port())]))
            .collect(),
        currency: shop_types::Currency::EUR,
        environment: service_kit::ShopEnv::Development,
    }
}

/// Points `config`'s calls to `service` at `addr` (a service the test started).
pub fn point_at(config: &mut ServiceConfig, service: &str, addr: std::net::SocketAddr) {
    for (name, urls) in &mut config.service_urls {
        if name == service {
            *urls = vec![format!("http://{addr}")];
        }
    }
}

/// A port nothing listens on right now (bound, then released).
///
/// Never the same port twice in one test process: a port handed out for a server that starts
/// later (or never, to stand for one that is down) is free again until then, and the kernel
/// could hand it to the next caller, so two tests would share it.
pub fn unused_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("bind port 0");
        let mut handed_out = HANDED_OUT.lock().expect("port registry");
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
}

/// The run's S3 server, started on first use (only the media tests need one).
pub fn s3() -> &'static S3Server {
    static S3: OnceLock<S3Server> = OnceLock::new();
    S3.get_or_init(|| S3Server::start().expect("start the S3 server (s3s-fs)"))
}

/// A minter for tests that call a service as `issuer` would.
pub fn minter(issuer: &str) -> internal_token::Minter {
    internal_token::Minter::new(issuer, env().keys.internal_private(issuer), 60).expect("test key parses")
}

/// Calls one in-process service over HTTP the way `issuer` would: every request carries a
/// fresh internal token for that service.
pub struct ServiceCaller {
    pub base: String,
    pub http: reqwest::Client,
    audience: String,
    minter: internal_token::Minter,
    subject: internal_token::Subject,
}

impl ServiceCaller {
    /// A caller of `service` at `addr`, as the gateway on behalf of an anonymous shopper.
    pub fn new(service: &str, addr: std::net::SocketAddr) -> Self {
        Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            audience: service.to_owned(),
            minter: minter("gateway"),
            subject: internal_token::Subject::anonymous(),
        }
    }

    /// Calls as service `issuer` instead of the gateway (an internal route for one caller).
    pub fn as_issuer(mut self, issuer: &str) -> Self {
        self.minter = minter(issuer);
        self
    }

    /// Calls on behalf of `subject` instead (a user, with permissions).
    pub fn as_subject(mut self, subject: internal_token::Subject) -> Self {
        self.subject = subject;
        self
    }

    /// A request builder for `path` with the internal token attached.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let token = self.minter.mint(&self.audience, &self.subject);
        self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&*token)
    }

    /// GET `path`: status and JSON body (null when the body is not JSON).
    #[must_use = "assert the status"]
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        Self::read(self.request(reqwest::Method::GET, path).send().await.expect("request")).await
    }

    /// POST a JSON body to `path`: status and JSON body.
    #[must_use = "assert the status"]
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        Self::read(self.request(reqwest::Method::POST, path).json(&body).send().await.expect("request")).await
    }

    /// Sends `method` to `path` with a JSON body (or none): status and JSON body.
    #[must_use = "assert the status"]
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Self::read(request.send().await.expect("request")).await
    }

    async fn read(response: reqwest::Response) -> (u16, serde_json::Value) {
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }
}

/// Reading emails as received (tests look for links in them).
pub mod mail {
    /// Decodes quoted-printable text: soft line breaks removed, `=XX` turned back into bytes.
    pub fn decode_quoted_printable(text: &str) -> String {
        let joined = text.replace("=\r\n", "").replace("=\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (bytes[i], hex) {
                (b'=', Some(byte)) => {
                    out.push(byte);
                    i += 3;
                }
                (byte, _) => {
                    out.push(byte);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The value of the `token` parameter of the first link to `page` in a (decoded) email.
    pub fn token_in_link(email: &str, page: &str) -> Option<String> {
        let decoded = decode_quoted_printable(email);
        let marker = format!("/{page}?token=");
        let rest = decoded.split(&marker).nth(1)?;
        Some(rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn quoted_printable_links_are_put_back_together() {
            let email = "https://shop.example/verify-email?token=3Dy2IXXgZ60c=\nVFuhmb\n\n=E2=80=94 Shop";
            assert_eq!(token_in_link(email, "verify-email").as_deref(), Some("y2IXXgZ60cVFuhmb"));
            assert!(decode_quoted_printable(email).contains("— Shop"));
        }
    }
}
