//! The product service's configuration: what every service shares, and whether storefront reads
//! are kept in the Redis response cache (`CATALOG_CACHE=on|off`, on by default; off only to
//! measure the uncached path).

use service_kit::{ConfigError, EnvReader, ServiceConfig};

#[derive(Clone, Debug)]
pub struct ProductConfig {
    pub service: ServiceConfig,
    pub response_cache: bool,
}

impl ProductConfig {
    /// Defaults around a shared config.
    pub fn new(service: ServiceConfig) -> Self {
        Self { service, response_cache: true }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let response_cache = match env.optional("CATALOG_CACHE").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                env.problem(format!("CATALOG_CACHE={other:?} must be on or off"));
                true
            }
        };
        env.finish()?;
        Ok(Self { service: service.expect("no problems means every field was read"), response_cache })
    }
}
