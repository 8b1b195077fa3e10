//! Graceful shutdown: SIGTERM while a request is in flight lets it complete, and the server
//! then stops. (Its own test binary: it signals its own process.) Deterministic: the handler
//! says when it is in flight and finishes only once the server has stopped accepting.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use axum::Router;
use axum::routing::get;
use service_kit::app::Application;

#[tokio::test]
async fn sigterm_during_an_in_flight_request_lets_it_complete() {
    let entered = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let (entered_in, release_in) = (entered.clone(), release.clone());
    let router = Router::new().route(
        "/slow",
        get(move || {
            let (entered, release) = (entered_in.clone(), release_in.clone());
            async move {
                entered.notify_one();
                release.notified().await;
                "finished"
            }
        }),
    );
    let app = Application::bind(([127, 0, 0, 1], 0).into(), router, Duration::from_secs(5)).await.unwrap();
    let addr = app.local_addr();
    // run_until_stopped installs the SIGTERM handler before serving, so the signal below can
    // never kill the test process.
    let server = tokio::spawn(app.run_until_stopped());

    let in_flight = tokio::spawn(async move { reqwest::get(format!("http://{addr}/slow")).await });
    tokio::time::timeout(Duration::from_secs(5), entered.notified()).await.expect("the request reaches the handler");
    let status = std::process::Command::new("kill").args(["-TERM", &std::process::id().to_string()]).status().unwrap();
    assert!(status.success());

    // The server has taken the signal once it refuses new connections; the request is still in
    // the handler then, so what follows is a drain, not a race.
    let mut refused = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(refused, "after SIGTERM the server stops accepting");
    assert!(!in_flight.is_finished(), "the request is still in flight during shutdown");
    release.notify_one();

    let response = in_flight.await.unwrap().expect("the in-flight request completes");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "finished");
    let stopped = tokio::time::timeout(Duration::from_secs(5), server).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "the server stops after draining: {stopped:?}");
}
