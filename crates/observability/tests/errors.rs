//! Error reports reach a Sentry-compatible endpoint (a local HTTP receiver here): a 5xx with its
//! request id and route template, a panic, a dead letter; never what the request carried (its
//! token, its query string, its path's ids). Its own test binary: the reporting client is
//! process-wide.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::{get, post};
use observability::{HttpObserver, Metrics, REQUEST_ID_HEADER, observe};
use tower::ServiceExt;

type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A receiver of envelopes at `/api/{project}/envelope/`: (auth header, body).
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let store = received.clone();
    let app = Router::new().route(
        "/api/{project}/envelope/",
        post(move |headers: HeaderMap, body: Bytes| {
            let store = store.clone();
            async move {
                let auth = headers.get("x-sentry-auth").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                store.lock().unwrap().push((auth, String::from_utf8_lossy(&body).into_owned()));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://public-key@{address}/42"), received)
}

fn app() -> Router {
    let observer = HttpObserver { service: "svc", metrics: Metrics::new("svc").http.clone() };
    Router::new()
        .route("/orders/{id}", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route("/fine", get(|| async { StatusCode::OK }))
        .layer(axum::middleware::from_fn_with_state(observer, observe))
}

fn bodies(received: &Received) -> Vec<String> {
    received.lock().unwrap().iter().map(|(_, body)| body.clone()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_panics_and_dead_letters_are_reported_without_what_the_request_carried() {
    let (dsn, received) = receiver().await;
    let reporting = observability::errors::init("svc", &dsn, Some("test".into())).expect("a DSN");

    for (path, request_id) in [("/fine", "rid-fine-1"), ("/orders/ord-secret-id-77?token=hunter2", "rid-err-1")] {
        let request = Request::get(path)
            .header(REQUEST_ID_HEADER, request_id)
            .header("authorization", "Bearer secret-bearer-token")
            .header("cookie", "__Host-shopfleet_refresh=secret-cookie")
            .body(Body::from("{\"password\":\"secret-password\"}"))
            .unwrap();
        app().oneshot(request).await.unwrap();
    }
    observability::errors::dead_letter("notification", "events.order", "order.paid", "1700000000000-0");
    std::thread::spawn(|| panic!("boom in a worker")).join().unwrap_err();
    assert!(reporting.flush(Duration::from_secs(5)), "the reports were sent");

    let reports = bodies(&received);
    assert_eq!(reports.len(), 3, "a 5xx, a dead letter and a panic (not the 200): {reports:#?}");
    let all = reports.join("\n");
    let error = reports.iter().find(|r| r.contains("answered 500")).expect("the 5xx report");
    for needle in
        ["svc: GET /orders/{id} answered 500", "rid-err-1", "\"route\":\"/orders/{id}\"", "\"service\":\"svc\""]
    {
        assert!(error.contains(needle), "{needle} missing from {error}");
    }
    assert!(all.contains("notification dead-lettered order.paid from events.order"), "{all}");
    assert!(all.contains("boom in a worker"), "the panic: {all}");
    for secret in
        ["secret-bearer-token", "secret-cookie", "hunter2", "secret-password", "ord-secret-id-77", "rid-fine-1"]
    {
        assert!(!all.contains(secret), "{secret} was reported: {all}");
    }
    let (auth, _) = received.lock().unwrap()[0].clone();
    assert!(auth.contains("sentry_key=public-key"), "the DSN's key authenticates: {auth}");
}
