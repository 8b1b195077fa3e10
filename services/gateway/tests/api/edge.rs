//! CORS for the storefront and body limits per route.

use crate::helpers::TestGateway;

#[tokio::test]
async fn cors_admits_the_configured_storefront_only() {
    let gw = TestGateway::spawn_with(1, |c| c.cors_origins = vec!["https://shop.example".into()]).await;
    let preflight = gw
        .http
        .request(reqwest::Method::OPTIONS, gw.url("/api/v1/products"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "https://shop.example");
    let allowed = preflight.headers()["access-control-allow-headers"].to_str().unwrap();
    for header in ["authorization", "x-cart-token", "if-none-match", "idempotency-key"] {
        assert!(allowed.contains(header), "{header} in {allowed}");
    }

    let evil = gw
        .http
        .request(reqwest::Method::OPTIONS, gw.url("/api/v1/products"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    assert!(!evil.headers().contains_key("access-control-allow-origin"));

    let simple =
        gw.http.get(gw.url("/api/v1/products?limit=1")).header("origin", "https://shop.example").send().await.unwrap();
    assert_eq!(simple.headers()["access-control-allow-origin"], "https://shop.example");
    let exposed = simple.headers()["access-control-expose-headers"].to_str().unwrap();
    assert!(exposed.contains("x-request-id") && exposed.contains("etag"), "{exposed}");
}

#[tokio::test]
async fn a_body_over_the_routes_limit_is_a_413_before_it_reaches_the_service() {
    let gw = TestGateway::spawn().await;
    let big = serde_json::json!({"email": "x@example.com", "password": "y".repeat(70 * 1024)});
    let (status, problem) = gw.post("/api/v1/auth/login", None, big).await;
    assert_eq!((status, problem["code"].as_str()), (413, Some("payload_too_large")));
}
