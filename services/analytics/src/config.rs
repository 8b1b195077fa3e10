//! The analytics service's configuration: how long raw tracking events are kept, and how many
//! one visitor and one network may add a day.

use std::time::Duration;

use service_kit::{Clock, ConfigError, EnvReader, ServiceConfig};

#[derive(Clone, Debug)]
pub struct AnalyticsConfig {
    pub service: ServiceConfig,
    /// `ANALYTICS_RETENTION_DAYS` (default 90): raw tracking events, funnel sessions and the
    /// domain event log are dropped after this many days (the daily rollups are kept).
    pub retention_days: i64,
    /// `ANALYTICS_RETENTION_SWEEP_SECS` (default 3600): how often old days are dropped.
    pub retention_sweep: Duration,
    /// `ANALYTICS_VISITOR_EVENTS_PER_DAY` (1000) and `ANALYTICS_NETWORK_EVENTS_PER_DAY` (20000):
    /// tracking events kept per visitor id and per client network (an IPv4 address, an IPv6
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

impl Default for Quota {
    fn default() -> Self {
        Self { visitor_per_day: 1_000, network_per_day: 20_000 }
    }
}

impl AnalyticsConfig {
    pub fn new(service: ServiceConfig) -> Self {
        Self {
            service,
            retention_days: 90,
            retention_sweep: Duration::from_secs(3600),
            quota: Quota::default(),
            clock: Clock::system(),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let retention_days: i64 = env.parse_or("ANALYTICS_RETENTION_DAYS", 90);
        if retention_days < 1 {
            env.problem("ANALYTICS_RETENTION_DAYS must be at least 1");
        }
        let retention_sweep = env.seconds_or("ANALYTICS_RETENTION_SWEEP_SECS", 3600);
        let defaults = Quota::default();
        let quota = Quota {
            visitor_per_day: env.parse_or("ANALYTICS_VISITOR_EVENTS_PER_DAY", defaults.visitor_per_day),
            network_per_day: env.parse_or("ANALYTICS_NETWORK_EVENTS_PER_DAY", defaults.network_per_day),
        };
        if quota.visitor_per_day < 1 || quota.network_per_day < 1 {
            env.problem("ANALYTICS_VISITOR_EVENTS_PER_DAY and ANALYTICS_NETWORK_EVENTS_PER_DAY must be at least 1");
        }
        env.finish()?;
        Ok(Self {
            service: service.expect("finish() reported what was missing"),
            retention_days,
            retention_sweep,
            quota,
            clock: Clock::system(),
        })
    }
}
