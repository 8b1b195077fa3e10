//! The gateway's configuration.

use std::time::Duration;

use service_kit::net::Cidr;
use service_kit::{ConfigError, EnvReader, ServiceConfig};

use crate::limits::{Limit, Limits};
use crate::upstream::BreakerSettings;

#[derive(Clone, Debug)]
pub struct GatewayConfig {
    pub service: ServiceConfig,
    /// Expected `iss` of access tokens (AUTH_ISSUER).
    pub issuer: String,
    /// Expected `aud` of access tokens (API_AUDIENCE).
    pub audience: String,
    /// Least time between two JWKS fetches triggered by unknown `kid`s.
    pub jwks_min_refresh: Duration,
    /// How often the JWKS is re-fetched anyway.
    pub jwks_refresh_every: Duration,
    /// Replaces every route's own timeout (tests use short ones).
    pub timeout_override: Option<Duration>,
    /// Rate limits per class (`RATE_LIMIT_<CLASS>=count/period_secs/burst`).
    pub limits: Limits,
    /// Circuit breakers (`BREAKER_FAILURES`, `BREAKER_OPEN_MS`).
    pub breaker: BreakerSettings,
    /// Origins allowed by CORS (`CORS_ORIGINS`, comma-separated; the storefront).
    pub cors_origins: Vec<String>,
    /// Peers whose `X-Real-IP` is believed (`TRUSTED_PROXIES`, comma-separated CIDR ranges:
    /// NGINX's addresses); from any other peer the client is the peer itself.
    pub trusted_proxies: Vec<Cidr>,
}

impl GatewayConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let config = Self {
            issuer: env.optional("AUTH_ISSUER").unwrap_or_else(|| "shopfleet-auth".into()),
            audience: env.optional("API_AUDIENCE").unwrap_or_else(|| "shopfleet-api".into()),
            jwks_min_refresh: env.seconds_or("JWKS_MIN_REFRESH_SECS", 10),
            jwks_refresh_every: env.seconds_or("JWKS_REFRESH_SECS", 300),
            timeout_override: env.parse_optional::<u64>("ROUTE_TIMEOUT_MS").map(Duration::from_millis),
            limits: read_limits(&mut env),
            breaker: BreakerSettings {
                failures: env.parse_or("BREAKER_FAILURES", 5),
                open_for: Duration::from_millis(env.parse_or("BREAKER_OPEN_MS", 10_000)),
            },
            cors_origins: env
                .optional("CORS_ORIGINS")
                .unwrap_or_else(|| "http://localhost:3000".into())
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            trusted_proxies: read_trusted_proxies(&mut env),
            service: match service {
                Some(service) => service,
                None => {
                    return Err(env.finish().expect_err("a missing service config is a problem"));
                }
            },
        };
        env.finish()?;
        Ok(config)
    }

    /// The configuration for a service config made elsewhere (tests).
    pub fn with_service(service: ServiceConfig) -> Self {
        Self {
            service,
            issuer: "shopfleet-auth".into(),
            audience: "shopfleet-api".into(),
            jwks_min_refresh: Duration::from_secs(10),
            jwks_refresh_every: Duration::from_secs(300),
            timeout_override: None,
            limits: Limits::default(),
            breaker: BreakerSettings::default(),
            cors_origins: vec!["http://localhost:3000".into()],
            trusted_proxies: Vec::new(),
        }
    }
}

fn read_trusted_proxies(env: &mut EnvReader) -> Vec<Cidr> {
    let raw = env.optional("TRUSTED_PROXIES").unwrap_or_default();
    let mut ranges = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<Cidr>() {
            Ok(range) => ranges.push(range),
            Err(error) => env.problem(format!("TRUSTED_PROXIES: {error}")),
        }
    }
    ranges
}

fn read_limits(env: &mut EnvReader) -> Limits {
    let mut limits = Limits::default();
    let classes: [(&str, &mut Limit); 6] = [
        ("RATE_LIMIT_CREDENTIALS", &mut limits.credentials),
        ("RATE_LIMIT_READ", &mut limits.read),
        ("RATE_LIMIT_WRITE", &mut limits.write),
        ("RATE_LIMIT_WEBHOOK", &mut limits.webhook),
        ("RATE_LIMIT_TRACKING", &mut limits.tracking),
        ("RATE_LIMIT_ADMIN", &mut limits.admin),
    ];
    let mut problems = Vec::new();
    for (key, limit) in classes {
        if let Some(raw) = env.optional(key) {
            match Limit::parse(&raw) {
                Ok(parsed) => *limit = parsed,
                Err(error) => problems.push(format!("{key}={raw:?}: {error}")),
            }
        }
    }
    for problem in problems {
        env.problem(problem);
    }
    limits
}
