//! The gateway's configuration.

use std::time::Duration;

use service_kit::net::Cidr;
use service_kit::{ConfigError, EnvReader, ServiceConfig};

use settings::service::gateway as declared;
use settings::site::{API_AUDIENCE, AUTH_ISSUER};

use crate::limits::Limits;
use crate::upstream::BreakerSettings;

#[derive(Clone, Debug)]
pub struct GatewayConfig {
    pub service: ServiceConfig,
    /// Expected `iss` of access tokens.
    pub issuer: String,
    /// Expected `aud` of access tokens.
    pub audience: String,
    /// Least time between two JWKS fetches triggered by unknown `kid`s.
    pub jwks_min_refresh: Duration,
    /// How often the JWKS is re-fetched anyway.
    pub jwks_refresh_every: Duration,
    /// Replaces every route's own timeout (tests use short ones).
    pub timeout_override: Option<Duration>,
    /// Rate limits per class (each `count/period_secs/burst`).
    pub limits: Limits,
    /// Circuit breakers.
    pub breaker: BreakerSettings,
    /// Origins allowed by CORS (the storefront).
    pub cors_origins: Vec<String>,
    /// Peers whose `X-Real-IP` is believed (CIDR ranges: NGINX's addresses); from any other
    /// peer the client is the peer itself.
    pub trusted_proxies: Vec<Cidr>,
}

impl GatewayConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        ServiceConfig::read_with(crate::SERVICE, EnvReader::from_env(), Self::read)
    }

    /// The declared defaults around a service config made elsewhere (tests).
    pub fn with_service(service: ServiceConfig) -> Self {
        EnvReader::defaults(crate::SERVICE, |env| Self::read(env, Some(service)))
    }

    fn read(env: &mut EnvReader, service: Option<ServiceConfig>) -> Option<Self> {
        let issuer = env.get(&AUTH_ISSUER);
        let audience = env.get(&API_AUDIENCE);
        let jwks_min_refresh = env.seconds(&declared::JWKS_MIN_REFRESH_SECS);
        let jwks_refresh_every = env.seconds(&declared::JWKS_REFRESH_SECS);
        let timeout_override = env.parse::<u64>(&declared::ROUTE_TIMEOUT_MS).map(Duration::from_millis);
        let limits = Limits {
            credentials: env.get(&declared::RATE_LIMIT_CREDENTIALS),
            read: env.get(&declared::RATE_LIMIT_READ),
            write: env.get(&declared::RATE_LIMIT_WRITE),
            webhook: env.get(&declared::RATE_LIMIT_WEBHOOK),
            tracking: env.get(&declared::RATE_LIMIT_TRACKING),
            admin: env.get(&declared::RATE_LIMIT_ADMIN),
        };
        let breaker = BreakerSettings {
            failures: env.get(&declared::BREAKER_FAILURES),
            open_for: env.millis(&declared::BREAKER_OPEN_MS),
        };
        let cors_origins = service_kit::config::origins(&env.get::<String>(&declared::CORS_ORIGINS));
        let trusted_proxies = read_trusted_proxies(env);
        Some(Self {
            service: service?,
            issuer,
            audience,
            jwks_min_refresh,
            jwks_refresh_every,
            timeout_override,
            limits,
            breaker,
            cors_origins,
            trusted_proxies,
        })
    }
}

fn read_trusted_proxies(env: &mut EnvReader) -> Vec<Cidr> {
    let raw = env.text(&declared::TRUSTED_PROXIES).unwrap_or_default();
    let mut ranges = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<Cidr>() {
            Ok(range) => ranges.push(range),
            Err(error) => env.problem(format!("{}: {error}", declared::TRUSTED_PROXIES.name)),
        }
    }
    ranges
}
