//! The order service's configuration: how long an order waits for payment, how often expiry
//! is looked for, and who sells. (Shipping zones and methods and VAT rates are data, in the
//! schema.)

use std::time::Duration;

use service_kit::{ConfigError, EnvReader, ServiceConfig};

use settings::service::order as declared;

use crate::domain::Limits;

#[derive(Clone, Debug)]
pub struct OrderConfig {
    pub service: ServiceConfig,
    /// How long a new order may be paid (the reservation is held at least as long).
    pub payment_window: Duration,
    /// How long a new order holds its stock before a payment is started (starting a payment
    /// extends its deadline to the payment window). An order past it without a payment expires
    /// and lets its stock go.
    pub unpaid_hold: Duration,
    /// What one shopper may hold unpaid.
    pub limits: Limits,
    /// How often unpaid orders past their deadline are expired.
    pub expiry_every: Duration,
    /// Who sells: what every invoice names.
    pub seller: crate::invoices::Seller,
    /// How long a request that never finished (its process died) keeps its Idempotency-Key
    /// before a retry may resume it.
    pub key_in_flight: Duration,
}

impl OrderConfig {
    /// The declared defaults around a shared config.
    pub fn new(service: ServiceConfig) -> Self {
        EnvReader::defaults(crate::SERVICE, |env| Self::read(env, Some(service)))
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        ServiceConfig::read_with(crate::SERVICE, EnvReader::from_env(), Self::read)
    }

    fn read(env: &mut EnvReader, service: Option<ServiceConfig>) -> Option<Self> {
        let payment_window = env.seconds(&declared::ORDER_PAYMENT_WINDOW_SECS);
        let unpaid_hold = env.seconds(&declared::ORDER_UNPAID_HOLD_SECS);
        let caps =
            [&declared::ORDER_MAX_UNPAID, &declared::ORDER_MAX_UNITS_PER_SKU, &declared::ORDER_MAX_OPEN_UNITS_PER_SKU];
        let limits = Limits {
            max_unpaid_orders: env.get(caps[0]),
            max_units_per_order: env.get(caps[1]),
            max_open_units: env.get(caps[2]),
        };
        if limits.max_unpaid_orders < 1 || limits.max_units_per_order < 1 || limits.max_open_units < 1 {
            let names: Vec<&str> = caps.iter().map(|s| s.name).collect();
            env.problem(format!("{} must be at least 1", names.join(", ")));
        }
        let expiry_every = env.seconds(&declared::ORDER_EXPIRY_SWEEP_SECS);
        let key_in_flight = env.seconds(&declared::ORDER_KEY_IN_FLIGHT_SECS);
        let seller = crate::invoices::Seller {
            name: env.get(&declared::ORDER_SELLER_NAME),
            address: env
                .get::<String>(&declared::ORDER_SELLER_ADDRESS)
                .split('|')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            vat_id: env.get(&declared::ORDER_SELLER_VAT_ID),
        };
        Some(Self { service: service?, payment_window, unpaid_hold, limits, expiry_every, seller, key_in_flight })
    }
}
