//! The events of `events.media`: images uploaded and deleted. They carry the public URLs, so a
//! service that shows images (the catalog) keeps them without a call per request.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shop_types::MediaId;

/// An image was uploaded, checked, re-encoded and stored with its variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaUploaded {
    pub media_id: MediaId,
    /// The re-encoded original.
    pub url: String,
    /// Variant name (`thumb`, `medium`, `large`) → JPEG URL.
    pub variants: BTreeMap<String, String>,
    /// Variant name → WebP URL.
    pub webp: BTreeMap<String, String>,
    pub width: u32,
    pub height: u32,
}

/// An image and its variants were deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaDeleted {
    pub media_id: MediaId,
}

crate::stream! {
    /// The events of `events.media`.
    pub enum MediaEvent in "media" {
        MediaUploaded = ("MEDIA_UPLOADED", 1, aggregate = media_id),
        MediaDeleted = ("MEDIA_DELETED", 1, aggregate = media_id),
    }
}
