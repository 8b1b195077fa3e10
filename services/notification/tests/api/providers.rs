//! SMS and push against local HTTP stubs shaped like Twilio's Messages API and FCM HTTP v1.

use axum::http::StatusCode;
use notification::store::DueMessage;
use notification::transport::{PushTransport, SmsTransport, TransportError};
use secrecy::SecretString;

use crate::helpers::stub;

fn message(recipient: &str) -> DueMessage {
    DueMessage {
        id: uuid::Uuid::now_v7(),
        event_id: uuid::Uuid::now_v7(),
        kind: "order_shipped".into(),
        channel: "sms".into(),
        recipient: recipient.into(),
        subject: Some("Shipped".into()),
        body_text: Some("Your order is on its way".into()),
        body_html: None,
        attempts: 0,
    }
}

fn twilio(base_url: String) -> SmsTransport {
    SmsTransport::Twilio {
        http: reqwest::Client::new(),
        base_url,
        account_sid: "AC123".into(),
        auth_token: SecretString::from("twilio-secret".to_owned()),
        from: "+15550001111".into(),
    }
}

#[tokio::test]
async fn an_sms_goes_to_twilios_messages_api_with_basic_auth() {
    let (base, seen) = stub(StatusCode::CREATED, r#"{"sid":"SM42","status":"queued"}"#).await;
    let sid = twilio(base).send(&message("+15557654321")).await.unwrap();
    assert_eq!(sid, "SM42");
    let seen = seen.lock().unwrap();
    let (path, headers, body) = &seen[0];
    assert_eq!(path, "2010-04-01/Accounts/AC123/Messages.json");
    assert!(headers["authorization"].to_str().unwrap().starts_with("Basic "));
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    assert!(body.contains("To=%2B15557654321"), "{body}");
    assert!(body.contains("Body=Your+order+is+on+its+way"), "{body}");
}

#[tokio::test]
async fn provider_errors_are_temporary_or_permanent_by_status() {
    let (base, _) = stub(StatusCode::SERVICE_UNAVAILABLE, "busy").await;
    assert!(matches!(twilio(base).send(&message("+1")).await, Err(TransportError::Temporary(_))));
    let (base, _) = stub(StatusCode::BAD_REQUEST, r#"{"code":21211}"#).await;
    assert!(matches!(twilio(base).send(&message("+1")).await, Err(TransportError::Permanent(_))));
    let down = format!("http://127.0.0.1:{}", testkit::unused_port());
    assert!(matches!(twilio(down).send(&message("+1")).await, Err(TransportError::Temporary(_))));
}

#[tokio::test]
async fn a_push_goes_to_fcm_v1_with_the_bearer_token() {
    let (base, seen) = stub(StatusCode::OK, r#"{"name":"projects/shop/messages/0:123"}"#).await;
    let push = PushTransport::Fcm {
        http: reqwest::Client::new(),
        base_url: base,
        project_id: "shop".into(),
        access_token: SecretString::from("ya29.token".to_owned()),
    };
    let name = push.send(&message("device-token-1")).await.unwrap();
    assert_eq!(name, "projects/shop/messages/0:123");
    let seen = seen.lock().unwrap();
    let (path, headers, body) = &seen[0];
    assert_eq!(path, "v1/projects/shop/messages:send");
    assert_eq!(headers["authorization"], "Bearer ya29.token");
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["message"]["token"], "device-token-1");
    assert_eq!(json["message"]["notification"]["title"], "Shipped");
}
