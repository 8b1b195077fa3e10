//! Reviews: one per shopper, the rating kept in step, helpful votes, moderation, and verified
//! purchases from ORDER_PAID.

use auth_jwt::Role;
use internal_token::Subject;
use reqwest::Method;
use serde_json::json;
use testkit::ServiceCaller;
use uuid::Uuid;

use crate::helpers::TestApp;

fn shopper(app: &TestApp) -> (Uuid, ServiceCaller) {
    let id = Uuid::now_v7();
    (id, ServiceCaller::new("product", app.addr).as_subject(Subject::user(id.to_string(), Role::Customer, vec![])))
}

fn review(rating: i64, title: &str) -> serde_json::Value {
    json!({"rating": rating, "title": title, "body": "Wore it every day for a month."})
}

#[tokio::test]
async fn reviews_move_the_rating_once_per_shopper_and_moderation_moves_it_back() {
    let app = TestApp::seeded().await;
    let path = "/products/async-tokio-mug/reviews";
    let (_, ann_calls) = shopper(&app);
    let (_, bob_calls) = shopper(&app);
    let (status, first) = ann_calls.post_json(path, review(5, "Great")).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["verified_purchase"], false);
    assert!(first.get("user_id").is_none(), "who wrote it is not public");
    let (status, problem) = ann_calls.post_json(path, review(1, "Changed my mind")).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("review_exists")));
    let (status, _) = bob_calls.post_json(path, review(2, "Meh")).await;
    assert_eq!(status, 201);
    let (_, mug) = app.get("/products/async-tokio-mug").await;
    assert_eq!(
        (mug["rating_average"].as_f64(), mug["rating_count"].as_i64()),
        (Some(3.5), Some(2)),
        "the detail shows the new rating at once"
    );

    let (status, problem) = ann_calls.post_json(path, json!({"rating": 6, "title": "", "body": "x"})).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["rating", "title"]);
    let (status, _) = app.caller.post_json(path, review(4, "Anonymous")).await;
    assert_eq!(status, 401);
    let (status, _) = ann_calls.post_json("/products/no-such-product/reviews", review(4, "x")).await;
    assert_eq!(status, 404);

    // Helpful votes: once per shopper; the helpful sort follows them.
    let bobs = {
        let (_, page) = app.get(&format!("{path}?sort=newest")).await;
        assert_eq!(page["items"][0]["title"], "Meh", "newest first");
        page["items"][0]["id"].as_str().unwrap().to_owned()
    };
    let annes = first["id"].as_str().unwrap();
    for _ in 0..2 {
        let (status, voted) = ann_calls.send_json(Method::POST, &format!("/reviews/{annes}/helpful"), None).await;
        assert_eq!((status, voted["helpful_count"].as_i64()), (200, Some(1)));
    }
    let (_, page) = app.get(&format!("{path}?sort=helpful&limit=1")).await;
    assert_eq!(page["items"][0]["id"].as_str(), Some(annes));
    let (_, next) =
        app.get(&format!("{path}?sort=helpful&limit=1&cursor={}", page["next_cursor"].as_str().unwrap())).await;
    assert_eq!(next["items"][0]["id"].as_str(), Some(bobs.as_str()));
    assert!(next["next_cursor"].is_null());

    // Moderation: staff only; hiding takes the review out of the page and the rating.
    let moderator = ServiceCaller::new("product", app.addr).as_subject(Subject::user(
        Uuid::now_v7().to_string(),
        Role::Admin,
        vec!["reviews:moderate".into()],
    ));
    let (status, _) =
        ann_calls.send_json(Method::PATCH, &format!("/reviews/{bobs}"), Some(json!({"status": "hidden"}))).await;
    assert_eq!(status, 403);
    let (status, hidden) = moderator
        .send_json(Method::PATCH, &format!("/reviews/{bobs}"), Some(json!({"status": "hidden", "note": "off-topic"})))
        .await;
    assert_eq!((status, hidden["status"].as_str()), (200, Some("hidden")), "{hidden}");
    let (_, mug) = app.get("/products/async-tokio-mug").await;
    assert_eq!((mug["rating_average"].as_f64(), mug["rating_count"].as_i64()), (Some(5.0), Some(1)));
    let (_, page) = app.get(path).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (status, _) = ann_calls.send_json(Method::POST, &format!("/reviews/{bobs}/helpful"), None).await;
    assert_eq!(status, 404, "a hidden review takes no votes");
    let (status, queue) = moderator.get("/reviews?status=hidden").await;
    assert_eq!((status, queue["items"][0]["moderation_note"].as_str()), (200, Some("off-topic")));
    assert!(queue["items"][0]["user_id"].is_string());
    let (status, _) =
        moderator.send_json(Method::PATCH, &format!("/reviews/{bobs}"), Some(json!({"status": "published"}))).await;
    assert_eq!(status, 200);
    let (_, mug) = app.get("/products/async-tokio-mug").await;
    assert_eq!(mug["rating_count"], 2);
    let (status, _) = moderator
        .send_json(Method::PATCH, &format!("/reviews/{}", Uuid::now_v7()), Some(json!({"status": "hidden"})))
        .await;
    assert_eq!(status, 404);

    // Every rating change is a product change with its event.
    let updates: i64 = sqlx::query_scalar("select count(*) from outbox where event_type = 'PRODUCT_UPDATED'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(updates, 4, "two reviews, one hide, one publish");
}

#[tokio::test]
async fn a_delivered_order_makes_its_buyers_reviews_verified_and_a_paid_one_does_not_yet() {
    use events::catalog::{OrderDelivered, OrderLine, OrderPaid};
    let app = TestApp::seeded().await;
    let (ann, ann_calls) = shopper(&app);
    let (status, _) = ann_calls.post_json("/products/async-tokio-mug/reviews", review(4, "Before delivery")).await;
    assert_eq!(status, 201);
    let (_, mug) = app.get("/products/async-tokio-mug").await;
    let sku: contracts::types::Sku = mug["variants"][0]["sku"].as_str().unwrap().parse().unwrap();
    let line = |quantity: u32| OrderLine {
        sku: sku.clone(),
        quantity: quantity.into(),
        unit_price_minor: 1400.into(),
        title: String::new(),
    };
    let purchased = |user: Uuid| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, bool>("select exists (select 1 from purchases where user_id = $1)")
                .bind(user)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    // Paid is not enough: the stream is read in order, so once bob's delivery is recorded,
    // ann's payment before it has been seen and changed nothing.
    let paid = OrderPaid {
        order_id: Uuid::now_v7().into(),
        user_id: ann.into(),
        lines: vec![line(1)],
        ..OrderPaid::default()
    };
    testkit::stream::publish(&app.redis_prefix, "order", &paid).await;
    let (bob, bob_calls) = shopper(&app);
    let delivered = OrderDelivered {
        order_id: Uuid::now_v7().into(),
        user_id: bob.into(),
        lines: vec![line(2)],
        ..OrderDelivered::default()
    };
    testkit::stream::publish(&app.redis_prefix, "order", &delivered).await;
    testkit::wait::until("bob's purchase is recorded", || purchased(bob)).await;
    assert!(!purchased(ann).await, "a paid order is not yet a verified purchase");
    let (_, page) = app.get("/products/async-tokio-mug/reviews").await;
    assert_eq!(page["items"][0]["verified_purchase"], false);
    let delivered = OrderDelivered {
        order_id: paid.order_id,
        user_id: ann.into(),
        lines: vec![line(1)],
        ..OrderDelivered::default()
    };
    testkit::stream::publish(&app.redis_prefix, "order", &delivered).await;
    testkit::wait::until("the review is verified", || async {
        let (_, page) = app.get("/products/async-tokio-mug/reviews").await;
        page["items"][0]["verified_purchase"] == true
    })
    .await;
    // A buyer's later review is verified when written.
    let (status, review) = bob_calls.post_json("/products/async-tokio-mug/reviews", review(5, "Bought two")).await;
    assert_eq!((status, review["verified_purchase"].as_bool()), (201, Some(true)));
}
