//! Pages: drafts, publishing, the public rendering and its caching, versions and restoring,
//! preview links, and every way a request can be wrong.

use serde_json::json;

use crate::helpers::{SECRET, TestApp};

#[tokio::test]
async fn a_published_page_is_served_rendered_with_an_etag_and_only_its_live_version() {
    let app = TestApp::spawn().await;
    let image = app.upload_image().await;
    app.create_page(
        "about",
        json!([
            {"type": "markdown", "markdown": "# About us\n\nWe <script>alert('x')</script> sell [shirts](javascript:alert(1))."},
            {"type": "image", "media_id": image, "alt": "Our shop"},
            {"type": "faq", "items": [{"question": "Returns?", "answer_markdown": "Within **30 days**."}]},
            {"type": "banner", "title": "Sale", "link": {"href": "/sale", "label": "Shop now"}},
            {"type": "product_grid", "category": "shirts"},
        ]),
    )
    .await;
    assert_eq!(app.public_page("about", None).await.0, 404, "a draft is not public");

    let (status, page) = app.post_empty("/content/pages/about/publish").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["live_version"], 1);

    let (status, public, headers) = app.public_page("about", None).await;
    assert_eq!(status, 200, "{public}");
    let text = public.to_string();
    assert!(!text.contains("<script"), "{text}");
    assert!(!text.contains("javascript:"), "{text}");
    assert!(
        !text.contains("\"markdown\":") && !text.contains("# About"),
        "the Markdown source never reaches the public: {text}"
    );
    assert!(!text.contains("answer_markdown"), "{text}");
    assert!(public["blocks"][0]["html"].as_str().unwrap().contains("<h1>About us</h1>"), "{public}");
    assert!(public["blocks"][0]["html"].as_str().unwrap().contains("&lt;script&gt;"), "{public}");
    assert!(
        public["blocks"][1]["image"]["url"].as_str().unwrap().starts_with("https://cdn.example.test/m/"),
        "{public}"
    );
    assert_eq!(public["blocks"][2]["items"][0]["html"], "<p>Within <strong>30 days</strong>.</p>\n");
    assert_eq!(public["blocks"][4]["limit"], 12);
    assert_eq!(public["version"], 1);
    assert!(headers["cache-control"].to_str().unwrap().starts_with("public"));
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, _, headers) = app.public_page("about", Some(&etag)).await;
    assert_eq!(status, 304);
    assert_eq!(headers["etag"].to_str().unwrap(), etag);

    // Editing the draft changes nothing public until the next publication.
    let (status, draft) = app
        .staff
        .send_json(reqwest::Method::PATCH, "/content/pages/about", Some(json!({"title": "About Shopfleet"})))
        .await;
    assert_eq!(status, 200, "{draft}");
    assert_eq!(draft["revision"], 2);
    let (_, public, _) = app.public_page("about", Some(&etag)).await;
    assert_eq!(public, serde_json::Value::Null, "still a 304: nothing public changed");
    let (status, _) = app.post_empty("/content/pages/about/publish").await;
    assert_eq!(status, 200);
    let (status, public, _) = app.public_page("about", Some(&etag)).await;
    assert_eq!((status, &public["title"], &public["version"]), (200, &json!("About Shopfleet"), &json!(2)));

    // Any version can be restored, and publishing it makes a new version.
    let (status, restored) =
        app.staff.post_json("/content/pages/about/versions/1/restore", json!({"publish": true})).await;
    assert_eq!(status, 200, "{restored}");
    assert_eq!((&restored["title"], &restored["live_version"]), (&json!("Page about"), &json!(3)));
    let (status, versions) = app.staff.get("/content/pages/about/versions").await;
    assert_eq!(status, 200);
    let numbers: Vec<_> =
        versions["items"].as_array().unwrap().iter().map(|v| (v["version"].clone(), v["live"].clone())).collect();
    assert_eq!(numbers, [(json!(3), json!(true)), (json!(2), json!(false)), (json!(1), json!(false))]);
    // A version is immutable, in the database too.
    let changed = sqlx::query("update page_versions set title = 'tampered' where version = 1").execute(&app.pool).await;
    assert!(changed.is_err(), "versions cannot be changed");

    // Each publication told the storefront, with the shared secret, which path and tag to refresh.
    let calls = app.receiver.wait_for("page:about", 3).await;
    assert!(calls.iter().all(|c| c.authorization.as_deref() == Some(&format!("Bearer {SECRET}"))));
    assert_eq!(calls[0].body["paths"], json!(["/pages/about"]));

    // Taking it down makes it a 404 again and is announced too.
    let (status, page) = app.post_empty("/content/pages/about/unpublish").await;
    assert_eq!((status, &page["live_version"]), (200, &serde_json::Value::Null));
    assert_eq!(app.public_page("about", None).await.0, 404);
    app.receiver.wait_for("page:about", 4).await;
    let (status, problem) = app.post_empty("/content/pages/about/unpublish").await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("not_published")));
}

#[tokio::test]
async fn bad_input_is_a_422_naming_each_field_and_conflicts_are_409_or_412() {
    let app = TestApp::spawn().await;
    let (status, problem) = app
        .staff
        .post_json(
            "/content/pages",
            json!({"slug": "Not A Slug", "title": "", "blocks": [
                {"type": "banner", "title": "x", "link": {"href": "javascript:alert(1)", "label": "x"}},
                {"type": "image", "media_id": uuid::Uuid::now_v7(), "alt": "gone"},
            ]}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<_> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["slug", "title", "blocks[0].link.href"]);

    let (status, problem) =
        app.staff.post_json("/content/pages", json!({"slug": "x", "title": "x", "blocks": [{"type": "video"}]})).await;
    assert_eq!(status, 422, "{problem}");
    let (status, problem) = app
        .staff
        .post_json(
            "/content/pages",
            json!({"slug": "x", "title": "x", "blocks": [{"type": "image", "media_id": uuid::Uuid::now_v7()}]}),
        )
        .await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("blocks[0].media_id")), "{problem}");

    app.create_page("faq", json!([])).await;
    let (status, problem) = app.staff.post_json("/content/pages", json!({"slug": "faq", "title": "Again"})).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("slug_taken")));

    // Two editors: the second one's stale change is refused, not silently applied.
    let first = app
        .staff
        .request(reqwest::Method::PATCH, "/content/pages/faq")
        .header("if-match", "\"1\"")
        .json(&json!({"title": "One"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["etag"], "\"2\"");
    let second = app
        .staff
        .request(reqwest::Method::PATCH, "/content/pages/faq")
        .header("if-match", "\"1\"")
        .json(&json!({"title": "Two"}))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 412);
    let (_, draft) = app.staff.get("/content/pages/faq/draft").await;
    assert_eq!(draft["title"], "One");

    let (status, problem) =
        app.staff.post_json("/content/pages/faq/publish", json!({"at": "2001-01-01T00:00:00Z"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("at")));
    let (status, _) = app.staff.post_json("/content/pages/nope/publish", json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = app.staff.get("/content/pages/faq/versions/x").await;
    assert_eq!(status, 404);
    for version in ["x", "0", "99"] {
        let (status, problem) = app.post_empty(&format!("/content/pages/faq/versions/{version}/restore")).await;
        assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")), "version {version}");
    }
    let broken = app
        .staff
        .request(reqwest::Method::POST, "/content/pages")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);

    // Staff routes need content:write, whoever asks.
    for (method, path, body) in [
        (reqwest::Method::GET, "/content/pages", None),
        (reqwest::Method::GET, "/content/pages/faq/draft", None),
        (reqwest::Method::GET, "/content/pages/faq/versions", None),
        (reqwest::Method::POST, "/content/pages/faq/publish", None),
        (reqwest::Method::POST, "/content/pages/faq/unpublish", None),
        (reqwest::Method::PUT, "/content/menus/main", Some(json!({"items": []}))),
        (reqwest::Method::PUT, "/content/snippets/bar", Some(json!({"markdown": "x"}))),
        (reqwest::Method::GET, "/content/revalidations", None),
    ] {
        let (status, _) = app.shopper.send_json(method.clone(), path, body).await;
        assert_eq!(status, 403, "{method} {path}");
    }
}

#[tokio::test]
async fn a_preview_link_shows_the_current_draft_until_it_expires() {
    let app = TestApp::spawn().await;
    app.create_page("launch", json!([{"type": "markdown", "markdown": "Coming *soon*"}])).await;
    let (status, link) =
        app.staff.post_json("/content/pages/launch/preview-links", json!({"expires_in_secs": 600})).await;
    assert_eq!(status, 201, "{link}");
    let token = link["token"].as_str().unwrap();
    assert_eq!(link["url"], format!("https://shop.example.test/preview#token={token}"));
    let stored: i64 =
        sqlx::query_scalar("select count(*) from preview_links where token_hash = sha256($1::text::bytea)")
            .bind(token)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, 1, "only the token's digest is kept");

    // The draft as it is when the link is opened, not when it was made.
    let (status, _) = app
        .staff
        .send_json(
            reqwest::Method::PATCH,
            "/content/pages/launch",
            Some(json!({"blocks": [{"type": "markdown", "markdown": "Out *now*"}]})),
        )
        .await;
    assert_eq!(status, 200);
    let response = app
        .public
        .request(reqwest::Method::POST, "/content/preview")
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    let preview: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (&preview["preview"], &preview["blocks"][0]["html"]),
        (&json!(true), &json!("<p>Out <em>now</em></p>\n"))
    );
    assert_eq!(app.public_page("launch", None).await.0, 404, "a preview publishes nothing");

    let (status, _) = app.public.post_json("/content/preview", json!({"token": "forged"})).await;
    assert_eq!(status, 404);
    app.clock.advance(std::time::Duration::from_secs(601));
    let (status, _) = app.public.post_json("/content/preview", json!({"token": token})).await;
    assert_eq!(status, 404, "expired");
    let (status, _) = app.staff.post_json("/content/pages/launch/preview-links", json!({"expires_in_secs": 10})).await;
    assert_eq!(status, 422);
}
