//! The backbone's metrics, registered once per service on its own registry.

use prometheus::{IntCounterVec, IntGauge, IntGaugeVec, Opts};

#[derive(Clone)]
pub struct EventMetrics {
    pub published: IntCounterVec,
    /// Relay batches that failed (Redis or the database down); the rows stay in the outbox.
    pub relay_failures: IntCounterVec,
    pub consumed: IntCounterVec,
    pub dead_lettered: IntCounterVec,
    pub outbox_backlog: IntGauge,
    pub pending: IntGaugeVec,
    pub lag: IntGaugeVec,
}

impl EventMetrics {
    pub fn new(registry: &observability::Metrics) -> Self {
        let published = IntCounterVec::new(
            Opts::new("events_published_total", "Events moved from the outbox to their stream."),
            &["stream", "type"],
        )
        .expect("valid metric");
        let relay_failures = IntCounterVec::new(
            Opts::new("events_relay_failures_total", "Relay batches that failed; their rows stay in the outbox."),
            &["producer"],
        )
        .expect("valid metric");
        let consumed = IntCounterVec::new(
            Opts::new(
                "events_consumed_total",
                "Events handled by a consumer group, by outcome (applied, ignored, duplicate, failed).",
            ),
            &["group", "type", "outcome"],
        )
        .expect("valid metric");
        let dead_lettered = IntCounterVec::new(
            Opts::new(
                "events_dead_lettered_total",
                "Events moved to the dead-letter stream after too many failed deliveries.",
            ),
            &["group", "type"],
        )
        .expect("valid metric");
        let outbox_backlog = IntGauge::new("outbox_backlog", "Outbox rows not yet published.").expect("valid metric");
        let pending = IntGaugeVec::new(
            Opts::new("events_pending", "Entries delivered to the group but not yet acknowledged."),
            &["group", "stream"],
        )
        .expect("valid metric");
        let lag = IntGaugeVec::new(
            Opts::new("events_consumer_lag", "Entries in the stream not yet delivered to the group."),
            &["group", "stream"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(published.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(relay_failures.clone()),
            Box::new(consumed.clone()),
            Box::new(dead_lettered.clone()),
            Box::new(outbox_backlog.clone()),
            Box::new(pending.clone()),
            Box::new(lag.clone()),
        ] {
            registry.register(collector).expect("event metrics are registered once per service");
        }
        Self { published, relay_failures, consumed, dead_lettered, outbox_backlog, pending, lag }
    }
}
