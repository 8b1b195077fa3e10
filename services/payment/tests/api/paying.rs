//! Paying an order with the sandbox provider: one intent per order, verdicts by signed webhook,
//! forged, stale and replayed webhooks refused or ignored, a success applied once however often
//! it is delivered.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;
use testkit::ServiceCaller;

use crate::helpers::{Shop, Shopper, WEBHOOK_SECRET};

async fn pay(shopper: &Shopper, order_id: &str, key: &str) -> (u16, serde_json::Value) {
    let response = shopper
        .payment
        .request(Method::POST, "/payments")
        .header("idempotency-key", key)
        .json(&json!({"order_id": order_id}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn events(shop: &Shop, event_type: &str) -> i64 {
    sqlx::query_scalar("select count(*) from outbox where event_type = $1")
        .bind(event_type)
        .fetch_one(&shop.payment_pool)
        .await
        .unwrap()
}

async fn status(shopper: &Shopper, payment_id: &str) -> String {
    let (_, payment) = shopper.payment.get(&format!("/payments/{payment_id}")).await;
    payment["status"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_order_is_paid_once_through_a_declined_then_accepted_card() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 5).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 2).await;
    let (_, order) = ann.place("order-1").await;
    let order_id = order["id"].as_str().unwrap();

    let (status_code, payment) = pay(&ann, order_id, "pay-1").await;
    assert_eq!(status_code, 201, "{payment}");
    assert_eq!(payment["amount_minor"], order["total_minor"], "the amount is the order's");
    assert!(payment["client_secret"].as_str().unwrap().contains("_secret_"));
    let (status_code, again) = pay(&ann, order_id, "pay-2").await;
    assert_eq!((status_code, &again["payment_id"]), (200, &payment["payment_id"]), "one intent per order");
    let bob = shop.shopper(true).await;
    let (status_code, _) = pay(&bob, order_id, "pay-3").await;
    assert_eq!(status_code, 404, "another shopper's order");
    let payment_id = payment["payment_id"].as_str().unwrap();
    let (status_code, _) = bob.payment.get(&format!("/payments/{payment_id}")).await;
    assert_eq!(status_code, 404, "another shopper's payment");

    let confirm_path = format!("/payments/{payment_id}/confirm");
    let confirm = |card: &str| ann.payment.send_json(Method::POST, &confirm_path, Some(json!({"test_card": card})));
    let (status_code, problem) = confirm("1111").await;
    assert_eq!((status_code, problem["errors"][0]["field"].as_str()), (422, Some("test_card")));
    let (status_code, _) = confirm("4000000000000002").await;
    assert_eq!(status_code, 202);
    testkit::wait::until("the decline arrives", || async { status(&ann, payment_id).await == "failed" }).await;
    assert_eq!(events(&shop, "PAYMENT_FAILED").await, 1);
    let (status_code, _) = confirm("4242424242424242").await;
    assert_eq!(status_code, 202, "a declined payment may be retried");
    testkit::wait::until("the success arrives", || async { status(&ann, payment_id).await == "succeeded" }).await;
    assert_eq!(events(&shop, "PAYMENT_SUCCEEDED").await, 1);
    let (status_code, problem) = confirm("4242424242424242").await;
    assert_eq!((status_code, problem["code"].as_str()), (409, Some("invalid_transition")), "no second payment");

    // The saga: the order is paid (ORDER_PAID), inventory commits the stock, the cart is cleared.
    testkit::wait::until("the order is paid", || async {
        let (_, order) = ann.order.get(&format!("/orders/{order_id}")).await;
        order["status"] == "paid"
    })
    .await;
    testkit::wait::until("the stock is committed", || async { shop.levels("DEMO-0001-M").await == (3, 0) }).await;
    testkit::wait::until("the cart is cleared", || async {
        let (_, cart) = ann.cart.get("/carts/current").await;
        cart["lines"].as_array().is_some_and(Vec::is_empty)
    })
    .await;
    let paid: i64 = sqlx::query_scalar("select count(*) from outbox where event_type = 'ORDER_PAID'")
        .fetch_one(&shop.order_pool)
        .await
        .unwrap();
    assert_eq!(paid, 1);
    let (status_code, _) = pay(&ann, order_id, "pay-4").await;
    assert_eq!(status_code, 200, "a paid order's payment is shown, never a second one");
}

#[tokio::test]
async fn forged_stale_and_replayed_webhooks_change_nothing_and_a_hundred_copies_of_one_apply_once() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 5).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 1).await;
    let (_, order) = ann.place("order-1").await;
    let (_, payment) = pay(&ann, order["id"].as_str().unwrap(), "pay-1").await;
    let intent: String =
        sqlx::query_scalar("select provider_intent_id from payments").fetch_one(&shop.payment_pool).await.unwrap();
    let now = chrono::Utc::now().timestamp();
    let event = |id: &str, outcome| {
        let body = payment::domain::intent_event(id, outcome, &intent, 100, "EUR", "x", now);
        serde_json::to_vec(&body).unwrap()
    };
    // The gateway relays provider webhooks anonymously; the signature is what counts.
    let hook = ServiceCaller::new("payment", shop.payment_addr);
    let send = |body: Vec<u8>, signature: String| {
        let request =
            hook.request(Method::POST, "/payments/webhooks/sandbox").header("stripe-signature", signature).body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    let success = event("evt_1", payment::domain::Outcome::Succeeded);
    let forged = payment::domain::header("whsec_someone_else", now, &success);
    let (status_code, problem) = send(success.clone(), forged).await;
    assert_eq!((status_code, problem["code"].as_str()), (400, Some("invalid_signature")));
    let stale = payment::domain::header(WEBHOOK_SECRET, now - 301, &success);
    assert_eq!(send(success.clone(), stale).await.0, 400);
    let tampered = payment::domain::header(WEBHOOK_SECRET, now, &success);
    assert_eq!(send(event("evt_1", payment::domain::Outcome::Declined), tampered).await.0, 400, "the body is signed");
    assert_eq!(status(&ann, payment["payment_id"].as_str().unwrap()).await, "requires_confirmation", "nothing changed");

    // The same valid event delivered a hundred times at once: one change, one event.
    let signature = payment::domain::header(WEBHOOK_SECRET, now, &success);
    let results = join_all((0..100).map(|_| send(success.clone(), signature.clone()))).await;
    assert!(results.iter().all(|(s, _)| *s == 200), "{:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
    assert_eq!(status(&ann, payment["payment_id"].as_str().unwrap()).await, "succeeded");
    assert_eq!(events(&shop, "PAYMENT_SUCCEEDED").await, 1);
    // A later, out-of-order decline never undoes a success; an unknown intent is acknowledged.
    let decline = event("evt_2", payment::domain::Outcome::Declined);
    assert_eq!(send(decline.clone(), payment::domain::header(WEBHOOK_SECRET, now, &decline)).await.0, 200);
    assert_eq!(status(&ann, payment["payment_id"].as_str().unwrap()).await, "succeeded");
    assert_eq!(events(&shop, "PAYMENT_FAILED").await, 0);
    let stranger = serde_json::to_vec(&payment::domain::intent_event(
        "evt_3",
        payment::domain::Outcome::Succeeded,
        "pi_unknown",
        1,
        "EUR",
        "y",
        now,
    ))
    .unwrap();
    assert_eq!(send(stranger.clone(), payment::domain::header(WEBHOOK_SECRET, now, &stranger)).await.0, 200);
}

#[tokio::test]
async fn fifty_shoppers_racing_for_ten_units_make_ten_orders_and_ten_payments() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0004-300ML", 10).await;
    let mut shoppers = Vec::new();
    for _ in 0..50 {
        let shopper = shop.shopper(true).await;
        shopper.add("DEMO-0004-300ML", 1).await;
        shoppers.push(shopper);
    }
    let results = join_all(shoppers.iter().map(|s| s.place("race"))).await;
    let placed: Vec<(usize, String)> = results
        .iter()
        .enumerate()
        .filter(|(_, (status, _))| *status == 201)
        .map(|(i, (_, order))| (i, order["id"].as_str().unwrap().to_owned()))
        .collect();
    let refused =
        results.iter().filter(|(status, problem)| *status == 409 && problem["code"] == "out_of_stock").count();
    assert_eq!((placed.len(), refused), (10, 40), "{:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
    assert_eq!(shop.levels("DEMO-0004-300ML").await, (10, 10), "all ten held, nothing negative");

    for (index, order_id) in &placed {
        let shopper = &shoppers[*index];
        let (status_code, payment) = pay(shopper, order_id, "pay").await;
        assert_eq!(status_code, 201, "{payment}");
        let path = format!("/payments/{}/confirm", payment["payment_id"].as_str().unwrap());
        let (status_code, _) =
            shopper.payment.send_json(Method::POST, &path, Some(json!({"test_card": "4242424242424242"}))).await;
        assert_eq!(status_code, 202);
    }
    testkit::wait::until("ten orders are paid and their stock committed", || async {
        let paid: i64 = sqlx::query_scalar("select count(*) from orders where status = 'paid'")
            .fetch_one(&shop.order_pool)
            .await
            .unwrap();
        paid == 10 && shop.levels("DEMO-0004-300ML").await == (0, 0)
    })
    .await;
    let mismatched: i64 = sqlx::query_scalar(
        "select count(*) from stock s where s.on_hand <> (select coalesce(sum(on_hand_delta), 0) from movements m where m.sku = s.sku) \
           or s.reserved <> (select coalesce(sum(reserved_delta), 0) from movements m where m.sku = s.sku)",
    )
    .fetch_one(&shop.inventory_pool)
    .await
    .unwrap();
    assert_eq!(mismatched, 0, "the ledger agrees with the totals");
    assert_eq!(events(&shop, "PAYMENT_SUCCEEDED").await, 10);
}

/// Review f5592e3 L4: an order is paid only by what it costs. A (forged or mistaken) success for
/// another amount, or another currency, leaves it awaiting payment; the right one pays it.
#[tokio::test]
async fn a_payment_for_another_amount_or_currency_does_not_pay_the_order() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 5).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 1).await;
    let (status, order) = ann.place("amount").await;
    assert_eq!(status, 201, "{order}");
    let order_id: uuid::Uuid = order["id"].as_str().unwrap().parse().unwrap();
    let total = order["total_minor"].as_i64().unwrap();
    let success = |amount_minor: i64, currency: &str| events::catalog::PaymentSucceeded {
        payment_id: uuid::Uuid::now_v7().into(),
        order_id: order_id.into(),
        amount_minor: amount_minor.into(),
        currency: currency.parse().unwrap(),
        provider: "sandbox".into(),
    };
    testkit::stream::publish(&shop.prefix, "payment", &success(1, "EUR")).await;
    testkit::stream::publish(&shop.prefix, "payment", &success(total, "USD")).await;
    testkit::stream::publish(&shop.prefix, "payment", &success(total, "EUR")).await;
    let path = format!("/orders/{order_id}");
    testkit::wait::until("the right success pays it", || async { ann.order.get(&path).await.1["status"] == "paid" })
        .await;
    let paid_by: Vec<String> =
        sqlx::query_scalar("select reason from order_transitions where order_id = $1 and to_status = 'paid'")
            .bind(order_id)
            .fetch_all(&shop.order_pool)
            .await
            .unwrap();
    assert_eq!(paid_by.len(), 1, "paid once");
    let refused = testkit::logs::captured().matches("another amount than the order").count();
    assert!(refused >= 2, "both mismatches were refused and logged ({refused})");
}
