//! A cms service on a fresh database, with the media service beside it (images are real
//! uploads to the run's S3 server) and a storefront revalidation receiver (an HTTP stub: the
//! storefront is a Next.js app we do not run here), called as the gateway would on behalf of a
//! staff member holding `content:write`.

use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use auth_jwt::Role;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use internal_token::Subject;
use serde_json::{Value, json};
use service_kit::Clock;
use testkit::{ServiceCaller, TestDb};
use uuid::Uuid;

type Recorded = (Arc<Mutex<Vec<Call>>>, Arc<AtomicUsize>);

pub(crate) const SECRET: &str = "revalidation-secret-for-tests";

/// One call the receiver got: its `Authorization` header, its JSON body and what it answered.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub authorization: Option<String>,
    pub body: Value,
    pub status: u16,
}

/// The storefront's revalidation route, standing in for Next.js: records every call and fails
/// the first `failures` with a 500.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub url: String,
    calls: Arc<Mutex<Vec<Call>>>,
    failures: Arc<AtomicUsize>,
}

impl Receiver {
    pub(crate) async fn start() -> Self {
        let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
        let failures = Arc::new(AtomicUsize::new(0));
        let state = (calls.clone(), failures.clone());
        let app = Router::new()
            .route(
                "/api/revalidate",
                post(|State((calls, failures)): State<Recorded>, headers: HeaderMap, body: String| async move {
                    let failing =
                        failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                    let status = if failing { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
                    calls.lock().unwrap().push(Call {
                        authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned),
                        body: serde_json::from_str(&body).unwrap_or_default(),
                        status: status.as_u16(),
                    });
                    (status, "{\"revalidated\": true}")
                }),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url: format!("http://{addr}/api/revalidate"), calls, failures }
    }

    pub(crate) fn fail_next(&self, n: usize) {
        self.failures.store(n, Ordering::SeqCst);
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The calls that named `tag`.
    pub(crate) fn calls_for(&self, tag: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.body["tags"].as_array().is_some_and(|t| t.iter().any(|x| x == tag)))
            .collect()
    }

    /// Waits until `n` calls named `tag`; those calls.
    pub(crate) async fn wait_for(&self, tag: &str, n: usize) -> Vec<Call> {
        testkit::wait::until(&format!("{n} revalidation calls for {tag}"), async || self.calls_for(tag).len() >= n)
            .await;
        self.calls_for(tag)
    }
}

pub(crate) struct TestApp {
    pub staff: ServiceCaller,
    pub shopper: ServiceCaller,
    pub public: ServiceCaller,
    pub media_staff: ServiceCaller,
    pub receiver: Receiver,
    pub clock: Clock,
    pub publisher_settings: cms::CmsConfig,
    pub pool: sqlx::PgPool,
    pub http: reqwest::Client,
    /// Kept so the database outlives the test.
    _db: TestDb,
}

impl TestApp {
    pub(crate) async fn spawn() -> Self {
        let db = TestDb::new().await;
        let receiver = Receiver::start().await;
        let s3 = testkit::s3();
        let settings = media::S3Settings::local(
            &s3.endpoint,
            &s3.bucket,
            &s3.access_key,
            &s3.secret_key,
            "https://cdn.example.test/m",
        );
        let media_config = media::MediaConfig::new(testkit::service_config("media", Some(&db)), settings);
        let media_addr = media::build(media_config).await.expect("media starts").spawn();
        let mut service = testkit::service_config("cms", Some(&db));
        testkit::point_at(&mut service, "media", media_addr);
        let mut config = cms::CmsConfig::new(service);
        config.revalidation = Some(cms::Revalidation {
            url: receiver.url.clone(),
            secret: secrecy::SecretString::from(SECRET.to_owned()),
        });
        config.clock = Clock::adjustable();
        config.schedule_interval = std::time::Duration::from_millis(100);
        config.retry_base = std::time::Duration::from_millis(100);
        config.poll_interval = std::time::Duration::from_millis(200);
        config.storefront_url = "https://shop.example.test".into();
        let addr = cms::build(config.clone()).await.expect("cms starts").spawn();
        let staff = |perm: &str| Subject::user(Uuid::now_v7().to_string(), Role::Admin, vec![perm.into()]);
        Self {
            staff: ServiceCaller::new("cms", addr).as_subject(staff("content:write")),
            shopper: ServiceCaller::new("cms", addr).as_subject(Subject::user(
                Uuid::now_v7().to_string(),
                Role::Customer,
                vec![],
            )),
            public: ServiceCaller::new("cms", addr),
            media_staff: ServiceCaller::new("media", media_addr).as_subject(staff("media:write")),
            receiver,
            clock: config.clock.clone(),
            publisher_settings: config,
            pool: db.pool_as("cms").await,
            http: reqwest::Client::new(),
            _db: db,
        }
    }

    /// Uploads a small picture through the media service; its media id.
    pub(crate) async fn upload_image(&self) -> String {
        let picture = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([x as u8 * 6, y as u8 * 8, 90])
        }));
        let mut bytes = Vec::new();
        picture.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        let body = json!({"filename": "hero.png", "content_type": "image/png", "size": bytes.len()});
        let (status, ticket) = self.media_staff.post_json("/media/uploads", body).await;
        assert_eq!(status, 201, "{ticket}");
        let mut put = self.http.put(ticket["url"].as_str().unwrap()).body(bytes);
        for (name, value) in ticket["headers"].as_object().unwrap() {
            if !name.eq_ignore_ascii_case("content-length") {
                put = put.header(name, value.as_str().unwrap());
            }
        }
        assert_eq!(put.send().await.unwrap().status(), 200);
        let id = ticket["upload_id"].as_str().unwrap();
        let (status, media) = self.media_staff.post_json(&format!("/media/uploads/{id}/complete"), json!({})).await;
        assert_eq!(status, 201, "{media}");
        media["media_id"].as_str().unwrap().to_owned()
    }

    /// Creates a page with `blocks`; its draft.
    pub(crate) async fn create_page(&self, slug: &str, blocks: Value) -> Value {
        let (status, page) = self
            .staff
            .post_json("/content/pages", json!({"slug": slug, "title": format!("Page {slug}"), "blocks": blocks}))
            .await;
        assert_eq!(status, 201, "{page}");
        page
    }

    /// POSTs with no body at all (what "publish now" looks like).
    pub(crate) async fn post_empty(&self, path: &str) -> (u16, Value) {
        self.staff.send_json(reqwest::Method::POST, path, None).await
    }

    /// The public GET of a page: status, body and headers.
    pub(crate) async fn public_page(&self, slug: &str, if_none_match: Option<&str>) -> (u16, Value, HeaderMap) {
        let mut request = self.public.request(reqwest::Method::GET, &format!("/content/pages/{slug}"));
        if let Some(tag) = if_none_match {
            request = request.header("if-none-match", tag);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, response.json().await.unwrap_or_default(), headers)
    }
}
