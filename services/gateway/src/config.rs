//! The gateway's configuration.

use std::time::Duration;

use service_kit::{ConfigError, EnvReader, ServiceConfig};

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
        }
    }
}
