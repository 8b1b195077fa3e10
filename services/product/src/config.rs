//! The product service's configuration: what every service shares, and whether storefront reads
//! are kept in the Redis response cache (declared in `settings::service::product`).

use service_kit::{ConfigError, EnvReader, ServiceConfig};
use settings::service::product as declared;

#[derive(Clone, Debug)]
pub struct ProductConfig {
    pub service: ServiceConfig,
    /// On by default; off only to measure the uncached path.
    pub response_cache: bool,
}

impl ProductConfig {
    /// The declared defaults around a shared config.
    pub fn new(service: ServiceConfig) -> Self {
        EnvReader::defaults(crate::SERVICE, |env| Self::read(env, Some(service)))
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        ServiceConfig::read_with(crate::SERVICE, EnvReader::from_env(), Self::read)
    }

    fn read(env: &mut EnvReader, service: Option<ServiceConfig>) -> Option<Self> {
        let response_cache = env.choice(&declared::CATALOG_CACHE) != Some("off");
        Some(Self { service: service?, response_cache })
    }
}
