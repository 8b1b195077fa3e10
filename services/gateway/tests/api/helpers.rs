//! A gateway in front of real auth and product services (one fresh database), a service that
//! hangs (cart) and one that is down (order).

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_jwt::{ACCESS_TOKEN_TYPE, AccessClaims, Role, Signer};
use secrecy::SecretString;
use testkit::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) const ROUTE_TIMEOUT: Duration = Duration::from_millis(1500);
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A product instance the test can stop and start again on the same port.
pub(crate) struct ProductInstance {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ProductInstance {
    async fn start(db: &TestDb, addr: Option<SocketAddr>) -> Self {
        let mut config = testkit::service_config("product", Some(db));
        if let Some(addr) = addr {
            config.bind = addr;
        }
        let (addr, stop, task) = product::build(product::ProductConfig::new(config)).await.unwrap().spawn_stoppable();
        Self { addr, stop: Some(stop), task: Some(task) }
    }

    pub(crate) async fn kill(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

pub(crate) struct TestGateway {
    pub base: String,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub kid: String,
    pub products: Vec<ProductInstance>,
    pub auth_config: auth::AuthConfig,
    pub auth_addr: SocketAddr,
    pub db: TestDb,
}

/// Accepts connections and never answers.
async fn hanging_upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

impl TestGateway {
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(1, |_| {}).await
    }

    /// `products` product instances; `tweak` adjusts the gateway's configuration.
    pub(crate) async fn spawn_with(products: usize, tweak: impl FnOnce(&mut gateway::GatewayConfig)) -> Self {
        Self::spawn_full(products, |_| {}, tweak).await
    }

    /// Like `spawn_with`, adjusting auth's configuration too.
    pub(crate) async fn spawn_full(
        products: usize,
        auth_tweak: impl FnOnce(&mut auth::AuthConfig),
        tweak: impl FnOnce(&mut gateway::GatewayConfig),
    ) -> Self {
        let db = TestDb::new().await;
        let signing_key = SecretString::from(testkit::env().keys.access_signing_pem.clone());
        let kid = auth::default_kid(&signing_key);
        let auth_service = testkit::service_config("auth", Some(&db));
        let prefix = auth_service.redis.as_ref().unwrap().key_prefix.clone();
        let mut auth_config = auth::AuthConfig::new(auth_service, signing_key);
        auth_config.hash_concurrency = 4;
        auth_tweak(&mut auth_config);
        let auth_addr = auth::build(auth_config.clone()).await.unwrap().spawn();
        let mut instances = Vec::new();
        for _ in 0..products {
            instances.push(ProductInstance::start(&db, None).await);
        }
        let pool = db.pool_as("product").await;
        product::seed::seed_demo_catalog(&pool, contracts::types::Currency::EUR).await.unwrap();

        let mut service = testkit::service_config("gateway", None);
        service.redis.as_mut().unwrap().key_prefix = prefix;
        for (name, urls) in &mut service.service_urls {
            match name.as_str() {
                "auth" => *urls = vec![format!("http://{auth_addr}")],
                "product" => *urls = instances.iter().map(|i| format!("http://{}", i.addr)).collect(),
                "cart" => *urls = vec![hanging_upstream().await],
                _ => {} // unused ports: down
            }
        }
        let mut config = gateway::GatewayConfig::with_service(service);
        config.timeout_override = Some(ROUTE_TIMEOUT);
        config.jwks_min_refresh = Duration::from_millis(200);
        // Tests sign up and log in a lot from one address; the credential limit is tested on its own.
        config.limits.credentials = gateway::limits::Limit::new(1000, 1, 1000);
        tweak(&mut config);
        let addr = gateway::build(config).await.unwrap().spawn();
        let app = Self {
            base: format!("http://{addr}"),
            addr,
            http: reqwest::Client::new(),
            kid,
            products: instances,
            auth_config,
            auth_addr,
            db,
        };
        app.wait_ready().await;
        app
    }

    async fn wait_ready(&self) {
        for _ in 0..100 {
            if self.http.get(format!("{}/ready", self.base)).send().await.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("gateway not ready (JWKS not loaded)");
    }

    /// Starts product instance `index` again on its old port.
    pub(crate) async fn restart_product(&mut self, index: usize) {
        let addr = self.products[index].addr;
        self.products[index] = ProductInstance::start(&self.db, Some(addr)).await;
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    #[must_use = "assert the status"]
    pub(crate) async fn get(&self, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or_default())
    }

    /// An administrator made with `auth create-admin`, signed in with its second factor: its
    /// access token.
    pub(crate) async fn admin_token(&self, email: &str) -> String {
        let admin = auth::cli::create_admin(&self.auth_config, email).await.unwrap();
        let code = totp::current_code(admin["totp_secret"].as_str().unwrap()).unwrap();
        let login = serde_json::json!({"email": admin["email"], "password": admin["password"], "code": code});
        let (status, admin_login) = self.post("/api/v1/auth/admin/login", None, login).await;
        assert_eq!(status, 200, "{admin_login}");
        admin_login["access_token"].as_str().unwrap().to_owned()
    }

    /// Registers the account in `credentials`, asserting the 201.
    pub(crate) async fn register_ok(&self, credentials: &serde_json::Value) {
        let (status, body) = self.post("/api/v1/auth/register", None, credentials.clone()).await;
        assert_eq!(status, 201, "register: {body}");
    }

    #[must_use = "assert the status"]
    pub(crate) async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut request = self.http.post(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or_default())
    }

    /// Registers and logs in a shopper through the gateway; returns the login response.
    pub(crate) async fn shopper_login(&self) -> serde_json::Value {
        let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
        let body = serde_json::json!({"email": email, "password": PASSWORD});
        let (status, _) = self.post("/api/v1/auth/register", None, body.clone()).await;
        assert_eq!(status, 201);
        let (status, login) = self.post("/api/v1/auth/login", None, body).await;
        assert_eq!(status, 200, "{login}");
        login
    }

    /// Registers and logs in a shopper through the gateway; returns the access token.
    pub(crate) async fn shopper_token(&self) -> String {
        self.shopper_login().await["access_token"].as_str().unwrap().to_owned()
    }

    /// Sends exactly `path` (no client-side normalization) and returns the status code.
    pub(crate) async fn raw_get_status(&self, path: &str) -> u16 {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let text = String::from_utf8_lossy(&response);
        text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    }
}

pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Claims a real login would carry.
pub(crate) fn claims() -> AccessClaims {
    AccessClaims {
        iss: "shopfleet-auth".into(),
        aud: "shopfleet-api".into(),
        sub: uuid::Uuid::now_v7().to_string(),
        exp: now() + 900,
        nbf: now(),
        iat: now(),
        iat_ms: 0,
        jti: uuid::Uuid::now_v7().to_string(),
        role: Role::Customer,
        perms: vec![],
        sid: None,
        email_verified: false,
    }
}

/// Signs with auth's real key under `kid`.
pub(crate) fn sign(kid: &str, claims: &AccessClaims) -> String {
    Signer::from_pem(kid, &testkit::env().keys.access_signing_pem).unwrap().sign(ACCESS_TOKEN_TYPE, claims)
}
