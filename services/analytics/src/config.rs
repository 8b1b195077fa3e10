//! The analytics service's configuration: how long raw tracking events are kept.

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
    /// Now, for event validation and retention (tests move it).
    pub clock: Clock,
}

impl AnalyticsConfig {
    pub fn new(service: ServiceConfig) -> Self {
        Self { service, retention_days: 90, retention_sweep: Duration::from_secs(3600), clock: Clock::system() }
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
        env.finish()?;
        Ok(Self {
            service: service.expect("finish() reported what was missing"),
            retention_days,
            retention_sweep,
            clock: Clock::system(),
        })
    }
}
