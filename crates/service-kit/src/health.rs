//! `/health` (the process is alive), `/ready` (the service's own checks pass) and `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use observability::{Metrics, ReadinessCheck};
use problem::{Code, Problem};

/// Liveness: the process answers.
pub const HEALTH: &str = "/health";
/// Readiness: the service's own checks pass (its database, Redis, consumers).
pub const READY: &str = "/ready";
/// Prometheus' text format.
pub const METRICS: &str = "/metrics";

/// How long one readiness check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
struct HealthState {
    service: &'static str,
    checks: Arc<Vec<ReadinessCheck>>,
    metrics: Metrics,
}

/// The three operational routes, to be merged into a service's router outside any auth layer.
pub fn health_routes(service: &'static str, checks: Vec<ReadinessCheck>, metrics: Metrics) -> Router {
    Router::new()
        .route(HEALTH, get(health))
        .route(READY, get(ready))
        .route(METRICS, get(render_metrics))
        .with_state(HealthState { service, checks: Arc::new(checks), metrics })
}

async fn health(State(state): State<HealthState>) -> Response {
    axum::Json(serde_json::json!({"status": "ok", "service": state.service})).into_response()
}

async fn ready(State(state): State<HealthState>) -> Response {
    let results = futures_util::future::join_all(state.checks.iter().map(|check| async move {
        let outcome = match tokio::time::timeout(CHECK_TIMEOUT, check.run()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("timed out after {CHECK_TIMEOUT:?}")),
        };
        (check.name(), outcome)
    }))
    .await;
    let all_ok = results.iter().all(|(_, r)| r.is_ok());
    let checks: serde_json::Map<String, serde_json::Value> = results
        .into_iter()
        .map(|(name, outcome)| {
            let value = match outcome {
                Ok(()) => "ok".to_owned(),
                Err(error) => {
                    tracing::warn!(check = name, %error, "readiness check failed");
                    error
                }
            };
            (name.to_owned(), value.into())
        })
        .collect();
    if all_ok {
        axum::Json(serde_json::json!({"status": "ready", "service": state.service, "checks": checks})).into_response()
    } else {
        Problem::new(Code::NotReady, "a readiness check failed")
            .with_extension("service", state.service.into())
            .with_extension("checks", checks.into())
            .into_response()
    }
}

async fn render_metrics(State(state): State<HealthState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render()).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use axum::http::StatusCode;
    use tower::ServiceExt;

    use super::*;

    async fn get_status(router: Router, path: &str) -> (StatusCode, serde_json::Value) {
        let response = router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
    }

    #[tokio::test]
    async fn ready_is_503_naming_the_failing_check() {
        let checks = vec![
            ReadinessCheck::new("database", || async { Ok(()) }),
            ReadinessCheck::new("redis", || async { Err("connection refused".to_owned()) }),
        ];
        let router = health_routes("svc", checks, Metrics::new("svc"));
        let (status, body) = get_status(router.clone(), "/ready").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["checks"]["redis"], "connection refused");
        assert_eq!(body["checks"]["database"], "ok");
        let (status, _) = get_status(router, "/health").await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn ready_is_200_when_every_check_passes() {
        let checks = vec![ReadinessCheck::new("database", || async { Ok(()) })];
        let (status, body) = get_status(health_routes("svc", checks, Metrics::new("svc")), "/ready").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ready");
    }
}
