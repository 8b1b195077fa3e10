//! Refunds: staff refunds in parts up to what was captured (idempotent by key, the order moving
//! to partially refunded, then refunded), the automatic refund of a success that arrived after
//! its order expired, and reconciliation repairing a webhook that never arrived.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Shop, Shopper, confirm, count, start_payment, wait_for_order};

/// Places and pays an order for one unit of `sku`: (order id, payment id, total).
async fn paid_order(shopper: &Shopper, sku: &str) -> (String, String, i64) {
    shopper.add(sku, 1).await;
    let (status, order) = shopper.place(&format!("order-{sku}")).await;
    assert_eq!(status, 201, "{order}");
    let order_id = order["id"].as_str().unwrap().to_owned();
    let payment_id = start_payment(shopper, &order_id).await;
    confirm(shopper, &payment_id, "4242424242424242").await;
    wait_for_order(shopper, &order_id, "paid").await;
    (order_id, payment_id, order["total_minor"].as_i64().unwrap())
}

async fn refund(shop: &Shop, payment_id: &str, key: &str, body: Value) -> (u16, Value) {
    let response = shop
        .refunds
        .request(Method::POST, &format!("/payments/{payment_id}/refunds"))
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn staff_refund_in_parts_never_beyond_the_capture_and_each_key_refunds_once() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 5).await;
    let ann = shop.shopper(true).await;
    let (order_id, payment_id, total) = paid_order(&ann, "DEMO-0001-M").await;

    // Not staff with the permission, not a payment, not a number: refused before anything.
    let (status, _) = ann
        .payment
        .send_json(
            Method::POST,
            &format!("/payments/{payment_id}/refunds"),
            Some(json!({"amount_minor": 1, "reason": "x"})),
        )
        .await;
    assert!(status == 403 || status == 422, "a shopper cannot refund: {status}");
    let (status, _) =
        refund(&shop, "0190f1d2-0000-7000-8000-000000000000", "k", json!({"amount_minor": 1, "reason": "x"})).await;
    assert_eq!(status, 404);
    let (status, problem) = refund(&shop, &payment_id, "k0", json!({"amount_minor": 0, "reason": "x"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("amount_minor")));
    let (status, problem) = refund(&shop, &payment_id, "k0", json!({"amount_minor": total + 1, "reason": "x"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("amount_minor")), "{problem}");

    // Twenty copies of one request at once: one refund.
    let part = json!({"amount_minor": 500, "reason": "a scratched mug"});
    let results = join_all((0..20).map(|_| refund(&shop, &payment_id, "k1", part.clone()))).await;
    let ids: std::collections::HashSet<&str> = results.iter().filter_map(|(_, r)| r["refund_id"].as_str()).collect();
    assert_eq!(ids.len(), 1, "{:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
    assert!(results.iter().all(|(s, r)| (*s == 201 || *s == 200) && r["status"] == "succeeded"));
    let (status, problem) = refund(&shop, &payment_id, "k1", json!({"amount_minor": 501, "reason": "x"})).await;
    assert_eq!((status, problem["code"].as_str()), (422, Some("idempotency_key_reused")));
    let order = wait_for_order(&ann, &order_id, "partially_refunded").await;
    assert_eq!(order["refunded_minor"], 500);

    let (status, problem) = refund(&shop, &payment_id, "k2", json!({"amount_minor": total - 499, "reason": "x"})).await;
    assert_eq!(status, 422, "only {} is left: {problem}", total - 500);
    let (status, rest) =
        refund(&shop, &payment_id, "k3", json!({"amount_minor": total - 500, "reason": "returned"})).await;
    assert_eq!((status, rest["status"].as_str()), (201, Some("succeeded")));
    let order = wait_for_order(&ann, &order_id, "refunded").await;
    assert_eq!(order["refunded_minor"], total);
    let (_, payment) = ann.payment.get(&format!("/payments/{payment_id}")).await;
    assert_eq!(payment["refunded_minor"], total);
    assert_eq!(count(&shop.payment_pool, "select count(*) from outbox where event_type = 'PAYMENT_REFUNDED'").await, 2);
    testkit::wait::until("the shopper is told twice", || async {
        count(&shop.order_pool, "select count(*) from outbox where event_type = 'ORDER_REFUNDED'").await == 2
    })
    .await;
    // What the provider holds agrees: two refunds adding up to the capture.
    assert_eq!(
        count(&shop.payment_pool, "select coalesce(sum(amount_minor), 0)::bigint from sandbox_refunds").await,
        total
    );
    let (status, _) = refund(&shop, &payment_id, "k4", json!({"amount_minor": 1, "reason": "x"})).await;
    assert_eq!(status, 422, "nothing is left");
}

#[tokio::test]
async fn a_success_that_arrives_after_the_order_expired_is_refunded_automatically() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 5).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 2).await;
    let (_, order) = ann.place("late").await;
    let order_id = order["id"].as_str().unwrap();
    let payment_id = start_payment(&ann, order_id).await;
    sqlx::query("update orders set payment_deadline = now() - interval '1 second'")
        .execute(&shop.order_pool)
        .await
        .unwrap();
    assert_eq!(order::events::expire_overdue(&shop.order_pool).await.unwrap(), 1);
    testkit::wait::until("the stock returns", || async { shop.levels("DEMO-0001-M").await == (5, 0) }).await;
    testkit::wait::until("the payment hears the order ended", || async {
        ann.payment.get(&format!("/payments/{payment_id}")).await.1["status"] == "canceled"
    })
    .await;
    let (status, problem) = ann
        .payment
        .send_json(
            Method::POST,
            &format!("/payments/{payment_id}/confirm"),
            Some(json!({"test_card": "4242424242424242"})),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("invalid_transition")),
        "a cancelled payment is not confirmed"
    );

    // The intent is cancelled at the provider too: nobody can pay it there any more.
    testkit::wait::until("the provider cancels the intent", || async {
        let (status, cancelled): (String, bool) = sqlx::query_as(
            "select i.status, p.provider_canceled from sandbox_intents i join payments p on p.provider_intent_id = i.id",
        )
        .fetch_one(&shop.payment_pool)
        .await
        .unwrap();
        status == "canceled" && cancelled
    })
    .await;
    // But the shopper had paid there just before (the storefront confirmed at the provider):
    // that success's webhook arrives late, and the money goes back by itself.
    let intent: String =
        sqlx::query_scalar("select provider_intent_id from payments").fetch_one(&shop.payment_pool).await.unwrap();
    let now = chrono::Utc::now().timestamp();
    sqlx::query("update sandbox_intents set status = 'succeeded'").execute(&shop.payment_pool).await.unwrap();
    let body = serde_json::to_vec(&payment::domain::intent_event(
        "evt_late",
        payment::domain::Outcome::Succeeded,
        &intent,
        order["total_minor"].as_i64().unwrap(),
        "EUR",
        order_id,
        now,
    ))
    .unwrap();
    let hook = testkit::ServiceCaller::new("payment", shop.payment_addr);
    let response = hook
        .request(Method::POST, "/payments/webhooks/sandbox")
        .header("stripe-signature", payment::domain::header(crate::helpers::WEBHOOK_SECRET, now, &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    testkit::wait::until("the late success is refunded in full", || async {
        let (_, payment) = ann.payment.get(&format!("/payments/{payment_id}")).await;
        payment["status"] == "succeeded" && payment["refunded_minor"] == order["total_minor"]
    })
    .await;
    testkit::wait::until("the order records it and tells the shopper", || async {
        count(&shop.order_pool, "select count(*) from outbox where event_type = 'ORDER_REFUNDED'").await == 1
    })
    .await;
    let (_, order_now) = ann.order.get(&format!("/orders/{order_id}")).await;
    assert_eq!((&order_now["status"], &order_now["refunded_minor"]), (&json!("expired"), &order["total_minor"]));
    assert_eq!(count(&shop.payment_pool, "select count(*) from refunds where automatic").await, 1);
    assert_eq!(
        count(&shop.order_pool, "select count(*) from outbox where event_type = 'ORDER_PAID'").await,
        0,
        "never paid"
    );
    assert_eq!(shop.levels("DEMO-0001-M").await, (5, 0), "the stock stays released");
}

#[tokio::test]
async fn reconciliation_repairs_a_webhook_that_never_arrived() {
    let shop = Shop::spawn_with(|payment| {
        // Every webhook goes nowhere; reconciliation asks the provider after a second.
        payment.webhook_url = Some(format!("http://127.0.0.1:{}/lost", testkit::unused_port()));
        payment.reconcile_every = Duration::from_millis(500);
        payment.reconcile_after = Duration::from_secs(1);
    })
    .await;
    shop.stock("DEMO-0001-M", 5).await;
    let ann = shop.shopper(true).await;
    let (_, payment_id, _) = paid_order(&ann, "DEMO-0001-M").await;
    let (_, payment) = ann.payment.get(&format!("/payments/{payment_id}")).await;
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(count(&shop.payment_pool, "select count(*) from provider_events").await, 0, "no webhook arrived");
    assert_eq!(
        count(&shop.payment_pool, "select count(*) from outbox where event_type = 'PAYMENT_SUCCEEDED'").await,
        1
    );
}

#[tokio::test]
async fn reconciliation_never_settles_an_intent_of_a_provider_the_deployment_did_not_choose() {
    let shop = Shop::spawn_with(|payment| {
        payment.webhook_url = Some(format!("http://127.0.0.1:{}/lost", testkit::unused_port()));
        payment.reconcile_every = Duration::from_millis(500);
        payment.reconcile_after = Duration::from_secs(1);
    })
    .await;
    shop.stock("DEMO-0001-M", 5).await;
    shop.stock("DEMO-0002-M", 5).await;
    // Two confirmed intents whose webhooks are lost; one was made (as its row says) by another
    // provider than the one this deployment runs, say before a switch from the sandbox.
    let (ann, bob) = (shop.shopper(true).await, shop.shopper(true).await);
    let mut orders = Vec::new();
    for (shopper, sku) in [(&ann, "DEMO-0001-M"), (&bob, "DEMO-0002-M")] {
        shopper.add(sku, 1).await;
        let (status, order) = shopper.place(&format!("order-{sku}")).await;
        assert_eq!(status, 201, "{order}");
        let order_id = order["id"].as_str().unwrap().to_owned();
        let payment_id = start_payment(shopper, &order_id).await;
        orders.push((order_id, payment_id));
    }
    sqlx::query("update payments set provider = 'stripe' where id = $1::uuid")
        .bind(&orders[1].1)
        .execute(&shop.payment_pool)
        .await
        .unwrap();
    confirm(&ann, &orders[0].1, "4242424242424242").await;
    confirm(&bob, &orders[1].1, "4242424242424242").await;
    // The control: the sandbox's own intent is repaired by reconciliation.
    wait_for_order(&ann, &orders[0].0, "paid").await;
    let asked: i64 = sqlx::query_scalar(
        "select count(*) from payments where id = $1::uuid and checked_at > created_at + interval '500 milliseconds'",
    )
    .bind(&orders[1].1)
    .fetch_one(&shop.payment_pool)
    .await
    .unwrap();
    assert_eq!(asked, 0, "reconciliation never asks the sandbox about another provider's intent");
    let (_, order) = bob.order.get(&format!("/orders/{}", orders[1].0)).await;
    assert_eq!(order["status"], "awaiting_payment");
    assert_eq!(
        count(&shop.payment_pool, "select count(*) from outbox where event_type = 'PAYMENT_SUCCEEDED'").await,
        1,
        "only the chosen provider's intent was settled"
    );
}
