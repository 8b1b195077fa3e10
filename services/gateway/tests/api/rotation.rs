//! Signing-key rotation seen from the edge: the new key is published before it signs, old
//! tokens keep working until their key retires, then they are refused. The key ring's clock is
//! moved ahead instead of sleeping through the timeline; the gateway's side is waited for by
//! evidence (its answers), not by time.

use std::time::Duration;

use crate::helpers::TestGateway;

fn kid_of(token: &str) -> String {
    auth_jwt::peek_header(token, auth_jwt::ACCESS_TOKEN_TYPE).unwrap().kid.unwrap()
}

/// Long enough that nothing happens unless the clock is moved.
const PUBLISH_DELAY: Duration = Duration::from_secs(3600);
const RETIRE_AFTER: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn rotation_publishes_first_signs_later_and_retires_the_old_key() {
    let clock = service_kit::Clock::adjustable();
    let gw = TestGateway::spawn_full(
        1,
        |auth| {
            auth.key_publish_delay = PUBLISH_DELAY;
            auth.key_retire_after = Some(RETIRE_AFTER);
            auth.keyring_reload = Duration::from_millis(100);
            auth.clock = clock.clone();
        },
        |gateway| gateway.jwks_refresh_every = Duration::from_millis(200),
    )
    .await;
    // An admin rotates through the API (the endpoint needs the keys:rotate permission).
    let admin_token = gw.admin_token("keys@example.com").await;

    let old = gw.shopper_token().await;
    let old_kid = kid_of(&old);
    let customer = gw.shopper_token().await;
    let (status, _) = gw.post("/api/v1/auth/admin/keys/rotate", Some(&customer), serde_json::json!({})).await;
    assert_eq!(status, 403, "customers cannot rotate keys");
    let (status, rotated) = gw.post("/api/v1/auth/admin/keys/rotate", Some(&admin_token), serde_json::json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    let audit: Vec<serde_json::Value> = sqlx::query_scalar(
        "select envelope->'payload' from outbox where event_type = 'AUDIT_RECORDED' order by created_at, id",
    )
    .fetch_all(&gw.db.pool_as("auth").await)
    .await
    .unwrap();
    assert_eq!(audit.len(), 1, "the rotation is in the audit log: {audit:?}");
    assert_eq!(
        (audit[0]["action"].as_str(), audit[0]["after"]["kid"].as_str()),
        (Some("signing_key.rotate"), Some(&*new_kid))
    );

    // Published at once, not yet signing.
    let (_, jwks) = gw.get("/api/v1/auth/.well-known/jwks.json", None).await;
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()), "{kids:?}");
    assert_eq!(kid_of(&gw.shopper_token().await), old_kid, "the new key does not sign before its publish delay");

    clock.advance(PUBLISH_DELAY);
    let new = gw.shopper_token().await;
    assert_eq!(kid_of(&new), new_kid, "once its time has come, new tokens carry the new kid");
    testkit::wait::until("the gateway accepting the new key's tokens", async || {
        gw.get("/api/v1/products?limit=1", Some(&new)).await.0 == 200
    })
    .await;
    assert_eq!(gw.get("/api/v1/products?limit=1", Some(&old)).await.0, 200, "old tokens stay valid meanwhile");

    clock.advance(RETIRE_AFTER + Duration::from_secs(1));
    testkit::wait::until("the gateway refusing the retired key's tokens", async || {
        let (status, problem) = gw.get("/api/v1/products?limit=1", Some(&old)).await;
        (status, problem["code"].as_str()) == (401, Some("token_unknown_key"))
    })
    .await;
    assert_eq!(gw.get("/api/v1/products?limit=1", Some(&new)).await.0, 200);
    let (_, jwks) = gw.get("/api/v1/auth/.well-known/jwks.json", None).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_compromised_key_is_revoked_at_once_and_its_tokens_refused() {
    // Review L12: there was no emergency revocation of a kid.
    let gw = TestGateway::spawn_full(
        1,
        |auth| auth.keyring_reload = Duration::from_millis(100),
        |gateway| gateway.jwks_refresh_every = Duration::from_millis(200),
    )
    .await;
    let old = gw.shopper_token().await;
    let old_kid = kid_of(&old);
    assert_eq!(gw.get("/api/v1/products?limit=1", Some(&old)).await.0, 200);

    let revoked = auth::cli::revoke_key(&gw.auth_config, &old_kid).await.unwrap();
    let new_kid = revoked["signing_kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    testkit::wait::until("the gateway refusing the revoked key's tokens", async || {
        let (status, problem) = gw.get("/api/v1/products?limit=1", Some(&old)).await;
        (status, problem["code"].as_str()) == (401, Some("token_unknown_key"))
    })
    .await;
    testkit::wait::until("auth signing with the new key", async || kid_of(&gw.shopper_token().await) == new_kid).await;
    let new = gw.shopper_token().await;
    assert_eq!(gw.get("/api/v1/products?limit=1", Some(&new)).await.0, 200);
    let unknown = auth::cli::revoke_key(&gw.auth_config, "no-such-kid").await;
    assert!(unknown.is_err(), "an unknown kid is an error, not a silent success");
}
