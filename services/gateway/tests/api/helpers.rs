//! A gateway in front of real auth and product services (one fresh database), a service that
//! hangs (cart) and one that is down (order).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_jwt::{ACCESS_TOKEN_TYPE, AccessClaims, Role, Signer};
use secrecy::SecretString;
use testkit::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const ROUTE_TIMEOUT: Duration = Duration::from_millis(1500);
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestGateway {
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub http: reqwest::Client,
    pub kid: String,
    _db: TestDb,
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
    pub async fn spawn() -> Self {
        let db = TestDb::new().await;
        let signing_key = SecretString::from(testkit::env().keys.access_signing_pem.clone());
        let kid = auth::default_kid(&signing_key);
        let auth_config = auth::AuthConfig::new(testkit::service_config("auth", Some(&db)), signing_key);
        let auth_addr = auth::build(auth_config).await.unwrap().spawn();
        let product_addr = product::build(testkit::service_config("product", Some(&db)))
            .await
            .unwrap()
            .spawn();
        let pool = db.pool_as("product").await;
        product::seed::seed_demo_catalog(&pool).await.unwrap();

        let mut service = testkit::service_config("gateway", None);
        for (name, urls) in &mut service.service_urls {
            match name.as_str() {
                "auth" => *urls = vec![format!("http://{auth_addr}")],
                "product" => *urls = vec![format!("http://{product_addr}")],
                "cart" => *urls = vec![hanging_upstream().await],
                _ => {} // unused ports: down
            }
        }
        let mut config = gateway::GatewayConfig::with_service(service);
        config.timeout_override = Some(ROUTE_TIMEOUT);
        config.jwks_min_refresh = Duration::from_millis(200);
        let addr = gateway::build(config).await.unwrap().spawn();
        let app = Self {
            base: format!("http://{addr}"),
            addr,
            http: reqwest::Client::new(),
            kid,
            _db: db,
        };
        app.wait_ready().await;
        app
    }

    async fn wait_ready(&self) {
        for _ in 0..100 {
            if self
                .http
                .get(format!("{}/ready", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("gateway not ready (JWKS not loaded)");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or_default())
    }

    /// Registers and logs in a shopper through the gateway; returns the access token.
    pub async fn shopper_token(&self) -> String {
        let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
        let body = serde_json::json!({"email": email, "password": PASSWORD});
        let response = self
            .http
            .post(self.url("/api/v1/auth/register"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let response = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let login: serde_json::Value = response.json().await.unwrap();
        login["access_token"].as_str().unwrap().to_owned()
    }

    /// Sends exactly `path` (no client-side normalization) and returns the status code.
    pub async fn raw_get_status(&self, path: &str) -> u16 {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let text = String::from_utf8_lossy(&response);
        text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    }
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Claims a real login would carry.
pub fn claims() -> AccessClaims {
    AccessClaims {
        iss: "shopfleet-auth".into(),
        aud: "shopfleet-api".into(),
        sub: uuid::Uuid::now_v7().to_string(),
        exp: now() + 900,
        nbf: now(),
        iat: now(),
        jti: uuid::Uuid::now_v7().to_string(),
        role: Role::Customer,
        perms: vec![],
        sid: None,
        email_verified: false,
    }
}

/// Signs with auth's real key under `kid`.
pub fn sign(kid: &str, claims: &AccessClaims) -> String {
    Signer::from_pem(kid, &testkit::env().keys.access_signing_pem)
        .unwrap()
        .sign(ACCESS_TOKEN_TYPE, claims)
}
