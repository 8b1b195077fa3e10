//! A signed-in account's own changes, each behind the current password: a new password (the
//! other sessions end), a new email (effective only from the link sent to it), and deleting the
//! account (USER_DELETED; the address is free again).

use auth_jwt::{AccessTokenVerifier, Jwks, KeyRing};
use internal_token::Subject;
use testkit::ServiceCaller;

use crate::helpers::{PASSWORD, TestApp};

/// A caller of auth as the gateway, for the session this login opened.
async fn session_of(app: &TestApp, login: &serde_json::Value) -> ServiceCaller {
    let (_, jwks) = app.get("/auth/.well-known/jwks.json").await;
    let jwks: Jwks = serde_json::from_value(jwks).unwrap();
    let token = login["access_token"].as_str().unwrap();
    let claims = AccessTokenVerifier::new("shopfleet-auth", "shopfleet-api", 30)
        .verify(token, &KeyRing::from_jwks(&jwks))
        .unwrap();
    let addr = app.caller.base.trim_start_matches("http://").parse().unwrap();
    ServiceCaller::new("auth", addr).as_subject(Subject::from_access(&claims))
}

async fn refresh(app: &TestApp, login: &serde_json::Value) -> u16 {
    app.caller.post_json("/auth/refresh", serde_json::json!({"refresh_token": login["refresh_token"]})).await.0
}

fn field(problem: &serde_json::Value) -> Option<&str> {
    problem["errors"][0]["field"].as_str()
}

#[tokio::test]
async fn a_new_password_needs_the_current_one_and_ends_the_other_sessions_only() {
    let app = TestApp::spawn().await;
    app.register_ok("ada@example.com", PASSWORD).await;
    let (_, this) = app.login("ada@example.com", PASSWORD).await;
    let (_, other) = app.login("ada@example.com", PASSWORD).await;
    let me = session_of(&app, &this).await;

    let change = |current: &str, new: &str| serde_json::json!({"current_password": current, "new_password": new});
    let (status, problem) = me.post_json("/auth/password", change("not the password at all", "a new passphrase")).await;
    assert_eq!((status, field(&problem)), (422, Some("current_password")), "{problem}");
    let (status, problem) = me.post_json("/auth/password", change(PASSWORD, "short")).await;
    assert_eq!((status, field(&problem)), (422, Some("new_password")), "{problem}");
    let (status, _) = app.caller.post_json("/auth/password", change(PASSWORD, "a new passphrase")).await;
    assert_eq!(status, 401, "anonymous");

    let (status, changed) = me.post_json("/auth/password", change(PASSWORD, "a new passphrase")).await;
    assert_eq!((status, changed["sessions_ended"].as_u64()), (200, Some(1)), "{changed}");
    assert_eq!(refresh(&app, &other).await, 401, "the other session ended");
    assert_eq!(refresh(&app, &this).await, 200, "this one stays");
    assert_eq!(app.login("ada@example.com", PASSWORD).await.0, 401);
    assert_eq!(app.login("ada@example.com", "a new passphrase").await.0, 200);
    assert!(app.outbox().await.iter().any(|e| e["type"] == "PASSWORD_CHANGED"), "the owner is told");
}

#[tokio::test]
async fn a_new_email_takes_effect_only_from_the_link_sent_to_it() {
    let app = TestApp::spawn().await;
    app.register_ok("ada@example.com", PASSWORD).await;
    app.register_ok("bob@example.com", PASSWORD).await;
    let (_, login) = app.login("ada@example.com", PASSWORD).await;
    let me = session_of(&app, &login).await;

    let ask = |email: &str| serde_json::json!({"password": PASSWORD, "new_email": email});
    let (status, problem) = me.post_json("/auth/email", ask("bob@example.com")).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("email_taken")));
    let (status, problem) = me.post_json("/auth/email", ask("ADA@example.com")).await;
    assert_eq!((status, field(&problem)), (422, Some("new_email")), "the current address");
    let (status, problem) = me
        .post_json("/auth/email", serde_json::json!({"password": "wrong wrong wrong", "new_email": "a2@example.com"}))
        .await;
    assert_eq!((status, field(&problem)), (422, Some("password")));
    let (status, pending) = me.post_json("/auth/email", ask("Ada.New@example.com")).await;
    assert_eq!((status, pending["email"].as_str()), (202, Some("ada.new@example.com")), "{pending}");

    // Nothing changed yet.
    assert_eq!(app.login("ada@example.com", PASSWORD).await.0, 200);
    let token = app.token_from("EMAIL_CHANGE_REQUESTED").await;
    let (status, changed) = app.caller.post_json("/auth/email/confirm", serde_json::json!({"token": token})).await;
    assert_eq!((status, changed["email"].as_str()), (200, Some("ada.new@example.com")), "{changed}");
    let (status, _) = app.caller.post_json("/auth/email/confirm", serde_json::json!({"token": token})).await;
    assert_eq!(status, 422, "the link works once");
    assert_eq!(app.login("ada@example.com", PASSWORD).await.0, 401);
    assert_eq!(app.login("ada.new@example.com", PASSWORD).await.0, 200);
    let outbox = app.outbox().await;
    let changed = outbox.iter().find(|e| e["type"] == "USER_EMAIL_CHANGED").expect("USER_EMAIL_CHANGED");
    assert_eq!(changed["payload"]["old_email"], "ada@example.com", "the old address is told");
}

#[tokio::test]
async fn a_deleted_account_keeps_only_its_id_and_every_session_ends() {
    let app = TestApp::spawn().await;
    app.register_ok("ada@example.com", PASSWORD).await;
    let (_, login) = app.login("ada@example.com", PASSWORD).await;
    let me = session_of(&app, &login).await;
    let (status, problem) =
        me.post_json("/auth/account/delete", serde_json::json!({"password": "nope nope nope"})).await;
    assert_eq!((status, field(&problem)), (422, Some("password")));
    assert_eq!(refresh(&app, &login).await, 200, "a wrong password deletes nothing");

    let (status, _) = me.post_json("/auth/account/delete", serde_json::json!({"password": PASSWORD})).await;
    assert_eq!(status, 204);
    assert_eq!(app.login("ada@example.com", PASSWORD).await.0, 401);
    assert_eq!(refresh(&app, &login).await, 401);
    let outbox = app.outbox().await;
    let deleted = outbox.iter().find(|e| e["type"] == "USER_DELETED").expect("USER_DELETED");
    assert_eq!(deleted["payload"]["email"], "ada@example.com");
    let user_id = deleted["payload"]["user_id"].as_str().unwrap();
    let pool = app.db.pool_as("auth").await;
    let (email, hash): (String, String) = sqlx::query_as("select email, password_hash from users where id = $1::uuid")
        .bind(user_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((email, hash), (format!("deleted+{user_id}@deleted.invalid"), "!deleted".to_owned()));
    let (status, _) = me.post_json("/auth/account/delete", serde_json::json!({"password": PASSWORD})).await;
    assert_eq!(status, 401, "gone");
    let addr = app.caller.base.trim_start_matches("http://").parse().unwrap();
    let support = ServiceCaller::new("auth", addr).as_issuer("admin").as_subject(Subject::user(
        uuid::Uuid::now_v7().to_string(),
        auth_jwt::Role::Staff,
        service_kit::StaffRole::Support.permission_names(),
    ));
    let (status, _) = support.post_json(&format!("/internal/accounts/{user_id}/enable"), serde_json::json!({})).await;
    assert_eq!(status, 404, "a deleted account cannot be enabled again");
    // The address is free for a new account.
    app.register_ok("ada@example.com", PASSWORD).await;
}
