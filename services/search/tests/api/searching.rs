//! Searching the fixed test catalog: typed queries (typos included) find what a shopper meant,
//! facets equal a count by hand, filters, sorts, paging, suggestions and bad input.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{CATALOG, Shop, eventually, slugs};

#[tokio::test]
async fn typed_queries_typos_included_find_what_was_meant() {
    let shop = Shop::start().await;
    let search = shop.search("a").await;
    // Each typed query and the product that must come first.
    let expected = [
        ("hoodie", "async-hoodie"),
        ("hoodei", "async-hoodie"),
        ("tshirt", "ferris-t-shirt"),
        ("t-shrit", "ferris-t-shirt"),
        ("t shirt ferris", "ferris-t-shirt"),
        ("sweatshirt", "lifetime-sweatshirt"),
        ("swetshirt", "lifetime-sweatshirt"),
        ("mug", "borrow-checker-mug"),
        ("borow checker", "borrow-checker-mug"),
        ("stick", "unsafe-sticker-pack"),
        ("tote", "zero-cost-tote"),
    ];
    for (query, first) in expected {
        let found = slugs(&search, &format!("q={query}")).await;
        assert_eq!(found.first().map(String::as_str), Some(first), "{query}: {found:?}");
    }
    // Both shirts for either spelling; a title match ranks above a description match.
    let shirts = slugs(&search, "q=tshirt").await;
    assert!(shirts.contains(&"trait-object-tshirt".to_owned()), "{shirts:?}");
    let hoodies = slugs(&search, "q=hoodie").await;
    assert_eq!(hoodies, ["async-hoodie", "zero-cost-tote"], "the tote mentions a hoodie in its description");
    // Brand and category names are searched too; a word of four letters must be exact.
    assert_eq!(slugs(&search, "q=tokio").await, ["cargo-cap", "async-hoodie"], "ties newest first");
    assert_eq!(slugs(&search, "q=kitchen").await, ["borrow-checker-mug"]);
    assert!(slugs(&search, "q=mgu").await.is_empty(), "no typo allowed in a three-letter word");
    assert!(slugs(&search, "q=hoodie%20banana").await.is_empty(), "every word must match");

    // Highlights mark the matched words and escape the rest.
    let (_, page) = search.get("/search?q=t-shrit").await;
    assert_eq!(page["items"][0]["highlights"]["title"], "Ferris <mark>T</mark>-<mark>Shirt</mark>");
    let (_, page) = search.get("/search?q=compile").await;
    let snippet = page["items"][0]["highlights"]["description"].as_str().unwrap();
    assert!(snippet.contains("<mark>compile</mark>"), "{snippet}");
}

#[tokio::test]
async fn facets_filters_sorts_and_pages_agree_with_a_count_by_hand() {
    let shop = Shop::start().await;
    let search = shop.search("a").await;
    // The mug has no stock: once inventory's flag arrives, it counts as out of stock.
    let page =
        eventually(&search, "facets=true", Duration::from_secs(5), |p| p["facets"]["in_stock"]["false"] == 1).await;
    assert_eq!(page["total"], CATALOG.len());
    let facets = &page["facets"];
    assert_eq!(facets["in_stock"]["true"], CATALOG.len() - 1);
    let by_category: BTreeMap<&str, u64> = facets["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["slug"].as_str().unwrap(), c["count"].as_u64().unwrap()))
        .collect();
    let apparel = CATALOG.iter().filter(|p| ["tops", "accessories"].contains(&p.3)).count() as u64;
    assert_eq!(by_category, BTreeMap::from([("apparel", apparel), ("home", CATALOG.len() as u64 - apparel)]));

    // Every facet of a filtered search equals a count by hand over the test catalog.
    let page =
        eventually(&search, "category=apparel&facets=true&max_price=3000", Duration::from_secs(1), |_| true).await;
    let chosen: Vec<_> = CATALOG.iter().filter(|p| ["tops", "accessories"].contains(&p.3) && p.4 <= 3000).collect();
    assert_eq!(page["total"], chosen.len());
    let kids: Vec<(String, u64)> = page["facets"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["slug"].as_str().unwrap().to_owned(), c["count"].as_u64().unwrap()))
        .collect();
    let count = |category: &str| chosen.iter().filter(|p| p.3 == category).count() as u64;
    assert_eq!(kids, [("accessories".to_owned(), count("accessories")), ("tops".to_owned(), count("tops"))]);
    let colors: BTreeMap<String, u64> = page["facets"]["attributes"]["color"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["value"].as_str().unwrap().to_owned(), v["count"].as_u64().unwrap()))
        .collect();
    let mut by_hand = BTreeMap::new();
    for p in &chosen {
        *by_hand.entry(p.5.to_owned()).or_insert(0) += 1;
    }
    assert_eq!(colors, by_hand);
    let buckets: Vec<u64> =
        page["facets"]["price"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).collect();
    let edges = contracts::listing::PRICE_BUCKETS;
    let by_hand: Vec<u64> = (0..edges.len())
        .map(|i| {
            chosen.iter().filter(|p| p.4 >= edges[i] && edges.get(i + 1).is_none_or(|hi| p.4 < *hi)).count() as u64
        })
        .collect();
    assert_eq!(buckets, by_hand);

    // Filters: brand (any case), attribute, in stock.
    let mut rustacean = slugs(&search, "brand=rustacean").await;
    rustacean.sort();
    assert_eq!(rustacean, ["borrow-checker-mug", "ferris-t-shirt", "zero-cost-tote"]);
    assert_eq!(slugs(&search, "q=mug").await, ["borrow-checker-mug", "zero-cost-tote"]);
    assert_eq!(slugs(&search, "q=mug&in_stock=true").await, ["zero-cost-tote"], "the mug itself has no stock");
    let black = slugs(&search, "attr.color=black&sort=price_asc").await;
    assert_eq!(black, ["cargo-cap", "ferris-t-shirt", "lifetime-sweatshirt"]);
    assert_eq!(slugs(&search, "category=no-such-category").await, Vec::<String>::new());

    // Sorts and pages: price descending, three at a time, every product once.
    let mut walked = Vec::new();
    let mut path = "/search?sort=price_desc&limit=3".to_owned();
    loop {
        let (status, page) = search.get(&path).await;
        assert_eq!(status, 200, "{page}");
        walked.extend(page["items"].as_array().unwrap().iter().map(|i| i["price_min_minor"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/search?sort=price_desc&limit=3&cursor={cursor}"),
            None => break,
        }
    }
    let mut by_hand: Vec<i64> = CATALOG.iter().map(|p| p.4).collect();
    by_hand.sort_by(|a, b| b.cmp(a));
    assert_eq!(walked, by_hand);
}

#[tokio::test]
async fn suggestions_complete_categories_brands_and_titles_and_bad_input_is_a_clear_422() {
    let shop = Shop::start().await;
    let search = shop.search("a").await;
    let (status, answer) = search.get("/search/suggest?q=acc").await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["suggestions"][0],
        serde_json::json!({"text": "Accessories", "kind": "category", "slug": "accessories"})
    );
    let (_, answer) = search.get("/search/suggest?q=tok").await;
    let kinds: Vec<(&str, &str)> = answer["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["text"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("brand", "Tokio")]);
    let (_, answer) = search.get("/search/suggest?q=async%20hoo").await;
    assert_eq!(answer["suggestions"][0]["slug"], "async-hoodie");
    let (_, answer) = search.get("/search/suggest?q=swea").await;
    let texts: Vec<&str> =
        answer["suggestions"].as_array().unwrap().iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Lifetime Sweatshirt"]);

    for (path, field) in [
        ("/search/suggest?q=", "q"),
        ("/search?sort=cheapest", "sort"),
        ("/search?limit=500", "limit"),
        ("/search?cursor=garbage", "cursor"),
        ("/search?min_price=10&max_price=5", "min_price"),
        ("/search?attr.Bad%20Name=x", "attr.Bad Name"),
    ] {
        let (status, problem) = search.get(path).await;
        assert_eq!(status, 422, "{path}: {problem}");
        assert_eq!(problem["code"], "validation_failed");
        let fields: Vec<&str> =
            problem["errors"].as_array().unwrap().iter().map(|e: &Value| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&field), "{path}: {problem}");
    }
    let long = "x".repeat(201);
    let (status, _) = search.get(&format!("/search?q={long}")).await;
    assert_eq!(status, 422);
}

/// The review's probe (f5592e3 M6): forty products with 20 000-character descriptions, and a
/// flood of eight-word queries that match all of them, 100 hits a page, from 20 callers at
/// once. The replica's `/health` and a simple query still answer within 100 ms each.
// A runtime of its own threads, as the service has in production (a test's default runtime is
// one thread, shared with the flood's own callers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_worst_case_queries_leaves_health_and_a_simple_query_answering() {
    let shop = Shop::start().await;
    let description: String =
        "cotton shirt blue soft classic comfort organic fabric ".repeat(400).chars().take(19_900).collect();
    for i in 0..40 {
        let slug = format!("probe-long-{i}");
        shop.add_product(&slug, &format!("Probe {i}"), "Ferrous", "tops", 100, "blue", &description).await;
    }
    let search = std::sync::Arc::new(shop.search("flood").await);
    let heavy = "q=cotton%20shirt%20blue%20soft%20classic%20comfort%20organic%20fabri&limit=100";
    eventually(&search, heavy, Duration::from_secs(20), |page| page["total"] == 40).await;
    let started = std::time::Instant::now();
    let (status, _) = search.get(&format!("/search?{heavy}")).await;
    assert_eq!(status, 200);
    eprintln!("one heavy query alone: {:?}", started.elapsed());

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flood = Vec::new();
    for _ in 0..20 {
        let (search, stop) = (std::sync::Arc::clone(&search), stop.clone());
        flood.push(tokio::spawn(async move {
            let mut answered = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, _) = search.get(&format!("/search?{heavy}")).await;
                assert!(status == 200 || status == 503, "{status}");
                answered += 1;
            }
            answered
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = format!("{}/health", search.base);
    let mut slowest = (Duration::ZERO, Duration::ZERO);
    for _ in 0..20 {
        let started = std::time::Instant::now();
        let response = search.http.get(&health).send().await.unwrap();
        assert_eq!(response.status(), 200);
        slowest.0 = slowest.0.max(started.elapsed());
        let started = std::time::Instant::now();
        let (status, page) = search.get("/search?q=hoodie&limit=1").await;
        assert_eq!(status, 200, "{page}");
        slowest.1 = slowest.1.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answered = 0;
    for caller in flood {
        answered += caller.await.unwrap();
    }
    eprintln!("flood answered {answered}; slowest /health {:?}, slowest simple query {:?}", slowest.0, slowest.1);
    assert!(answered > 20, "the flood ran");
    assert!(slowest.0 < Duration::from_millis(100), "/health took {:?}", slowest.0);
    assert!(slowest.1 < Duration::from_millis(100), "a simple query took {:?}", slowest.1);
}
