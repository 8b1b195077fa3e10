//! The cart service's configuration: how long carts live, their limits, and how long a looked-up
//! price may be reused (declared in `settings::service::cart`).

use std::time::Duration;

use service_kit::{ConfigError, EnvReader, ServiceConfig};
use settings::service::cart as declared;

#[derive(Clone, Debug)]
pub struct CartConfig {
    pub service: ServiceConfig,
    /// How long a guest cart lives after its last use.
    pub guest_ttl: Duration,
    /// How long a signed-in shopper's cart lives after its last use.
    pub user_ttl: Duration,
    /// Most units of one line.
    pub max_line_quantity: i64,
    /// Most lines in a cart.
    pub max_lines: usize,
    /// How long a price looked up from the product service is reused (zero: asked every time).
    pub price_cache: Duration,
}

const DAY: u64 = 24 * 3600;

impl CartConfig {
    /// The declared defaults around a shared config.
    pub fn new(service: ServiceConfig) -> Self {
        EnvReader::defaults(crate::SERVICE, |env| Self::read(env, Some(service)))
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        ServiceConfig::read_with(crate::SERVICE, EnvReader::from_env(), Self::read)
    }

    fn read(env: &mut EnvReader, service: Option<ServiceConfig>) -> Option<Self> {
        let guest_ttl = Duration::from_secs(env.get::<u64>(&declared::CART_GUEST_TTL_DAYS) * DAY);
        let user_ttl = Duration::from_secs(env.get::<u64>(&declared::CART_USER_TTL_DAYS) * DAY);
        let max_line_quantity = env.get(&declared::CART_MAX_LINE_QUANTITY);
        let max_lines = env.get(&declared::CART_MAX_LINES);
        let price_cache = env.millis(&declared::CART_PRICE_CACHE_MS);
        Some(Self { service: service?, guest_ttl, user_ttl, max_line_quantity, max_lines, price_cache })
    }
}
