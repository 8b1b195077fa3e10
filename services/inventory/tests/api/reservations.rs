//! Reservations: never oversold under concurrency, all or nothing, no deadlock between
//! overlapping multi-line reservations, idempotent by id, released exactly once by competing
//! sweepers, committed and released from the order's events.

use futures_util::future::join_all;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_hundred_concurrent_reservations_of_ten_units_hold_exactly_ten() {
    let app = TestApp::spawn().await;
    app.stock("HOT-1", 10).await;
    let calls =
        (0..100).map(|_| {
            let order = app.order.clone();
            async move {
                order.post_json("/internal/reservations", TestApp::reservation(Uuid::now_v7(), &[("HOT-1", 1)])).await
            }
        });
    let results = join_all(calls).await;
    let held = results.iter().filter(|(s, _)| *s == 201).count();
    let refused: Vec<_> = results.iter().filter(|(s, _)| *s == 409).collect();
    assert_eq!((held, refused.len()), (10, 90), "{:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
    assert!(refused.iter().all(|(_, p)| p["code"] == "out_of_stock" && p["skus"] == json!(["HOT-1"])));
    assert_eq!(app.levels("HOT-1").await, (10, 10));
    app.assert_ledger_matches().await;
    // Sold out: announced once, with the quantity.
    let changed: Vec<_> = app.outbox().await.into_iter().filter(|(t, _)| t == "STOCK_CHANGED").collect();
    assert_eq!(changed.len(), 2, "in stock when set, out of stock at the tenth: {changed:?}");
    assert_eq!(changed[1].1["available"], false);
}

#[tokio::test]
async fn overlapping_multi_line_reservations_in_opposite_orders_neither_deadlock_nor_split() {
    let app = TestApp::spawn().await;
    app.stock("A-1", 10).await;
    app.stock("B-1", 10).await;
    let calls = (0..60).map(|i| {
        let order = app.order.clone();
        let lines = if i % 2 == 0 { [("A-1", 1), ("B-1", 1)] } else { [("B-1", 1), ("A-1", 1)] };
        async move { order.post_json("/internal/reservations", TestApp::reservation(Uuid::now_v7(), &lines)).await }
    });
    let results = join_all(calls).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "no deadlock or error: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10);
    assert_eq!((app.levels("A-1").await, app.levels("B-1").await), ((10, 10), (10, 10)), "both lines or neither");

    // All or nothing: one short line holds nothing at all.
    app.stock("C-1", 5).await;
    app.stock("D-1", 1).await;
    let id = Uuid::now_v7();
    let (status, problem) = app
        .order
        .post_json("/internal/reservations", TestApp::reservation(id, &[("C-1", 1), ("D-1", 2), ("NOPE-1", 1)]))
        .await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("out_of_stock")));
    assert_eq!(problem["skus"], json!(["D-1", "NOPE-1"]));
    assert_eq!(app.levels("C-1").await, (5, 0));
    let kept: i64 = sqlx::query_scalar("select count(*) from reservations where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 0, "nothing of a refused reservation is kept");
    app.assert_ledger_matches().await;
}

#[tokio::test]
async fn a_replayed_reservation_is_the_same_one_and_another_use_of_its_id_conflicts() {
    let app = TestApp::spawn().await;
    app.stock("R-1", 5).await;
    let id = Uuid::now_v7();
    let body = TestApp::reservation(id, &[("R-1", 2)]);
    let (status, first) = app.order.post_json("/internal/reservations", body.clone()).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = app.order.post_json("/internal/reservations", body).await;
    assert_eq!((status, &again), (200, &first), "the same reservation, not a second hold");
    assert_eq!(app.levels("R-1").await, (5, 2));
    let (status, problem) =
        app.order.post_json("/internal/reservations", TestApp::reservation(id, &[("R-1", 3)])).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("reservation_conflict")));
    // Only the order service may reserve.
    let (status, _) =
        app.shopper.post_json("/internal/reservations", TestApp::reservation(Uuid::now_v7(), &[("R-1", 1)])).await;
    assert_eq!(status, 401);
    let (status, problem) = app
        .order
        .post_json("/internal/reservations", json!({"id": Uuid::now_v7(), "lines": [{"sku": "R-1", "quantity": 0}]}))
        .await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("lines[0].quantity")));
}

#[tokio::test]
async fn orphaned_reservations_are_released_exactly_once_by_two_sweepers() {
    let app = TestApp::spawn().await;
    app.stock("S-1", 50).await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        let id = Uuid::now_v7();
        let (status, _) = app.order.post_json("/internal/reservations", TestApp::reservation(id, &[("S-1", 2)])).await;
        assert_eq!(status, 201);
        ids.push(id);
    }
    // Half have an order; all are long past their expiry.
    for id in &ids[..10] {
        sqlx::query("update reservations set order_written = true where id = $1")
            .bind(id)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    sqlx::query("update reservations set expires_at = now() - interval '2 hours'").execute(&app.pool).await.unwrap();
    let (a, b) = tokio::join!(
        inventory::stock::sweep_orphans(&app.pool, 3600.0),
        inventory::stock::sweep_orphans(&app.pool, 3600.0)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 10, "each orphan released by exactly one sweeper");
    assert_eq!(inventory::stock::sweep_orphans(&app.pool, 3600.0).await.unwrap(), 0);
    assert_eq!(app.levels("S-1").await, (50, 20), "the reservations with an order stay held");
    let releases: i64 = sqlx::query_scalar("select count(*) from movements where reason = 'release'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(releases, 10);
    app.assert_ledger_matches().await;
}

/// Publishes an order event on `events.order` as the order service would.
async fn publish<E: events::Event>(app: &TestApp, event: &E) {
    testkit::stream::publish(&app.redis_prefix, "order", event).await;
}

#[tokio::test]
async fn a_paid_order_commits_its_reservation_and_an_expired_one_releases_it() {
    use events::catalog::{OrderExpired, OrderPaid};
    let app = TestApp::spawn().await;
    app.stock("P-1", 3).await;
    let (paid, expired) = (Uuid::now_v7(), Uuid::now_v7());
    for id in [paid, expired] {
        let (status, _) = app.order.post_json("/internal/reservations", TestApp::reservation(id, &[("P-1", 1)])).await;
        assert_eq!(status, 201);
    }
    assert_eq!(app.levels("P-1").await, (3, 2));
    let user_id = Uuid::now_v7();
    publish(&app, &OrderPaid { order_id: paid.into(), user_id: user_id.into(), ..OrderPaid::default() }).await;
    let expiry = OrderExpired {
        order_id: expired.into(),
        number: "SF-000002".into(),
        user_id: user_id.into(),
        email: "a@example.com".into(),
    };
    publish(&app, &expiry).await;
    // Delivered twice: applied once.
    publish(&app, &OrderPaid { order_id: paid.into(), user_id: user_id.into(), ..OrderPaid::default() }).await;
    testkit::wait::until("committed and released", || async { app.levels("P-1").await == (2, 0) }).await;
    let statuses: Vec<(String,)> =
        sqlx::query_as("select status from reservations order by id").fetch_all(&app.pool).await.unwrap();
    assert_eq!(statuses, [("committed".to_owned(),), ("released".to_owned(),)]);
    app.assert_ledger_matches().await;
    let types: Vec<String> =
        app.outbox().await.into_iter().map(|(t, _)| t).filter(|t| t.starts_with("INVENTORY_")).collect();
    assert_eq!(types, ["INVENTORY_RESERVED", "INVENTORY_RESERVED", "INVENTORY_COMMITTED", "INVENTORY_RELEASED"]);
}
