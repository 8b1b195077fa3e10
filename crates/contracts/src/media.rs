//! The media service's internal contract (caller: cms): media items by id with their public
//! URLs, so a published page carries the image addresses the storefront shows.

use std::collections::BTreeMap;

use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::InternalClient;
use service_kit::fleet::MEDIA;
use uuid::Uuid;

use crate::types::MediaId;
use crate::{CallError, call_json};

/// `GET /internal/media?ids=a,b` (at most [`MAX_MEDIA`]).
pub const MEDIA_PATH: &str = "/internal/media";
pub const MAX_MEDIA: usize = 100;

/// A media item's public addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    pub media_id: MediaId,
    /// The re-encoded original.
    pub url: String,
    /// Variant name → JPEG URL.
    pub variants: BTreeMap<String, String>,
    /// Variant name → WebP URL.
    pub webp: BTreeMap<String, String>,
    pub width: i32,
    pub height: i32,
}

/// The answer: the media found (an unknown or deleted id is simply absent).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MediaItems {
    pub items: Vec<MediaInfo>,
}

/// Calls the media service.
#[derive(Clone)]
pub struct MediaClient {
    client: InternalClient,
}

impl MediaClient {
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// These media items (at most [`MAX_MEDIA`]); an unknown or deleted id is absent.
    pub async fn find(&self, ids: &[Uuid]) -> Result<Vec<MediaInfo>, CallError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let path = format!("{MEDIA_PATH}?ids={}", ids.join(","));
        let request = self.client.request(Method::GET, MEDIA, &path, &Subject::anonymous());
        Ok(call_json::<MediaItems>(MEDIA, request).await?.items)
    }
}
