//! Everything a Shopfleet service needs to be observable: structured logs with secrets redacted,
//! request ids that follow a request through the fleet and HTTP metrics by route template (the
//! `/health`, `/ready` and `/metrics` routes that serve them are the service kit's), and error
//! reports to a Sentry-compatible endpoint.

pub mod errors;
mod http;
mod logging;
mod metrics;
mod readiness;
pub mod redact;
mod request_id;

pub use http::{HttpObserver, RouteLabel, observe};
pub use logging::{LogFormat, init_tracing, json_layer_for_tests};
pub use metrics::{HttpMetrics, Metrics};
pub use readiness::ReadinessCheck;
pub use request_id::{REQUEST_ID_HEADER, RequestId, current_request_id, with_request_id};
