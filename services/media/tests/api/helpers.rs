//! A media service on a fresh database and the run's S3 server, called as the gateway would on
//! behalf of a staff member holding `media:write`.

use std::io::Cursor;

use auth_jwt::Role;
use image::{DynamicImage, ImageFormat};
use internal_token::Subject;
use serde_json::{Value, json};
use testkit::{ServiceCaller, TestDb};
use uuid::Uuid;

pub(crate) struct TestApp {
    pub staff: ServiceCaller,
    pub other_staff: ServiceCaller,
    pub public: ServiceCaller,
    pub objects: media::s3::ObjectStore,
    pub settings: media::S3Settings,
    pub pool: sqlx::PgPool,
    pub http: reqwest::Client,
    pub redis_prefix: String,
    pub db: TestDb,
}

pub(crate) fn settings() -> media::S3Settings {
    let s3 = testkit::s3();
    let cdn = "https://cdn.example.test/media-bucket";
    media::S3Settings::local(&s3.endpoint, &s3.bucket, &s3.access_key, &s3.secret_key, cdn)
}

impl TestApp {
    pub(crate) async fn spawn() -> Self {
        let db = TestDb::new().await;
        let settings = settings();
        let service = testkit::service_config("media", Some(&db));
        let redis_prefix = service.redis.as_ref().expect("redis").key_prefix.clone();
        let mut config = media::MediaConfig::new(service, settings.clone());
        config.limits = media::domain::ImageLimits { max_pixels: 4_000_000, max_side: 4000 };
        config.max_bytes = 5 << 20;
        let addr = media::build(config).await.expect("media starts").spawn();
        let staff = |id: Uuid| Subject::user(id.to_string(), Role::Admin, vec!["media:write".into()]);
        Self {
            staff: ServiceCaller::new("media", addr).as_subject(staff(Uuid::now_v7())),
            other_staff: ServiceCaller::new("media", addr).as_subject(staff(Uuid::now_v7())),
            public: ServiceCaller::new("media", addr),
            objects: media::s3::ObjectStore::new(&settings),
            settings,
            pool: db.pool_as("media").await,
            http: reqwest::Client::new(),
            redis_prefix,
            db,
        }
    }

    /// The catalog on the same database and event streams, as staff holding `catalog:write`,
    /// and a search replica that indexes it (its index in `dir`).
    pub(crate) async fn catalog_and_search(&self, dir: &std::path::Path) -> (ServiceCaller, ServiceCaller) {
        let config = |service| {
            let mut config = testkit::service_config(service, Some(&self.db));
            config.redis.as_mut().expect("redis").key_prefix = self.redis_prefix.clone();
            config
        };
        let addr =
            product::build(product::ProductConfig::new(config("product"))).await.expect("product starts").spawn();
        let staff = Subject::user(Uuid::now_v7().to_string(), Role::Admin, vec!["catalog:write".into()]);
        let mut search_config = config("search");
        testkit::point_at(&mut search_config, "product", addr);
        let search = search::build(search::SearchConfig::new(search_config, dir.to_owned(), "media-test"))
            .await
            .expect("search starts")
            .spawn();
        (ServiceCaller::new("product", addr).as_subject(staff), ServiceCaller::new("search", search))
    }

    /// Starts an upload; the ticket.
    pub(crate) async fn ticket(&self, filename: &str, content_type: &str, size: usize) -> Value {
        let body = json!({"filename": filename, "content_type": content_type, "size": size});
        let (status, ticket) = self.staff.post_json("/media/uploads", body).await;
        assert_eq!(status, 201, "{ticket}");
        ticket
    }

    /// PUTs `bytes` to a ticket's presigned URL with its headers (a plain HTTP client, as a
    /// browser would); the store's status.
    pub(crate) async fn put(&self, ticket: &Value, bytes: Vec<u8>) -> u16 {
        let mut request = self.http.put(ticket["url"].as_str().unwrap()).body(bytes);
        for (name, value) in ticket["headers"].as_object().unwrap() {
            if name.eq_ignore_ascii_case("content-length") {
                continue; // the client sets it from the body
            }
            request = request.header(name, value.as_str().unwrap());
        }
        request.send().await.unwrap().status().as_u16()
    }

    /// Uploads and completes: (status, body).
    pub(crate) async fn upload(&self, content_type: &str, bytes: Vec<u8>) -> (u16, Value) {
        let ticket = self.ticket("picture", content_type, bytes.len()).await;
        assert_eq!(self.put(&ticket, bytes).await, 200);
        self.complete(&ticket).await
    }

    pub(crate) async fn complete(&self, ticket: &Value) -> (u16, Value) {
        let id = ticket["upload_id"].as_str().unwrap();
        self.staff.post_json(&format!("/media/uploads/{id}/complete"), json!({})).await
    }

    /// The object key of a public URL.
    pub(crate) fn key_of(&self, url: &str) -> String {
        url.strip_prefix(&format!("{}/", self.settings.public_base_url)).expect("a public URL").to_owned()
    }
}

/// An image of `width`×`height` in `format` with a gradient (so encoders have work to do).
pub(crate) fn picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let picture = DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    }));
    let mut bytes = Vec::new();
    picture.write_to(&mut Cursor::new(&mut bytes), format).unwrap();
    bytes
}

/// A one-colour PNG: a few kilobytes however many pixels (what a decompression bomb is).
pub(crate) fn blank_png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    DynamicImage::new_luma8(width, height).write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
    bytes
}

/// A JPEG with an EXIF segment that holds a GPS note, right after the start marker.
pub(crate) fn jpeg_with_exif(note: &str) -> Vec<u8> {
    let jpeg = picture(64, 48, ImageFormat::Jpeg);
    // "Exif\0\0", a big-endian TIFF header, an empty IFD, then the note.
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(note.as_bytes());
    let length = (exif.len() + 2) as u16;
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}
