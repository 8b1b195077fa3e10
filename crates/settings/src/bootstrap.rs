//! The production bootstrap's settings (`bootstrap keys|stores`, the compose one-shots and the
//! Kubernetes Job).

use crate::Setting;

/// The bootstrap, as [`crate::of`] knows it.
pub const NAME: &str = "bootstrap";

pub const KEYS_DIR: Setting = Setting::required("KEYS_DIR", "Where the keys and secrets are made and kept.");
pub const POSTGRES_ADMIN_URL: Setting =
    Setting::required("POSTGRES_ADMIN_URL", "`stores`: PostgreSQL as a role that may create roles and schemas.");
pub const POSTGRES_PASSWORD: Setting =
    Setting::optional("POSTGRES_PASSWORD", "`stores`: that role's password apart from the URL.").secret();
pub const DATABASE_NAME: Setting =
    Setting::value("DATABASE_NAME", "shopfleet", "`stores`: the database the schemas go in.");
pub const REDIS_ADMIN_URL: Setting = Setting::required(
    "REDIS_ADMIN_URL",
    "`stores`: Redis as its administrator, who creates the services' ACL users (every node of a cluster, comma-separated).",
);
pub const DATABASE_SCHEMA_OF: Setting = Setting::computed(
    "DATABASE_SCHEMA_<NAME>",
    "the service's default schema",
    "The schema of service NAME (`DATABASE_SCHEMA_AUTH=shop_auth`); the service gets it as its `DATABASE_SCHEMA`.",
);

pub const ALL: &[&Setting] = &[
    &KEYS_DIR,
    &POSTGRES_ADMIN_URL,
    &POSTGRES_PASSWORD,
    &DATABASE_NAME,
    &REDIS_ADMIN_URL,
    &crate::shared::REDIS_PASSWORD,
    &DATABASE_SCHEMA_OF,
];
