//! SMS only to a verified number, within the daily quotas (review f5592e3 M3): the shopper asks
//! for a code, which goes by SMS (to a Twilio stub) to their profile's number; confirming it lets
//! order texts go there; a shopper's own cancellation sends no text; each account and number
//! gets at most so many texts a day.

use auth_jwt::Role;
use events::catalog::{OrderCancelled, OrderPaid, OrderShipped};
use internal_token::Subject;
use reqwest::Method;
use serde_json::json;
use testkit::ServiceCaller;
use uuid::Uuid;

use crate::helpers::{Seen, Smtp, TestShop, stub};
use crate::orders::profile;

async fn texts(shop: &TestShop) -> Vec<String> {
    sqlx::query_scalar("select kind from messages where channel = 'sms' order by created_at")
        .fetch_all(&shop.db.pool_as("notification").await)
        .await
        .unwrap()
}

/// The code in the last SMS the stub received.
fn last_code(seen: &Seen) -> String {
    let seen = seen.lock().unwrap();
    let (_, _, body) = seen.last().expect("an SMS reached the provider");
    let text = body.split('&').find_map(|pair| pair.strip_prefix("Body=")).expect("a Body");
    text.split(|c: char| !c.is_ascii_digit()).find(|run| run.len() == 6).expect("six digits").to_owned()
}

fn paid(shopper: Uuid, number: &str) -> OrderPaid {
    OrderPaid {
        order_id: Uuid::now_v7().into(),
        number: number.into(),
        user_id: shopper.into(),
        email: format!("{shopper}@example.com"),
        currency: "EUR".parse().unwrap(),
        ..OrderPaid::default()
    }
}

#[tokio::test]
async fn texts_go_only_to_a_verified_number_and_within_the_daily_quota() {
    let mut smtp = Smtp::new();
    smtp.start();
    let (twilio, seen) = stub(reqwest::StatusCode::CREATED, r#"{"sid":"SM1","status":"queued"}"#).await;
    let shop = TestShop::spawn_with(smtp.port, |config| {
        config.sms = notification::config::SmsSettings::Twilio {
            base_url: twilio,
            account_sid: "AC1".into(),
            auth_token: secrecy::SecretString::from("t".to_owned()),
            from: "+15550001111".into(),
        };
        config.sms_limits.per_account_day = 3;
        config.sms_limits.code_interval = std::time::Duration::ZERO;
    })
    .await;
    let ann = profile(&shop, true).await;
    let caller = ServiceCaller::new("notification", shop.notification).as_subject(Subject::user(
        ann.to_string(),
        Role::Customer,
        vec![],
    ));

    // Unverified: the receipt goes by email only.
    testkit::stream::publish(&shop.prefix, "order", &paid(ann, "SF-000101")).await;
    smtp.wait_for(1).await;
    assert!(texts(&shop).await.is_empty(), "no SMS to an unverified number");
    let (_, status) = caller.get("/notifications/phone-verification").await;
    assert_eq!(status, json!({"phone": "+••••••••••678", "verified": false}));

    // The code goes to the profile's number; a wrong one is refused, the right one verifies.
    let (status, sent) = caller.send_json(Method::POST, "/notifications/phone-verification", None).await;
    assert_eq!(status, 202, "{sent}");
    testkit::wait::until("the code reaches the provider", || async { !seen.lock().unwrap().is_empty() }).await;
    let code = last_code(&seen);
    assert!(seen.lock().unwrap()[0].2.contains("To=%2B4915112345678"), "to the profile's number");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, refused) =
        caller.send_json(Method::POST, "/notifications/phone-verification/confirm", Some(json!({"code": wrong}))).await;
    assert_eq!((status, refused["errors"][0]["code"].as_str()), (422, Some("invalid_or_expired")), "{refused}");
    let (status, verified) =
        caller.send_json(Method::POST, "/notifications/phone-verification/confirm", Some(json!({"code": code}))).await;
    assert_eq!((status, &verified["verified"]), (200, &json!(true)), "{verified}");
    let (status, _) =
        caller.send_json(Method::POST, "/notifications/phone-verification/confirm", Some(json!({"code": code}))).await;
    assert_eq!(status, 422, "a code is used once");

    // The shopper's own cancellation: an email, no text.
    let cancelled = OrderCancelled {
        order_id: Uuid::now_v7().into(),
        number: "SF-000102".into(),
        user_id: ann.into(),
        email: format!("{ann}@example.com"),
        reason: "cancelled by the shopper".into(),
        was_paid: false,
        by: events::catalog::CancelledBy::Shopper,
    };
    testkit::stream::publish(&shop.prefix, "order", &cancelled).await;
    smtp.wait_for(2).await;
    assert_eq!(texts(&shop).await, ["phone_code"]);

    // Verified: texts, until the account's three of the day (the code counted) are used up.
    testkit::stream::publish(&shop.prefix, "order", &paid(ann, "SF-000103")).await;
    for number in ["SF-000104", "SF-000105"] {
        let shipped = OrderShipped {
            order_id: Uuid::now_v7().into(),
            number: number.into(),
            user_id: ann.into(),
            email: format!("{ann}@example.com"),
            carrier: "DHL".into(),
            tracking_number: "0034".into(),
            fulfillment_id: None,
            lines: Vec::new(),
            tracking_url: None,
            complete: true,
        };
        testkit::stream::publish(&shop.prefix, "order", &shipped).await;
    }
    smtp.wait_for(5).await;
    assert_eq!(texts(&shop).await, ["phone_code", "order_receipt", "order_shipped"], "the quota holds");
    let (status, problem) = caller.send_json(Method::POST, "/notifications/phone-verification", None).await;
    assert_eq!((status, problem["code"].as_str()), (429, Some("rate_limited")), "codes count against it: {problem}");
}

#[tokio::test]
async fn a_code_is_asked_for_at_most_once_a_minute_and_needs_a_phone() {
    let mut smtp = Smtp::new();
    smtp.start();
    let shop = TestShop::spawn(smtp.port).await;
    let ann = profile(&shop, true).await;
    let caller = ServiceCaller::new("notification", shop.notification).as_subject(Subject::user(
        ann.to_string(),
        Role::Customer,
        vec![],
    ));
    let (status, _) = caller.send_json(Method::POST, "/notifications/phone-verification", None).await;
    assert_eq!(status, 202);
    let response = caller.request(Method::POST, "/notifications/phone-verification").send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    sqlx::query("update profiles set phone = null where user_id = $1")
        .bind(ann)
        .execute(&shop.db.pool_as("user").await)
        .await
        .unwrap();
    let (status, problem) = caller.send_json(Method::POST, "/notifications/phone-verification", None).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("phone")), "{problem}");
    let anonymous = ServiceCaller::new("notification", shop.notification);
    let (status, _) = anonymous.send_json(Method::POST, "/notifications/phone-verification", None).await;
    assert_eq!(status, 401);
}
