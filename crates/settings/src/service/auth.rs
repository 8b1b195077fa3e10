//! The auth service: access and refresh tokens, the key ring, sign-in limits, password hashing.

use crate::Setting;
use crate::site::{API_AUDIENCE, AUTH_ISSUER};

pub const ACCESS_SIGNING_KEY_FILE: Setting =
    Setting::required("ACCESS_SIGNING_KEY_FILE", "The private key access tokens are signed with (PKCS#8 PEM).");
pub const ACCESS_SIGNING_KID: Setting =
    Setting::computed("ACCESS_SIGNING_KID", "derived from the key", "The signing key's `kid`.");
pub const AUTH_ENCRYPTION_KEY_FILE: Setting = Setting::required(
    "AUTH_ENCRYPTION_KEY_FILE",
    "32 bytes (base64) sealing TOTP seeds and the key ring's private keys.",
);
pub const ACCESS_TOKEN_TTL_SECS: Setting =
    Setting::value("ACCESS_TOKEN_TTL_SECS", "900", "The lifetime of a shopper's access token.");
pub const ADMIN_ACCESS_TOKEN_TTL_SECS: Setting =
    Setting::value("ADMIN_ACCESS_TOKEN_TTL_SECS", "300", "The lifetime of staff access tokens.");
pub const REFRESH_TOKEN_TTL_SECS: Setting = Setting::value(
    "REFRESH_TOKEN_TTL_SECS",
    "2592000",
    "A refresh token's sliding lifetime (30 days); each refresh slides it.",
);
pub const REFRESH_TOKEN_ABSOLUTE_SECS: Setting = Setting::value(
    "REFRESH_TOKEN_ABSOLUTE_SECS",
    "7776000",
    "No sign-in outlives this (90 days), however often refreshed.",
);
pub const REFRESH_REUSE_GRACE_SECS: Setting = Setting::value(
    "REFRESH_REUSE_GRACE_SECS",
    "10",
    "A refresh token rotated this recently still refreshes (two tabs at once); later it is reuse and ends the session.",
);
pub const ADMIN_SESSION_ABSOLUTE_SECS: Setting = Setting::value(
    "ADMIN_SESSION_ABSOLUTE_SECS",
    "28800",
    "A staff session ends after this (8 h), however often refreshed.",
);
pub const ADMIN_SESSION_IDLE_SECS: Setting = Setting::value(
    "ADMIN_SESSION_IDLE_SECS",
    "1800",
    "... or after this long without a refresh; its refresh token travels only in the HttpOnly `__Host-shopfleet_refresh` cookie.",
);
pub const PASSWORD_HASH_CONCURRENCY: Setting = Setting::computed(
    "PASSWORD_HASH_CONCURRENCY",
    "2 × cores",
    "How many argon2 hashes run at once (each takes ~19 MiB and a core for ~20 ms).",
);
pub const LOGIN_MAX_FAILURES_PER_ACCOUNT: Setting = Setting::value(
    "LOGIN_MAX_FAILURES_PER_ACCOUNT",
    "5",
    "Sign-in failures per account and client network (an IPv6 client is its /64) in a window, reserved before any password check.",
);
pub const LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL: Setting = Setting::value(
    "LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL",
    "50",
    "Sign-in failures per account from anywhere in a window.",
);
pub const LOGIN_MAX_FAILURES_PER_IP: Setting =
    Setting::value("LOGIN_MAX_FAILURES_PER_IP", "50", "Sign-in failures per client network in a window.");
pub const LOGIN_MAX_WRONG_CODES: Setting = Setting::value(
    "LOGIN_MAX_WRONG_CODES",
    "5",
    "Wrong staff second-factor codes per account in a window (then its staff sign-in answers 429 until the window passes).",
);
pub const LOGIN_FAILURE_WINDOW_SECS: Setting =
    Setting::value("LOGIN_FAILURE_WINDOW_SECS", "900", "The window the sign-in limits count in.");
pub const KEY_PUBLISH_DELAY_SECS: Setting = Setting::value(
    "KEY_PUBLISH_DELAY_SECS",
    "360",
    "How long a new signing key is published before it signs (longer than verifiers' JWKS refresh).",
);
pub const KEY_RETIRE_AFTER_SECS: Setting = Setting::computed(
    "KEY_RETIRE_AFTER_SECS",
    "the longest token lifetime + 30",
    "When a superseded key leaves the JWKS, so no valid token loses its key.",
);
pub const KEYRING_RELOAD_SECS: Setting =
    Setting::value("KEYRING_RELOAD_SECS", "30", "How often replicas reload the key ring.");
pub const ALLOWED_ORIGINS: Setting = Setting::value(
    "ALLOWED_ORIGINS",
    crate::site::LOCAL_STOREFRONT,
    "Origins (the storefront, comma-separated) allowed to refresh with the cookie (the CSRF guard).",
);
pub const REFRESH_COOKIE_SECURE: Setting =
    Setting::value("REFRESH_COOKIE_SECURE", "true", "The refresh cookie's Secure flag (keep it outside tests).");

pub const ALL: &[&Setting] = &[
    &AUTH_ISSUER,
    &API_AUDIENCE,
    &ACCESS_SIGNING_KEY_FILE,
    &ACCESS_SIGNING_KID,
    &AUTH_ENCRYPTION_KEY_FILE,
    &ACCESS_TOKEN_TTL_SECS,
    &ADMIN_ACCESS_TOKEN_TTL_SECS,
    &REFRESH_TOKEN_TTL_SECS,
    &REFRESH_TOKEN_ABSOLUTE_SECS,
    &REFRESH_REUSE_GRACE_SECS,
    &ADMIN_SESSION_ABSOLUTE_SECS,
    &ADMIN_SESSION_IDLE_SECS,
    &PASSWORD_HASH_CONCURRENCY,
    &LOGIN_MAX_FAILURES_PER_ACCOUNT,
    &LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL,
    &LOGIN_MAX_FAILURES_PER_IP,
    &LOGIN_MAX_WRONG_CODES,
    &LOGIN_FAILURE_WINDOW_SECS,
    &KEY_PUBLISH_DELAY_SECS,
    &KEY_RETIRE_AFTER_SECS,
    &KEYRING_RELOAD_SECS,
    &ALLOWED_ORIGINS,
    &REFRESH_COOKIE_SECURE,
];
