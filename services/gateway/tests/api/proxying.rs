//! Routing, forwarding and every upstream failure as a problem+json.

use std::time::Instant;

use crate::helpers::{ROUTE_TIMEOUT, TestGateway};

#[tokio::test]
async fn a_shopper_registers_logs_in_and_browses_through_the_gateway() {
    let gw = TestGateway::spawn().await;
    let token = gw.shopper_token().await;
    let response = gw
        .http
        .get(gw.url("/api/v1/products?limit=5"))
        .bearer_auth(&token)
        .header("x-request-id", "gw-test-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "gw-test-123");
    let page: serde_json::Value = response.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    let slug = page["items"][0]["slug"].as_str().unwrap();
    let (status, product) = gw.get(&format!("/api/v1/products/{slug}"), None).await;
    assert_eq!(status, 200, "public route without a token");
    assert_eq!(product["slug"], slug);
    // The query string is forwarded unchanged: the product service validates it.
    let (status, problem) = gw.get("/api/v1/products?limit=1000", None).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "limit");
}

#[tokio::test]
async fn unknown_routes_missing_tokens_and_missing_permissions_are_problems() {
    let gw = TestGateway::spawn().await;
    let (status, problem) = gw.get("/api/v1/nowhere", None).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    let (status, problem) = gw.get("/api/v2/products", None).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    let (status, problem) = gw.get("/api/v1/orders", None).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("token_missing")));
    let token = gw.shopper_token().await;
    let (status, problem) = gw.get("/api/v1/admin/orders", Some(&token)).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("forbidden")));
}

#[tokio::test]
async fn a_down_upstream_is_a_503_at_once_and_a_hanging_one_a_504_at_the_timeout() {
    let gw = TestGateway::spawn().await;
    let token = gw.shopper_token().await;

    let started = Instant::now();
    let (status, problem) = gw.get("/api/v1/orders", Some(&token)).await;
    assert_eq!((status, problem["code"].as_str()), (503, Some("upstream_unavailable")));
    assert!(started.elapsed() < ROUTE_TIMEOUT / 2, "503 took {:?}", started.elapsed());

    let started = Instant::now();
    let (status, problem) = gw.get("/api/v1/carts/mine", Some(&token)).await;
    let took = started.elapsed();
    assert_eq!((status, problem["code"].as_str()), (504, Some("upstream_timeout")));
    assert!(took >= ROUTE_TIMEOUT && took < ROUTE_TIMEOUT * 3, "504 took {took:?}");
}

#[tokio::test]
async fn the_gateway_serves_the_openapi_document_and_the_reference_without_forwarding() {
    let gw = TestGateway::spawn().await;
    let (status, document) = gw.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    let login = &document["paths"]["/api/v1/auth/login"]["post"];
    assert!(login["responses"].get("429").is_some(), "the edge's statuses are described: {login}");
    let page = gw.http.get(gw.url("/api/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let body = page.text().await.unwrap();
    assert!(body.contains("swagger-ui") && !body.contains("https://"), "served from the binary, no CDN");
    let initializer = gw.http.get(gw.url("/api/docs/swagger-initializer.js")).send().await.unwrap();
    assert!(initializer.text().await.unwrap().contains("/api/v1/openapi.json"));
}
