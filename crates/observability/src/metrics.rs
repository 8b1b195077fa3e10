//! A Prometheus registry per service (several services share one process in tests) and the HTTP
//! metrics every service exports.

use std::time::Duration;

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};

/// The registry of one service; domain crates register their own counters on it.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http: HttpMetrics,
}

/// `http_requests_total` and `http_request_duration_seconds`, labelled by route template.
#[derive(Clone)]
pub struct HttpMetrics {
    service: String,
    requests: IntCounterVec,
    duration: HistogramVec,
}

const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

impl Metrics {
    pub fn new(service: &str) -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests served, by matched route template."),
            &["service", "method", "route", "status"],
        )
        .expect("valid metric definition");
        let duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to produce the response head.")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["service", "method", "route", "status"],
        )
        .expect("valid metric definition");
        registry.register(Box::new(requests.clone())).expect("first registration");
        registry.register(Box::new(duration.clone())).expect("first registration");
        Self { registry, http: HttpMetrics { service: service.to_owned(), requests, duration } }
    }

    /// Registers a domain metric (a counter, gauge or histogram made by the caller).
    pub fn register(&self, collector: Box<dyn prometheus::core::Collector>) -> prometheus::Result<()> {
        self.registry.register(collector)
    }

    /// The Prometheus text exposition of everything registered.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("encoding metrics into memory cannot fail");
        String::from_utf8(buffer).expect("Prometheus text is UTF-8")
    }
}

impl HttpMetrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        let labels = [self.service.as_str(), method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.duration.with_label_values(&labels).observe(elapsed.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_requests_appear_in_the_exposition_by_route_template() {
        let metrics = Metrics::new("product");
        metrics.http.observe("GET", "/products/{id}", 200, Duration::from_millis(3));
        let text = metrics.render();
        assert!(
            text.contains(
                r#"http_requests_total{method="GET",route="/products/{id}",service="product",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains("http_request_duration_seconds_bucket"), "{text}");
    }
}
