//! The events of `events.cms`: content that went live or was taken down. They name what the
//! storefront must refresh (its paths and cache tags), so a consumer needs no call back.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A page version, a menu or a snippet went live.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentPublished {
    /// The page's, menu's or snippet's id.
    pub content_id: Uuid,
    /// `page`, `menu` or `snippet`.
    pub kind: String,
    /// The page's slug, or the menu's or snippet's name.
    pub key: String,
    /// The version now live (a page's version number; a menu's or snippet's revision).
    pub version: i32,
    /// Storefront paths to revalidate.
    pub paths: Vec<String>,
    /// Storefront cache tags to revalidate.
    pub tags: Vec<String>,
}

/// A page was taken down (no version is live any more).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentUnpublished {
    pub content_id: Uuid,
    pub kind: String,
    pub key: String,
    pub paths: Vec<String>,
    pub tags: Vec<String>,
}

crate::stream! {
    /// The events of `events.cms`.
    pub enum ContentEvent in "cms" {
        ContentPublished = ("CONTENT_PUBLISHED", 1, aggregate = content_id),
        ContentUnpublished = ("CONTENT_UNPUBLISHED", 1, aggregate = content_id),
    }
}
