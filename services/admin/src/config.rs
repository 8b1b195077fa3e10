//! The admin service's configuration: what every service shares, and the shop's currency for
//! the pages it renders.

use service_kit::{Clock, ConfigError, EnvReader, ServiceConfig};

#[derive(Clone, Debug)]
pub struct AdminConfig {
    pub service: ServiceConfig,
    /// `SHOP_CURRENCY` (default `EUR`): how the dashboard prints amounts.
    pub currency: String,
    /// Today, for the dashboard's default window (tests may move it).
    pub clock: Clock,
}

impl AdminConfig {
    pub fn new(service: ServiceConfig) -> Self {
        Self { service, currency: "EUR".into(), clock: Clock::system() }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let currency = env.optional("SHOP_CURRENCY").unwrap_or_else(|| "EUR".into());
        env.finish()?;
        Ok(Self { service: service.expect("finish() reported what was missing"), currency, clock: Clock::system() })
    }
}
