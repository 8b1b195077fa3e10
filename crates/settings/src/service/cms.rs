//! The cms service: where the storefront is told to revalidate, how it addresses pages and
//! previews, and the pace of the scheduler and the revalidator.

use crate::Setting;
use crate::site::STOREFRONT_URL;

pub const STOREFRONT_REVALIDATE_URL: Setting = Setting::optional(
    "STOREFRONT_REVALIDATE_URL",
    "The storefront's on-demand revalidation route (POSTed `{paths, tags, kind, key, event_id}`); unset, publications are not announced.",
);
pub const STOREFRONT_REVALIDATE_SECRET: Setting = Setting::optional(
    "STOREFRONT_REVALIDATE_SECRET",
    "Sent as `Authorization: Bearer <secret>` to the revalidation route (required with it).",
)
.secret();
pub const CMS_PAGE_PATH: Setting = Setting::value(
    "CMS_PAGE_PATH",
    "/pages/{slug}",
    "A page's path on the storefront (what is revalidated); starts with / and holds {slug}.",
);
pub const CMS_PREVIEW_TTL_SECS: Setting =
    Setting::value("CMS_PREVIEW_TTL_SECS", "86400", "The longest a preview link works.");
pub const CMS_SCHEDULE_INTERVAL_MS: Setting =
    Setting::value("CMS_SCHEDULE_INTERVAL_MS", "5000", "How often scheduled publications are looked for.");
pub const CMS_REVALIDATE_RETRY_BASE_MS: Setting = Setting::value(
    "CMS_REVALIDATE_RETRY_BASE_MS",
    "2000",
    "The revalidation backoff's first wait (doubled per attempt, at most an hour).",
);
pub const CMS_REVALIDATE_MAX_ATTEMPTS: Setting =
    Setting::value("CMS_REVALIDATE_MAX_ATTEMPTS", "10", "Attempts of one revalidation before it is given up.");
pub const CMS_REVALIDATE_POLL_MS: Setting =
    Setting::value("CMS_REVALIDATE_POLL_MS", "5000", "The revalidator's backstop poll (a NOTIFY wakes it sooner).");

pub const ALL: &[&Setting] = &[
    &STOREFRONT_URL,
    &STOREFRONT_REVALIDATE_URL,
    &STOREFRONT_REVALIDATE_SECRET,
    &CMS_PAGE_PATH,
    &CMS_PREVIEW_TTL_SECS,
    &CMS_SCHEDULE_INTERVAL_MS,
    &CMS_REVALIDATE_RETRY_BASE_MS,
    &CMS_REVALIDATE_MAX_ATTEMPTS,
    &CMS_REVALIDATE_POLL_MS,
];
