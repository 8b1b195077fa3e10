//! Rate limits at the edge: 429 with its headers, recovery, fairness between users, and what
//! happens when Redis is gone.

use std::time::Duration;

use gateway::limits::Limit;

use crate::helpers::TestGateway;

#[tokio::test]
async fn exceeding_a_class_is_a_429_with_headers_and_the_limit_recovers() {
    let gw = TestGateway::spawn_with(1, |c| c.limits.read = Limit::new(2, 1, 3)).await;
    for expected_remaining in [2, 1, 0] {
        let response = gw.http.get(gw.url("/api/v1/products?limit=1")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["ratelimit-limit"], "3");
        assert_eq!(response.headers()["ratelimit-remaining"], expected_remaining.to_string().as_str());
    }
    let response = gw.http.get(gw.url("/api/v1/products?limit=1")).send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(response.headers()["ratelimit-remaining"], "0");
    assert!(response.headers().contains_key("ratelimit-reset"));
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "rate_limited");

    // The bucket refills at one request per 500 ms: refused until then, allowed after.
    let limited_at = std::time::Instant::now();
    let mut status = 429;
    while status == 429 && limited_at.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = gw.get("/api/v1/products?limit=1", None).await.0;
    }
    assert_eq!(status, 200, "the limit recovers");
    assert!(limited_at.elapsed() >= Duration::from_millis(300), "but not before a request's worth refilled");
}

#[tokio::test]
async fn one_users_flood_does_not_limit_another_user() {
    let gw = TestGateway::spawn_with(1, |c| c.limits.read = Limit::new(1, 10, 2)).await;
    let alice = gw.shopper_token().await;
    let bob = gw.shopper_token().await;
    let statuses: Vec<u16> = futures_statuses(&gw, &alice, 4).await;
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2, "{statuses:?}");
    assert_eq!(gw.get("/api/v1/products?limit=1", Some(&bob)).await.0, 200, "bob has his own budget");
}

async fn futures_statuses(gw: &TestGateway, token: &str, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(gw.get("/api/v1/products?limit=1", Some(token)).await.0);
    }
    statuses
}

#[tokio::test]
async fn without_redis_a_local_limiter_takes_over_and_admin_routes_fail_closed() {
    let dir = std::env::temp_dir().join(format!(
        "shopfleet-test-{}-gwredis-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let port = testkit::unused_port();
    let mut redis = testkit::cluster::start_redis(&dir, port, false).unwrap();
    let gw = TestGateway::spawn_with(1, |c| {
        c.service.redis.as_mut().unwrap().url = format!("redis://127.0.0.1:{port}");
        c.limits.read = Limit::new(2, 1, 3);
    })
    .await;
    let token = gw.shopper_token().await;
    let admin_token = gw.admin_token("outage@example.com").await;
    testkit::procs::signal_group(&redis, 9);
    redis.wait().unwrap();

    let statuses: Vec<u16> = futures_statuses(&gw, &token, 5).await;
    assert_eq!(&statuses[..3], [200, 200, 200], "the local limiter lets the burst through: {statuses:?}");
    assert!(statuses[3..].contains(&429), "and still limits: {statuses:?}");
    let (status, problem) = gw.get("/api/v1/notifications/messages", Some(&token)).await;
    assert_eq!((status, problem["code"].as_str()), (503, Some("revocation_unavailable")), "admin routes fail closed");
    // Review L4: a staff token fails closed on every route, `/auth/admin/*` included.
    for (path, body) in
        [("/api/v1/auth/admin/totp/enroll", Some(serde_json::json!({}))), ("/api/v1/products?limit=1", None)]
    {
        let (status, problem) = match body {
            Some(body) => gw.post(path, Some(&admin_token), body).await,
            None => gw.get(path, Some(&admin_token)).await,
        };
        assert_eq!((status, problem["code"].as_str()), (503, Some("revocation_unavailable")), "{path}");
    }
    let metrics = gw.http.get(gw.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l.starts_with("gateway_redis_fallback_total") && !l.ends_with(" 0")), "{metrics}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn credential_routes_are_limited_per_ip_whoever_signs_in() {
    let gw = TestGateway::spawn_with(1, |c| c.limits.credentials = Limit::new(3, 60, 3)).await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        let body = serde_json::json!({"email": format!("user{n}@example.com"), "password": "wrong password here"});
        statuses.push(gw.post("/api/v1/auth/login", None, body).await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
}

/// A credential login from the test's own connection, naming `real_ip` as NGINX would.
async fn login_claiming(gw: &TestGateway, real_ip: &str) -> u16 {
    let body = serde_json::json!({"email": "someone@example.com", "password": "wrong password here"});
    gw.http
        .post(gw.url("/api/v1/auth/login"))
        .header("x-real-ip", real_ip)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_caller_that_is_not_a_trusted_proxy_cannot_name_its_own_address() {
    // Review M2: X-Real-IP was believed from any peer, so rotating it escaped every per-IP limit.
    let gw = TestGateway::spawn_with(1, |c| c.limits.credentials = Limit::new(3, 60, 3)).await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        statuses.push(login_claiming(&gw, &format!("198.51.100.{n}")).await);
    }
    assert_eq!(statuses, [401, 401, 401, 429], "every claimed address is the one peer");
}

#[tokio::test]
async fn behind_a_trusted_proxy_ipv6_clients_are_limited_by_their_64() {
    // Review M3: one IPv6 client owns a /64 of addresses.
    let gw = TestGateway::spawn_with(1, |c| {
        c.limits.credentials = Limit::new(3, 60, 3);
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        statuses.push(login_claiming(&gw, &format!("2001:db8:42:7:{n:x}::1")).await);
    }
    assert_eq!(statuses, [401, 401, 401, 429], "four addresses of one /64 are one client");
    assert_eq!(login_claiming(&gw, "2001:db8:42:8::1").await, 401, "the next /64 is another client");
}
