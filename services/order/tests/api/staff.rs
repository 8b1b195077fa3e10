//! Staff: every order with a status filter, shipping and delivering through the state machine,
//! and shoppers kept out.

use auth_jwt::Role;
use internal_token::Subject;
use reqwest::Method;
use serde_json::json;
use testkit::ServiceCaller;

use crate::helpers::Shop;

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
