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
    let response = app
        .caller
        .request(reqwest::Method::POST, "/auth/admin/login")
        .json(&admin_login(&created, Some(&code), None))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "an admin's refresh token is only in the HttpOnly cookie: {body}");
    let claims = claims_of(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims.role, Role::Admin);
    assert_eq!(claims.exp - claims.iat, 300, "admin tokens are shorter-lived");
    assert!(claims.perms.iter().any(|p| p == "admin:access"));
    assert!(claims.sid.is_some());

    let (status, _) = app.caller.post_json("/auth/admin/login", admin_login(&created, Some(&code), None)).await;
    assert_eq!(status, 401, "the same code cannot be replayed");

    // The admin session refreshes into admin tokens, through the cookie only (review M5).
    let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let (status, problem) = app.caller.post_json("/auth/refresh", serde_json::json!({"refresh_token": token})).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("refresh_token_invalid")), "not from a body");
    let refreshed = app
        .caller
        .request(reqwest::Method::POST, "/auth/refresh")
        .header("cookie", cookie.split(';').next().unwrap())
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    let refreshed: serde_json::Value = refreshed.json().await.unwrap();
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

    // The customer endpoint answers an admin's right password exactly as a wrong one (review M1).
    let customer_login = serde_json::json!({"email": created["email"], "password": created["password"]});
    let (status, right) = app.caller.post_json("/auth/login", customer_login).await;
    assert_eq!((status, right["code"].as_str()), (401, Some("invalid_credentials")));
    let wrong_password = serde_json::json!({"email": created["email"], "password": "not the password at all"});
    let (_, wrong) = app.caller.post_json("/auth/login", wrong_password).await;
    assert_eq!((right["code"].clone(), right["detail"].clone()), (wrong["code"].clone(), wrong["detail"].clone()));

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
    let app = TestApp::spawn_with(|c| c.throttle.per_account_network = 3).await;
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

/// A login as the gateway would forward it from client address `ip`.
async fn login_from(app: &TestApp, path: &str, ip: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let response =
        app.caller.request(reqwest::Method::POST, path).header("x-client-ip", ip).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn wrong_second_factor_codes_lock_the_admin_sign_in_even_with_the_right_password() {
    // Review H1: a right password used to clear the account's count before the code was checked.
    let app = TestApp::spawn().await;
    let created = auth::cli::create_admin(&app.config, "lock@example.com").await.unwrap();
    for attempt in 0..5 {
        let (status, problem) =
            login_from(&app, "/auth/admin/login", "203.0.113.5", admin_login(&created, Some("000000"), None)).await;
        assert_eq!((status, problem["code"].as_str()), (401, Some("invalid_credentials")), "wrong code {attempt}");
    }
    let code = totp::current_code(created["totp_secret"].as_str().unwrap()).unwrap();
    let (status, problem) =
        login_from(&app, "/auth/admin/login", "198.51.100.9", admin_login(&created, Some(&code), None)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (429, Some("too_many_attempts")),
        "locked for the account, from any address, even with the right password and code"
    );
    assert!(testkit::logs::captured().contains("admin_second_factor_locked"), "a security event is recorded");
}

#[tokio::test]
async fn parallel_wrong_passwords_get_at_most_the_limits_worth_of_verifications() {
    // Review M4: the count was read before argon2 and written after it, so a burst all passed.
    let app = TestApp::spawn().await;
    app.register_ok("burst@example.com", PASSWORD).await;
    let attempts = (0..10).map(|_| {
        login_from(
            &app,
            "/auth/login",
            "203.0.113.7",
            serde_json::json!({"email": "burst@example.com", "password": "wrong guess 123456"}),
        )
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts).await.into_iter().map(|(s, _)| s).collect();
    let verified = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((verified, refused), (5, 5), "{statuses:?}");
}

#[tokio::test]
async fn one_clients_failures_do_not_lock_the_owner_out_from_another_network() {
    // Review L6: the per-account limit is per account and client network; IPv6 clients count by /64 (M3).
    let app = TestApp::spawn().await;
    app.register_ok("owner@example.com", PASSWORD).await;
    let wrong = serde_json::json!({"email": "owner@example.com", "password": "wrong guess 123456"});
    for i in 0..5 {
        let attacker = format!("2001:db8:bad:1::{i:x}");
        assert_eq!(login_from(&app, "/auth/login", &attacker, wrong.clone()).await.0, 401);
    }
    let (status, _) = login_from(&app, "/auth/login", "2001:db8:bad:1:ffff::1", wrong.clone()).await;
    assert_eq!(status, 429, "another address of the same /64 is the same client");
    let right = serde_json::json!({"email": "owner@example.com", "password": PASSWORD});
    let (status, body) = login_from(&app, "/auth/login", "203.0.113.20", right).await;
    assert_eq!(status, 200, "the owner elsewhere signs in: {body}");
}

#[tokio::test]
async fn re_enrolling_the_second_factor_asks_for_the_password_and_a_code_and_ends_other_sessions() {
    // Review M6 and L9.
    let app = TestApp::spawn().await;
    let created = auth::cli::create_admin(&app.config, "fresh@example.com").await.unwrap();
    let admin = internal_token::Subject::user(
        created["id"].as_str().unwrap(),
        auth_jwt::Role::Admin,
        vec!["admin:access".into()],
    );
    let addr = app.caller.base.trim_start_matches("http://").parse().unwrap();
    let caller = testkit::ServiceCaller::new("auth", addr).as_subject(admin);
    // Another session of the admin, opened earlier.
    let code = totp::current_code(created["totp_secret"].as_str().unwrap()).unwrap();
    let other = app
        .caller
        .request(reqwest::Method::POST, "/auth/admin/login")
        .json(&admin_login(&created, Some(&code), None))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    let other_cookie = other.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();

    let (status, _) = caller.post_json("/auth/admin/totp/enroll", serde_json::json!({})).await;
    assert_eq!(status, 422, "a bare token is not enough");
    let wrong = serde_json::json!({"password": "not the password", "recovery_code": "x"});
    let (status, _) = caller.post_json("/auth/admin/totp/enroll", wrong).await;
    assert_eq!(status, 401, "the password is checked");

    let recovery = created["recovery_codes"][0].as_str().unwrap();
    let step_up = serde_json::json!({"password": created["password"], "recovery_code": recovery});
    let response =
        caller.request(reqwest::Method::POST, "/auth/admin/totp/enroll").json(&step_up).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let enrolment: serde_json::Value = response.json().await.unwrap();
    assert_eq!(enrolment["recovery_codes"].as_array().unwrap().len(), 10);
    assert_ne!(enrolment["secret"], created["totp_secret"]);

    let refresh = app
        .caller
        .request(reqwest::Method::POST, "/auth/refresh")
        .header("cookie", other_cookie)
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), 401, "the other session has ended");
    let notices: Vec<_> = app.outbox().await.into_iter().filter(|e| e["type"] == "SECOND_FACTOR_CHANGED").collect();
    assert_eq!(notices.len(), 1, "the admin is told");
}

#[tokio::test]
async fn recovery_codes_are_stored_as_keyed_digests_not_plain_hashes() {
    // Review L7: an unsalted SHA-256 of a 60-bit code can be brute-forced from a dump.
    let app = TestApp::spawn().await;
    let created = auth::cli::create_admin(&app.config, "digest@example.com").await.unwrap();
    let code = created["recovery_codes"][0].as_str().unwrap().to_owned();
    let plain: Vec<u8> = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, code.as_bytes()).as_ref().to_vec();
    let pool = app.db.pool_as("auth").await;
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("select code_hash from recovery_codes").fetch_all(&pool).await.unwrap();
    assert_eq!(stored.len(), 10);
    assert!(!stored.contains(&plain), "no code is stored as its plain SHA-256");
}

#[tokio::test]
async fn the_key_ring_stops_growing_at_its_cap() {
    // Review L12: rotation had no cap.
    let app = TestApp::spawn().await;
    let mut made = 1; // the seed key
    while made < auth::keyring::MAX_KEYS {
        auth::cli::rotate_keys(&app.config).await.unwrap();
        made += 1;
    }
    let refused = auth::cli::rotate_keys(&app.config).await;
    assert!(refused.unwrap_err().to_string().contains("already holds 10 keys"));
}

#[tokio::test]
async fn a_key_retired_long_ago_is_pruned_from_the_ring() {
    // Review L12: key rows were never pruned. The ring's clock is moved instead of waited for.
    let clock = service_kit::Clock::adjustable();
    let app = TestApp::spawn_with(|c| {
        c.clock = clock.clone();
        c.key_publish_delay = std::time::Duration::from_secs(60);
        c.key_retire_after = Some(std::time::Duration::from_secs(60));
    })
    .await;
    use secrecy::ExposeSecret;
    let vault =
        std::sync::Arc::new(auth::vault::Vault::from_base64(app.config.encryption_key.expose_secret()).unwrap());
    let seed = (app.config.signing_kid.as_str(), &app.config.signing_key);
    let pool = app.db.pool_as("auth").await;
    let ring = auth::keyring::KeyRing::load(pool.clone(), vault, app.config.key_policy(), Some(seed)).await.unwrap();
    ring.rotate().await.unwrap();
    let count =
        || async { sqlx::query_scalar::<_, i64>("select count(*) from signing_keys").fetch_one(&pool).await.unwrap() };
    assert_eq!(count().await, 2);
    assert_eq!(ring.prune().await.unwrap(), 0, "the old key still verifies tokens");
    clock.advance(std::time::Duration::from_secs(60 + 3 * 60));
    assert_eq!(ring.prune().await.unwrap(), 1, "retired for longer than its grace: gone");
    assert_eq!(count().await, 1);
}

#[tokio::test]
async fn a_staff_password_check_never_clears_the_second_factor_counter() {
    // Review f5592e3 L9: with a staff token and the password, POST /auth/email (refused for
    // staff) used to clear the second-factor counter between wrong codes.
    let app = TestApp::spawn().await;
    let created = auth::cli::create_admin(&app.config, "stepup@example.com").await.unwrap();
    let code = totp::current_code(created["totp_secret"].as_str().unwrap()).unwrap();
    let (status, login) =
        login_from(&app, "/auth/admin/login", "203.0.113.5", admin_login(&created, Some(&code), None)).await;
    assert_eq!(status, 200, "{login}");
    let claims = claims_of(&app, login["access_token"].as_str().unwrap()).await;
    let addr = app.caller.base.trim_start_matches("http://").parse().unwrap();
    let staff = testkit::ServiceCaller::new("auth", addr).as_subject(internal_token::Subject::from_access(&claims));
    for _ in 0..4 {
        let (status, _) =
            login_from(&app, "/auth/admin/login", "203.0.113.5", admin_login(&created, Some("000000"), None)).await;
        assert_eq!(status, 401);
    }
    let password = created["password"].as_str().unwrap();
    let (status, _) =
        staff.post_json("/auth/email", serde_json::json!({"password": password, "new_email": "x@example.com"})).await;
    assert_eq!(status, 403, "refused before the password is checked");
    let (status, _) = staff.post_json("/auth/account/delete", serde_json::json!({"password": password})).await;
    assert_eq!(status, 403);
    let change = serde_json::json!({"current_password": password, "new_password": "another long passphrase"});
    let (status, body) = staff.post_json("/auth/password", change).await;
    assert_eq!(status, 200, "a staff member may change their password: {body}");
    let mut created = created.clone();
    created["password"] = "another long passphrase".into();
    let (status, _) =
        login_from(&app, "/auth/admin/login", "203.0.113.5", admin_login(&created, Some("000000"), None)).await;
    assert_eq!(status, 401, "the fifth wrong code");
    let code = totp::current_code(created["totp_secret"].as_str().unwrap()).unwrap();
    let (status, problem) =
        login_from(&app, "/auth/admin/login", "198.51.100.9", admin_login(&created, Some(&code), None)).await;
    assert_eq!((status, problem["code"].as_str()), (429, Some("too_many_attempts")), "the counter was never cleared");
}
