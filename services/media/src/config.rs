//! The media service's configuration: the object store (any S3) and the upload limits.

use std::time::Duration;

use secrecy::SecretString;
use service_kit::{ConfigError, EnvReader, ServiceConfig};
use settings::service::media as declared;

use crate::domain::{ImageLimits, parse_variants};

/// Where media are stored and how they are reached.
#[derive(Clone, Debug)]
pub struct S3Settings {
    /// None: AWS's own endpoints.
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    /// Path-style addresses (by default when an endpoint is set: local servers, R2, Supabase).
    pub path_style: bool,
    /// What a stored key is appended to for its public URL (a CDN, or the
    /// bucket's own address); default the endpoint and bucket, path-style.
    pub public_base_url: String,
    /// The store's credentials.
    pub access_key_id: String,
    pub secret_access_key: SecretString,
}

impl S3Settings {
    /// A local S3 server (path-style, `us-east-1`): the tests' and `cargo xtask up`'s.
    pub fn local(endpoint: &str, bucket: &str, access_key: &str, secret_key: &str, public_base_url: &str) -> Self {
        Self {
            endpoint: Some(endpoint.to_owned()),
            region: declared::S3_REGION.default_value().unwrap_or_default().to_owned(),
            bucket: bucket.to_owned(),
            path_style: true,
            public_base_url: public_base_url.to_owned(),
            access_key_id: access_key.to_owned(),
            secret_access_key: SecretString::from(secret_key.to_owned()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct MediaConfig {
    pub service: ServiceConfig,
    pub s3: S3Settings,
    /// The largest upload.
    pub max_bytes: i64,
    /// The pixel limits checked before decoding, sized to
    /// the pod's 512 MiB (review f5592e3 L6): a 25 MP image decodes to 100 MB of RGBA, its RGB
    /// copy and the variants add about as much again, so one image peaks near 250 MB.
    pub limits: ImageLimits,
    /// How long a presigned upload is valid.
    pub upload_expiry: Duration,
    /// The renditions: name and longest side.
    pub variants: Vec<(String, u32)>,
    /// Images decoded and resized at once; the others
    /// wait their turn (so a few large completions cannot exhaust the memory).
    pub processing: usize,
}

impl MediaConfig {
    /// The declared defaults around a shared config and the object store.
    pub fn new(service: ServiceConfig, s3: S3Settings) -> Self {
        EnvReader::defaults(crate::SERVICE, |env| Some(Self::limits(env).into_config(service, s3)))
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        ServiceConfig::read_with(crate::SERVICE, EnvReader::from_env(), |env, service| {
            let s3 = Self::store(env);
            let limits = Self::limits(env);
            Some(limits.into_config(service?, s3?))
        })
    }

    fn store(env: &mut EnvReader) -> Option<S3Settings> {
        let endpoint = env.text(&declared::S3_ENDPOINT);
        let region = env.get(&declared::S3_REGION);
        let bucket: String = env.get(&declared::S3_BUCKET);
        let path_style = env.parse(&declared::S3_FORCE_PATH_STYLE).unwrap_or(endpoint.is_some());
        let public_base_url = env
            .text(&declared::S3_PUBLIC_BASE_URL)
            .or_else(|| endpoint.as_ref().map(|e| format!("{}/{bucket}", e.trim_end_matches('/'))));
        if public_base_url.is_none() {
            env.problem(format!(
                "{} is required when {} is not set",
                declared::S3_PUBLIC_BASE_URL.name,
                declared::S3_ENDPOINT.name
            ));
        }
        let access_key_id = env.secret(&declared::AWS_ACCESS_KEY_ID);
        let secret_access_key = env.secret(&declared::AWS_SECRET_ACCESS_KEY);
        Some(S3Settings {
            endpoint,
            region,
            bucket,
            path_style,
            public_base_url: public_base_url?,
            access_key_id: access_key_id?,
            secret_access_key: SecretString::from(secret_access_key?),
        })
    }

    fn limits(env: &mut EnvReader) -> Limits {
        let processing = env.get(&declared::MEDIA_PROCESSING_CONCURRENCY);
        if processing == 0 {
            env.problem(format!("{} must be at least 1", declared::MEDIA_PROCESSING_CONCURRENCY.name));
        }
        let variants_text: String = env.get(&declared::MEDIA_VARIANTS);
        let variants = parse_variants(&variants_text).unwrap_or_else(|| {
            env.problem(format!(
                "{} must read like thumb=160,medium=640 (sides 16 to 4096)",
                declared::MEDIA_VARIANTS.name
            ));
            Vec::new()
        });
        Limits {
            max_bytes: env.get(&declared::MEDIA_MAX_BYTES),
            image: ImageLimits {
                max_pixels: env.get(&declared::MEDIA_MAX_PIXELS),
                max_side: env.get(&declared::MEDIA_MAX_SIDE),
            },
            upload_expiry: env.seconds(&declared::MEDIA_UPLOAD_EXPIRY_SECS),
            variants,
            processing,
        }
    }
}

/// The upload limits, read apart from the store (tests bring their own store).
struct Limits {
    max_bytes: i64,
    image: ImageLimits,
    upload_expiry: Duration,
    variants: Vec<(String, u32)>,
    processing: usize,
}

impl Limits {
    fn into_config(self, service: ServiceConfig, s3: S3Settings) -> MediaConfig {
        MediaConfig {
            service,
            s3,
            max_bytes: self.max_bytes,
            limits: self.image,
            upload_expiry: self.upload_expiry,
            variants: self.variants,
            processing: self.processing,
        }
    }
}
