//! The analytics service: how long raw tracking events are kept, and how many one visitor and
//! one network may add a day.

use crate::Setting;

pub const ANALYTICS_RETENTION_DAYS: Setting = Setting::value(
    "ANALYTICS_RETENTION_DAYS",
    "90",
    "Raw tracking events (day partitions), funnel sessions and the event log are dropped after this many days (at least 1); the daily rollups stay.",
);
pub const ANALYTICS_RETENTION_SWEEP_SECS: Setting =
    Setting::value("ANALYTICS_RETENTION_SWEEP_SECS", "3600", "How often old days are dropped.");
pub const ANALYTICS_VISITOR_EVENTS_PER_DAY: Setting = Setting::value(
    "ANALYTICS_VISITOR_EVENTS_PER_DAY",
    "1000",
    "Tracking events kept per visitor id a day; beyond, an event is answered as `dropped`, stored nowhere and counted in no report.",
);
pub const ANALYTICS_NETWORK_EVENTS_PER_DAY: Setting = Setting::value(
    "ANALYTICS_NETWORK_EVENTS_PER_DAY",
    "20000",
    "Tracking events kept per client network (an IPv4 address, an IPv6 /64) a day; one network adds at most 20 MB a day.",
);

pub const ALL: &[&Setting] = &[
    &ANALYTICS_RETENTION_DAYS,
    &ANALYTICS_RETENTION_SWEEP_SECS,
    &ANALYTICS_VISITOR_EVENTS_PER_DAY,
    &ANALYTICS_NETWORK_EVENTS_PER_DAY,
];
