//! Push devices: registered once per token, listed without their tokens, the ten newest kept,
//! another user's device not found, and the tokens handed to the notification service.

use reqwest::Method;
use testkit::ServiceCaller;
use uuid::Uuid;

use crate::helpers::{TestShop, send};

#[tokio::test]
async fn devices_are_registered_once_kept_ten_at_most_and_only_their_owner_forgets_them() {
    let shop = TestShop::spawn().await;
    let (ada, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let me = shop.as_user(ada);
    let device = serde_json::json!({"token": "fcm-token-0", "platform": "android"});
    let (status, first) = send(&me, Method::POST, "/users/me/devices", device.clone()).await;
    assert_eq!(status, 201, "{first}");
    assert!(first.get("token").is_none(), "the token is not shown back");
    let (status, again) = send(&me, Method::POST, "/users/me/devices", device).await;
    assert_eq!((status, &again["id"]), (200, &first["id"]), "the same token is the same device");
    let (status, problem) =
        send(&me, Method::POST, "/users/me/devices", serde_json::json!({"token": "", "platform": "fridge"})).await;
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!((status, fields), (422, vec!["token", "platform"]));
    for n in 1..=10 {
        let body = serde_json::json!({"token": format!("fcm-token-{n}"), "platform": "ios"});
        assert_eq!(send(&me, Method::POST, "/users/me/devices", body).await.0, 201);
    }
    let (_, listed) = me.get("/users/me/devices").await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 10, "the ten newest are kept");
    assert!(listed.iter().all(|d| d["id"] != first["id"]), "the oldest made way");

    let path = format!("/users/me/devices/{}", listed[0]["id"].as_str().unwrap());
    let intruder = shop.as_user(bob);
    assert_eq!(intruder.request(Method::DELETE, &path).send().await.unwrap().status(), 404, "another user's device");
    assert_eq!(intruder.request(Method::DELETE, "/users/me/devices/not-a-uuid").send().await.unwrap().status(), 404);
    assert_eq!(me.request(Method::DELETE, &path).send().await.unwrap().status(), 204);
    assert_eq!(me.request(Method::DELETE, &path).send().await.unwrap().status(), 404, "forgotten once");

    let notification = ServiceCaller::new("user", shop.user_addr).as_issuer("notification");
    let (status, contact) = notification.get(&format!("/internal/users/{ada}/contact")).await;
    assert_eq!(status, 200, "{contact}");
    let tokens = contact["push_tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 9);
    assert!(tokens.iter().all(|t| t.as_str().unwrap().starts_with("fcm-token-")));
}
