//! Menus and snippets: live as soon as saved, cacheable, announced to the storefront.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_menu_is_served_nested_with_an_etag_and_announced_by_its_tag() {
    let app = TestApp::spawn().await;
    let items = json!([
        {"label": "Shop", "href": "/products", "children": [
            {"label": "Shirts", "href": "/categories/shirts", "children": [{"label": "Sale", "href": "/sale"}]},
        ]},
        {"label": "Help", "href": "mailto:help@shop.example"},
    ]);
    let (status, menu) =
        app.staff.send_json(reqwest::Method::PUT, "/content/menus/main", Some(json!({"items": items}))).await;
    assert_eq!((status, &menu["revision"]), (200, &json!(1)), "{menu}");
    let response = app.public.request(reqwest::Method::GET, "/content/menus/main").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["items"], items);
    let again = app
        .public
        .request(reqwest::Method::GET, "/content/menus/main")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    app.receiver.wait_for("menu:main", 1).await;

    let too_deep = json!([{"label": "a", "href": "/a", "children": [{"label": "b", "href": "/b", "children": [
        {"label": "c", "href": "/c", "children": [{"label": "d", "href": "/d"}]}]}]}]);
    let (status, problem) =
        app.staff.send_json(reqwest::Method::PUT, "/content/menus/main", Some(json!({"items": too_deep}))).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("items[0].children[0].children[0].children"))
    );
    let (status, problem) = app
        .staff
        .send_json(
            reqwest::Method::PUT,
            "/content/menus/main",
            Some(json!({"items": [{"label": "x", "href": "javascript:alert(1)"}]})),
        )
        .await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("items[0].href")));
    assert_eq!(app.public.get("/content/menus/footer").await.0, 404);
}

#[tokio::test]
async fn a_snippet_is_rendered_sanitized_and_hidden_when_switched_off() {
    let app = TestApp::spawn().await;
    let (status, snippet) = app
        .staff
        .send_json(
            reqwest::Method::PUT,
            "/content/snippets/announcement",
            Some(json!({"markdown": "Free shipping <script>x</script> **today**"})),
        )
        .await;
    assert_eq!(status, 200, "{snippet}");
    let (status, public) = app.public.get("/content/snippets/announcement").await;
    assert_eq!(status, 200);
    let html = public["html"].as_str().unwrap();
    assert!(html.contains("<strong>today</strong>") && !html.contains("<script"), "{html}");
    assert!(public.get("markdown").is_none());
    let (status, _) = app
        .staff
        .send_json(
            reqwest::Method::PUT,
            "/content/snippets/announcement",
            Some(json!({"markdown": "x", "active": false})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.public.get("/content/snippets/announcement").await.0, 404);
    app.receiver.wait_for("snippet:announcement", 2).await;
}
