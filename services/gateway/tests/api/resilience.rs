//! Circuit breakers and replicas: a dead upstream fails fast, comes back when restarted, and a
//! dead replica is routed around.

use std::time::{Duration, Instant};

use gateway::upstream::BreakerSettings;

use crate::helpers::TestGateway;

#[tokio::test]
async fn a_killed_upstream_fails_fast_once_its_breaker_opens_and_recovers_after_restart() {
    let mut gw = TestGateway::spawn_with(1, |c| {
        c.breaker = BreakerSettings { failures: 2, open_for: Duration::from_millis(300) };
    })
    .await;
    assert_eq!(gw.get("/api/v1/products?limit=1", None).await.0, 200);
    gw.products[0].kill().await;
    for _ in 0..2 {
        assert_eq!(gw.get("/api/v1/products?limit=1", None).await.0, 503);
    }
    let started = Instant::now();
    let (status, problem) = gw.get("/api/v1/products?limit=1", None).await;
    assert_eq!((status, problem["code"].as_str()), (503, Some("upstream_unavailable")));
    // Far below the 1.5 s route timeout (generous: 2 busy cores make timing noisy).
    assert!(started.elapsed() < Duration::from_millis(500), "open breaker answers at once: {:?}", started.elapsed());
    let metrics = gw.http.get(gw.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with("gateway_circuit_state{")
            && l.contains("upstream=\"product\"")
            && l.ends_with(" 2")),
        "{metrics}"
    );

    gw.restart_product(0).await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(gw.get("/api/v1/products?limit=1", None).await.0, 200, "the half-open probe closes it");
    assert_eq!(gw.get("/api/v1/products?limit=1", None).await.0, 200);
}

#[tokio::test]
async fn gets_keep_succeeding_when_one_of_three_product_replicas_dies() {
    let mut gw = TestGateway::spawn_with(3, |c| {
        c.breaker = BreakerSettings { failures: 1, open_for: Duration::from_secs(30) };
    })
    .await;
    gw.products[1].kill().await;
    for _ in 0..12 {
        let (status, _) = gw.get("/api/v1/products?limit=1", None).await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn a_probe_that_meets_a_closed_connection_does_not_keep_the_breaker_half_open() {
    // Review M9: a probe ending in a non-connect error left the breaker half-open for good.
    let mut gw = TestGateway::spawn_with(1, |c| {
        c.breaker = BreakerSettings { failures: 2, open_for: Duration::from_millis(300) };
    })
    .await;
    let addr = gw.products[0].addr;
    gw.products[0].kill().await;
    for _ in 0..2 {
        assert_eq!(gw.get("/api/v1/products?limit=1", None).await.0, 503);
    }
    // Something accepts on the product's address and closes at once: the probe's error is not
    // a connect error.
    let closer = tokio::net::TcpListener::bind(addr).await.unwrap();
    let closing = tokio::spawn(async move {
        loop {
            if let Ok((stream, _)) = closer.accept().await {
                drop(stream);
            }
        }
    });
    let mut probed = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if gw.get("/api/v1/products?limit=1", None).await.0 == 502 {
            probed = true;
            break;
        }
    }
    assert!(probed, "the probe met the closing listener");
    closing.abort();
    let _ = closing.await;
    gw.restart_product(0).await;
    let back = Instant::now();
    let mut status = 0;
    while back.elapsed() < Duration::from_secs(5) {
        status = gw.get("/api/v1/products?limit=1", None).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200, "the healthy upstream is used again within the breaker's window");
}

/// An upstream that answers every request with a 503 `busy` of its own.
async fn busy_upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { continue };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let body = r#"{"status":503,"code":"busy"}"#;
                let response = format!(
                    "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn an_upstreams_own_503_busy_is_an_answer_not_a_breaker_failure() {
    // Review M10: auth's `busy` under a login storm must not open auth's breaker at the edge.
    let busy = busy_upstream().await;
    let gw = TestGateway::spawn_with(1, |c| {
        c.breaker = BreakerSettings { failures: 2, open_for: Duration::from_secs(30) };
        for (name, urls) in &mut c.service.service_urls {
            if name == "search" {
                *urls = vec![busy.clone()];
            }
        }
    })
    .await;
    for _ in 0..6 {
        let (status, problem) = gw.get("/api/v1/search?q=x", None).await;
        assert_eq!((status, problem["code"].as_str()), (503, Some("busy")), "the upstream's own answer, passed on");
    }
}
