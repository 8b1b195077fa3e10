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

/// A variant of the reduced class is taxed at the destination's reduced rate, the rest and
/// shipping at its standard rate; the order's lines keep their rates, the invoice lists both.
#[tokio::test]
async fn each_line_is_taxed_at_its_class_and_the_invoice_lists_the_vat_per_rate() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 10).await;
    shop.stock("DEMO-0002-S", 10).await;
    sqlx::query("update variants set tax_class = 'reduced' where sku = 'DEMO-0002-S'")
        .execute(&shop.product_pool)
        .await
        .unwrap();
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 1).await;
    ann.add("DEMO-0002-S", 1).await;
    let (status, order) = ann.place("classes").await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();
    let tax_of = |sku: &str| -> (i64, i64) {
        let line = order["lines"].as_array().unwrap().iter().find(|l| l["sku"] == sku).unwrap();
        (line["unit_price_minor"].as_i64().unwrap(), line["tax_minor"].as_i64().unwrap())
    };
    let half_up = |gross: i64, rate: i64| (gross * rate * 2 + 10_000 + rate) / (2 * (10_000 + rate));
    let (mug, mug_tax) = tax_of("DEMO-0001-M");
    let (other, other_tax) = tax_of("DEMO-0002-S");
    assert_eq!((mug_tax, other_tax), (half_up(mug, 1_900), half_up(other, 700)), "19 % and 7 %");
    let rates: Vec<i32> =
        sqlx::query_scalar("select tax_rate_bp from order_lines where order_id = $1::uuid order by tax_rate_bp")
            .bind(&id)
            .fetch_all(&shop.order_pool)
            .await
            .unwrap();
    assert_eq!(rates, [700, 1_900]);

    let payment_id = crate::helpers::start_payment(&ann, &id).await;
    crate::helpers::confirm(&ann, &payment_id, "4242424242424242").await;
    crate::helpers::wait_for_order(&ann, &id, "paid").await;
    let document: serde_json::Value =
        sqlx::query_scalar("select document from invoices where order_id = $1::uuid and kind = 'invoice'")
            .bind(&id)
            .fetch_one(&shop.order_pool)
            .await
            .unwrap();
    let taxes: Vec<(i64, i64)> = document["taxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["rate_bp"].as_i64().unwrap(), t["tax_minor"].as_i64().unwrap()))
        .collect();
    let shipping_tax = order["shipping_tax_minor"].as_i64().unwrap();
    assert_eq!(taxes, [(700, other_tax), (1_900, mug_tax + shipping_tax)], "{document}");
}
