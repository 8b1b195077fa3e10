//! Order messages: receipt (with the address), cancellation, expiry and refund emails for every
//! shopper, and the same as a short SMS and a push to each device for a shopper whose
//! preferences ask for them.

use events::catalog::{OrderCancelled, OrderExpired, OrderLine, OrderPaid, OrderRefunded};
use uuid::Uuid;

use crate::helpers::{Smtp, TestShop};

/// A shopper who wants texts and pushes (or neither), with a phone and two devices.
pub(crate) async fn profile(shop: &TestShop, texts_and_pushes: bool) -> Uuid {
    let id = Uuid::now_v7();
    let pool = shop.db.pool_as("user").await;
    sqlx::query(
        "insert into profiles (user_id, email, email_verified, phone, notify_sms, notify_push) \
         values ($1, $2, true, '+4915112345678', $3, $3)",
    )
    .bind(id)
    .bind(format!("{id}@example.com"))
    .bind(texts_and_pushes)
    .execute(&pool)
    .await
    .unwrap();
    for device in ["phone", "tablet"] {
        sqlx::query("insert into devices (id, user_id, token, platform) values ($1, $2, $3, 'android')")
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(format!("{device}-{id}"))
            .execute(&pool)
            .await
            .unwrap();
    }
    id
}

#[tokio::test]
async fn order_messages_go_by_email_and_by_sms_and_push_where_the_shopper_asked_for_it() {
    let mut smtp = Smtp::new();
    smtp.start();
    let shop = TestShop::spawn(smtp.port).await;
    let (texter, quiet) = (profile(&shop, true).await, profile(&shop, false).await);
    // The texter verified their number (phones.rs verifies one through the routes).
    sqlx::query("insert into verified_phones (user_id, phone) values ($1, '+4915112345678')")
        .bind(texter)
        .execute(&shop.db.pool_as("notification").await)
        .await
        .unwrap();
    let email = |id: Uuid| format!("{id}@example.com");
    let paid = OrderPaid {
        order_id: Uuid::now_v7().into(),
        number: "SF-000041".into(),
        user_id: texter.into(),
        email: email(texter),
        lines: vec![OrderLine {
            sku: "MUG".parse().unwrap(),
            quantity: 2u32.into(),
            unit_price_minor: 1400.into(),
            title: "Mug".into(),
        }],
        subtotal_minor: 2800.into(),
        shipping_minor: 490.into(),
        tax_minor: 525.into(),
        total_minor: 3290.into(),
        currency: "EUR".parse().unwrap(),
        ship_to: vec!["Ada Lovelace".into(), "Unter den Linden 1".into(), "10115 Berlin".into(), "DE".into()],
        ..OrderPaid::default()
    };
    testkit::stream::publish(&shop.prefix, "order", &paid).await;
    let cancelled = OrderCancelled {
        order_id: Uuid::now_v7().into(),
        number: "SF-000042".into(),
        user_id: quiet.into(),
        email: email(quiet),
        reason: "changed my mind".into(),
        was_paid: false,
        by: events::catalog::CancelledBy::Shopper,
    };
    testkit::stream::publish(&shop.prefix, "order", &cancelled).await;
    let expired = OrderExpired {
        order_id: Uuid::now_v7().into(),
        number: "SF-000043".into(),
        user_id: quiet.into(),
        email: email(quiet),
    };
    testkit::stream::publish(&shop.prefix, "order", &expired).await;
    let refunded = OrderRefunded {
        order_id: expired.order_id,
        number: "SF-000043".into(),
        user_id: quiet.into(),
        email: email(quiet),
        refund_id: Uuid::now_v7().into(),
        amount_minor: 1990.into(),
        refunded_minor: 1990.into(),
        currency: "EUR".parse().unwrap(),
        status: "expired".parse().unwrap(),
        reason: "the payment arrived after the order expired or was cancelled".into(),
    };
    testkit::stream::publish(&shop.prefix, "order", &refunded).await;

    let mails = smtp.wait_for(4).await;
    let joined = mails.join("\n----\n");
    for expected in [
        "Your receipt for order SF-000041",
        "10115 Berlin",
        "Your order SF-000042 was cancelled",
        "changed my mind",
        "Your order SF-000043 expired unpaid",
        "A refund of 19.90 EUR for order SF-000043",
        "the payment arrived after the order expired",
    ] {
        assert!(joined.contains(expected), "{expected:?} missing from:\n{joined}");
    }
    let pool = shop.db.pool_as("notification").await;
    testkit::wait::until("the receipt's SMS is sent", || async {
        sqlx::query_scalar::<_, i64>("select count(*) from messages where channel = 'sms' and status = 'sent'")
            .fetch_one(&pool)
            .await
            .unwrap()
            == 1
    })
    .await;
    let by_channel: Vec<(String, String, String)> =
        sqlx::query_as("select kind, channel, recipient from messages order by created_at, channel")
            .fetch_all(&pool)
            .await
            .unwrap();
    let sms: Vec<_> = by_channel.iter().filter(|(_, channel, _)| channel == "sms").collect();
    assert_eq!(sms.len(), 1, "only the shopper who asked gets texts: {by_channel:?}");
    assert_eq!((sms[0].0.as_str(), sms[0].2.as_str()), ("order_receipt", "+4915112345678"));
    let pushes: Vec<&str> =
        by_channel.iter().filter(|(_, channel, _)| channel == "push").map(|(_, _, to)| to.as_str()).collect();
    assert_eq!(pushes.len(), 2, "a push to each of the texter's devices, none to the other: {by_channel:?}");
    assert!(pushes.iter().all(|to| to.ends_with(&texter.to_string())));
    assert_eq!(by_channel.iter().filter(|(_, channel, _)| channel == "email").count(), 4);
}
