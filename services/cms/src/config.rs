//! The cms service's configuration: where the storefront is told to revalidate, how the
//! storefront addresses pages and previews, and the pace of the scheduler and the revalidator.

use std::time::Duration;

use secrecy::SecretString;
use service_kit::{Clock, ConfigError, EnvReader, ServiceConfig};

/// The storefront's on-demand revalidation hook (Next.js: `revalidatePath` / `revalidateTag`
/// behind a route that checks a shared secret).
#[derive(Clone, Debug)]
pub struct Revalidation {
    /// `STOREFRONT_REVALIDATE_URL`: POSTed `{"paths": [...], "tags": [...]}`.
    pub url: String,
    /// `STOREFRONT_REVALIDATE_SECRET`: sent as `Authorization: Bearer <secret>`.
    pub secret: SecretString,
}

#[derive(Clone, Debug)]
pub struct CmsConfig {
    pub service: ServiceConfig,
    /// `None` (no `STOREFRONT_REVALIDATE_URL`): publications are not announced to a storefront.
    pub revalidation: Option<Revalidation>,
    /// `STOREFRONT_URL` (default `http://localhost:3000`): preview links point there.
    pub storefront_url: String,
    /// `CMS_PAGE_PATH` (default `/pages/{slug}`): a page's path on the storefront.
    pub page_path: String,
    /// `CMS_PREVIEW_TTL_SECS` (default 86400): how long a preview link works at most.
    pub preview_ttl: Duration,
    /// `CMS_SCHEDULE_INTERVAL_MS` (default 5000): how often due publications are looked for.
    pub schedule_interval: Duration,
    /// `CMS_REVALIDATE_RETRY_BASE_MS` (default 2000, doubled per attempt, at most an hour) and
    /// `CMS_REVALIDATE_MAX_ATTEMPTS` (default 10).
    pub retry_base: Duration,
    pub max_attempts: i32,
    /// `CMS_REVALIDATE_POLL_MS` (default 5000): the revalidator's backstop poll (NOTIFY wakes it).
    pub poll_interval: Duration,
    /// Now, for the scheduler (tests move it ahead).
    pub clock: Clock,
}

impl CmsConfig {
    /// Defaults around a shared config: no revalidation hook.
    pub fn new(service: ServiceConfig) -> Self {
        Self {
            service,
            revalidation: None,
            storefront_url: "http://localhost:3000".into(),
            page_path: "/pages/{slug}".into(),
            preview_ttl: Duration::from_secs(86_400),
            schedule_interval: Duration::from_secs(5),
            retry_base: Duration::from_secs(2),
            max_attempts: 10,
            poll_interval: Duration::from_secs(5),
            clock: Clock::system(),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let revalidation = match env.optional("STOREFRONT_REVALIDATE_URL").filter(|u| !u.is_empty()) {
            None => None,
            Some(url) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    env.problem("STOREFRONT_REVALIDATE_URL must be an http(s) URL");
                }
                let secret = env.required("STOREFRONT_REVALIDATE_SECRET").unwrap_or_default();
                Some(Revalidation { url, secret: SecretString::from(secret) })
            }
        };
        let storefront_url = env.optional("STOREFRONT_URL").unwrap_or_else(|| "http://localhost:3000".into());
        let page_path = env.optional("CMS_PAGE_PATH").unwrap_or_else(|| "/pages/{slug}".into());
        if !page_path.starts_with('/') || !page_path.contains("{slug}") {
            env.problem("CMS_PAGE_PATH must start with / and contain {slug}");
        }
        let preview_ttl = env.seconds_or("CMS_PREVIEW_TTL_SECS", 86_400);
        let schedule_interval = Duration::from_millis(env.parse_or("CMS_SCHEDULE_INTERVAL_MS", 5000));
        let retry_base = Duration::from_millis(env.parse_or("CMS_REVALIDATE_RETRY_BASE_MS", 2000));
        let max_attempts = env.parse_or("CMS_REVALIDATE_MAX_ATTEMPTS", 10);
        let poll_interval = Duration::from_millis(env.parse_or("CMS_REVALIDATE_POLL_MS", 5000));
        env.finish()?;
        Ok(Self {
            service: service.expect("finish() reported what was missing"),
            revalidation,
            storefront_url: storefront_url.trim_end_matches('/').to_owned(),
            page_path,
            preview_ttl,
            schedule_interval,
            retry_base,
            max_attempts,
            poll_interval,
            clock: Clock::system(),
        })
    }
}
