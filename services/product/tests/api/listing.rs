//! The catalog listing and detail.

use crate::helpers::TestApp;

#[tokio::test]
async fn pages_walk_the_whole_active_catalog_newest_first_without_repeats() {
    let app = TestApp::spawn().await;
    let pool = app.pool().await;
    // The demo catalog (60 active) plus drafts and archived products, which must never show.
    product::seed::seed_demo_catalog(&pool).await.unwrap();
    sqlx::query("update products set status = 'draft' where sku in ('DEMO-0001', 'DEMO-0002')")
        .execute(&pool)
        .await
        .unwrap();
    // Two products with the same created_at: the id must break the tie.
    sqlx::query("update products set created_at = '2026-01-01T00:00:00Z' where sku in ('DEMO-0010', 'DEMO-0011')")
        .execute(&pool)
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut path = "/products?limit=7".to_owned();
    loop {
        let (status, page) = app.get(&path).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 7);
        for item in items {
            assert_eq!(item["status"], "active");
            seen.push((item["created_at"].as_str().unwrap().to_owned(), item["id"].as_str().unwrap().to_owned()));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/products?limit=7&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 58);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, ties broken by id");
    sorted.dedup();
    assert_eq!(sorted.len(), 58, "no product twice");
}

#[tokio::test]
async fn a_product_is_found_by_slug_and_by_id_but_not_when_inactive() {
    let app = TestApp::spawn().await;
    let pool = app.pool().await;
    product::seed::seed_demo_catalog(&pool).await.unwrap();
    let (_, page) = app.get("/products?limit=1").await;
    let first = &page["items"][0];
    let (status, by_slug) = app.get(&format!("/products/{}", first["slug"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert_eq!(by_slug["id"], first["id"]);
    let (status, by_id) = app.get(&format!("/products/{}", first["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert_eq!(by_id["slug"], first["slug"]);
    assert!(by_id["price_minor"].is_i64());
    assert_eq!(by_id["currency"], "EUR");

    sqlx::query("update products set status = 'archived' where id = $1::uuid")
        .bind(first["id"].as_str().unwrap())
        .execute(&pool)
        .await
        .unwrap();
    let (status, problem) = app.get(&format!("/products/{}", first["slug"].as_str().unwrap())).await;
    assert_eq!(status, 404);
    assert_eq!(problem["code"], "not_found");
}

#[tokio::test]
async fn bad_paging_parameters_are_a_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let (status, problem) = app.get("/products?limit=101").await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "limit");
    let (status, problem) = app.get("/products?cursor=not-a-cursor").await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "cursor");
}
