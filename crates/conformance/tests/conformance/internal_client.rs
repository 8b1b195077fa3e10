//! The kit's internal HTTP client: it attaches the internal token and the current request id,
//! and gives up on an unreachable service within its connect timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use internal_token::Subject;
use service_kit::InternalClient;
use testkit::TestDb;

#[tokio::test]
async fn calls_carry_the_internal_token_and_the_request_id_and_fail_fast_when_the_service_is_down() {
    let db = TestDb::new().await;
    let auth = conformance::spawn("auth", &db).await;
    let down = testkit::unused_port();
    let urls = vec![
        ("auth".to_owned(), vec![format!("http://{auth}")]),
        ("order".to_owned(), vec![format!("http://127.0.0.1:{down}")]),
    ];
    let client = InternalClient::with_timeouts(
        Arc::new(testkit::minter("gateway")),
        urls,
        Duration::from_millis(300),
        Duration::from_secs(2),
    )
    .unwrap();

    let id = observability::RequestId::parse("client-test-1").unwrap();
    let response = observability::with_request_id(id, async {
        client.request(reqwest::Method::GET, "auth", "/auth/.well-known/jwks.json", &Subject::anonymous()).send().await
    })
    .await
    .unwrap();
    assert_eq!(response.status(), 200, "the internal token was accepted");
    assert_eq!(response.headers()["x-request-id"], "client-test-1", "the request id travelled");

    let started = Instant::now();
    let error =
        client.request(reqwest::Method::GET, "order", "/orders", &Subject::anonymous()).send().await.unwrap_err();
    assert!(error.is_connect() || error.is_timeout(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));
}
