//! The admin service's configuration: what every service shares (its currency prints the
//! dashboard's amounts), and the clock of the dashboard's default window.

use service_kit::{Clock, ConfigError, EnvReader, ServiceConfig};

#[derive(Clone, Debug)]
pub struct AdminConfig {
    pub service: ServiceConfig,
    /// How the dashboard prints amounts: the shop's currency.
    pub currency: contracts::types::Currency,
    /// Today, for the dashboard's default window (tests may move it).
    pub clock: Clock,
}

impl AdminConfig {
    pub fn new(service: ServiceConfig) -> Self {
        let currency = service.currency;
        Self { service, currency, clock: Clock::system() }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        ServiceConfig::read_with(crate::SERVICE, EnvReader::from_env(), |_, service| service.map(Self::new))
    }
}
