//! Everything a Shopfleet service needs to be observable: structured logs with secrets redacted,
//! request ids that follow a request through the fleet, HTTP metrics by route template, and the
//! `/health`, `/ready` and `/metrics` routes.

mod health;
mod http;
mod logging;
mod metrics;
pub mod redact;
mod request_id;

pub use health::{ReadinessCheck, health_routes};
pub use http::{HttpObserver, RouteLabel, observe};
pub use logging::{LogFormat, init_tracing, json_layer_for_tests};
pub use metrics::{HttpMetrics, Metrics};
pub use request_id::{REQUEST_ID_HEADER, RequestId, current_request_id, with_request_id};
