//! Staff: every order with a status filter, shipping and delivering through the state machine,
//! and shoppers kept out.

use auth_jwt::Role;
use internal_token::Subject;
use reqwest::Method;
use serde_json::json;
use testkit::ServiceCaller;

use crate::helpers::{Shop, confirm, count, start_payment, wait_for_order};

#[tokio::test]
async fn staff_ship_and_deliver_paid_orders_only_and_shoppers_cannot() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 5).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 1).await;
    let (_, order) = ann.place("k1").await;
    let id = order["id"].as_str().unwrap().to_owned();
    let staff = ServiceCaller::new("order", shop.order_addr).as_subject(Subject::user(
        uuid::Uuid::now_v7().to_string(),
        Role::Admin,
        vec!["orders:read".into(), "orders:write".into()],
    ));
    let shipment = json!({"carrier": "DHL", "tracking_number": "00340434161094042557"});
    let (status, problem) = staff.send_json(Method::POST, &format!("/orders/{id}/ship"), Some(shipment.clone())).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("invalid_transition")), "an unpaid order is not shipped");

    sqlx::query("update orders set status = 'paid' where id = $1::uuid")
        .bind(&id)
        .execute(&shop.order_pool)
        .await
        .unwrap();
    let (status, _) = ann.order.send_json(Method::POST, &format!("/orders/{id}/ship"), Some(shipment.clone())).await;
    assert_eq!(status, 403, "shoppers do not ship");
    let (status, shipped) = staff.send_json(Method::POST, &format!("/orders/{id}/ship"), Some(shipment.clone())).await;
    assert_eq!(
        (status, shipped["status"].as_str(), shipped["carrier"].as_str()),
        (200, Some("shipped"), Some("DHL")),
        "{shipped}"
    );
    let (status, _) = staff.send_json(Method::POST, &format!("/orders/{id}/ship"), Some(shipment)).await;
    assert_eq!(status, 409, "shipped once");
    let (status, delivered) = staff.send_json(Method::POST, &format!("/orders/{id}/deliver"), None).await;
    assert_eq!((status, delivered["status"].as_str()), (200, Some("delivered")));

    let (status, page) = staff.get("/orders/all?status=delivered").await;
    assert_eq!((status, page["items"][0]["id"].as_str()), (200, Some(id.as_str())));
    let (_, none) = staff.get("/orders/all?status=awaiting_payment").await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let (status, _) = staff.get("/orders/all?status=lost").await;
    assert_eq!(status, 422);
    let (status, _) = ann.order.get("/orders/all").await;
    assert_eq!(status, 403);
    let transitions: Vec<(String, String)> =
        sqlx::query_as("select to_status, reason from order_transitions where order_id = $1::uuid order by at, id")
            .bind(&id)
            .fetch_all(&shop.order_pool)
            .await
            .unwrap();
    let states: Vec<&str> = transitions.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(
        states,
        ["awaiting_payment", "shipped", "delivered"],
        "each transition recorded (paid was set by hand here)"
    );
    let events: Vec<String> = sqlx::query_scalar(
        "select event_type from outbox where event_type in ('ORDER_SHIPPED', 'ORDER_DELIVERED') order by created_at",
    )
    .fetch_all(&shop.order_pool)
    .await
    .unwrap();
    assert_eq!(events, ["ORDER_SHIPPED", "ORDER_DELIVERED"]);
}

fn order_staff(shop: &Shop) -> ServiceCaller {
    let perms = vec!["orders:read".into(), "orders:write".into()];
    ServiceCaller::new("order", shop.order_addr).as_subject(Subject::user(
        uuid::Uuid::now_v7().to_string(),
        Role::Admin,
        perms,
    ))
}

/// Staff cancel a paid order that has not shipped: the payment is refunded in full through the
/// provider, the sold stock goes back on hand (a `restock` movement), the discount use is given
/// back, the shopper is told and the cancellation is audited; a shopper cannot, nor can anyone
/// cancel what shipped.
#[tokio::test]
async fn staff_cancel_a_paid_order_before_it_ships_refunding_and_restocking_it() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 5).await;
    let staff = order_staff(&shop);
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 2).await;
    let (_, order) = ann.place("paid").await;
    let id = order["id"].as_str().unwrap().to_owned();
    let payment_id = start_payment(&ann, &id).await;
    confirm(&ann, &payment_id, "4242424242424242").await;
    wait_for_order(&ann, &id, "paid").await;
    testkit::wait::until("the stock is sold", || async { shop.levels("DEMO-0001-M").await == (3, 0) }).await;

    let cancel = format!("/orders/{id}/cancel");
    let (status, problem) = ann.order.send_json(Method::POST, &cancel, None).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("invalid_transition")), "a shopper cannot once paid");
    let (status, problem) =
        ann.order.send_json(Method::POST, &cancel, Some(json!({"reason": "changed my mind"}))).await;
    assert_eq!(status, 422, "only staff give a reason: {problem}");
    let (status, problem) = staff.send_json(Method::POST, &cancel, None).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("reason")), "staff say why");
    let why = json!({"reason": "the customer called: the address cannot be served"});
    let (status, cancelled) = staff.send_json(Method::POST, &cancel, Some(why.clone())).await;
    assert_eq!((status, cancelled["status"].as_str()), (200, Some("cancelled")), "{cancelled}");
    let (status, _) = staff.send_json(Method::POST, &cancel, Some(why)).await;
    assert_eq!(status, 409, "cancelled once");

    testkit::wait::until("the payment is refunded in full", || async {
        ann.payment.get(&format!("/payments/{payment_id}")).await.1["refunded_minor"] == order["total_minor"]
    })
    .await;
    testkit::wait::until("the stock is back on hand", || async { shop.levels("DEMO-0001-M").await == (5, 0) }).await;
    let refunded = wait_for_order(&ann, &id, "cancelled").await;
    testkit::wait::until("the order records the refund", || async {
        ann.order.get(&format!("/orders/{id}")).await.1["refunded_minor"] == refunded["total_minor"]
    })
    .await;
    let movements: Vec<(String, i64)> =
        sqlx::query_as("select reason, on_hand_delta from movements where reference = $1 order by created_at, id")
            .bind(&id)
            .fetch_all(&shop.inventory_pool)
            .await
            .unwrap();
    assert_eq!(movements.last(), Some(&("restock".to_owned(), 2)), "{movements:?}");
    let audited = count(
        &shop.order_pool,
        &format!("select count(*) from outbox where event_type = 'AUDIT_RECORDED' and envelope->'payload'->>'target' = 'order:{id}'"),
    )
    .await;
    assert_eq!(audited, 1);
    let by: String = sqlx::query_scalar(
        "select envelope->'payload'->>'by' from outbox where event_type = 'ORDER_CANCELLED' and envelope->'payload'->>'order_id' = $1",
    )
    .bind(&id)
    .fetch_one(&shop.order_pool)
    .await
    .unwrap();
    assert_eq!(by, "staff");

    // A shipped order comes back as a return, not a cancellation; an unpaid one is released.
    ann.add("DEMO-0001-M", 1).await;
    let (_, unpaid) = ann.place("unpaid").await;
    let unpaid_id = unpaid["id"].as_str().unwrap();
    let (status, _) = staff
        .send_json(Method::POST, &format!("/orders/{unpaid_id}/cancel"), Some(json!({"reason": "duplicate order"})))
        .await;
    assert_eq!(status, 200);
    testkit::wait::until("its hold is released", || async { shop.levels("DEMO-0001-M").await == (5, 0) }).await;
    sqlx::query("update orders set status = 'shipped' where id = $1::uuid")
        .bind(&id)
        .execute(&shop.order_pool)
        .await
        .unwrap();
    let (status, _) = staff.send_json(Method::POST, &cancel, Some(json!({"reason": "too late"}))).await;
    assert_eq!(status, 409);
}
