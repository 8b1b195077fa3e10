//! Guest and user carts: stored only from the first line, current prices with changes flagged,
//! limits, merge on sign-in, TTL refresh, isolation between carts, and ORDER_PAID.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, lines};

#[tokio::test]
async fn a_guest_cart_is_stored_from_its_first_line_and_shows_current_prices() {
    let app = TestApp::spawn().await;
    let guest = app.guest().await;
    assert!(app.cart_keys().await.is_empty(), "a token alone stores nothing");
    assert_eq!(guest.cart().await["lines"], json!([]));

    let (status, cart) = guest.add("DEMO-0004-300ML", 2).await;
    assert_eq!(status, 200, "{cart}");
    let (status, cart) = guest.add("DEMO-0004-300ML", 1).await;
    assert_eq!(status, 200);
    let (_, cart2) = guest.add("DEMO-0001-M", 1).await;
    assert_eq!(lines(&cart2), [("DEMO-0004-300ML".to_owned(), 3), ("DEMO-0001-M".to_owned(), 1)], "in the order added");
    let line = &cart["lines"][0];
    assert_eq!(line["title"], "Borrowed Crab Mug (300 ml)");
    assert_eq!((line["price_changed"].as_bool(), line["available"].as_bool()), (Some(false), Some(true)));
    let unit = line["unit_price_minor"].as_i64().unwrap();
    assert_eq!(cart["subtotal_minor"].as_i64(), Some(unit * 3));
    assert_eq!(cart["currency"], "EUR");
    assert_eq!(app.cart_keys().await.len(), 1);

    // A staff price change shows in the very next read, flagged.
    let product_id: uuid::Uuid = sqlx::query_scalar("select product_id from variants where sku = 'DEMO-0004-300ML'")
        .fetch_one(&app.product_pool)
        .await
        .unwrap();
    let (status, _) = app
        .product_staff
        .send_json(
            Method::PATCH,
            &format!("/products/{product_id}/variants/DEMO-0004-300ML"),
            Some(json!({"price_minor": unit + 250})),
        )
        .await;
    assert_eq!(status, 200);
    let cart = guest.cart().await;
    assert_eq!(
        (cart["lines"][0]["unit_price_minor"].as_i64(), cart["lines"][0]["price_changed"].as_bool()),
        (Some(unit + 250), Some(true))
    );

    // Change, remove, empty.
    let (status, cart) =
        guest.call(Method::PATCH, "/carts/current/items/DEMO-0001-M", Some(json!({"quantity": 4}))).await;
    assert_eq!((status, lines(&cart)[1].1), (200, 4));
    let (status, cart) = guest.call(Method::DELETE, "/carts/current/items/DEMO-0001-M", None).await;
    assert_eq!((status, lines(&cart).len()), (200, 1));
    let (status, _) = guest.call(Method::DELETE, "/carts/current", None).await;
    assert_eq!(status, 204);
    assert!(app.cart_keys().await.is_empty());
}

#[tokio::test]
async fn bad_lines_are_refused_with_a_problem() {
    let app = TestApp::spawn().await;
    let guest = app.guest().await;
    let (status, problem) = guest.add("NO-SUCH-SKU", 1).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("sku")), "{problem}");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("NO-SUCH-SKU"));
    let (status, problem) = guest.add("DEMO-0001-M", 6).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("quantity")));
    let (status, _) = guest.add("DEMO-0001-M", 5).await;
    assert_eq!(status, 200);
    let (status, problem) = guest.add("DEMO-0001-M", 1).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("quantity")),
        "over the line limit in total"
    );
    sqlx::query("update variants set in_stock = false where sku = 'DEMO-0002-S'")
        .execute(&app.product_pool)
        .await
        .unwrap();
    let (status, problem) = guest.add("DEMO-0002-S", 1).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("out_of_stock")));
    let (status, problem) =
        guest.call(Method::PATCH, "/carts/current/items/DEMO-0009-A3", Some(json!({"quantity": 1}))).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")), "no such line");
    let (status, _) = guest.call(Method::POST, "/carts/current/items", Some(json!({"sku": "DEMO-0001-M"}))).await;
    assert_eq!(status, 422, "quantity is required");
}

#[tokio::test]
async fn no_route_reaches_a_cart_it_was_not_given() {
    let app = TestApp::spawn().await;
    let alice = app.shopper();
    let bob = app.shopper();
    let (status, _) = alice.add("DEMO-0001-M", 2).await;
    assert_eq!(status, 200);
    assert_eq!(bob.cart().await["lines"], json!([]), "Bob has his own cart");
    let (status, _) = bob.call(Method::PATCH, "/carts/current/items/DEMO-0001-M", Some(json!({"quantity": 1}))).await;
    assert_eq!(status, 404);
    let (status, _) = bob.call(Method::DELETE, "/carts/current/items/DEMO-0001-M", None).await;
    assert_eq!(status, 404);
    let (status, _) = bob.call(Method::DELETE, "/carts/current", None).await;
    assert_eq!(status, 204);
    assert_eq!(lines(&alice.cart().await), [("DEMO-0001-M".to_owned(), 2)], "Alice's cart is untouched");

    // A token this shop never issued is a 404; no token at all for a guest is a 401.
    let mut guest = app.guest().await;
    guest.token = Some("A".repeat(64));
    let (status, problem) = guest.call(Method::GET, "/carts/current", None).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    guest.token = None;
    let (status, problem) = guest.call(Method::GET, "/carts/current", None).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("token_missing")));
    // Another guest's token reaches that guest's cart only, never a user's.
    let carol = app.guest().await;
    let (status, _) = carol.add("DEMO-0003-ONESIZE", 1).await;
    assert_eq!(status, 200);
    let dave = app.guest().await;
    assert_eq!(dave.cart().await["lines"], json!([]));

    // The internal read is the order service's only.
    let as_gateway = testkit::ServiceCaller::new("cart", app.addr);
    let (status, _) = as_gateway.get(&format!("/internal/carts/{}", alice.user_id.unwrap())).await;
    assert_eq!(status, 401);
    let as_order = testkit::ServiceCaller::new("cart", app.addr).as_issuer("order");
    let (status, cart) = as_order.get(&format!("/internal/carts/{}", alice.user_id.unwrap())).await;
    assert_eq!((status, cart["lines"][0]["quantity"].as_i64()), (200, Some(2)));
}

#[tokio::test]
async fn a_guest_cart_merges_into_the_shoppers_once_capped_by_the_limits() {
    let app = TestApp::spawn().await;
    let guest = app.guest().await;
    guest.add("DEMO-0001-M", 3).await;
    guest.add("DEMO-0004-300ML", 1).await;
    let mut shopper = app.shopper();
    shopper.add("DEMO-0001-M", 4).await;
    shopper.add("DEMO-0002-S", 1).await;

    let (status, problem) = guest.call(Method::POST, "/carts/current/merge", None).await;
    assert_eq!(status, 401, "merging needs a sign-in: {problem}");
    shopper.token = guest.token.clone();
    let (status, merged) = shopper.call(Method::POST, "/carts/current/merge", None).await;
    assert_eq!(status, 200, "{merged}");
    let expected = [("DEMO-0001-M".to_owned(), 5), ("DEMO-0002-S".to_owned(), 1), ("DEMO-0004-300ML".to_owned(), 1)];
    let mut got = lines(&merged);
    got.sort();
    assert_eq!(got, expected, "quantities added, capped at the line limit of 5");
    assert_eq!(guest.cart().await["lines"], json!([]), "the guest cart is gone");
    // A retry adds nothing twice.
    let (status, again) = shopper.call(Method::POST, "/carts/current/merge", None).await;
    let mut got = lines(&again);
    got.sort();
    assert_eq!((status, got), (200, expected.to_vec()));
}

#[tokio::test]
async fn a_cart_lives_on_while_used_and_paid_lines_leave_it() {
    use events::catalog::{OrderLine, OrderPaid};
    let app = TestApp::spawn().await;
    let guest = app.guest().await;
    guest.add("DEMO-0001-M", 1).await;
    let key = app.cart_keys().await.remove(0);
    let mut redis = app.redis().await;
    let _: () = redis::cmd("PEXPIRE").arg(&key).arg(5_000).query_async(&mut redis).await.unwrap();
    guest.cart().await;
    let ttl: i64 = redis::cmd("PTTL").arg(&key).query_async(&mut redis).await.unwrap();
    assert!(ttl > 590_000, "a read refreshes the guest TTL of 600 s, got {ttl} ms");

    let shopper = app.shopper();
    shopper.add("DEMO-0001-M", 2).await;
    shopper.add("DEMO-0002-S", 1).await;
    let user_id = shopper.user_id.unwrap();
    let paid = OrderPaid {
        order_id: uuid::Uuid::now_v7().into(),
        user_id: user_id.into(),
        lines: vec![OrderLine {
            sku: "DEMO-0001-M".parse().unwrap(),
            quantity: 2u32.into(),
            unit_price_minor: 2400.into(),
            title: String::new(),
        }],
        ..OrderPaid::default()
    };
    testkit::stream::publish(&app.redis_prefix, "order", &paid).await;
    testkit::stream::publish(&app.redis_prefix, "order", &paid).await;
    testkit::wait::until("the paid line leaves the cart", || async {
        lines(&shopper.cart().await) == [("DEMO-0002-S".to_owned(), 1)]
    })
    .await;
    // A line added again after the order was placed is a new wish: a late redelivery of the
    // same ORDER_PAID leaves it. (A later order's payment, taking the other line, shows that
    // the redelivery was handled first.)
    shopper.add("DEMO-0001-M", 1).await;
    testkit::stream::publish(&app.redis_prefix, "order", &paid).await;
    let later = OrderPaid {
        order_id: uuid::Uuid::now_v7().into(),
        user_id: user_id.into(),
        lines: vec![OrderLine {
            sku: "DEMO-0002-S".parse().unwrap(),
            quantity: 1u32.into(),
            unit_price_minor: 2400.into(),
            title: String::new(),
        }],
        ..OrderPaid::default()
    };
    testkit::stream::publish(&app.redis_prefix, "order", &later).await;
    testkit::wait::until("only the line added after the first order stays", || async {
        lines(&shopper.cart().await) == [("DEMO-0001-M".to_owned(), 1)]
    })
    .await;
}
