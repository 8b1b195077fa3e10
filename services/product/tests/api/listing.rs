//! The storefront's reads: the listing (filters, sorts, keyset pagination, facets), the detail
//! and the category tree, against the demo catalog.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::helpers::TestApp;

const SORTS: &[&str] = &["newest", "price_asc", "price_desc", "rating", "name"];

/// The sort key of an item as the API shows it, for checking the order.
fn in_order(sort: &str, a: &Value, b: &Value) -> bool {
    let newer_first = || {
        let key = |v: &Value| (v["created_at"].as_str().unwrap().to_owned(), v["id"].as_str().unwrap().to_owned());
        key(a) >= key(b)
    };
    let price = |v: &Value| v["price_min_minor"].as_i64().unwrap();
    let rating = |v: &Value| v["rating_average"].as_f64().unwrap();
    let name = |v: &Value| v["title"].as_str().unwrap().to_lowercase();
    match sort {
        "newest" => newer_first(),
        "price_asc" => price(a) < price(b) || (price(a) == price(b) && newer_first()),
        "price_desc" => price(a) > price(b) || (price(a) == price(b) && newer_first()),
        "rating" => rating(a) > rating(b) || (rating(a) == rating(b) && newer_first()),
        "name" => name(a) < name(b) || (name(a) == name(b) && newer_first()),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn every_sort_pages_through_the_whole_catalog_once_even_while_products_are_added() {
    let app = TestApp::seeded().await;
    // Ratings and equal prices, so ties must be broken by created_at and id.
    sqlx::query("update products set rating_count = 2, rating_sum = 9 where title like 'Rusty%'")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("update products set created_at = '2026-01-01T00:00:00Z' where title like '%Cap'")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("update products set status = 'draft' where slug = 'async-crab-hoodie'")
        .execute(&app.pool)
        .await
        .unwrap();
    let before: HashSet<String> =
        app.walk("sort=newest", 100).await.iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(before.len(), 59, "60 demo products, one of them a draft");

    for sort in SORTS {
        // A writer adds products while we page; every product there before must be seen once.
        let staff = app.staff.clone();
        let sort_name = sort.replace('_', "-");
        let writer = tokio::spawn(async move {
            for n in 0..6 {
                let body = TestApp::product_body(
                    &format!("added-{sort_name}-{n}"),
                    &[(&format!("ADD-{sort_name}-{n}"), 100 + n)],
                );
                let (status, _) = staff.post_json("/products", body).await;
                assert_eq!(status, 201);
            }
        });
        let items = app.walk(&format!("sort={sort}"), 7).await;
        writer.await.unwrap();
        let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{sort}: no product twice");
        assert!(before.iter().all(|id| unique.contains(id.as_str())), "{sort}: every product seen");
        for pair in items.windows(2) {
            assert!(in_order(sort, &pair[0], &pair[1]), "{sort}: {} before {}", pair[0], pair[1]);
        }
    }
}

#[tokio::test]
async fn the_category_filter_includes_descendants_and_facets_equal_a_brute_force_count() {
    let app = TestApp::seeded().await;
    // One product out of stock and one with two categories.
    sqlx::query("update products set in_stock = true where title not like '%Poster'").execute(&app.pool).await.unwrap();
    let (_, mug) = app.get("/products/async-tokio-mug").await;
    let (status, _) = app
        .staff
        .send_json(
            reqwest::Method::PATCH,
            &format!("/products/{}", mug["id"].as_str().unwrap()),
            Some(serde_json::json!({"categories": ["mugs", "caps"]})),
        )
        .await;
    assert_eq!(status, 200);

    let all = app.walk("sort=newest", 100).await;
    let (_, tree) = app.get("/categories").await;
    // Brute force: a product's categories and every ancestor of them.
    let mut parent: BTreeMap<String, Option<String>> = BTreeMap::new();
    fn visit(nodes: &Value, up: Option<String>, parent: &mut BTreeMap<String, Option<String>>) {
        for node in nodes.as_array().unwrap() {
            let slug = node["slug"].as_str().unwrap().to_owned();
            parent.insert(slug.clone(), up.clone());
            visit(&node["children"], Some(slug), parent);
        }
    }
    visit(&tree, None, &mut parent);
    let mut under: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for item in &all {
        let (_, detail) = app.get(&format!("/products/{}", item["slug"].as_str().unwrap())).await;
        for category in detail["categories"].as_array().unwrap() {
            let mut at = Some(category["slug"].as_str().unwrap().to_owned());
            while let Some(slug) = at {
                under.entry(slug.clone()).or_default().insert(item["id"].as_str().unwrap().to_owned());
                at = parent[&slug].clone();
            }
        }
    }

    for (category, filter) in [
        (None, "facets=true"),
        (Some("apparel"), "category=apparel&facets=true"),
        (Some("tops"), "category=tops&facets=true&in_stock=true"),
    ] {
        let items = app.walk(filter, 100).await;
        let ids: HashSet<String> = items.iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
        if let Some(category) = category {
            assert!(!ids.is_empty());
            assert!(ids.iter().all(|id| under[category].contains(id)), "{filter}: only the subtree");
        }
        if !filter.contains("in_stock") {
            assert_eq!(ids.len(), category.map_or(all.len(), |c| under[c].len()), "{filter}: the whole subtree");
        }
        let (_, page) = app.get(&format!("/products?{filter}&limit=1")).await;
        let facets = &page["facets"];
        // Categories: the direct children (roots unfiltered), each over its subtree.
        let children: Vec<&String> = parent.iter().filter(|(_, p)| p.as_deref() == category).map(|(s, _)| s).collect();
        let shown: Vec<&str> =
            facets["categories"].as_array().unwrap().iter().map(|c| c["slug"].as_str().unwrap()).collect();
        assert_eq!(shown.len(), children.len(), "{filter}: {facets}");
        for entry in facets["categories"].as_array().unwrap() {
            let slug = entry["slug"].as_str().unwrap();
            let expected = ids.iter().filter(|id| under.get(slug).is_some_and(|s| s.contains(*id))).count();
            assert_eq!(entry["count"].as_i64().unwrap() as usize, expected, "{filter}: {slug}");
        }
        // Price buckets by the lowest price.
        let total: i64 = facets["price"].as_array().unwrap().iter().map(|b| b["count"].as_i64().unwrap()).sum();
        assert_eq!(total as usize, ids.len(), "{filter}: every product in one bucket");
        for bucket in facets["price"].as_array().unwrap() {
            let (lo, hi) = (bucket["min"].as_i64().unwrap(), bucket["max"].as_i64());
            let expected = items
                .iter()
                .filter(|i| {
                    let p = i["price_min_minor"].as_i64().unwrap();
                    p >= lo && hi.is_none_or(|hi| p < hi)
                })
                .count();
            assert_eq!(bucket["count"].as_i64().unwrap() as usize, expected, "{filter}: bucket {bucket}");
        }
        // Stock.
        let in_stock = items.iter().filter(|i| i["in_stock"] == true).count();
        assert_eq!(facets["in_stock"]["true"].as_i64().unwrap() as usize, in_stock);
        assert_eq!(facets["in_stock"]["false"].as_i64().unwrap() as usize, ids.len() - in_stock);
        // Attributes: every value counted over the filtered products.
        let colors = facets["attributes"]["color"].as_array().unwrap();
        let counted: i64 = colors.iter().map(|c| c["count"].as_i64().unwrap()).sum();
        assert_eq!(counted as usize, ids.len(), "{filter}: every demo product has a colour");
    }
}

#[tokio::test]
async fn filters_narrow_by_price_attributes_brand_and_stock() {
    let app = TestApp::seeded().await;
    let all = app.walk("sort=newest", 100).await;
    let black = app.walk("attr.color=black", 100).await;
    assert!(!black.is_empty() && black.len() < all.len());
    for item in &black {
        let (_, detail) = app.get(&format!("/products/{}", item["slug"].as_str().unwrap())).await;
        assert_eq!(detail["attributes"]["color"], "black");
    }
    let organic_black = app.walk("attr.color=black&attr.organic=true", 100).await;
    assert!(organic_black.len() < black.len());
    let cheap = app.walk("max_price=2000", 100).await;
    assert!(!cheap.is_empty() && cheap.iter().all(|i| i["price_min_minor"].as_i64().unwrap() <= 2000));
    let dear = app.walk("min_price=6000", 100).await;
    assert!(!dear.is_empty() && dear.iter().all(|i| i["price_max_minor"].as_i64().unwrap() >= 6000));
    let brand = app.walk("brand=ferrous", 100).await;
    assert!(!brand.is_empty() && brand.iter().all(|i| i["brand"] == "Ferrous"));
    assert!(app.walk("in_stock=true", 100).await.is_empty(), "no stock is known before inventory says so");
    assert!(app.walk("category=no-such-category", 100).await.is_empty());
}

#[tokio::test]
async fn a_product_is_found_by_slug_and_id_with_variants_and_categories_but_not_when_inactive() {
    let app = TestApp::seeded().await;
    let (status, by_slug) = app.get("/products/async-tokio-mug").await;
    assert_eq!(status, 200, "{by_slug}");
    assert_eq!(by_slug["variants"].as_array().unwrap().len(), 2);
    assert_eq!(by_slug["variants"][0]["currency"], "EUR");
    assert_eq!(by_slug["variants"][0]["in_stock"], false);
    assert_eq!(by_slug["categories"][0]["slug"], "mugs");
    assert!(by_slug["description_html"].as_str().unwrap().contains("<strong>Mug</strong>"));
    assert_eq!(by_slug["rating_count"], 0);
    let id = by_slug["id"].as_str().unwrap();
    let (status, by_id) = app.get(&format!("/products/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(by_id["slug"], "async-tokio-mug");

    let (status, _) = app
        .staff
        .send_json(reqwest::Method::PATCH, &format!("/products/{id}"), Some(serde_json::json!({"status": "draft"})))
        .await;
    assert_eq!(status, 200);
    let (status, problem) = app.get("/products/async-tokio-mug").await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    let (status, draft) = app.staff.get("/products/async-tokio-mug").await;
    assert_eq!((status, draft["status"].as_str()), (200, Some("draft")), "staff see drafts");
}

#[tokio::test]
async fn the_category_tree_and_a_category_with_its_breadcrumbs() {
    let app = TestApp::seeded().await;
    let (status, tree) = app.get("/categories").await;
    assert_eq!(status, 200);
    let roots: Vec<&str> = tree.as_array().unwrap().iter().map(|c| c["slug"].as_str().unwrap()).collect();
    assert_eq!(roots, ["apparel", "home"]);
    let (status, hoodies) = app.get("/categories/hoodies").await;
    assert_eq!(status, 200);
    let path: Vec<&str> = hoodies["path"].as_array().unwrap().iter().map(|c| c["slug"].as_str().unwrap()).collect();
    assert_eq!(path, ["apparel", "tops", "hoodies"]);
    let (_, tops) = app.get("/categories/tops").await;
    assert_eq!(tops["children"].as_array().unwrap().len(), 2);
    let (status, problem) = app.get("/categories/nope").await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn bad_listing_parameters_are_one_422_naming_each() {
    let app = TestApp::spawn().await;
    let (status, problem) = app.get("/products?limit=101&sort=cheapest&min_price=x").await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["sort", "limit", "min_price"]);
    let (status, problem) = app.get("/products?cursor=not-a-cursor").await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("cursor")));
}

/// The SQL statements the product role ran since the last reset, by pg_stat_statements, leaving
/// out the event machinery's own (outbox relay and consumer, whose polls are transactions; the
/// reads measured here run outside any).
async fn statements(app: &TestApp, role: &str) -> (i64, Vec<(String, i64)>) {
    let mut admin = app.db.admin().await;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select left(query, 120), calls from pg_stat_statements s join pg_database d on d.oid = s.dbid \
         where d.datname = current_database() and s.userid = $1::regrole \
           and s.query !~* '(outbox|processed_events|pg_notify|listen|pg_stat)' \
           and s.query !~* '^(begin|commit|rollback)$'",
    )
    .bind(role)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    (rows.iter().map(|(_, calls)| calls).sum(), rows)
}

#[tokio::test]
async fn a_listing_page_costs_a_constant_number_of_statements_whatever_its_size() {
    let app = TestApp::seeded().await;
    let role: String = sqlx::query_scalar("select current_user::text").fetch_one(&app.pool).await.unwrap();
    // The relay has published the seed's events (its statements are not the listing's).
    testkit::wait::until("the outbox is relayed", || async {
        sqlx::query_scalar::<_, i64>("select count(*) from outbox where sent_at is null")
            .fetch_one(&app.pool)
            .await
            .unwrap()
            == 0
    })
    .await;
    let mut admin = app.db.admin().await;
    sqlx::query("create extension if not exists pg_stat_statements").execute(&mut admin).await.unwrap();
    // One statement for the page and one for the facets, however many products; the detail
    // with its variants and categories is one.
    let cases = [
        ("/products?limit=20&facets=true", 2),
        ("/products?limit=100", 1),
        ("/products?limit=100&facets=true&category=apparel&sort=price_desc", 2),
        ("/products/async-tokio-mug", 1),
    ];
    for (path, expected) in cases {
        sqlx::query("select pg_stat_statements_reset()").execute(&mut admin).await.unwrap();
        let (status, _) = app.get(path).await;
        assert_eq!(status, 200);
        let (count, rows) = statements(&app, &role).await;
        assert_eq!(count, expected, "{path}: {rows:#?}");
    }
}
