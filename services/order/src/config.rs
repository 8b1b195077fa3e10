//! The order service's configuration: how long an order waits for payment, how often expiry
//! is looked for, and the pricing tables (shipping by country, VAT by country).

use std::time::Duration;

use service_kit::{ConfigError, EnvReader, ServiceConfig};

use crate::domain::{Limits, Pricing};

/// The dev defaults: Germany and Austria with their VAT and a free-shipping threshold.
pub const DEFAULT_SHIPPING: &str = "DE=490/5000,AT=990/7500,*=1490";
pub const DEFAULT_TAX: &str = "DE=1900,AT=2000,*=0";

#[derive(Clone, Debug)]
pub struct OrderConfig {
    pub service: ServiceConfig,
    /// How long a new order may be paid (`ORDER_PAYMENT_WINDOW_SECS`, default 30 minutes; the
    /// reservation is held at least as long).
    pub payment_window: Duration,
    /// How long a new order holds its stock before a payment is started
    /// (`ORDER_UNPAID_HOLD_SECS`, 10 minutes; starting a payment extends its deadline to the
    /// payment window). An order past it without a payment expires and lets its stock go.
    pub unpaid_hold: Duration,
    /// What one shopper may hold unpaid (`ORDER_MAX_UNPAID`, `ORDER_MAX_UNITS_PER_SKU`,
    /// `ORDER_MAX_OPEN_UNITS_PER_SKU`).
    pub limits: Limits,
    /// How often unpaid orders past their deadline are expired (`ORDER_EXPIRY_SWEEP_SECS`, 15).
    pub expiry_every: Duration,
    /// `ORDER_SHIPPING_RATES` and `ORDER_TAX_RATES` (see [`Pricing::parse`]).
    pub pricing: Pricing,
    /// How long a request that never finished (its process died) keeps its Idempotency-Key
    /// before a retry may resume it (`ORDER_KEY_IN_FLIGHT_SECS`, 60).
    pub key_in_flight: Duration,
}

impl OrderConfig {
    /// Defaults around a shared config.
    pub fn new(service: ServiceConfig) -> Self {
        Self {
            service,
            payment_window: Duration::from_secs(30 * 60),
            unpaid_hold: Duration::from_secs(10 * 60),
            limits: Limits::default(),
            expiry_every: Duration::from_secs(15),
            pricing: Pricing::parse(DEFAULT_SHIPPING, DEFAULT_TAX).expect("the defaults parse"),
            key_in_flight: Duration::from_secs(60),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let payment_window = env.seconds_or("ORDER_PAYMENT_WINDOW_SECS", 30 * 60);
        let unpaid_hold = env.seconds_or("ORDER_UNPAID_HOLD_SECS", 10 * 60);
        let defaults = Limits::default();
        let limits = Limits {
            max_unpaid_orders: env.parse_or("ORDER_MAX_UNPAID", defaults.max_unpaid_orders),
            max_units_per_order: env.parse_or("ORDER_MAX_UNITS_PER_SKU", defaults.max_units_per_order),
            max_open_units: env.parse_or("ORDER_MAX_OPEN_UNITS_PER_SKU", defaults.max_open_units),
        };
        if limits.max_unpaid_orders < 1 || limits.max_units_per_order < 1 || limits.max_open_units < 1 {
            env.problem(
                "ORDER_MAX_UNPAID, ORDER_MAX_UNITS_PER_SKU and ORDER_MAX_OPEN_UNITS_PER_SKU must be at least 1",
            );
        }
        let expiry_every = env.seconds_or("ORDER_EXPIRY_SWEEP_SECS", 15);
        let key_in_flight = env.seconds_or("ORDER_KEY_IN_FLIGHT_SECS", 60);
        let shipping = env.optional("ORDER_SHIPPING_RATES").unwrap_or_else(|| DEFAULT_SHIPPING.to_owned());
        let tax = env.optional("ORDER_TAX_RATES").unwrap_or_else(|| DEFAULT_TAX.to_owned());
        let pricing = Pricing::parse(&shipping, &tax)
            .map_err(|problem| env.problem(format!("ORDER_SHIPPING_RATES / ORDER_TAX_RATES: {problem}")))
            .ok();
        env.finish()?;
        Ok(Self {
            service: service.expect("no problems means every field was read"),
            payment_window,
            unpaid_hold,
            limits,
            expiry_every,
            pricing: pricing.expect("no problems means the tables parsed"),
            key_in_flight,
        })
    }
}
