//! Login: a verifiable RS256 token with a kid, and one answer for every wrong credential.

use std::time::Instant;

use auth_jwt::{AccessTokenVerifier, Jwks, KeyRing, Role};

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn login_returns_a_fifteen_minute_rs256_token_that_verifies_with_the_jwks() {
    let app = TestApp::spawn().await;
    app.register_ok("carol@example.com", PASSWORD).await;
    let (status, body) = app.login(" CAROL@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);

    let (status, jwks) = app.get("/auth/.well-known/jwks.json").await;
    assert_eq!(status, 200);
    let jwks: Jwks = serde_json::from_value(jwks).unwrap();
    assert_eq!(jwks.keys[0].alg.as_deref(), Some("RS256"));
    let token = body["access_token"].as_str().unwrap();
    let header = auth_jwt::peek_header(token, auth_jwt::ACCESS_TOKEN_TYPE).unwrap();
    assert_eq!(header.kid.as_deref(), Some(jwks.keys[0].kid.as_str()));
    let claims = AccessTokenVerifier::new("shopfleet-auth", "shopfleet-api", 30)
        .verify(token, &KeyRing::from_jwks(&jwks))
        .unwrap();
    assert_eq!(claims.exp - claims.iat, 900);
    assert_eq!(claims.role, Role::Customer);
    assert!(uuid::Uuid::parse_str(&claims.sub).is_ok());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.register_ok("dave@example.com", PASSWORD).await;
    // Warm up (first hashes pay for allocation).
    assert_eq!(app.login("dave@example.com", "wrong password here").await.0, 401);

    let started = Instant::now();
    let (status_wrong, wrong) = app.login("dave@example.com", "wrong password here").await;
    let wrong_took = started.elapsed();
    let started = Instant::now();
    let (status_unknown, unknown) = app.login("nobody@example.com", "wrong password here").await;
    let unknown_took = started.elapsed();

    assert_eq!((status_wrong, status_unknown), (401, 401));
    assert_eq!(wrong["code"], "invalid_credentials");
    assert_eq!(wrong["code"], unknown["code"]);
    assert_eq!(wrong["detail"], unknown["detail"]);
    // An unknown email still pays for one argon2 verification: it must not be an order of
    // magnitude faster (generous bound: 2 busy cores make timing noisy).
    assert!(unknown_took * 5 > wrong_took, "unknown {unknown_took:?} vs wrong {wrong_took:?}");
    let (status, _) = app.login("not an email", "whatever").await;
    assert_eq!(status, 401);
}
