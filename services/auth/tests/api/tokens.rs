//! Email verification and password reset: events written with the change, single-use tokens.

use auth_jwt::{AccessTokenVerifier, Jwks, KeyRing};

use crate::helpers::{PASSWORD, TestApp};

async fn claims_of(app: &TestApp, token: &str) -> auth_jwt::AccessClaims {
    let (_, jwks) = app.get("/auth/.well-known/jwks.json").await;
    let jwks: Jwks = serde_json::from_value(jwks).unwrap();
    AccessTokenVerifier::new("shopfleet-auth", "shopfleet-api", 30).verify(token, &KeyRing::from_jwks(&jwks)).unwrap()
}

#[tokio::test]
async fn registration_writes_both_events_in_its_transaction_and_a_failed_one_writes_none() {
    let app = TestApp::spawn().await;
    let (status, body) = app.register("erin@example.com", PASSWORD).await;
    assert_eq!(status, 201);
    let outbox = app.outbox().await;
    let types: Vec<&str> = outbox.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["USER_REGISTERED", "EMAIL_VERIFICATION_REQUESTED"]);
    assert_eq!(outbox[0]["aggregate_id"], body["id"]);
    assert_eq!(outbox[0]["producer"], "auth");
    assert_eq!(outbox[1]["payload"]["email"], "erin@example.com");
    // Review M7: the token is not in the event, only a reference the mailer resolves.
    assert!(outbox[1]["payload"].get("token").is_none());
    assert!(outbox[1]["payload"]["token_ref"].is_string());
    assert_eq!(app.token_from("EMAIL_VERIFICATION_REQUESTED").await.len(), 43);

    let (status, _) = app.register("erin@example.com", PASSWORD).await;
    assert_eq!(status, 409);
    assert_eq!(app.outbox().await.len(), 2, "a refused registration writes no event");
}

#[tokio::test]
async fn the_verification_token_verifies_the_email_once() {
    let app = TestApp::spawn().await;
    app.register_ok("fay@example.com", PASSWORD).await;
    let (_, login) = app.login("fay@example.com", PASSWORD).await;
    assert!(!claims_of(&app, login["access_token"].as_str().unwrap()).await.email_verified);

    let token = app.token_from("EMAIL_VERIFICATION_REQUESTED").await;
    let (status, body) = app.caller.post_json("/auth/verify-email", serde_json::json!({"token": token})).await;
    assert_eq!(status, 200, "{body}");
    assert!(app.outbox().await.iter().any(|e| e["type"] == "USER_EMAIL_VERIFIED"));
    let (_, login) = app.login("fay@example.com", PASSWORD).await;
    assert!(claims_of(&app, login["access_token"].as_str().unwrap()).await.email_verified);

    let (status, problem) = app.caller.post_json("/auth/verify-email", serde_json::json!({"token": token})).await;
    assert_eq!(status, 422, "single use");
    assert_eq!(problem["errors"][0]["field"], "token");
    let (status, _) = app.caller.post_json("/auth/verify-email", serde_json::json!({"token": "made-up"})).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn password_reset_answers_alike_for_unknown_emails_and_its_token_works_once() {
    let app = TestApp::spawn().await;
    app.register_ok("gus@example.com", PASSWORD).await;
    let before = app.outbox().await.len();

    let (status_unknown, unknown) =
        app.caller.post_json("/auth/password-reset", serde_json::json!({"email": "nobody@example.com"})).await;
    assert_eq!(app.outbox().await.len(), before, "no event for an unknown email");
    let (status_known, known) =
        app.caller.post_json("/auth/password-reset", serde_json::json!({"email": "GUS@example.com"})).await;
    assert_eq!((status_unknown, status_known), (202, 202));
    assert_eq!(unknown, known, "the answer does not tell whether the account exists");

    let token = app.token_from("PASSWORD_RESET_REQUESTED").await;
    let new_password = "an entirely new password";
    let (status, _) = app
        .caller
        .post_json("/auth/password-reset/confirm", serde_json::json!({"token": token, "password": "short"}))
        .await;
    assert_eq!(status, 422, "the new password is validated first");
    let (status, body) = app
        .caller
        .post_json("/auth/password-reset/confirm", serde_json::json!({"token": token, "password": new_password}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.login("gus@example.com", PASSWORD).await.0, 401, "the old password is gone");
    assert_eq!(app.login("gus@example.com", new_password).await.0, 200);
    assert!(app.outbox().await.iter().any(|e| e["type"] == "PASSWORD_CHANGED"));

    let (status, _) = app
        .caller
        .post_json(
            "/auth/password-reset/confirm",
            serde_json::json!({"token": token, "password": "yet another password"}),
        )
        .await;
    assert_eq!(status, 422, "the token works once");
}

/// Argon2 runs so far, from auth's own /metrics.
async fn argon2_runs(app: &TestApp) -> f64 {
    let text = app.caller.request(reqwest::Method::GET, "/metrics").send().await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("auth_argon2_total{"))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum()
}

#[tokio::test]
async fn a_bad_reset_link_or_a_taken_email_costs_no_argon2() {
    // Review M10: reset-confirm hashed the new password before looking at the token.
    let app = TestApp::spawn().await;
    app.register_ok("hal@example.com", PASSWORD).await;
    let before = argon2_runs(&app).await;
    let (status, _) = app
        .caller
        .post_json(
            "/auth/password-reset/confirm",
            serde_json::json!({"token": "not-a-token-at-all", "password": "a brand new password"}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = app.register("hal@example.com", PASSWORD).await;
    assert_eq!(status, 409);
    assert_eq!(argon2_runs(&app).await, before, "neither ran argon2");
}

#[tokio::test]
async fn only_the_mailer_resolves_a_token_reference_and_only_while_the_token_is_unused() {
    let app = TestApp::spawn().await;
    app.register_ok("ref@example.com", PASSWORD).await;
    let outbox = app.outbox().await;
    let token_ref = outbox[1]["payload"]["token_ref"].as_str().unwrap().to_owned();
    let path = format!("/internal/one-time-tokens/{token_ref}");
    let (status, _) = app.caller.get(&path).await;
    assert_eq!(status, 401, "the gateway (and so the outside) cannot ask");
    let token = app.token_from("EMAIL_VERIFICATION_REQUESTED").await;
    let (status, _) = app.caller.post_json("/auth/verify-email", serde_json::json!({"token": token})).await;
    assert_eq!(status, 200);
    let (status, _) = app.mailer().get(&path).await;
    assert_eq!(status, 404, "a used token is gone, sealed copy included");
    let pool = app.db.pool_as("auth").await;
    let sealed: i64 = sqlx::query_scalar("select count(*) from one_time_tokens where token_sealed is not null")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sealed, 0);
}

#[tokio::test]
async fn pruning_deletes_what_ended_a_day_ago_and_keeps_the_rest() {
    // Review L12: ended sessions and spent one-time tokens were never deleted.
    let app = TestApp::spawn().await;
    app.register_ok("old@example.com", PASSWORD).await;
    assert_eq!(app.login("old@example.com", PASSWORD).await.0, 200);
    let pool = app.db.pool_as("auth").await;
    let count = |table: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!((count("one_time_tokens").await, count("refresh_families").await), (1, 1));
    let pruned = auth::cli::prune(&app.config).await.unwrap();
    assert_eq!(pruned["deleted"], 0, "nothing has ended yet");
    sqlx::query("update one_time_tokens set expires_at = now() - interval '2 days'").execute(&pool).await.unwrap();
    sqlx::query("update refresh_families set revoked_at = now() - interval '2 days', revoked_reason = 'logout'")
        .execute(&pool)
        .await
        .unwrap();
    let pruned = auth::cli::prune(&app.config).await.unwrap();
    assert_eq!(pruned["deleted"], 2);
    assert_eq!(
        (count("one_time_tokens").await, count("refresh_families").await, count("refresh_tokens").await),
        (0, 0, 0)
    );
}

#[tokio::test]
async fn an_address_gets_one_reset_mail_per_two_minutes_and_five_a_day() {
    // Review f5592e3 L8: every request used to send a mail, limited only per network.
    let app = TestApp::spawn().await;
    app.register_ok("ivy@example.com", PASSWORD).await;
    let resets = || async { app.outbox().await.iter().filter(|e| e["type"] == "PASSWORD_RESET_REQUESTED").count() };
    for _ in 0..15 {
        let (status, _) =
            app.caller.post_json("/auth/password-reset", serde_json::json!({"email": "ivy@example.com"})).await;
        assert_eq!(status, 202, "the answer never tells");
    }
    assert_eq!(resets().await, 1, "one mail within two minutes");
    // Two minutes on, for the rest of the day: five in all.
    for _ in 0..10 {
        let pool = app.db.pool_as("auth").await;
        sqlx::query("update one_time_tokens set created_at = created_at - interval '3 minutes'")
            .execute(&pool)
            .await
            .unwrap();
        let (status, _) =
            app.caller.post_json("/auth/password-reset", serde_json::json!({"email": "ivy@example.com"})).await;
        assert_eq!(status, 202);
    }
    assert_eq!(resets().await, 5, "five a day");
}
