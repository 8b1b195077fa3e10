//! The export search reads: every active product exactly once across pages, by id in any
//! status, the categories; only for the search service.

use std::collections::BTreeSet;

use testkit::ServiceCaller;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_export_pages_through_every_active_product_once_and_only_search_may_read_it() {
    let app = TestApp::seeded().await;
    let search = ServiceCaller::new("product", app.addr).as_issuer("search");
    let (status, _) = app.get("/internal/search-documents?limit=5").await;
    assert!(status == 401 || status == 403, "the gateway may not read the export: {status}");

    let mut seen = Vec::new();
    let mut path = "/internal/search-documents?limit=7".to_owned();
    loop {
        let (status, page) = search.get(&path).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 7);
        seen.extend(items.iter().map(|d| d["product_id"].as_str().unwrap().to_owned()));
        for document in items {
            assert_eq!(document["status"], "active");
            assert!(document["variants"].as_array().is_some_and(|v| !v.is_empty()), "{document}");
        }
        match page["next_after"].as_str() {
            Some(after) => path = format!("/internal/search-documents?limit=7&after={after}"),
            None => break,
        }
    }
    let active: i64 =
        sqlx::query_scalar("select count(*) from products where status = 'active'").fetch_one(&app.pool).await.unwrap();
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!((seen.len() as i64, unique.len() as i64), (active, active), "each active product once");

    // Archived, it is still answered by id, with its status, so search can drop it.
    let id = &seen[0];
    let response = app.staff.request(reqwest::Method::DELETE, &format!("/products/{id}")).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let (status, page) = search.get(&format!("/internal/search-documents?ids={id},{}", uuid::Uuid::now_v7())).await;
    assert_eq!(status, 200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "an unknown id is absent");
    assert_eq!(items[0]["status"], "archived");
    assert!(items[0]["version"].as_i64().unwrap() >= 2);

    let (status, problem) = search.get("/internal/search-documents?ids=not-an-id").await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("ids")), "{problem}");
    let (status, _) = search.get("/internal/search-documents?limit=0").await;
    assert_eq!(status, 422);

    let (status, categories) = search.get("/internal/categories").await;
    assert_eq!(status, 200);
    let count: i64 = sqlx::query_scalar("select count(*) from categories").fetch_one(&app.pool).await.unwrap();
    assert_eq!(categories["items"].as_array().unwrap().len() as i64, count);
}
