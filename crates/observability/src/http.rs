//! The middleware every service runs first: request id, request span, access log line and
//! HTTP metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::metrics::HttpMetrics;
use crate::request_id::{REQUEST_ID_HEADER, RequestId, with_request_id};

/// State of the [`observe`] middleware.
#[derive(Clone)]
pub struct HttpObserver {
    pub service: &'static str,
    pub metrics: HttpMetrics,
}

/// A route label a handler puts in its response extensions when axum's matched path does not
/// say what was matched (the gateway's catch-all routes by its own table).
#[derive(Clone, Debug)]
pub struct RouteLabel(pub String);

/// Label for requests no route matched: never the raw path, which would explode cardinality.
const UNMATCHED: &str = "unmatched";

/// Assigns or accepts the request id, runs the request inside a span carrying it, echoes it on
/// the response, and records one access log line and the HTTP metrics.
pub async fn observe(State(observer): State<HttpObserver>, mut request: Request, next: Next) -> Response {
    let request_id = RequestId::from_headers_or_new(request.headers());
    request.headers_mut().insert(REQUEST_ID_HEADER, request_id.header_value());
    request.extensions_mut().insert(request_id.clone());
    let matched = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = tracing::field::Empty,
    );
    if let Some(route) = &matched {
        span.record("route", route.as_str());
    }

    let started = Instant::now();
    let mut response = with_request_id(request_id.clone(), next.run(request)).instrument(span.clone()).await;
    let elapsed = started.elapsed();

    let route = matched
        .or_else(|| response.extensions().get::<RouteLabel>().map(|l| l.0.clone()))
        .unwrap_or_else(|| UNMATCHED.to_owned());
    let status = response.status().as_u16();
    observer.metrics.observe(method.as_str(), &route, status, elapsed);
    if status >= 500 {
        crate::errors::server_error(observer.service, method.as_str(), &route, status, &request_id.to_string());
    }
    span.record("route", route.as_str());
    span.in_scope(|| {
        tracing::info!(status, latency_ms = elapsed.as_secs_f64() * 1000.0, "request finished");
    });
    response.headers_mut().insert(REQUEST_ID_HEADER, request_id.header_value());
    response
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;
    use crate::Metrics;

    fn app(metrics: &Metrics) -> Router {
        let observer = HttpObserver { service: "svc", metrics: metrics.http.clone() };
        Router::new()
            .route("/items/{id}", get(|| async { crate::current_request_id().unwrap().to_string() }))
            .layer(axum::middleware::from_fn_with_state(observer, observe))
    }

    #[tokio::test]
    async fn the_request_id_is_echoed_and_visible_to_the_handler() {
        let metrics = Metrics::new("svc");
        let response = app(&metrics)
            .oneshot(Request::get("/items/7").header(REQUEST_ID_HEADER, "given-id").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.headers()[REQUEST_ID_HEADER], "given-id");
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], b"given-id");
    }

    #[tokio::test]
    async fn metrics_use_the_route_template_and_unmatched_paths_share_one_label() {
        let metrics = Metrics::new("svc");
        for path in ["/items/1", "/items/2", "/nope/secret-123"] {
            app(&metrics).oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        }
        let text = metrics.render();
        assert!(text.contains(r#"route="/items/{id}",service="svc",status="200"} 2"#), "{text}");
        assert!(text.contains(r#"route="unmatched",service="svc",status="404"} 1"#), "{text}");
        assert!(!text.contains("secret-123"));
    }
}
