//! Placing an order: priced from current prices with the totals function, stock reserved, the
//! same Idempotency-Key giving the same order, refusals that hold nothing, the shopper's own
//! orders only, cancelling and expiry releasing the stock.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{Shop, place};

#[tokio::test]
async fn an_order_is_priced_reserved_written_once_per_key_and_only_its_shopper_sees_it() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0004-300ML", 10).await;
    shop.stock("DEMO-0001-M", 10).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0004-300ML", 2).await;
    ann.add("DEMO-0001-M", 1).await;

    let (status, order) = ann.place("checkout-1").await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "awaiting_payment");
    assert!(order["number"].as_str().unwrap().starts_with("SF-"));
    let lines = order["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    let subtotal: i64 =
        lines.iter().map(|l| l["unit_price_minor"].as_i64().unwrap() * l["quantity"].as_i64().unwrap()).sum();
    assert_eq!(order["subtotal_minor"].as_i64(), Some(subtotal));
    let tax: i64 = lines.iter().map(|l| l["tax_minor"].as_i64().unwrap()).sum();
    let shipping = if subtotal >= 5_000 { 0 } else { 490 };
    // Shipping's VAT at Germany's standard 19 %: 4.90 contains 0.78.
    let shipping_tax = if shipping == 0 { 0 } else { 78 };
    assert_eq!(order["shipping_tax_minor"].as_i64(), Some(shipping_tax));
    assert_eq!(order["tax_minor"].as_i64(), Some(tax + shipping_tax), "the order's tax is its lines' and shipping's");
    assert!(tax > 0, "19 % VAT in Germany");
    assert_eq!(order["shipping_minor"].as_i64(), Some(shipping));
    assert_eq!(order["total_minor"].as_i64(), Some(subtotal + shipping));
    assert_eq!(order["shipping_address"]["country"], "DE");
    assert_eq!(shop.levels("DEMO-0004-300ML").await, (10, 2), "stock is held");

    // The same key and body: the same order, 200; another body: 422; the order is its shopper's.
    let (status, again) = ann.place("checkout-1").await;
    assert_eq!((status, &again), (200, &order));
    let (status, problem) = place(
        &ann.order,
        "checkout-1",
        json!({"shipping_address": {
        "recipient_name": "Ada", "line1": "Ring 1", "city": "Wien", "postal_code": "1010", "country": "AT"}}),
    )
    .await;
    assert_eq!((status, problem["code"].as_str()), (422, Some("idempotency_key_reused")));
    assert_eq!(shop.levels("DEMO-0004-300ML").await, (10, 2), "still one hold");
    let id = order["id"].as_str().unwrap();
    let (status, fetched) = ann.order.get(&format!("/orders/{id}")).await;
    assert_eq!((status, &fetched), (200, &order));
    let bob = shop.shopper(true).await;
    let (status, _) = bob.order.get(&format!("/orders/{id}")).await;
    assert_eq!(status, 404, "another shopper's order is not found");
    let (status, _) = bob.order.send_json(reqwest::Method::POST, &format!("/orders/{id}/cancel"), None).await;
    assert_eq!(status, 404);
    let (_, page) = ann.order.get("/orders").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, page) = bob.order.get("/orders").await;
    assert!(page["items"].as_array().unwrap().is_empty());
    let created: i64 = sqlx::query_scalar("select count(*) from outbox where event_type = 'ORDER_CREATED'")
        .fetch_one(&shop.order_pool)
        .await
        .unwrap();
    assert_eq!(created, 1);

    // Cancelling releases the stock (inventory consumes ORDER_CANCELLED); twice is a 409.
    let (status, cancelled) = ann.order.send_json(reqwest::Method::POST, &format!("/orders/{id}/cancel"), None).await;
    assert_eq!((status, cancelled["status"].as_str()), (200, Some("cancelled")), "{cancelled}");
    testkit::wait::until("the stock is released", || async { shop.levels("DEMO-0004-300ML").await == (10, 0) }).await;
    let (status, problem) = ann.order.send_json(reqwest::Method::POST, &format!("/orders/{id}/cancel"), None).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("invalid_transition")));
}

#[tokio::test]
async fn refusals_hold_nothing_and_free_the_key() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0004-300ML", 1).await;
    shop.stock("DEMO-0001-M", 5).await;
    let unverified = shop.shopper(false).await;
    unverified.add("DEMO-0001-M", 1).await;
    let (status, problem) = unverified.place("k1").await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("email_unverified")));

    let ann = shop.shopper(true).await;
    let (status, problem) = ann.place("k1").await;
    assert_eq!((status, problem["code"].as_str()), (422, Some("cart_empty")));
    ann.add("DEMO-0001-M", 2).await;
    ann.add("DEMO-0004-300ML", 1).await;
    sqlx::query("update stock set on_hand = 0 where sku = 'DEMO-0004-300ML'")
        .execute(&shop.inventory_pool)
        .await
        .unwrap();
    let (status, problem) = ann.place("k2").await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("out_of_stock")), "{problem}");
    assert_eq!(problem["skus"], json!(["DEMO-0004-300ML"]));
    assert_eq!(shop.levels("DEMO-0001-M").await, (5, 0), "nothing is held");
    let (status, problem) = place(&ann.order, "k3", json!({})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("shipping_address_id")));
    let response = ann
        .order
        .request(reqwest::Method::POST, "/orders")
        .json(&json!({"shipping_address_id": ann.address_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422, "no Idempotency-Key");
    // The refused key is free again: with stock back, the same key places the order.
    sqlx::query("update stock set on_hand = 1 where sku = 'DEMO-0004-300ML'")
        .execute(&shop.inventory_pool)
        .await
        .unwrap();
    let (status, order) = ann.place("k2").await;
    assert_eq!(status, 201, "{order}");
}

#[tokio::test]
async fn a_hundred_concurrent_requests_with_one_key_make_one_order_and_one_hold() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 50).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 3).await;
    let calls = (0..100).map(|_| {
        let order = ann.order.clone();
        let body = json!({"shipping_address_id": ann.address_id});
        async move { place(&order, "same-key", body).await }
    });
    let results = join_all(calls).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .filter(|(s, _)| *s == 200 || *s == 201)
        .map(|(_, o)| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        results.iter().all(|(s, _)| [200, 201, 409].contains(s)),
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert_eq!(results.iter().filter(|(s, _)| *s == 201).count(), 1, "one request made it");
    assert_eq!(ids.len(), 1);
    let orders: i64 = sqlx::query_scalar("select count(*) from orders").fetch_one(&shop.order_pool).await.unwrap();
    assert_eq!(orders, 1);
    assert_eq!(shop.levels("DEMO-0001-M").await, (50, 3), "one hold");
}

#[tokio::test]
async fn an_unpaid_order_expires_at_its_deadline_and_its_stock_returns() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 4).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 4).await;
    let (status, order) = ann.place("k").await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(shop.levels("DEMO-0001-M").await, (4, 4));
    assert_eq!(order::events::expire_overdue(&shop.order_pool).await.unwrap(), 0, "not yet");
    sqlx::query("update orders set payment_deadline = now() - interval '1 second'")
        .execute(&shop.order_pool)
        .await
        .unwrap();
    let (a, b) =
        tokio::join!(order::events::expire_overdue(&shop.order_pool), order::events::expire_overdue(&shop.order_pool));
    assert_eq!(a.unwrap() + b.unwrap(), 1, "expired once");
    let (_, expired) = ann.order.get(&format!("/orders/{}", order["id"].as_str().unwrap())).await;
    assert_eq!(expired["status"], "expired");
    testkit::wait::until("the stock returns", || async { shop.levels("DEMO-0001-M").await == (4, 0) }).await;
}

/// The review's probe (f5592e3 M2): three unpaid orders of 20 would hold all 60 units of a SKU.
/// The second is refused, and the units stay on sale for everyone else.
#[tokio::test]
async fn one_shopper_cannot_hoard_a_sku_with_unpaid_orders() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 60).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 20).await;
    let (status, first) = ann.place("hoard-1").await;
    assert_eq!(status, 201, "{first}");
    for key in ["hoard-2", "hoard-3"] {
        let (status, problem) = ann.place(key).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("quantity_limit_exceeded")), "{problem}");
        assert_eq!(problem["skus"], json!(["DEMO-0001-M"]));
    }
    assert_eq!(shop.levels("DEMO-0001-M").await, (60, 20), "one order's worth held");
    let bob = shop.shopper(true).await;
    bob.add("DEMO-0001-M", 20).await;
    let (status, order) = bob.place("bob-1").await;
    assert_eq!(status, 201, "another shopper still buys: {order}");
    // Paying (or cancelling) the first frees the shopper's allowance.
    let (status, _) =
        ann.order.post_json(&format!("/orders/{}/cancel", first["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 200);
    let (status, order) = ann.place("hoard-4").await;
    assert_eq!(status, 201, "{order}");
}

#[tokio::test]
async fn a_shopper_has_at_most_three_unpaid_orders_open() {
    let shop = Shop::spawn().await;
    let ann = shop.shopper(true).await;
    for (i, sku) in ["DEMO-0001-M", "DEMO-0002-M", "DEMO-0001-L", "DEMO-0002-L"].iter().enumerate() {
        shop.stock(sku, 5).await;
        // One SKU per order: the cart holds only this one.
        let (status, cart) = ann.cart.send_json(reqwest::Method::DELETE, "/carts/current", None).await;
        assert!(status < 300, "{cart}");
        ann.add(sku, 1).await;
        let (status, body) = ann.place(&format!("open-{i}")).await;
        if i < 3 {
            assert_eq!(status, 201, "{body}");
        } else {
            assert_eq!((status, body["code"].as_str()), (409, Some("too_many_unpaid_orders")), "{body}");
            assert_eq!(shop.levels(sku).await, (5, 0), "the refused checkout holds nothing");
        }
    }
}

#[tokio::test]
async fn a_new_order_holds_its_stock_briefly_until_a_payment_is_started() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 5).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 1).await;
    let (status, order) = ann.place("brief").await;
    assert_eq!(status, 201, "{order}");
    let order_id = order["id"].as_str().unwrap().to_owned();
    let hold = || async {
        let seconds: f64 = sqlx::query_scalar(
            "select extract(epoch from payment_deadline - created_at)::float8 from orders where id = $1::uuid",
        )
        .bind(&order_id)
        .fetch_one(&shop.order_pool)
        .await
        .unwrap();
        seconds.round() as i64
    };
    assert_eq!(hold().await, 600, "ten minutes before a payment is started");
    let response = ann
        .payment
        .request(reqwest::Method::POST, "/payments")
        .header("idempotency-key", "pay-brief")
        .json(&json!({"order_id": order_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(hold().await, 1800, "the payment window once paying started");
}

/// Review f5592e3 L3: a typed-in address is held to the address book's rules: every field
/// bounded, no control characters (a header injection in a receipt), the phone in E.164; a good
/// one is kept trimmed and normalized.
#[tokio::test]
async fn a_typed_in_address_is_checked_like_a_saved_one() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 5).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 1).await;
    let bad = json!({"shipping_address": {
        "recipient_name": "A\nBcc: x@evil", "line1": "x", "line2": "y".repeat(40_000), "city": "c",
        "postal_code": "1", "country": "DE", "region": "r".repeat(101), "phone": "call me"}});
    let (status, problem) = place(&ann.order, "inline-bad", bad).await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "shipping_address.recipient_name",
            "shipping_address.line2",
            "shipping_address.region",
            "shipping_address.phone"
        ],
        "{problem}"
    );
    assert_eq!(shop.levels("DEMO-0001-M").await, (5, 0), "nothing held");
    let good = json!({"shipping_address": {
        "recipient_name": "  Ada Lovelace ", "line1": "Ring 1", "city": "Wien", "postal_code": "1010", "country": "at",
        "phone": "+43 1 234 5678"}});
    let (status, order) = place(&ann.order, "inline-good", good).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["shipping_address"]["recipient_name"], "Ada Lovelace");
    assert_eq!(
        (&order["shipping_address"]["country"], &order["shipping_address"]["phone"]),
        (&json!("AT"), &json!("+4312345678"))
    );
}

/// The invoice's address is the shipping address unless another is given (saved or typed, each
/// checked like a shipping address); a VAT ID is normalized and checked.
#[tokio::test]
async fn an_order_bills_the_shipping_address_unless_told_otherwise_and_keeps_a_checked_vat_id() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 10).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 1).await;
    let (status, order) = ann.place("plain").await;
    assert_eq!((status, order["vat_id"].clone()), (201, serde_json::Value::Null), "{order}");
    assert_eq!(order["billing_address"], order["shipping_address"]);

    let billing = json!({"recipient_name": "Lovelace GmbH", "line1": "Friedrichstr. 10", "city": "Berlin",
        "postal_code": "10117", "country": "de"});
    let body = |extra: serde_json::Value| {
        let mut body = json!({"shipping_address_id": ann.address_id});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let (status, problem) =
        place(&ann.order, "bad", body(json!({"billing_address": {"recipient_name": "", "line1": "x", "city": "y", "postal_code": "1", "country": "Germany"}, "vat_id": "123"}))).await;
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(
        (status, fields),
        (422, vec!["billing_address.recipient_name", "billing_address.country", "vat_id"]),
        "{problem}"
    );
    let (status, problem) =
        place(&ann.order, "unknown", body(json!({"billing_address_id": uuid::Uuid::now_v7()}))).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("billing_address_id")), "{problem}");
    let (status, order) =
        place(&ann.order, "billed", body(json!({"billing_address": billing, "vat_id": "de 123 456 789"}))).await;
    assert_eq!((status, order["vat_id"].as_str()), (201, Some("DE123456789")), "{order}");
    assert_eq!(
        (order["billing_address"]["recipient_name"].as_str(), order["billing_address"]["country"].as_str()),
        (Some("Lovelace GmbH"), Some("DE"))
    );
    assert_eq!(order["shipping_address"]["recipient_name"], "Ada Lovelace");
}
