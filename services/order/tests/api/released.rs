//! A reservation that was let go (review f5592e3 M1): a checkout resumed under its
//! Idempotency-Key after the orphan sweep is refused (`reservation_released`, the key freed),
//! never written on stock that is not held; and an order paid after its stock was let go is
//! sold from what is on sale now, or else cancelled, refunded in full and the shopper told.

use serde_json::{Value, json};

use crate::helpers::{Shop, confirm, count, start_payment, wait_for_order};

/// The review's sequence: a checkout fails after inventory reserved (its database transaction is
/// killed), the sweep releases the orphan, the shopper retries with the same key and body.
#[tokio::test]
async fn a_checkout_resumed_after_its_reservation_was_swept_is_refused_and_then_starts_afresh() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 3).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 1).await;

    // The order's insert waits on a lock; its backend is ended, so the checkout fails after
    // reserving and keeps its key (a 500, as a crash would).
    let mut blocker = shop.order_pool.begin().await.unwrap();
    sqlx::query("lock table order_transitions in access exclusive mode").execute(&mut *blocker).await.unwrap();
    let order = std::sync::Arc::clone(&ann.order);
    let address = ann.address_id.clone();
    let first =
        tokio::spawn(
            async move { crate::helpers::place(&order, "m1-key", json!({"shipping_address_id": address})).await },
        );
    testkit::wait::until("the checkout waits on the lock", || async {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
        )
        .fetch_one(&shop.order_pool)
        .await
        .unwrap();
        waiting == 1
    })
    .await;
    let _: Vec<bool> = sqlx::query_scalar(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
    )
    .fetch_all(&shop.order_pool)
    .await
    .unwrap();
    blocker.rollback().await.unwrap();
    let (status, body) = first.await.unwrap();
    assert_eq!(status, 500, "{body}");
    let order_id: uuid::Uuid = sqlx::query_scalar("select order_id from idempotency_keys where key = 'm1-key'")
        .fetch_one(&shop.order_pool)
        .await
        .unwrap();
    assert_eq!(shop.levels("DEMO-0001-M").await, (3, 1), "held, with no order written");

    // The sweep, fast-forwarded: the reservation's grace is over and the key's flight is stale.
    sqlx::query("update reservations set expires_at = now() - interval '2 hours' where id = $1")
        .bind(order_id)
        .execute(&shop.inventory_pool)
        .await
        .unwrap();
    sqlx::query("update idempotency_keys set created_at = now() - interval '2 minutes' where key = 'm1-key'")
        .execute(&shop.order_pool)
        .await
        .unwrap();
    assert_eq!(inventory::stock::sweep_orphans(&shop.inventory_pool, 3600.0).await.unwrap(), 1);
    assert_eq!(shop.levels("DEMO-0001-M").await, (3, 0), "released, back on sale");

    // The retry resumes under the same order id: refused, nothing written, the key freed.
    let (status, problem) = ann.place("m1-key").await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("reservation_released")), "{problem}");
    assert_eq!(count(&shop.order_pool, "select count(*) from orders").await, 0, "no order on a released hold");
    assert_eq!(count(&shop.order_pool, "select count(*) from idempotency_keys").await, 0, "the key is free");

    // Sent again, the checkout starts afresh: a new order on a new hold, paid and committed.
    let (status, order) = ann.place("m1-key").await;
    assert_eq!(status, 201, "{order}");
    let new_id = order["id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, order_id.to_string());
    assert_eq!(shop.levels("DEMO-0001-M").await, (3, 1));
    let payment_id = start_payment(&ann, &new_id).await;
    confirm(&ann, &payment_id, "4242424242424242").await;
    wait_for_order(&ann, &new_id, "paid").await;
    testkit::wait::until("the stock is committed", || async { shop.levels("DEMO-0001-M").await == (2, 0) }).await;
}

/// Lets an awaiting order's reservation go behind its back, as a lagging consumer and the sweep
/// could: the reservation is released and its units are back on sale.
async fn release_behind_its_back(shop: &Shop, order_id: &str) {
    let mut tx = shop.inventory_pool.begin().await.unwrap();
    let lines: Value =
        sqlx::query_scalar("update reservations set status = 'released' where id = $1::uuid returning lines")
            .bind(order_id)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    for line in lines.as_array().unwrap() {
        sqlx::query("update stock set reserved = reserved - $2 where sku = $1")
            .bind(line["sku"].as_str().unwrap())
            .bind(line["quantity"].as_i64().unwrap())
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn place_one(shop: &Shop, sku: &str) -> (crate::helpers::Shopper, String, i64) {
    let ann = shop.shopper(true).await;
    ann.add(sku, 1).await;
    let (status, order) = ann.place(&format!("order-{sku}")).await;
    assert_eq!(status, 201, "{order}");
    let order_id = order["id"].as_str().unwrap().to_owned();
    (ann, order_id, order["total_minor"].as_i64().unwrap())
}

#[tokio::test]
async fn a_payment_for_stock_that_was_let_go_and_sold_is_refunded_and_the_order_cancelled() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 1).await;
    let (ann, order_id, total) = place_one(&shop, "DEMO-0001-M").await;
    release_behind_its_back(&shop, &order_id).await;
    // Meanwhile the last unit went elsewhere.
    shop.stock("DEMO-0001-M", 0).await;
    let payment_id = start_payment(&ann, &order_id).await;
    confirm(&ann, &payment_id, "4242424242424242").await;

    let order = wait_for_order(&ann, &order_id, "cancelled").await;
    testkit::wait::until("the whole payment goes back", || async {
        let (_, order) = ann.order.get(&format!("/orders/{order_id}")).await;
        order["refunded_minor"] == total
    })
    .await;
    assert_eq!(order["status"], "cancelled");
    let reason: String = sqlx::query_scalar(
        "select reason from order_transitions where order_id = $1::uuid and to_status = 'cancelled'",
    )
    .bind(&order_id)
    .fetch_one(&shop.order_pool)
    .await
    .unwrap();
    assert!(reason.contains("out of stock after payment") && reason.contains("DEMO-0001-M"), "{reason}");
    let (cancelled, refunded) = (
        count(&shop.order_pool, "select count(*) from outbox where event_type = 'ORDER_CANCELLED'").await,
        count(&shop.order_pool, "select count(*) from outbox where event_type = 'ORDER_REFUNDED'").await,
    );
    assert_eq!((cancelled, refunded), (1, 1), "the shopper is told of both");
    let was_paid: bool = sqlx::query_scalar(
        "select (envelope->'payload'->>'was_paid')::boolean from outbox where event_type = 'ORDER_CANCELLED'",
    )
    .fetch_one(&shop.order_pool)
    .await
    .unwrap();
    assert!(was_paid);
    assert_eq!(
        count(&shop.payment_pool, "select count(*) from refunds where automatic and status = 'succeeded'").await,
        1
    );
    assert_eq!(shop.levels("DEMO-0001-M").await, (0, 0), "nothing was taken from stock that is not there");
}

#[tokio::test]
async fn a_payment_for_stock_that_was_let_go_but_is_still_on_sale_is_sold_from_it() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 2).await;
    let (ann, order_id, _) = place_one(&shop, "DEMO-0001-M").await;
    release_behind_its_back(&shop, &order_id).await;
    assert_eq!(shop.levels("DEMO-0001-M").await, (2, 0));
    let payment_id = start_payment(&ann, &order_id).await;
    confirm(&ann, &payment_id, "4242424242424242").await;
    wait_for_order(&ann, &order_id, "paid").await;
    testkit::wait::until("the unit is sold from what is on sale", || async {
        shop.levels("DEMO-0001-M").await == (1, 0)
    })
    .await;
    assert_eq!(
        count(&shop.inventory_pool, "select count(*) from outbox where event_type = 'INVENTORY_COMMIT_FAILED'").await,
        0
    );
}
