//! Staff and customers through the back office, composed from the real auth service with the
//! staff member's own identity: auth's refusals come back as they are, a disabled customer can
//! no longer sign in, and each write lands in the audit log with before and after. (Orders with
//! their payment and timeline are walked in the fleet test, where an order is really paid.)

use std::time::Duration;

use auth_jwt::Role;
use internal_token::Subject;
use secrecy::SecretString;
use service_kit::StaffRole;
use testkit::{ServiceCaller, TestDb};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery staple";

fn as_role(addr: std::net::SocketAddr, id: &str, role: StaffRole) -> ServiceCaller {
    let kind = if role == StaffRole::Admin { Role::Admin } else { Role::Staff };
    ServiceCaller::new("admin", addr).as_subject(Subject::user(id, kind, role.permission_names()))
}

#[tokio::test]
async fn support_finds_and_disables_a_customer_and_an_administrator_invites_staff_through_auth() {
    let db = TestDb::new().await;
    let auth_service = testkit::service_config("auth", Some(&db));
    let prefix = auth_service.redis.as_ref().unwrap().key_prefix.clone();
    let auth_config =
        auth::AuthConfig::new(auth_service, SecretString::from(testkit::env().keys.access_signing_pem.clone()));
    let auth_addr = auth::build(auth_config).await.unwrap().spawn();
    let shop = ServiceCaller::new("auth", auth_addr);
    let credentials = serde_json::json!({"email": "ada@example.com", "password": PASSWORD});
    assert_eq!(shop.post_json("/auth/register", credentials.clone()).await.0, 201);

    let mut service = testkit::service_config("admin", Some(&db));
    testkit::point_at(&mut service, "auth", auth_addr);
    service.redis.as_mut().unwrap().key_prefix = prefix;
    let addr = admin::build_with(admin::AdminConfig::new(service), |c| c.block = Duration::from_millis(100))
        .await
        .unwrap()
        .spawn();
    let support_id = Uuid::now_v7().to_string();
    let support = as_role(addr, &support_id, StaffRole::Support);

    let (status, ada) = support.get("/admin/customers?email=Ada%40Example.com").await;
    assert_eq!(status, 200, "{ada}");
    assert_eq!((ada["email"].as_str(), ada["role"].as_str()), (Some("ada@example.com"), Some("customer")));
    let ada_id = ada["id"].as_str().unwrap().to_owned();
    assert_eq!(support.get(&format!("/admin/customers/{ada_id}")).await.1, ada);
    let (status, problem) = support.get("/admin/customers").await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("email")));
    for missing in ["/admin/customers?email=nobody%40example.com", "/admin/customers/not-an-id"] {
        let (status, problem) = support.get(missing).await;
        assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")), "{missing}");
    }
    // An order manager reads customers but may not disable them.
    let orders = as_role(addr, &support_id, StaffRole::OrderManager);
    let disable = format!("/admin/customers/{ada_id}/disable");
    let (status, _) = orders.post_json(&disable, serde_json::json!({"reason": "x"})).await;
    assert_eq!(status, 403);

    let (status, disabled) = support.post_json(&disable, serde_json::json!({"reason": "chargeback fraud"})).await;
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(disabled["disabled_reason"], "chargeback fraud");
    let (status, problem) = shop.post_json("/auth/login", credentials.clone()).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("account_disabled")));
    let (status, problem) = support.post_json(&disable, serde_json::json!({"reason": ""})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("reason")), "auth's 422, relayed");

    // Staff: only an administrator invites; auth's own refusals come back as they are.
    let root_id = Uuid::now_v7().to_string();
    let root = as_role(addr, &root_id, StaffRole::Admin);
    let invite = serde_json::json!({"email": "grace@example.com", "role": "content_editor"});
    assert_eq!(support.post_json("/admin/staff", invite.clone()).await.0, 403);
    let (status, invited) = root.post_json("/admin/staff", invite.clone()).await;
    assert_eq!(status, 201, "{invited}");
    assert_eq!(invited["account"]["role"], "content_editor");
    let (status, problem) = root.post_json("/admin/staff", invite).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("email_taken")));
    let (status, problem) =
        root.post_json("/admin/staff", serde_json::json!({"email": "x@example.com", "role": "owner"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("role")));
    let (status, staff) = root.get("/admin/staff").await;
    assert_eq!((status, staff["items"][0]["email"].as_str()), (200, Some("grace@example.com")));
    // A staff member is not a customer.
    let grace = invited["account"]["id"].as_str().unwrap();
    assert_eq!(support.get(&format!("/admin/customers/{grace}")).await.0, 404);

    // Orders live with order and payment, which are down here.
    let (status, problem) = orders.get(&format!("/admin/orders/{}", Uuid::now_v7())).await;
    assert_eq!((status, problem["code"].as_str()), (503, Some("upstream_unavailable")));

    // Every write above is in the audit log, with before and after.
    let auditor = as_role(addr, &root_id, StaffRole::Admin);
    testkit::wait::until("auth's audit entries reach the log", async || {
        let (_, log) = auditor.get(&format!("/admin/audit-log?target=account:{ada_id}")).await;
        log["items"].as_array().is_some_and(|items| !items.is_empty())
    })
    .await;
    let (_, log) = auditor.get(&format!("/admin/audit-log?target=account:{ada_id}")).await;
    let entry = &log["items"][0];
    assert_eq!((entry["action"].as_str(), entry["actor"].as_str()), (Some("account.disable"), Some(&*support_id)));
    assert_eq!((entry["producer"].as_str(), entry["before"]["disabled_at"].is_null()), (Some("auth"), true));
    assert_eq!(entry["after"]["disabled_reason"], "chargeback fraud");
    // The invitation's entry travels on the same stream, written later: wait for it too.
    let by_root = format!("/admin/audit-log?actor={root_id}");
    testkit::wait::until("the invitation's audit entry reaches the log", async || {
        let (_, log) = auditor.get(&by_root).await;
        log["items"].as_array().is_some_and(|items| !items.is_empty())
    })
    .await;
    let (_, log) = auditor.get(&by_root).await;
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["staff.invite"]);
}
