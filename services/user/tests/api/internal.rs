//! The internal reads for order and notification: only those services, and only the shopper's
//! own address.

use reqwest::Method;
use testkit::ServiceCaller;
use uuid::Uuid;

use crate::helpers::{TestShop, send};

#[tokio::test]
async fn order_reads_a_shoppers_own_address_and_contact_and_nobody_else_reads_them() {
    let shop = TestShop::spawn().await;
    let ada = shop.register("ada@example.com").await;
    let bob = Uuid::now_v7();
    let me = shop.as_user(ada);
    let body = serde_json::json!({"recipient_name": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10115", "country": "de"});
    let (status, created) = send(&me, Method::POST, "/users/me/addresses", body).await;
    assert_eq!(status, 201, "{created}");
    let address_id = created["id"].as_str().unwrap();

    let order = ServiceCaller::new("user", shop.user_addr).as_issuer("order");
    let (status, address) = order.get(&format!("/internal/users/{ada}/addresses/{address_id}")).await;
    assert_eq!(status, 200, "{address}");
    assert_eq!((address["country"].as_str(), address["recipient_name"].as_str()), (Some("DE"), Some("Ada Lovelace")));
    let (status, _) = order.get(&format!("/internal/users/{bob}/addresses/{address_id}")).await;
    assert_eq!(status, 404, "another shopper's address id is not found");
    let (status, _) = order.get(&format!("/internal/users/{ada}/addresses/not-an-id")).await;
    assert_eq!(status, 404);

    testkit::wait::until("the profile has the email", || async {
        shop.profile_email(ada).await == Some(Some("ada@example.com".into()))
    })
    .await;
    let notification = ServiceCaller::new("user", shop.user_addr).as_issuer("notification");
    let (status, contact) = notification.get(&format!("/internal/users/{ada}/contact")).await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!((contact["email"].as_str(), contact["notify_email"].as_bool()), (Some("ada@example.com"), Some(true)));
    let (status, _) = order.get(&format!("/internal/users/{bob}/contact")).await;
    assert_eq!(status, 404);

    // The gateway (and through it, any shopper) cannot reach them; nor can other services.
    for issuer in ["gateway", "cart", "payment"] {
        let caller = ServiceCaller::new("user", shop.user_addr).as_issuer(issuer);
        let (status, _) = caller.get(&format!("/internal/users/{ada}/contact")).await;
        assert_eq!(status, 401, "{issuer}");
    }
    // And the internal issuers cannot use the shoppers' routes.
    let (status, _) = order.get("/users/me").await;
    assert_eq!(status, 401);
}
