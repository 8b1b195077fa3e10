//! auth, user and notification sharing one database and one Redis prefix, and an SMTP server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use notification::NotificationConfig;
use notification::config::EmailSettings;
use notification::transport::{SmtpSettings, SmtpTls};
use secrecy::SecretString;
use testkit::{ServiceCaller, TestDb};

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// What a stub provider saw: (path, headers, body) of each request.
pub(crate) type Seen = Arc<Mutex<Vec<(String, HeaderMap, String)>>>;

/// A stub provider (Twilio, FCM: outside providers we cannot run): records each request;
/// answers `status` with `body`.
pub(crate) async fn stub(status: StatusCode, body: &'static str) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/{*path}",
            post(move |State(seen): State<Seen>, Path(path): Path<String>, headers: HeaderMap, body_in: String| async move {
                seen.lock().unwrap().push((path, headers, body_in));
                (status, body)
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

pub(crate) struct Smtp {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<std::process::Child>,
}

impl Smtp {
    pub(crate) fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "shopfleet-test-{}-smtp-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        Self { port: testkit::unused_port(), dir, child: None }
    }

    pub(crate) fn start(&mut self) {
        self.child = Some(testkit::cluster::start_smtp_sink(&self.dir, self.port).expect("smtp-sink starts"));
    }

    /// Every message received so far, as text.
    pub(crate) fn received(&self) -> Vec<String> {
        let mut found = Vec::new();
        let mut stack = vec![self.dir.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    found.push(text);
                }
            }
        }
        found
    }

    /// Waits for `n` complete messages (smtp-sink writes a dump while the message arrives, so
    /// a message counts once its file is non-empty and stable).
    pub(crate) async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            let received = self.received();
            if received.len() >= n && received.iter().all(|m| !m.is_empty()) {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let again = self.received();
                if again == received {
                    return received;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} of {n} emails arrived", self.received().len());
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            testkit::procs::signal_group(child, 9);
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) struct TestShop {
    pub prefix: String,
    pub auth: ServiceCaller,
    pub notification: SocketAddr,
    pub db: TestDb,
}

impl TestShop {
    pub(crate) async fn spawn(smtp_port: u16) -> Self {
        Self::spawn_with(smtp_port, |_| {}).await
    }

    /// A shop whose notification service is configured by `tune` last.
    pub(crate) async fn spawn_with(smtp_port: u16, tune: impl FnOnce(&mut NotificationConfig)) -> Self {
        let db = TestDb::new().await;
        let auth_service = testkit::service_config("auth", Some(&db));
        let prefix = auth_service.redis.as_ref().unwrap().key_prefix.clone();
        let key = SecretString::from(testkit::env().keys.access_signing_pem.clone());
        let auth_addr = auth::build(auth::AuthConfig::new(auth_service, key)).await.unwrap().spawn();

        let mut user_service = testkit::service_config("user", Some(&db));
        user_service.redis.as_mut().unwrap().key_prefix = prefix.clone();
        let user_addr = user::build(user_service).await.unwrap().spawn();

        let mut service = testkit::service_config("notification", Some(&db));
        service.redis.as_mut().unwrap().key_prefix = prefix.clone();
        testkit::point_at(&mut service, "auth", auth_addr);
        testkit::point_at(&mut service, "user", user_addr);
        let mut config = NotificationConfig::new(service);
        config.storefront_url = "https://shop.example".into();
        config.email = EmailSettings::Smtp(SmtpSettings {
            host: "127.0.0.1".into(),
            port: smtp_port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            timeout: Duration::from_secs(5),
        });
        config.sender.retry_base = Duration::from_millis(50);
        config.sender.poll_interval = Duration::from_millis(100);
        config.consumer.block = Some(Duration::from_millis(200));
        tune(&mut config);
        let notification = notification::build(config).await.unwrap().spawn();
        Self { prefix, auth: ServiceCaller::new("auth", auth_addr), notification, db }
    }

    pub(crate) async fn register(&self, email: &str) {
        let (status, body) =
            self.auth.post_json("/auth/register", serde_json::json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(status, 201, "{body}");
    }

    /// The value of the first metric line of the notification service that contains every one
    /// of `parts` (0 when there is none yet).
    pub(crate) async fn metric(&self, parts: &[&str]) -> f64 {
        let text = reqwest::get(format!("http://{}/metrics", self.notification)).await.unwrap().text().await.unwrap();
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .find(|line| parts.iter().all(|part| line.contains(part)))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|value| value.parse().ok())
            .unwrap_or(0.0)
    }

    /// Waits until that metric reaches `at_least`; returns its value.
    pub(crate) async fn wait_for_metric(&self, parts: &[&str], at_least: f64) -> f64 {
        testkit::wait::until(&format!("{parts:?} reaching {at_least}"), async || self.metric(parts).await >= at_least)
            .await;
        self.metric(parts).await
    }

    pub(crate) async fn messages(&self) -> Vec<(String, String, i32, Option<String>, Option<String>)> {
        let pool = self.db.pool_as("notification").await;
        sqlx::query_as("select kind, status, attempts, provider_id, body_text from messages order by created_at")
            .fetch_all(&pool)
            .await
            .unwrap()
    }
}
