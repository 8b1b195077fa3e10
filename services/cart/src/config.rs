//! The cart service's configuration: how long carts live, their limits, and how long a looked-up
//! price may be reused.

use std::time::Duration;

use service_kit::{ConfigError, EnvReader, ServiceConfig};

#[derive(Clone, Debug)]
pub struct CartConfig {
    pub service: ServiceConfig,
    /// A guest cart lives this long after its last use (`CART_GUEST_TTL_DAYS`, default 30).
    pub guest_ttl: Duration,
    /// A signed-in shopper's cart (`CART_USER_TTL_DAYS`, default 90).
    pub user_ttl: Duration,
    /// Most units of one line (`CART_MAX_LINE_QUANTITY`, default 20).
    pub max_line_quantity: i64,
    /// Most lines in a cart (`CART_MAX_LINES`, default 50).
    pub max_lines: usize,
    /// How long a price looked up from the product service is reused (`CART_PRICE_CACHE_MS`,
    /// default 2000; 0 asks every time).
    pub price_cache: Duration,
}

const DAY: u64 = 24 * 3600;

impl CartConfig {
    /// Defaults around a shared config.
    pub fn new(service: ServiceConfig) -> Self {
        Self {
            service,
            guest_ttl: Duration::from_secs(30 * DAY),
            user_ttl: Duration::from_secs(90 * DAY),
            max_line_quantity: 20,
            max_lines: 50,
            price_cache: Duration::from_millis(2000),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let guest_ttl = Duration::from_secs(env.parse_or("CART_GUEST_TTL_DAYS", 30u64) * DAY);
        let user_ttl = Duration::from_secs(env.parse_or("CART_USER_TTL_DAYS", 90u64) * DAY);
        let max_line_quantity = env.parse_or("CART_MAX_LINE_QUANTITY", 20i64);
        let max_lines = env.parse_or("CART_MAX_LINES", 50usize);
        let price_cache = Duration::from_millis(env.parse_or("CART_PRICE_CACHE_MS", 2000u64));
        env.finish()?;
        let service = service.expect("no problems means every field was read");
        Ok(Self { service, guest_ttl, user_ttl, max_line_quantity, max_lines, price_cache })
    }
}
