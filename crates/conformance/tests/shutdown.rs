//! Graceful shutdown: SIGTERM while a request is in flight lets it complete, and the server
//! then stops. (Its own test binary: it signals its own process.)

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use service_kit::app::Application;

#[tokio::test]
async fn sigterm_during_an_in_flight_request_lets_it_complete() {
    let router = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(800)).await;
            "finished"
        }),
    );
    let app = Application::bind(([127, 0, 0, 1], 0).into(), router, Duration::from_secs(5)).await.unwrap();
    let addr = app.local_addr();
    // run_until_stopped installs the SIGTERM handler before serving, so the signal below can
    // never kill the test process.
    let server = tokio::spawn(app.run_until_stopped());
    tokio::time::sleep(Duration::from_millis(100)).await;

    let in_flight = tokio::spawn(async move { reqwest::get(format!("http://{addr}/slow")).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = std::process::Command::new("kill").args(["-TERM", &std::process::id().to_string()]).status().unwrap();
    assert!(status.success());

    let response = in_flight.await.unwrap().expect("the in-flight request completes");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "finished");
    let stopped = tokio::time::timeout(Duration::from_secs(5), server).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "the server stops after draining: {stopped:?}");
    let after = reqwest::Client::new().get(format!("http://{addr}/slow")).timeout(Duration::from_secs(2)).send().await;
    assert!(after.is_err(), "no new connections after shutdown");
}
