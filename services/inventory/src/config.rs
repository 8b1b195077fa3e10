//! The inventory service's configuration: how long reservations are held, when an orphaned one
//! (no order was ever written for it) is swept, and whether shoppers see quantities.

use std::time::Duration;

use service_kit::{ConfigError, EnvReader, ServiceConfig};

#[derive(Clone, Debug)]
pub struct InventoryConfig {
    pub service: ServiceConfig,
    /// How long a reservation is held unless the caller asks otherwise (`RESERVATION_HOLD_SECS`,
    /// default 15 minutes). The order service alone decides expiry; this is its default deadline.
    pub hold: Duration,
    /// How long after its expiry a reservation whose order was never written is released by the
    /// sweeper (`RESERVATION_ORPHAN_GRACE_SECS`, default one hour: longer than any order deadline).
    pub orphan_grace: Duration,
    /// How often the sweeper looks (`RESERVATION_SWEEP_SECS`, default 30 s).
    pub sweep_every: Duration,
    /// Whether `GET /stock` shows the available quantity besides the flag (`STOCK_SHOW_QUANTITY`).
    pub show_quantity: bool,
}

impl InventoryConfig {
    /// Defaults around a shared config.
    pub fn new(service: ServiceConfig) -> Self {
        Self {
            service,
            hold: Duration::from_secs(15 * 60),
            orphan_grace: Duration::from_secs(3600),
            sweep_every: Duration::from_secs(30),
            show_quantity: false,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let hold = env.seconds_or("RESERVATION_HOLD_SECS", 15 * 60);
        let orphan_grace = env.seconds_or("RESERVATION_ORPHAN_GRACE_SECS", 3600);
        let sweep_every = env.seconds_or("RESERVATION_SWEEP_SECS", 30);
        let show_quantity = env.parse_or("STOCK_SHOW_QUANTITY", false);
        env.finish()?;
        let service = service.expect("no problems means every field was read");
        Ok(Self { service, hold, orphan_grace, sweep_every, show_quantity })
    }
}
