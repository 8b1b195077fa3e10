//! The object store: any S3 (AWS, R2, Supabase Storage; locally s3s-fs) through aws-sdk-s3.
//! Presigned PUTs for uploads (content type and length signed, so S3 itself refuses another
//! size), reads of the raw upload, writes of immutable renditions, deletes.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use secrecy::ExposeSecret;

use crate::config::S3Settings;

/// Cache-Control of every stored rendition: its key names its content, so it never changes.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[derive(Debug, thiserror::Error)]
#[error("object store: {0}")]
pub struct StoreError(pub String);

fn failed(error: impl std::fmt::Display) -> StoreError {
    StoreError(error.to_string())
}

/// A presigned upload.
pub struct Presigned {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct ObjectStore {
    client: Client,
    bucket: String,
    public_base: String,
}

impl ObjectStore {
    pub fn new(settings: &S3Settings) -> Self {
        let credentials = Credentials::new(
            settings.access_key_id.clone(),
            settings.secret_access_key.expose_secret(),
            None,
            None,
            "shopfleet-config",
        );
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(settings.path_style);
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint.clone());
        }
        Self {
            client: Client::from_conf(config.build()),
            bucket: settings.bucket.clone(),
            public_base: settings.public_base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The public URL of an object: the configured base and the key, no query string.
    pub fn public_url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_base)
    }

    /// A PUT of exactly `size` bytes of `content_type` to `key`, valid for `expires_in`.
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: i64,
        expires_in: Duration,
    ) -> Result<Presigned, StoreError> {
        let presigning = PresigningConfig::expires_in(expires_in).map_err(failed)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(size)
            .presigned(presigning)
            .await
            .map_err(failed)?;
        let headers = request.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        Ok(Presigned { url: request.uri().to_owned(), headers })
    }

    /// The object's bytes, or `None` when there is none; at most `max` bytes are read.
    pub async fn get(&self, key: &str, max: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let object = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(object) => object,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 404) => return Ok(None),
            Err(error) => return Err(failed(aws_sdk_s3::error::DisplayErrorContext(error))),
        };
        if object.content_length().is_some_and(|n| n > max) {
            return Err(StoreError(format!("the object is larger than {max} bytes")));
        }
        let bytes = object.body.collect().await.map_err(failed)?.into_bytes();
        Ok(Some(bytes.to_vec()))
    }

    /// An object's type, cache policy and length, or `None` when there is none.
    pub async fn head(&self, key: &str) -> Result<Option<(String, String, i64)>, StoreError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(head) => Ok(Some((
                head.content_type().unwrap_or_default().to_owned(),
                head.cache_control().unwrap_or_default().to_owned(),
                head.content_length().unwrap_or_default(),
            ))),
            Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(error) => Err(failed(aws_sdk_s3::error::DisplayErrorContext(error))),
        }
    }

    /// Stores an immutable rendition.
    pub async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .cache_control(IMMUTABLE)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| failed(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    /// Deletes an object (deleting a missing one is no error).
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| failed(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    /// Whether the bucket answers (readiness).
    pub async fn reachable(&self) -> Result<(), String> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(e).to_string())
    }
}
