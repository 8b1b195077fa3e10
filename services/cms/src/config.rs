//! The cms service's configuration: where the storefront is told to revalidate, how the
//! storefront addresses pages and previews, and the pace of the scheduler and the revalidator.

use std::time::Duration;

use secrecy::SecretString;
use service_kit::{Clock, ConfigError, EnvReader, ServiceConfig};
use settings::service::cms as declared;
use settings::site::STOREFRONT_URL;

/// The storefront's on-demand revalidation hook (Next.js: `revalidatePath` / `revalidateTag`
/// behind a route that checks a shared secret).
#[derive(Clone, Debug)]
pub struct Revalidation {
    /// POSTed `{"paths": [...], "tags": [...]}`.
    pub url: String,
    /// Sent as `Authorization: Bearer <secret>`.
    pub secret: SecretString,
}

#[derive(Clone, Debug)]
pub struct CmsConfig {
    pub service: ServiceConfig,
    /// `None` (no revalidation URL): publications are not announced to a storefront.
    pub revalidation: Option<Revalidation>,
    /// Preview links point there.
    pub storefront_url: String,
    /// A page's path on the storefront.
    pub page_path: String,
    /// How long a preview link works at most.
    pub preview_ttl: Duration,
    /// How often due publications are looked for.
    pub schedule_interval: Duration,
    /// The revalidation backoff (doubled per attempt, at most an hour) and attempts.
    pub retry_base: Duration,
    pub max_attempts: i32,
    /// The revalidator's backstop poll (NOTIFY wakes it).
    pub poll_interval: Duration,
    /// Now, for the scheduler (tests move it ahead).
    pub clock: Clock,
}

impl CmsConfig {
    /// The declared defaults around a shared config: no revalidation hook.
    pub fn new(service: ServiceConfig) -> Self {
        EnvReader::defaults(crate::SERVICE, |env| Self::read(env, Some(service)))
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        ServiceConfig::read_with(crate::SERVICE, EnvReader::from_env(), Self::read)
    }

    fn read(env: &mut EnvReader, service: Option<ServiceConfig>) -> Option<Self> {
        let revalidation = match env.text(&declared::STOREFRONT_REVALIDATE_URL) {
            None => None,
            Some(url) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    env.problem(format!("{} must be an http(s) URL", declared::STOREFRONT_REVALIDATE_URL.name));
                }
                let secret = env.secret(&declared::STOREFRONT_REVALIDATE_SECRET);
                if secret.is_none() {
                    env.problem(format!(
                        "{} is required with {}",
                        declared::STOREFRONT_REVALIDATE_SECRET.name,
                        declared::STOREFRONT_REVALIDATE_URL.name
                    ));
                }
                Some(Revalidation { url, secret: SecretString::from(secret.unwrap_or_default()) })
            }
        };
        let storefront_url: String = env.get(&STOREFRONT_URL);
        let page_path: String = env.get(&declared::CMS_PAGE_PATH);
        if !page_path.starts_with('/') || !page_path.contains("{slug}") {
            env.problem(format!("{} must start with / and contain {{slug}}", declared::CMS_PAGE_PATH.name));
        }
        let preview_ttl = env.seconds(&declared::CMS_PREVIEW_TTL_SECS);
        let schedule_interval = env.millis(&declared::CMS_SCHEDULE_INTERVAL_MS);
        let retry_base = env.millis(&declared::CMS_REVALIDATE_RETRY_BASE_MS);
        let max_attempts = env.get(&declared::CMS_REVALIDATE_MAX_ATTEMPTS);
        let poll_interval = env.millis(&declared::CMS_REVALIDATE_POLL_MS);
        // Every setting is read before a missing shared part ends the reading.
        Some(Self {
            service: service?,
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
