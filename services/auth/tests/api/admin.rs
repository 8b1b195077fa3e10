//! Admins: password plus a single-use TOTP or recovery code; shorter-lived tokens with
//! permissions; customer login refused; login throttling.

use auth_jwt::{AccessTokenVerifier, Jwks, KeyRing, Role};

use crate::helpers::{PASSWORD, TestApp};

async fn claims_of(app: &TestApp, token: &str) -> auth_jwt::AccessClaims {
    let (_, jwks) = app.get("/auth/.well-known/jwks.json").await;
    let jwks: Jwks = serde_json::from_value(jwks).unwrap();
    AccessTokenVerifier::new("shopfleet-auth", "shopfleet-api", 30).verify(token, &KeyRing::from_jwks(&jwks)).unwrap()
}

fn admin_login(created: &serde_json::Value, code: Option<&str>, recovery: Option<&str>) -> serde_json::Value {
    serde_json::json!({"email": created["email"], "password": created["password"], "code": code, "recovery_code": recovery})
}

#[tokio::test]
async fn an_admin_signs_in_with_a_totp_code_that_works_only_once() {
    let app = TestApp::spawn().await;
    let created = auth::cli::create_admin(&app.config, "Root@Example.com").await.unwrap();
    assert!(created["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/Shopfleet:root@example.com?secret="));
    assert_eq!(created["recovery_codes"].as_array().unwrap().len(), 10);

    let (status, problem) =
        app.caller.post_json("/auth/admin/login", admin_login(&created, Some("000000"), None)).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("invalid_credentials")), "wrong code");
    let (status, problem) = app.caller.post_json("/auth/admin/login", admin_login(&created, None, None)).await;
    assert_eq!(status, 401, "no second factor: {problem}");

    let code = totp::current_code(created["totp_secret"].as_str().unwrap()).unwrap();
    let (status, body) = app.caller.post_json("/auth/admin/login", admin_login(&created, Some(&code), None)).await;
    assert_eq!(status, 200, "{body}");
    let claims = claims_of(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims.role, Role::Admin);
    assert_eq!(claims.exp - claims.iat, 300, "admin tokens are shorter-lived");
    assert!(claims.perms.iter().any(|p| p == "admin:access"));
    assert!(claims.sid.is_some());

    let (status, _) = app.caller.post_json("/auth/admin/login", admin_login(&created, Some(&code), None)).await;
    assert_eq!(status, 401, "the same code cannot be replayed");

    // The admin session refreshes into admin tokens.
    let (status, refreshed) =
        app.caller.post_json("/auth/refresh", serde_json::json!({"refresh_token": body["refresh_token"]})).await;
    assert_eq!(status, 200);
    assert_eq!(claims_of(&app, refreshed["access_token"].as_str().unwrap()).await.role, Role::Admin);
}

#[tokio::test]
async fn a_recovery_code_works_once_and_an_admin_password_alone_opens_nothing() {
    let app = TestApp::spawn().await;
    let created = auth::cli::create_admin(&app.config, "ops@example.com").await.unwrap();
    let recovery = created["recovery_codes"][3].as_str().unwrap().to_uppercase();
    let (status, body) = app.caller.post_json("/auth/admin/login", admin_login(&created, None, Some(&recovery))).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app.caller.post_json("/auth/admin/login", admin_login(&created, None, Some(&recovery))).await;
    assert_eq!(status, 401, "used up");

    let customer_login = serde_json::json!({"email": created["email"], "password": created["password"]});
    let (status, problem) = app.caller.post_json("/auth/login", customer_login).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("admin_login_required")));

    app.register_ok("carl@example.com", PASSWORD).await;
    let (status, _) = app
        .caller
        .post_json(
            "/auth/admin/login",
            serde_json::json!({"email": "carl@example.com", "password": PASSWORD, "code": "123456"}),
        )
        .await;
    assert_eq!(status, 401, "a customer is no admin");
}

#[tokio::test]
async fn repeated_failures_throttle_the_account_even_for_the_right_password() {
    let app = TestApp::spawn_with(|c| c.throttle.per_account = 3).await;
    app.register_ok("dora@example.com", PASSWORD).await;
    for _ in 0..3 {
        assert_eq!(app.login("dora@example.com", "wrong password here").await.0, 401);
    }
    let response = app
        .caller
        .request(reqwest::Method::POST, "/auth/login")
        .json(&serde_json::json!({"email": "DORA@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 0);
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "too_many_attempts");
    assert_eq!(app.login("erik@example.com", "wrong password here").await.0, 401, "other accounts are not affected");
}
