//! The gateway: access-token checks, rate limits, circuit breakers, CORS and trusted proxies.

use crate::Setting;
use crate::site::{API_AUDIENCE, AUTH_ISSUER};

pub const JWKS_REFRESH_SECS: Setting =
    Setting::value("JWKS_REFRESH_SECS", "300", "How often auth's JWKS is fetched anyway.");
pub const JWKS_MIN_REFRESH_SECS: Setting = Setting::value(
    "JWKS_MIN_REFRESH_SECS",
    "10",
    "The least time between two JWKS fetches that unknown `kid`s trigger.",
);
pub const ROUTE_TIMEOUT_MS: Setting =
    Setting::computed("ROUTE_TIMEOUT_MS", "per route", "Replaces every route's own timeout (tests use short ones).");
pub const RATE_LIMIT_CREDENTIALS: Setting = Setting::value(
    "RATE_LIMIT_CREDENTIALS",
    "20/60/10",
    "GCRA limit `count/period_secs/burst` of sign-in and sign-up routes, per client network.",
);
pub const RATE_LIMIT_READ: Setting =
    Setting::value("RATE_LIMIT_READ", "50/1/100", "Limit of reads, per user (anonymous callers: per client network).");
pub const RATE_LIMIT_WRITE: Setting = Setting::value("RATE_LIMIT_WRITE", "10/1/20", "Limit of writes, per user.");
pub const RATE_LIMIT_WEBHOOK: Setting =
    Setting::value("RATE_LIMIT_WEBHOOK", "100/1/200", "Limit of payment providers' webhooks, per network.");
pub const RATE_LIMIT_TRACKING: Setting =
    Setting::value("RATE_LIMIT_TRACKING", "20/1/50", "Limit of analytics tracking events, per visitor.");
pub const RATE_LIMIT_ADMIN: Setting = Setting::value("RATE_LIMIT_ADMIN", "20/1/40", "Limit of staff routes, per user.");
pub const BREAKER_FAILURES: Setting =
    Setting::value("BREAKER_FAILURES", "5", "Failures in a row that open an upstream instance's circuit breaker.");
pub const BREAKER_OPEN_MS: Setting =
    Setting::value("BREAKER_OPEN_MS", "10000", "How long an open breaker sends nothing to its instance.");
pub const CORS_ORIGINS: Setting = Setting::value(
    "CORS_ORIGINS",
    crate::site::LOCAL_STOREFRONT,
    "Storefront origins allowed by CORS (comma-separated).",
);
pub const TRUSTED_PROXIES: Setting = Setting::optional(
    "TRUSTED_PROXIES",
    "Peers (CIDR ranges, comma-separated: NGINX's) whose `X-Real-IP` names the client; any other peer is the client itself (`cargo xtask up`: `127.0.0.2/32`).",
);

pub const ALL: &[&Setting] = &[
    &AUTH_ISSUER,
    &API_AUDIENCE,
    &JWKS_REFRESH_SECS,
    &JWKS_MIN_REFRESH_SECS,
    &ROUTE_TIMEOUT_MS,
    &RATE_LIMIT_CREDENTIALS,
    &RATE_LIMIT_READ,
    &RATE_LIMIT_WRITE,
    &RATE_LIMIT_WEBHOOK,
    &RATE_LIMIT_TRACKING,
    &RATE_LIMIT_ADMIN,
    &BREAKER_FAILURES,
    &BREAKER_OPEN_MS,
    &CORS_ORIGINS,
    &TRUSTED_PROXIES,
];
