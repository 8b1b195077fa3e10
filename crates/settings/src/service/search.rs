//! The search service: where its index lives, which replica it is, how many queries run at once.

use crate::Setting;

pub const SEARCH_INDEX_DIR: Setting = Setting::computed(
    "SEARCH_INDEX_DIR",
    "`.dev/search/<replica>`",
    "The replica's own index directory (made, and filled from the catalog, when missing or of an older schema; `/ready` is false until then).",
);
pub const SEARCH_REPLICA: Setting = Setting::computed(
    "SEARCH_REPLICA",
    "the host name",
    "The replica's stable name; its event consumer group is `search.<replica>`, so every replica sees every change.",
);
pub const SEARCH_CONCURRENCY: Setting = Setting::computed(
    "SEARCH_CONCURRENCY",
    "the machine's cores (at least 2)",
    "Queries of each lane (light: at most two words and 24 hits; heavy: the rest) run at once; others wait up to 2 s, then 503 `busy`.",
);

pub const ALL: &[&Setting] = &[&SEARCH_INDEX_DIR, &SEARCH_REPLICA, &SEARCH_CONCURRENCY];
