//! Stock levels: the shopper's availability, staff setting and adjusting with the ledger, and
//! the events when availability crosses zero.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn shoppers_see_availability_and_staff_keep_the_ledger() {
    let app = TestApp::spawn().await;
    let (status, problem) = app.shopper.get("/stock/NEW-1").await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    app.stock("NEW-1", 3).await;
    let (status, body) = app.shopper.get("/stock/NEW-1").await;
    assert_eq!((status, body), (200, json!({"sku": "NEW-1", "available": true, "quantity": 3})));
    let (status, list) = app.shopper.get("/stock?skus=NEW-1,GONE-1").await;
    assert_eq!(status, 200);
    assert_eq!(
        list["items"],
        json!([{"sku": "NEW-1", "available": true, "quantity": 3}, {"sku": "GONE-1", "available": false, "quantity": 0}])
    );

    let (status, row) = app
        .staff
        .send_json(Method::POST, "/stock/NEW-1/adjustments", Some(json!({"delta": -3, "reason": "dropped a box"})))
        .await;
    assert_eq!((status, row["on_hand"].as_i64()), (200, Some(0)), "{row}");
    let (status, problem) = app
        .staff
        .send_json(Method::POST, "/stock/NEW-1/adjustments", Some(json!({"delta": -1, "reason": "more"})))
        .await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("on_hand")), "never below zero");
    let (status, problem) =
        app.staff.send_json(Method::PUT, "/stock/NEW-1", Some(json!({"on_hand": -1, "reason": ""}))).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);

    let (status, ledger) = app.staff.get("/stock/NEW-1/movements?limit=1").await;
    assert_eq!(status, 200, "{ledger}");
    assert_eq!(ledger["stock"]["on_hand"], 0);
    assert_eq!(ledger["movements"][0]["reason"], "adjust");
    assert_eq!(ledger["movements"][0]["reference"], "dropped a box");
    let cursor = ledger["next_cursor"].as_str().unwrap();
    let (_, older) = app.staff.get(&format!("/stock/NEW-1/movements?cursor={cursor}")).await;
    assert_eq!(older["movements"][0]["reason"], "set");
    assert!(older["next_cursor"].is_null());
    app.assert_ledger_matches().await;

    // Staff only, and on hand never below what is reserved.
    let (status, _) =
        app.shopper.send_json(Method::PUT, "/stock/NEW-1", Some(json!({"on_hand": 9, "reason": "x"}))).await;
    assert_eq!(status, 403);
    let (status, _) = app.shopper.get("/stock/NEW-1/movements").await;
    assert_eq!(status, 403);
    app.stock("NEW-1", 4).await;
    let (status, _) = app
        .order
        .post_json("/internal/reservations", TestApp::reservation(uuid::Uuid::now_v7(), &[("NEW-1", 3)]))
        .await;
    assert_eq!(status, 201);
    let (status, problem) =
        app.staff.send_json(Method::PUT, "/stock/NEW-1", Some(json!({"on_hand": 2, "reason": "recount"}))).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("on_hand")), "{problem}");

    // Availability was announced at each crossing of zero, with a growing seq.
    let changed: Vec<(bool, i64)> = app
        .outbox()
        .await
        .into_iter()
        .filter(|(t, _)| t == "STOCK_CHANGED")
        .map(|(_, p)| (p["available"].as_bool().unwrap(), p["seq"].as_i64().unwrap()))
        .collect();
    let flags: Vec<bool> = changed.iter().map(|c| c.0).collect();
    assert_eq!(flags, [true, false, true]);
    assert!(changed.windows(2).all(|w| w[0].1 < w[1].1));
}
