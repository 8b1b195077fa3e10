//! The inventory service's configuration: how long reservations are held, when an orphaned one
//! (no order was ever written for it) is swept, and whether shoppers see quantities (declared
//! in `settings::service::inventory`).

use std::time::Duration;

use service_kit::{ConfigError, EnvReader, ServiceConfig};
use settings::service::inventory as declared;

#[derive(Clone, Debug)]
pub struct InventoryConfig {
    pub service: ServiceConfig,
    /// How long a reservation is held unless the caller asks otherwise. The order service alone
    /// decides expiry; this is its default deadline.
    pub hold: Duration,
    /// How long after its expiry a reservation whose order was never written is released by the
    /// sweeper (longer than any order deadline).
    pub orphan_grace: Duration,
    /// How often the sweeper looks.
    pub sweep_every: Duration,
    /// Whether `GET /stock` shows the available quantity besides the flag.
    pub show_quantity: bool,
}

impl InventoryConfig {
    /// The declared defaults around a shared config.
    pub fn new(service: ServiceConfig) -> Self {
        EnvReader::defaults(crate::SERVICE, |env| Self::read(env, Some(service)))
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        ServiceConfig::read_with(crate::SERVICE, EnvReader::from_env(), Self::read)
    }

    fn read(env: &mut EnvReader, service: Option<ServiceConfig>) -> Option<Self> {
        let hold = env.seconds(&declared::RESERVATION_HOLD_SECS);
        let orphan_grace = env.seconds(&declared::RESERVATION_ORPHAN_GRACE_SECS);
        let sweep_every = env.seconds(&declared::RESERVATION_SWEEP_SECS);
        let show_quantity = env.get(&declared::STOCK_SHOW_QUANTITY);
        Some(Self { service: service?, hold, orphan_grace, sweep_every, show_quantity })
    }
}
