//! What every service reads (service-kit's `ServiceConfig`, the database and Redis set-up, the
//! logs and error reports).

use crate::Setting;

pub const BIND_ADDR: Setting = Setting::computed("BIND_ADDR", "`127.0.0.1:<port>`", "Where the service listens.");
pub const DATABASE_URL: Setting = Setting::required(
    "DATABASE_URL",
    "The service's own login role, e.g. `postgres://shopfleet_product@host:5432/shopfleet?sslmode=require` (data owners only).",
);
pub const DATABASE_PASSWORD: Setting =
    Setting::optional("DATABASE_PASSWORD", "The role's password apart from `DATABASE_URL` (put into it).").secret();
pub const DATABASE_SCHEMA: Setting = Setting::computed(
    "DATABASE_SCHEMA",
    "its schema (`auth`, `users`, `catalog`, …)",
    "The schema it owns; on Supabase give auth another one than `auth`, which Supabase reserves.",
);
pub const DATABASE_MAX_CONNECTIONS: Setting = Setting::value("DATABASE_MAX_CONNECTIONS", "10", "The pool's size.");
pub const DATABASE_STATEMENT_CACHE: Setting = Setting::value(
    "DATABASE_STATEMENT_CACHE",
    "true",
    "`false` behind Supabase's transaction-mode pooler (port 6543), which keeps no prepared statements.",
);
pub const REDIS_URL: Setting = Setting::required(
    "REDIS_URL",
    "Redis, naming the service's ACL user (`redis://shopfleet_<name>@host:6379`); seed nodes comma-separated for a cluster.",
);
pub const REDIS_PASSWORD: Setting = Setting::optional(
    "REDIS_PASSWORD",
    "The password of the Redis user the URL names, apart from the URL (the bootstrap's: the administrator's).",
)
.secret();
pub const REDIS_KEY_PREFIX: Setting =
    Setting::value("REDIS_KEY_PREFIX", "", "A prefix for every key and stream (several shops on one Redis).");
pub const REDIS_CLUSTER: Setting = Setting::value(
    "REDIS_CLUSTER",
    "false",
    "`REDIS_URL` is a Redis Cluster (several URLs imply one); every key one script touches shares a hash tag.",
);
pub const SHOP_CURRENCY: Setting = Setting::value(
    "SHOP_CURRENCY",
    "EUR",
    "The shop's one currency (ISO 4217): every price and total is in it, anything else is refused.",
);
pub const SHOP_ENV: Setting = Setting::value(
    "SHOP_ENV",
    "production",
    "What `cargo xtask up`, the tests and the compose stack set to `development`: only there may payment run the sandbox.",
)
.choices(&["production", "development"]);
pub const INTERNAL_KEY_FILE: Setting =
    Setting::required("INTERNAL_KEY_FILE", "This service's private internal-token key (PKCS#8 PEM).");
pub const INTERNAL_JWKS_FILE: Setting =
    Setting::required("INTERNAL_JWKS_FILE", "Every service's internal public key (a JWKS, `kid` = service name).");
pub const INTERNAL_TOKEN_TTL_SECS: Setting =
    Setting::value("INTERNAL_TOKEN_TTL_SECS", "60", "The lifetime of minted internal tokens (at most 60).");
pub const SERVICE_URL: Setting = Setting::computed(
    "<NAME>_URL",
    "`http://127.0.0.1:<port>`",
    "Where another service is (`ORDER_URL`, …); comma-separated for replicas.",
);
pub const SHUTDOWN_TIMEOUT_SECS: Setting =
    Setting::value("SHUTDOWN_TIMEOUT_SECS", "20", "How long in-flight requests may finish after SIGTERM.");
pub const MAX_BODY_BYTES: Setting =
    Setting::value("MAX_BODY_BYTES", "262144", "The largest JSON body a handler reads.");
pub const CLIENT_CONNECT_TIMEOUT_MS: Setting =
    Setting::value("CLIENT_CONNECT_TIMEOUT_MS", "2000", "The internal HTTP client's connect timeout.");
pub const CLIENT_REQUEST_TIMEOUT_MS: Setting =
    Setting::value("CLIENT_REQUEST_TIMEOUT_MS", "10000", "The internal HTTP client's request timeout.");
pub const LOG_FORMAT: Setting =
    Setting::value("LOG_FORMAT", "json", "`pretty` for human-readable log lines.").choices(&["json", "pretty"]);
pub const RUST_LOG: Setting = Setting::value(
    "RUST_LOG",
    "info,sqlx=warn,hyper=warn,h2=warn,tower=warn",
    "The log filter (tracing's `EnvFilter` syntax).",
);
pub const SENTRY_DSN: Setting =
    Setting::optional("SENTRY_DSN", "Report 5xx answers, panics and dead letters to this Sentry-compatible endpoint.")
        .secret();
pub const SENTRY_ENVIRONMENT: Setting =
    Setting::optional("SENTRY_ENVIRONMENT", "The environment Sentry reports are tagged with.");
pub const TOKIO_WORKER_THREADS: Setting = Setting::computed(
    "TOKIO_WORKER_THREADS",
    "one per core",
    "Async worker threads; on 2 shared cores 1 per process measured ~20% less CPU per request at the gateway.",
);

/// Read by every service.
pub const ALL: &[&Setting] = &[
    &BIND_ADDR,
    &DATABASE_URL,
    &DATABASE_PASSWORD,
    &DATABASE_SCHEMA,
    &DATABASE_MAX_CONNECTIONS,
    &DATABASE_STATEMENT_CACHE,
    &REDIS_URL,
    &REDIS_PASSWORD,
    &REDIS_KEY_PREFIX,
    &REDIS_CLUSTER,
    &SHOP_CURRENCY,
    &SHOP_ENV,
    &INTERNAL_KEY_FILE,
    &INTERNAL_JWKS_FILE,
    &INTERNAL_TOKEN_TTL_SECS,
    &SERVICE_URL,
    &SHUTDOWN_TIMEOUT_SECS,
    &MAX_BODY_BYTES,
    &CLIENT_CONNECT_TIMEOUT_MS,
    &CLIENT_REQUEST_TIMEOUT_MS,
    &LOG_FORMAT,
    &RUST_LOG,
    &SENTRY_DSN,
    &SENTRY_ENVIRONMENT,
    &TOKIO_WORKER_THREADS,
];
