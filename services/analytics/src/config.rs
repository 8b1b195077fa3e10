//! The analytics service's configuration: how long raw tracking events are kept, and how many
//! one visitor and one network may add a day.

use std::time::Duration;

use service_kit::{Clock, ConfigError, EnvReader, ServiceConfig};
use settings::service::analytics as declared;

#[derive(Clone, Debug)]
pub struct AnalyticsConfig {
    pub service: ServiceConfig,
    /// Raw tracking events, funnel sessions and the domain event log are dropped after this
    /// many days (the daily rollups are kept).
    pub retention_days: i64,
    /// How often old days are dropped.
    pub retention_sweep: Duration,
    /// Tracking events kept per visitor id and per client network (an IPv4 address, an IPv6
    /// /64) and day; beyond them events are dropped (answered as `dropped`), stored nowhere and
    /// counted in no rollup.
    pub quota: Quota,
    /// Now, for event validation and retention (tests move it).
    pub clock: Clock,
}

/// Daily tracking quotas (review f5592e3 M5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub visitor_per_day: i64,
    pub network_per_day: i64,
}

impl AnalyticsConfig {
    /// The declared defaults around a shared config.
    pub fn new(service: ServiceConfig) -> Self {
        EnvReader::defaults(crate::SERVICE, |env| Self::read(env, Some(service)))
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        ServiceConfig::read_with(crate::SERVICE, EnvReader::from_env(), Self::read)
    }

    fn read(env: &mut EnvReader, service: Option<ServiceConfig>) -> Option<Self> {
        let retention_days: i64 = env.get(&declared::ANALYTICS_RETENTION_DAYS);
        if retention_days < 1 {
            env.problem(format!("{} must be at least 1", declared::ANALYTICS_RETENTION_DAYS.name));
        }
        let retention_sweep = env.seconds(&declared::ANALYTICS_RETENTION_SWEEP_SECS);
        let quota = Quota {
            visitor_per_day: env.get(&declared::ANALYTICS_VISITOR_EVENTS_PER_DAY),
            network_per_day: env.get(&declared::ANALYTICS_NETWORK_EVENTS_PER_DAY),
        };
        if quota.visitor_per_day < 1 || quota.network_per_day < 1 {
            env.problem(format!(
                "{} and {} must be at least 1",
                declared::ANALYTICS_VISITOR_EVENTS_PER_DAY.name,
                declared::ANALYTICS_NETWORK_EVENTS_PER_DAY.name
            ));
        }
        Some(Self { service: service?, retention_days, retention_sweep, quota, clock: Clock::system() })
    }
}
