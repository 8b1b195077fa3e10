//! Staff: invited by an administrator through the admin service, accepted with a sealed link
//! that sets the password and enrols the second factor, signed in with tokens that carry exactly
//! their role's permissions; and accounts disabled by staff (no sign-in, no refresh).

use auth_jwt::{AccessTokenVerifier, Jwks, KeyRing, Role};
use internal_token::Subject;
use service_kit::StaffRole;
use testkit::ServiceCaller;

use crate::helpers::{PASSWORD, TestApp};

/// A caller of auth as the admin service, with a staff member's identity.
fn back_office(app: &TestApp, id: &str, role: StaffRole) -> ServiceCaller {
    let addr = app.caller.base.trim_start_matches("http://").parse().unwrap();
    let kind = if role == StaffRole::Admin { Role::Admin } else { Role::Staff };
    ServiceCaller::new("auth", addr).as_issuer("admin").as_subject(Subject::user(id, kind, role.permission_names()))
}

async fn claims_of(app: &TestApp, token: &str) -> auth_jwt::AccessClaims {
    let (_, jwks) = app.get("/auth/.well-known/jwks.json").await;
    let jwks: Jwks = serde_json::from_value(jwks).unwrap();
    AccessTokenVerifier::new("shopfleet-auth", "shopfleet-api", 30).verify(token, &KeyRing::from_jwks(&jwks)).unwrap()
}

async fn audit_entries(app: &TestApp) -> Vec<serde_json::Value> {
    app.outbox().await.into_iter().filter(|e| e["type"] == "AUDIT_RECORDED").map(|e| e["payload"].clone()).collect()
}

#[tokio::test]
async fn an_invited_catalog_manager_sets_a_password_enrols_totp_and_gets_exactly_the_roles_permissions() {
    let app = TestApp::spawn().await;
    let root = auth::cli::create_admin(&app.config, "root@example.com").await.unwrap();
    let root_id = root["id"].as_str().unwrap();
    let admin = back_office(&app, root_id, StaffRole::Admin);

    let invite = serde_json::json!({"email": " Cat@Example.com ", "role": "catalog_manager"});
    let (status, invited) = admin.post_json("/internal/staff", invite.clone()).await;
    assert_eq!(status, 201, "{invited}");
    assert_eq!(invited["account"]["email"], "cat@example.com");
    assert_eq!(invited["account"]["role"], "catalog_manager");
    let staff_id = invited["account"]["id"].as_str().unwrap().to_owned();
    let (status, problem) = admin.post_json("/internal/staff", invite).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("email_taken")));
    let (status, problem) =
        admin.post_json("/internal/staff", serde_json::json!({"email": "x@example.com", "role": "owner"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("role")), "{problem}");
    // Only `staff:write` invites; only the admin service calls these routes at all.
    let support = back_office(&app, root_id, StaffRole::Support);
    let (status, _) =
        support.post_json("/internal/staff", serde_json::json!({"email": "y@example.com", "role": "admin"})).await;
    assert_eq!(status, 403);
    let (status, _) = app.caller.get("/internal/staff").await;
    assert!(status == 401 || status == 403, "the gateway may not call it: {status}");

    // Before accepting, no password opens the account (not even the marker).
    let login = |password: &str, code: Option<String>| serde_json::json!({"email": "cat@example.com", "password": password, "code": code});
    let (status, _) = app.caller.post_json("/auth/admin/login", login("!invited", Some("000000".into()))).await;
    assert_eq!(status, 401);

    let token = app.token_from("STAFF_INVITED").await;
    let accept = serde_json::json!({"token": token, "password": "short"});
    let (status, problem) = app.caller.post_json("/auth/staff/accept", accept).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("password")), "{problem}");
    let response = app
        .post("/auth/staff/accept")
        .json(&serde_json::json!({"token": token, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the token survives a refused password");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let enrolment: serde_json::Value = response.json().await.unwrap();
    assert_eq!(enrolment["recovery_codes"].as_array().unwrap().len(), 10);
    let (status, _) =
        app.caller.post_json("/auth/staff/accept", serde_json::json!({"token": token, "password": PASSWORD})).await;
    assert_eq!(status, 422, "the link works once");

    // The customer sign-in refuses a staff account; the admin sign-in needs the second factor.
    let (status, _) = app.login("cat@example.com", PASSWORD).await;
    assert_eq!(status, 401);
    let (status, _) = app.caller.post_json("/auth/admin/login", login(PASSWORD, None)).await;
    assert_eq!(status, 401);
    let code = totp::current_code(enrolment["secret"].as_str().unwrap()).unwrap();
    let (status, tokens) = app.caller.post_json("/auth/admin/login", login(PASSWORD, Some(code))).await;
    assert_eq!(status, 200, "{tokens}");
    let claims = claims_of(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(claims.role, Role::Staff);
    assert_eq!(claims.sub, staff_id);
    assert_eq!(claims.perms, StaffRole::CatalogManager.permission_names());
    assert!(!claims.perms.iter().any(|p| p == "staff:write" || p == "orders:read"));
    assert_eq!(claims.exp - claims.iat, 300, "staff tokens live as long as an admin's");
    assert!(claims.email_verified, "the invitation reached the address");

    let (status, list) = admin.get("/internal/staff").await;
    assert_eq!(status, 200);
    let roles: Vec<&str> = list["items"].as_array().unwrap().iter().map(|a| a["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["admin", "catalog_manager"]);

    let audit = audit_entries(&app).await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["action"], "staff.invite");
    assert_eq!(audit[0]["actor"], root_id);
    assert_eq!(audit[0]["target"], format!("account:{staff_id}"));
    assert_eq!(audit[0]["before"], serde_json::Value::Null);
    assert_eq!(audit[0]["after"]["role"], "catalog_manager");
    assert!(!audit[0].to_string().contains("password"), "no secret in the audit log");
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_or_refresh_until_support_enables_it() {
    let app = TestApp::spawn().await;
    let root = auth::cli::create_admin(&app.config, "root@example.com").await.unwrap();
    let root_id = root["id"].as_str().unwrap().to_owned();
    app.register_ok("ada@example.com", PASSWORD).await;
    let (status, session) = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(status, 200);

    let support_id = uuid::Uuid::now_v7().to_string();
    let support = back_office(&app, &support_id, StaffRole::Support);
    let (status, found) = support.get("/internal/accounts?email=ADA%40example.com").await;
    assert_eq!(status, 200, "{found}");
    assert_eq!((found["role"].as_str(), found["disabled_at"].as_null()), (Some("customer"), Some(())));
    let ada = found["id"].as_str().unwrap().to_owned();
    let (status, _) = support.get(&format!("/internal/accounts/{ada}")).await;
    assert_eq!(status, 200);
    for missing in ["/internal/accounts?email=nobody%40example.com", "/internal/accounts/not-a-uuid"] {
        let (status, problem) = support.get(missing).await;
        assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")), "{missing}");
    }
    let (status, _) = support.get(&format!("/internal/accounts/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(status, 404);
    // A content editor sees no customers.
    let (status, _) =
        back_office(&app, &support_id, StaffRole::ContentEditor).get(&format!("/internal/accounts/{ada}")).await;
    assert_eq!(status, 403);

    let disable = format!("/internal/accounts/{ada}/disable");
    let (status, problem) = support.post_json(&disable, serde_json::json!({"reason": "  "})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("reason")));
    let (status, disabled) = support.post_json(&disable, serde_json::json!({"reason": "chargeback fraud"})).await;
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(disabled["disabled_reason"], "chargeback fraud");
    assert!(disabled["disabled_at"].is_string());

    let (status, problem) = app.login("ada@example.com", PASSWORD).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("account_disabled")), "{problem}");
    let (status, problem) = app.login("ada@example.com", "a wrong password entirely").await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("invalid_credentials")), "no hint without the password");
    let (status, problem) =
        app.caller.post_json("/auth/refresh", serde_json::json!({"refresh_token": session["refresh_token"]})).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("refresh_token_invalid")), "the session ended");

    // Support may not disable staff, and nobody disables themselves.
    let (status, _) =
        support.post_json(&format!("/internal/accounts/{root_id}/disable"), serde_json::json!({"reason": "x"})).await;
    assert_eq!(status, 403);
    let admin = back_office(&app, &root_id, StaffRole::Admin);
    let (status, _) =
        admin.post_json(&format!("/internal/accounts/{root_id}/disable"), serde_json::json!({"reason": "x"})).await;
    assert_eq!(status, 403);

    let (status, enabled) = support.post_json(&format!("/internal/accounts/{ada}/enable"), serde_json::json!({})).await;
    assert_eq!(status, 200, "{enabled}");
    assert!(enabled["disabled_at"].is_null());
    let (status, _) = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(status, 200, "signs in again");

    let audit = audit_entries(&app).await;
    let actions: Vec<&str> = audit.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["account.disable", "account.enable"]);
    assert_eq!(audit[0]["actor"], support_id);
    assert!(audit[0]["before"]["disabled_at"].is_null());
    assert_eq!(audit[0]["after"]["disabled_reason"], "chargeback fraud");
    // Review f5592e3 L7: the append-only log outlives the account; it names it by id only.
    assert!(
        audit.iter().all(|e| e["before"].get("email").is_none() && e["after"].get("email").is_none()),
        "no email in the audit log: {audit:?}"
    );
}
