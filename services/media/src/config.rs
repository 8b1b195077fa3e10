//! The media service's configuration: the object store (any S3) and the upload limits.

use std::time::Duration;

use secrecy::SecretString;
use service_kit::{ConfigError, EnvReader, ServiceConfig};

use crate::domain::{ImageLimits, parse_variants};

/// Where media are stored and how they are reached.
#[derive(Clone, Debug)]
pub struct S3Settings {
    /// `S3_ENDPOINT` (none: AWS's own endpoints).
    pub endpoint: Option<String>,
    /// `S3_REGION` (default `us-east-1`).
    pub region: String,
    /// `S3_BUCKET` (default `shopfleet-media`).
    pub bucket: String,
    /// `S3_FORCE_PATH_STYLE` (default true when an endpoint is set: local servers, R2, Supabase).
    pub path_style: bool,
    /// `S3_PUBLIC_BASE_URL`: what a stored key is appended to for its public URL (a CDN, or the
    /// bucket's own address); default the endpoint and bucket, path-style.
    pub public_base_url: String,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`.
    pub access_key_id: String,
    pub secret_access_key: SecretString,
}

impl S3Settings {
    /// A local S3 server (path-style, `us-east-1`): the tests' and `cargo xtask up`'s.
    pub fn local(endpoint: &str, bucket: &str, access_key: &str, secret_key: &str, public_base_url: &str) -> Self {
        Self {
            endpoint: Some(endpoint.to_owned()),
            region: "us-east-1".into(),
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
    /// `MEDIA_MAX_BYTES` (default 20 MiB): the largest upload.
    pub max_bytes: i64,
    /// `MEDIA_MAX_PIXELS` (default 25 000 000) and `MEDIA_MAX_SIDE` (default 12 000). Sized to
    /// the pod's 512 MiB (review f5592e3 L6): a 25 MP image decodes to 100 MB of RGBA, its RGB
    /// copy and the variants add about as much again, so one image peaks near 250 MB.
    pub limits: ImageLimits,
    /// `MEDIA_UPLOAD_EXPIRY_SECS` (default 600): how long a presigned upload is valid.
    pub upload_expiry: Duration,
    /// `MEDIA_VARIANTS` (default `thumb=160,medium=640,large=1280`): name and longest side.
    pub variants: Vec<(String, u32)>,
    /// `MEDIA_PROCESSING_CONCURRENCY` (default 1): images decoded and resized at once; the others
    /// wait their turn (so a few large completions cannot exhaust the memory).
    pub processing: usize,
}

pub const DEFAULT_VARIANTS: &str = "thumb=160,medium=640,large=1280";

impl MediaConfig {
    /// Defaults around a shared config and the object store.
    pub fn new(service: ServiceConfig, s3: S3Settings) -> Self {
        Self {
            service,
            s3,
            max_bytes: 20 << 20,
            limits: ImageLimits { max_pixels: 25_000_000, max_side: 12_000 },
            upload_expiry: Duration::from_secs(600),
            variants: parse_variants(DEFAULT_VARIANTS).expect("the default variants parse"),
            processing: 1,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let endpoint = env.optional("S3_ENDPOINT").filter(|e| !e.is_empty());
        let region = env.optional("S3_REGION").unwrap_or_else(|| "us-east-1".into());
        let bucket = env.optional("S3_BUCKET").unwrap_or_else(|| "shopfleet-media".into());
        let path_style = env.parse_or("S3_FORCE_PATH_STYLE", endpoint.is_some());
        let public_base_url = env
            .optional("S3_PUBLIC_BASE_URL")
            .or_else(|| endpoint.as_ref().map(|e| format!("{}/{bucket}", e.trim_end_matches('/'))));
        if public_base_url.is_none() {
            env.problem("S3_PUBLIC_BASE_URL is required when S3_ENDPOINT is not set");
        }
        let access_key_id = env.required_secret("AWS_ACCESS_KEY_ID");
        let secret_access_key = env.required_secret("AWS_SECRET_ACCESS_KEY");
        let max_bytes = env.parse_or("MEDIA_MAX_BYTES", 20i64 << 20);
        let max_pixels = env.parse_or("MEDIA_MAX_PIXELS", 25_000_000u64);
        let processing = env.parse_or("MEDIA_PROCESSING_CONCURRENCY", 1usize);
        if processing == 0 {
            env.problem("MEDIA_PROCESSING_CONCURRENCY must be at least 1");
        }
        let max_side = env.parse_or("MEDIA_MAX_SIDE", 12_000u32);
        let upload_expiry = env.seconds_or("MEDIA_UPLOAD_EXPIRY_SECS", 600);
        let variants_text = env.optional("MEDIA_VARIANTS").unwrap_or_else(|| DEFAULT_VARIANTS.into());
        let variants = parse_variants(&variants_text);
        if variants.is_none() {
            env.problem("MEDIA_VARIANTS must read like thumb=160,medium=640 (sides 16 to 4096)");
        }
        env.finish()?;
        let service = service.expect("no problems means every field was read");
        Ok(Self {
            service,
            s3: S3Settings {
                endpoint,
                region,
                bucket,
                path_style,
                public_base_url: public_base_url.expect("checked"),
                access_key_id: access_key_id.expect("checked"),
                secret_access_key: SecretString::from(secret_access_key.expect("checked")),
            },
            max_bytes,
            limits: ImageLimits { max_pixels, max_side },
            upload_expiry,
            variants: variants.expect("checked"),
            processing,
        })
    }
}
