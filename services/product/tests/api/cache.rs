//! The response cache: a committed write is visible in the next read, ETags answer 304, and
//! only anonymous responses are marked public.

use auth_jwt::Role;
use internal_token::Subject;
use reqwest::Method;
use reqwest::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_write_is_visible_in_the_next_read_and_etags_revalidate() {
    let app = TestApp::seeded().await;
    let path = "/products?category=mugs&sort=price_asc&limit=5";
    let first = app.caller.request(Method::GET, path).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()[ETAG].to_str().unwrap().to_owned();
    assert_eq!(first.headers()[CACHE_CONTROL], "public, max-age=30, stale-while-revalidate=60");
    let body: serde_json::Value = first.json().await.unwrap();
    let cheapest = body["items"][0].clone();

    // Served again (from the cache): same tag; a matching If-None-Match is a 304 with no body.
    let again = app.caller.request(Method::GET, path).header(IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()[ETAG].to_str().unwrap(), etag);
    assert!(again.bytes().await.unwrap().is_empty());

    // A price change through the API is in the very next read, with a new tag.
    let (_, detail) = app.get(&format!("/products/{}", cheapest["slug"].as_str().unwrap())).await;
    let sku = detail["variants"][0]["sku"].as_str().unwrap();
    let id = cheapest["id"].as_str().unwrap();
    let (status, _) = app
        .staff
        .send_json(Method::PATCH, &format!("/products/{id}/variants/{sku}"), Some(json!({"price_minor": 99_999})))
        .await;
    assert_eq!(status, 200);
    let after = app.caller.request(Method::GET, path).header(IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(after.status(), 200, "the old tag no longer matches");
    assert_ne!(after.headers()[ETAG].to_str().unwrap(), etag);
    let body: serde_json::Value = after.json().await.unwrap();
    assert_ne!(body["items"][0]["id"], cheapest["id"], "the repriced product is no longer the cheapest");
    let (_, detail) = app.get(&format!("/products/{id}")).await;
    assert_eq!(detail["price_max_minor"], 99_999, "the detail is fresh too");
}

#[tokio::test]
async fn a_signed_in_shopper_never_gets_a_public_response_and_staff_no_stored_one() {
    let app = TestApp::seeded().await;
    let shopper = testkit::ServiceCaller::new("product", app.addr).as_subject(Subject::user(
        uuid::Uuid::now_v7().to_string(),
        Role::Customer,
        vec![],
    ));
    for path in ["/products?limit=3", "/products/async-tokio-mug", "/categories", "/categories/tops"] {
        let response = shopper.request(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()[CACHE_CONTROL], "private, no-cache", "{path}");
        assert!(response.headers().contains_key(ETAG));
        let anonymous = app.caller.request(Method::GET, path).send().await.unwrap();
        assert!(anonymous.headers()[CACHE_CONTROL].to_str().unwrap().starts_with("public"), "{path}");
    }
    let staff = app.staff.request(Method::GET, "/products/async-tokio-mug").send().await.unwrap();
    assert_eq!(staff.headers()[CACHE_CONTROL], "private, no-store");
}
