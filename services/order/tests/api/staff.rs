//! Staff: every order with a status filter, shipping and delivering through the state machine,
//! and shoppers kept out.

use auth_jwt::Role;
use internal_token::Subject;
use reqwest::Method;
use serde_json::{Value, json};
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

/// Pays `shopper`'s order `id` with the sandbox's test card and waits for it.
async fn pay(shopper: &crate::helpers::Shopper, id: &str) {
    let payment_id = start_payment(shopper, id).await;
    confirm(shopper, &payment_id, "4242424242424242").await;
    wait_for_order(shopper, id, "paid").await;
}

/// Staff ship an order in two parcels: the first moves it to fulfilling, the second (what is
/// left) to shipped; each is one ORDER_SHIPPED with its own lines and tracking; never more than
/// was ordered, even when two parcels race for the last unit; each parcel is delivered on its
/// own and the order once both arrived.
#[tokio::test]
async fn staff_ship_an_order_in_parts_never_beyond_it_and_deliver_each_part() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 10).await;
    shop.stock("DEMO-0002-S", 10).await;
    let staff = order_staff(&shop);
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 3).await;
    ann.add("DEMO-0002-S", 1).await;
    let (_, order) = ann.place("parts").await;
    let id = order["id"].as_str().unwrap().to_owned();
    let path = format!("/orders/{id}/fulfillments");
    let parcel = |lines: Value, tracking: &str| json!({"lines": lines, "carrier": "DHL", "tracking_number": tracking, "tracking_url": format!("https://track.example/{tracking}")});
    let first = parcel(json!([{"sku": "DEMO-0001-M", "quantity": 2}]), "P1");
    let (status, problem) = staff.send_json(Method::POST, &path, Some(first.clone())).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("invalid_transition")), "not paid yet");
    pay(&ann, &id).await;

    let (status, problem) = ann.order.send_json(Method::POST, &path, Some(first.clone())).await;
    assert_eq!(status, 403, "shoppers do not ship: {problem}");
    let (status, problem) = staff
        .send_json(Method::POST, &path, Some(json!({"lines": [{"sku": "DEMO-0009-A", "quantity": 1}, {"sku": "x y", "quantity": 0}], "carrier": "", "tracking_number": "T", "tracking_url": "ftp://x"})))
        .await;
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!((status, fields), (422, vec!["carrier", "tracking_url", "lines[1].sku"]), "{problem}");
    let (status, problem) =
        staff.send_json(Method::POST, &path, Some(parcel(json!([{"sku": "DEMO-0009-A", "quantity": 1}]), "X"))).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("lines")), "not in the order");
    let (status, problem) =
        staff.send_json(Method::POST, &path, Some(parcel(json!([{"sku": "DEMO-0001-M", "quantity": 4}]), "X"))).await;
    assert_eq!(
        (status, problem["code"].as_str(), problem["skus"].clone()),
        (409, Some("fulfillment_exceeds_order"), json!(["DEMO-0001-M"]))
    );

    let (status, body) = staff.send_json(Method::POST, &path, Some(first)).await;
    assert_eq!((status, body["order"]["status"].as_str()), (201, Some("fulfilling")), "{body}");
    let first_id = body["fulfillment_id"].as_str().unwrap().to_owned();
    assert_eq!(body["order"]["fulfillments"][0]["lines"], json!([{"sku": "DEMO-0001-M", "quantity": 2}]));

    // Two parcels race for the one unit of DEMO-0001-M that is left: one ships it.
    let last_unit = || parcel(json!([{"sku": "DEMO-0001-M", "quantity": 1}]), "RACE");
    let raced =
        futures_util::future::join_all((0..4).map(|_| staff.send_json(Method::POST, &path, Some(last_unit())))).await;
    let mut statuses: Vec<u16> = raced.iter().map(|(status, _)| *status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409], "{raced:?}");
    let (status, body) =
        staff.send_json(Method::POST, &path, Some(parcel(json!([{"sku": "DEMO-0002-S", "quantity": 1}]), "P3"))).await;
    assert_eq!((status, body["order"]["status"].as_str()), (201, Some("shipped")), "the rest: {body}");
    let (status, _) = staff
        .send_json(Method::POST, &format!("/orders/{id}/ship"), Some(json!({"carrier": "DHL", "tracking_number": "X"})))
        .await;
    assert_eq!(status, 409, "nothing is left to ship");
    let fulfilled: Vec<(String, i64)> = sqlx::query_as(
        "select fl.sku, sum(fl.quantity)::bigint from fulfillment_lines fl join fulfillments f on f.id = fl.fulfillment_id \
         where f.order_id = $1::uuid group by fl.sku order by fl.sku",
    )
    .bind(&id)
    .fetch_all(&shop.order_pool)
    .await
    .unwrap();
    assert_eq!(fulfilled, [("DEMO-0001-M".to_owned(), 3), ("DEMO-0002-S".to_owned(), 1)], "exactly what was ordered");
    let shipped: Vec<(bool, String)> = sqlx::query_as(
        "select (envelope->'payload'->>'complete')::boolean, envelope->'payload'->>'tracking_number' from outbox \
         where event_type = 'ORDER_SHIPPED' order by created_at, id",
    )
    .fetch_all(&shop.order_pool)
    .await
    .unwrap();
    assert_eq!(shipped, [(false, "P1".to_owned()), (false, "RACE".to_owned()), (true, "P3".to_owned())]);

    // Each parcel arrives on its own; the order is delivered with the last.
    let deliver = |fulfillment: &str| format!("/orders/{id}/fulfillments/{fulfillment}/deliver");
    let (status, order) = staff.send_json(Method::POST, &deliver(&first_id), None).await;
    assert_eq!((status, order["status"].as_str()), (200, Some("shipped")), "{order}");
    assert!(order["fulfillments"][0]["delivered_at"].is_string());
    assert_eq!(staff.send_json(Method::POST, &deliver(&uuid::Uuid::now_v7().to_string()), None).await.0, 404);
    let others: Vec<String> =
        order["fulfillments"].as_array().unwrap()[1..].iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect();
    for other in &others {
        assert_eq!(staff.send_json(Method::POST, &deliver(other), None).await.0, 200);
    }
    let (status, order) = ann.order.get(&format!("/orders/{id}")).await;
    assert_eq!((status, order["status"].as_str()), (200, Some("delivered")));
    // Another order's fulfillment is not this order's.
    let bob = shop.shopper(true).await;
    bob.add("DEMO-0001-M", 1).await;
    let (_, other) = bob.place("other").await;
    let other_path = format!("/orders/{}/fulfillments/{first_id}/deliver", other["id"].as_str().unwrap());
    assert_eq!(staff.send_json(Method::POST, &other_path, None).await.0, 404);
}
