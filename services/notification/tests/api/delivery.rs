//! From registration to a real SMTP server; redelivery; retries; the admin listing.

use std::time::Duration;

use internal_token::Subject;
use testkit::ServiceCaller;

use crate::helpers::{Smtp, TestShop};

#[tokio::test]
async fn a_registration_becomes_one_verification_email_with_the_storefront_link() {
    let mut smtp = Smtp::new();
    smtp.start();
    let shop = TestShop::spawn(smtp.port).await;
    shop.register("hana@example.com").await;

    let mails = smtp.wait_for(1).await;
    let mail = &mails[0];
    assert!(mail.contains("To: hana@example.com"), "{mail}");
    assert!(mail.contains("Subject: Confirm your email address"), "{mail}");
    assert!(
        testkit::mail::decode_quoted_printable(mail).contains("https://shop.example/verify-email?token="),
        "{mail}"
    );
    assert!(mail.contains("Message-ID: <"), "{mail}");

    // The token in the email verifies the account at auth.
    let token = testkit::mail::token_in_link(mail, "verify-email").expect("a verification link");
    assert_eq!(token.len(), 43);
    let (status, _) = shop.auth.post_json("/auth/verify-email", serde_json::json!({"token": token})).await;
    assert_eq!(status, 200);

    let messages = shop.messages().await;
    assert_eq!(messages.len(), 1);
    let (kind, status, attempts, provider_id, body) = &messages[0];
    assert_eq!((kind.as_str(), status.as_str(), *attempts), ("verify_email", "sent", 1));
    assert!(provider_id.as_deref().unwrap().starts_with('<'));
    assert!(body.is_none(), "the body with its one-time link is dropped once sent");
    // The one delivery attempt is the one that sent it: a sent message is never sent again.
    let sent = ["notifications_total{", r#"kind="verify_email""#, r#"outcome="sent""#];
    assert_eq!(shop.metric(&sent).await, 1.0);
    assert_eq!(smtp.received().len(), 1, "no second email");
}

#[tokio::test]
async fn a_redelivered_event_records_and_sends_nothing_twice() {
    let mut smtp = Smtp::new();
    smtp.start();
    let shop = TestShop::spawn(smtp.port).await;
    shop.register("ivan@example.com").await;
    smtp.wait_for(1).await;

    // Publish the very same envelope again, as a relay that died before marking it sent would.
    let pool = shop.db.pool_as("auth").await;
    let (envelope,): (sqlx::types::Json<serde_json::Value>,) =
        sqlx::query_as("select envelope from outbox where event_type = 'EMAIL_VERIFICATION_REQUESTED'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let stream = events::stream_name(&shop.prefix, "auth");
    let mut redis = redis::aio::ConnectionManager::new(redis::Client::open(testkit::env().redis.url.as_str()).unwrap())
        .await
        .unwrap();
    let _: String = redis::cmd("XADD")
        .arg(&stream)
        .arg("*")
        .arg("type")
        .arg("EMAIL_VERIFICATION_REQUESTED")
        .arg("envelope")
        .arg(envelope.0.to_string())
        .query_async(&mut redis)
        .await
        .unwrap();
    // Wait for the evidence that the copy was read and recognised, then check nothing changed.
    let duplicate = ["events_consumed_total{", r#"outcome="duplicate""#, "EMAIL_VERIFICATION_REQUESTED"];
    assert_eq!(shop.wait_for_metric(&duplicate, 1.0).await, 1.0, "the redelivered copy was consumed");
    assert_eq!(shop.messages().await.len(), 1);
    let sent = ["notifications_total{", r#"kind="verify_email""#, r#"outcome="sent""#];
    assert_eq!(shop.metric(&sent).await, 1.0);
    assert_eq!(smtp.received().len(), 1);
}

#[tokio::test]
async fn a_down_smtp_server_means_retries_until_it_is_back() {
    let mut smtp = Smtp::new();
    let shop = TestShop::spawn(smtp.port).await;
    shop.register("jo@example.com").await;
    let mut failed_attempts = 0;
    for _ in 0..100 {
        let messages = shop.messages().await;
        if let Some((_, status, attempts, _, _)) = messages.first() {
            assert_eq!(status, "pending");
            failed_attempts = *attempts;
            if failed_attempts >= 2 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failed_attempts >= 2, "the sender retried while SMTP was down");
    smtp.start();
    smtp.wait_for(1).await;
    for _ in 0..100 {
        if shop.messages().await[0].1 == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, status, attempts, _, _) = &shop.messages().await[0];
    assert_eq!(status, "sent");
    assert!(*attempts > failed_attempts);
}

#[tokio::test]
async fn recent_messages_need_the_notifications_permission() {
    let mut smtp = Smtp::new();
    smtp.start();
    let shop = TestShop::spawn(smtp.port).await;
    shop.register("kim@example.com").await;
    smtp.wait_for(1).await;

    let customer = ServiceCaller::new("notification", shop.notification);
    let (status, problem) = customer.get("/notifications/messages").await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("forbidden")));

    let admin = ServiceCaller::new("notification", shop.notification).as_subject(Subject::user(
        "admin-1",
        auth_jwt::Role::Admin,
        vec!["notifications:read".into()],
    ));
    let (status, page) = admin.get("/notifications/messages?limit=10").await;
    assert_eq!(status, 200, "{page}");
    let item = &page["items"][0];
    assert_eq!(item["recipient"], "kim@example.com");
    assert_eq!(item["kind"], "verify_email");
    assert_eq!(item["status"], "sent");
    assert!(item.get("body_text").is_none(), "bodies are never listed");
    let (status, _) = admin.get("/notifications/messages?limit=0").await;
    assert_eq!(status, 422);
}
