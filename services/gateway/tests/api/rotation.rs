//! Signing-key rotation seen from the edge: the new key is published before it signs, old
//! tokens keep working until their key retires, then they are refused.

use std::time::Duration;

use crate::helpers::TestGateway;

fn kid_of(token: &str) -> String {
    auth_jwt::peek_header(token, auth_jwt::ACCESS_TOKEN_TYPE).unwrap().kid.unwrap()
}

#[tokio::test]
async fn rotation_publishes_first_signs_later_and_retires_the_old_key() {
    let gw = TestGateway::spawn_full(
        1,
        |auth| {
            auth.key_publish_delay = Duration::from_millis(1000);
            auth.key_retire_after = Some(Duration::from_millis(1500));
            auth.keyring_reload = Duration::from_millis(100);
        },
        |gateway| gateway.jwks_refresh_every = Duration::from_millis(200),
    )
    .await;
    // An admin rotates through the API (the endpoint needs the keys:rotate permission).
    let admin = auth::cli::create_admin(&gw.auth_config, "keys@example.com").await.unwrap();
    let code = totp::current_code(admin["totp_secret"].as_str().unwrap()).unwrap();
    let login = serde_json::json!({"email": admin["email"], "password": admin["password"], "code": code});
    let (status, admin_login) = gw.post("/api/v1/auth/admin/login", None, login).await;
    assert_eq!(status, 200, "{admin_login}");
    let admin_token = admin_login["access_token"].as_str().unwrap().to_owned();

    let old = gw.shopper_token().await;
    let old_kid = kid_of(&old);
    let customer = gw.shopper_token().await;
    let (status, _) = gw.post("/api/v1/auth/admin/keys/rotate", Some(&customer), serde_json::json!({})).await;
    assert_eq!(status, 403, "customers cannot rotate keys");
    let (status, rotated) = gw.post("/api/v1/auth/admin/keys/rotate", Some(&admin_token), serde_json::json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();

    // Published at once, not yet signing.
    let (_, jwks) = gw.get("/api/v1/auth/.well-known/jwks.json", None).await;
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()), "{kids:?}");
    assert_eq!(kid_of(&gw.shopper_token().await), old_kid, "the new key does not sign before its publish delay");

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let new = gw.shopper_token().await;
    assert_eq!(kid_of(&new), new_kid, "new tokens carry the new kid");
    assert_eq!(gw.get("/api/v1/products?limit=1", Some(&new)).await.0, 200);
    assert_eq!(gw.get("/api/v1/products?limit=1", Some(&old)).await.0, 200, "old tokens stay valid meanwhile");

    tokio::time::sleep(Duration::from_millis(2000)).await;
    let (status, problem) = gw.get("/api/v1/products?limit=1", Some(&old)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("token_unknown_key")),
        "the retired key's tokens are refused"
    );
    assert_eq!(gw.get("/api/v1/products?limit=1", Some(&new)).await.0, 200);
    let (_, jwks) = gw.get("/api/v1/auth/.well-known/jwks.json", None).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
}
