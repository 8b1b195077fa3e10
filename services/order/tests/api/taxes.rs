//! VAT rates as data: staff keep them (only with `taxes:write`, checked, audited); a checkout
//! is priced at its destination's rates (lines and shipping at the standard rate), a country
//! without a rate charges none, and a change applies to the next checkout, never to a placed
//! order.

use auth_jwt::Role;
use internal_token::Subject;
use reqwest::Method;
use serde_json::json;
use testkit::ServiceCaller;
use uuid::Uuid;

use crate::helpers::{Shop, place};

#[tokio::test]
async fn staff_keep_vat_rates_and_a_checkout_is_priced_at_its_destinations() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 10).await;
    let staff = ServiceCaller::new("order", shop.order_addr).as_subject(Subject::user(
        Uuid::now_v7().to_string(),
        Role::Admin,
        vec!["taxes:write".into()],
    ));
    let (status, rates) = staff.get("/taxes/rates?country=de").await;
    let german: Vec<(&str, i64)> = rates["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["tax_class"].as_str().unwrap(), r["rate_bp"].as_i64().unwrap()))
        .collect();
    assert_eq!((status, german), (200, vec![("reduced", 700), ("standard", 1900), ("zero", 0)]), "the seed");
    let (status, problem) =
        staff.send_json(Method::PUT, "/taxes/rates/Germany/Standard", Some(json!({"rate_bp": 20001}))).await;
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!((status, fields), (422, vec!["country", "tax_class", "rate_bp"]));
    let shopper = ServiceCaller::new("order", shop.order_addr).as_subject(Subject::user(
        Uuid::now_v7().to_string(),
        Role::Customer,
        vec![],
    ));
    assert_eq!(shopper.get("/taxes/rates").await.0, 403);
    assert_eq!(staff.send_json(Method::DELETE, "/taxes/rates/DE/luxury", None).await.0, 404);

    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 1).await;
    let (_, before) = ann.place("at-19").await;
    // Germany's standard rate goes to 16 %: the next checkout is priced at it, the placed one not.
    let (status, rate) = staff.send_json(Method::PUT, "/taxes/rates/de/standard", Some(json!({"rate_bp": 1600}))).await;
    assert_eq!((status, rate["rate_bp"].as_i64()), (200, Some(1600)), "{rate}");
    let (_, after) = ann.place("at-16").await;
    let tax = |order: &serde_json::Value| order["lines"][0]["tax_minor"].as_i64().unwrap();
    let gross = before["lines"][0]["unit_price_minor"].as_i64().unwrap();
    assert_eq!(tax(&before), (gross * 1900 * 2 + 11_900) / (2 * 11_900), "19 % half-up");
    assert_eq!(tax(&after), (gross * 1600 * 2 + 11_600) / (2 * 11_600), "16 % half-up");
    assert_eq!(
        ann.order.get(&format!("/orders/{}", before["id"].as_str().unwrap())).await.1["tax_minor"],
        before["tax_minor"]
    );
    // Where no rate is kept, no VAT is charged, on the lines or on shipping.
    let body = json!({"shipping_address": {"recipient_name": "Ada", "line1": "1 Main St", "city": "Springfield",
        "postal_code": "12345", "country": "US"}});
    let (status, abroad) = place(&ann.order, "abroad", body).await;
    assert_eq!(
        (status, abroad["tax_minor"].as_i64(), abroad["shipping_tax_minor"].as_i64()),
        (201, Some(0), Some(0)),
        "{abroad}"
    );
    assert_eq!(staff.send_json(Method::DELETE, "/taxes/rates/DE/reduced", None).await.0, 204);
    let audit: Vec<String> = sqlx::query_scalar(
        "select envelope->'payload'->>'action' from outbox where event_type = 'AUDIT_RECORDED' order by created_at, id",
    )
    .fetch_all(&shop.order_pool)
    .await
    .unwrap();
    assert_eq!(audit, ["tax_rate.set", "tax_rate.delete"]);
}
