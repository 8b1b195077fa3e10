//! The product service: whether storefront reads are kept in the Redis response cache.

use crate::Setting;

pub const CATALOG_CACHE: Setting = Setting::value(
    "CATALOG_CACHE",
    "on",
    "The product's Redis response cache for storefront reads; `off` only to measure the uncached path.",
)
.choices(&["on", "off"]);

pub const ALL: &[&Setting] = &[&CATALOG_CACHE];
