//! Keeping the index current: a change is searchable within a second of its event, an archived
//! product disappears, a stock change moves the facet, a category renamed is found by its new
//! name, and a replica rebuilt from scratch answers exactly as the one kept by events.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Shop, eventually, slugs};

#[tokio::test]
async fn changes_reach_the_index_within_a_second_and_a_rebuild_answers_the_same() {
    let shop = Shop::start().await;
    let search = shop.search("a").await;

    // A new product, then a renamed one: each searchable within a second of the write.
    let started = Instant::now();
    let id =
        shop.add_product("rustup-beanie", "Rustup Beanie", "Tokio", "accessories", 1790, "black", "Knitted.").await;
    eventually(&search, "q=beanie", Duration::from_secs(1), |p| p["total"] == 1).await;
    let patch = json!({"title": "Rustup Bobble Hat"});
    let (status, _) = shop.catalog.send_json(Method::PATCH, &format!("/products/{id}"), Some(patch)).await;
    assert_eq!(status, 200);
    eventually(&search, "q=bobble", Duration::from_secs(1), |p| p["total"] == 1).await;
    assert!(slugs(&search, "q=beanie").await.is_empty(), "the old title is gone");
    eprintln!("created and renamed, both searchable, in {:?}", started.elapsed());

    // Archived: gone.
    let response =
        shop.catalog.request(Method::DELETE, "/products/{id}".replace("{id}", &id).as_str()).send().await.unwrap();
    assert_eq!(response.status(), 204);
    eventually(&search, "q=bobble", Duration::from_secs(1), |p| p["total"] == 0).await;

    // Out of stock, then back: the flag follows inventory.
    shop.set_stock("ferris-t-shirt-1", 0).await;
    eventually(&search, "q=ferris", Duration::from_secs(1), |p| p["items"][0]["in_stock"] == false).await;
    shop.set_stock("ferris-t-shirt-1", 3).await;
    eventually(&search, "q=ferris&in_stock=true", Duration::from_secs(1), |p| p["total"] == 1).await;

    // A category renamed: its products are found by the new name.
    let patch = json!({"name": "Headwear"});
    let (status, answer) = shop.catalog.send_json(Method::PATCH, "/categories/accessories", Some(patch)).await;
    assert_eq!(status, 200, "{answer}");
    eventually(&search, "q=headwear", Duration::from_secs(1), |p| p["total"] == 2).await;

    // A second replica builds its own index from the export: the same answers.
    let fresh = shop.search("b").await;
    for query in
        ["q=tshirt&facets=true", "q=hoodei", "facets=true&sort=price_asc", "q=headwear", "category=apparel&facets=true"]
    {
        let kept = eventually(&search, query, Duration::from_secs(1), |_| true).await;
        let rebuilt = eventually(&fresh, query, Duration::from_secs(5), |p| p == &kept).await;
        assert_eq!(rebuilt, kept, "{query}");
    }
}

#[tokio::test]
async fn a_replica_restarted_keeps_its_index_and_a_changed_schema_version_rebuilds_it() {
    let shop = Shop::start().await;
    let (first, stop, task) = shop.search_stoppable("a").await;
    let before =
        eventually(&first, "facets=true", Duration::from_secs(5), |p| p["facets"]["in_stock"]["false"] == 1).await;
    stop.send(()).unwrap();
    task.await.unwrap();
    // The same replica again (same directory): ready at once from disk.
    let (again, stop, task) = shop.search_stoppable("a").await;
    assert_eq!(eventually(&again, "facets=true", Duration::from_secs(1), |_| true).await, before);
    stop.send(()).unwrap();
    task.await.unwrap();
    // An index written by another schema version is made anew.
    std::fs::write(shop.dir.path().join("a").join("shopfleet-schema-version"), "0").unwrap();
    let rebuilt = shop.search("a").await;
    assert_eq!(eventually(&rebuilt, "facets=true", Duration::from_secs(5), |p| p == &before).await, before);
}
