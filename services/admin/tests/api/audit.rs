//! The audit log: every owner's AUDIT_RECORDED gathered once, newest first, by target or actor,
//! for staff holding `audit:read`; append-only down to the database.

use std::time::Duration;

use auth_jwt::Role;
use events::Envelope;
use events::audit::{AUDIT_RECORDED, AuditRecorded};
use internal_token::Subject;
use serde_json::json;
use testkit::{ServiceCaller, TestDb};
use uuid::Uuid;

fn envelope(producer: &str, entry: &AuditRecorded) -> Envelope {
    Envelope {
        id: Uuid::now_v7(),
        event_type: AUDIT_RECORDED.into(),
        version: events::audit::VERSION,
        occurred_at: chrono::Utc::now(),
        producer: producer.into(),
        aggregate_id: entry.target.clone(),
        request_id: entry.request_id.clone(),
        payload: serde_json::to_value(entry).unwrap(),
    }
}

#[tokio::test]
async fn staff_writes_from_every_owner_are_logged_once_and_read_back_newest_first() {
    let db = TestDb::new().await;
    let service = testkit::service_config("admin", Some(&db));
    let prefix = service.redis.as_ref().unwrap().key_prefix.clone();
    let addr = admin::build_with(admin::AdminConfig::new(service), |c| c.block = Duration::from_millis(100))
        .await
        .unwrap()
        .spawn();
    let auditor = ServiceCaller::new("admin", addr).as_subject(Subject::user(
        Uuid::now_v7().to_string(),
        Role::Admin,
        vec!["admin:access".into(), "audit:read".into()],
    ));
    let editor = "editor-1";
    let entries = [
        ("cms", AuditRecorded::new(editor, "page.create", "page:about", None, Some(json!({"title": "About"})))),
        (
            "inventory",
            AuditRecorded::new(
                "clerk-2",
                "stock.set",
                "sku:MUG",
                Some(json!({"on_hand": 3})),
                Some(json!({"on_hand": 9})),
            ),
        ),
        (
            "cms",
            AuditRecorded::new(
                editor,
                "page.update",
                "page:about",
                Some(json!({"title": "About"})),
                Some(json!({"title": "About us"})),
            ),
        ),
    ];
    let envelopes: Vec<(String, Envelope)> = entries.iter().map(|(p, e)| (p.to_string(), envelope(p, e))).collect();
    // Each delivered twice, as a redelivery would.
    for _ in 0..2 {
        for (producer, envelope) in &envelopes {
            testkit::stream::publish_envelope(&prefix, producer, envelope).await;
        }
    }
    testkit::wait::until("three entries in the log", async || {
        let (_, page) = auditor.get("/admin/audit-log").await;
        page["items"].as_array().is_some_and(|items| items.len() == 3)
    })
    .await;
    let (status, page) = auditor.get("/admin/audit-log?target=page:about").await;
    assert_eq!(status, 200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (&items[0]["action"], &items[0]["before"]["title"], &items[0]["after"]["title"]),
        (&json!("page.update"), &json!("About"), &json!("About us"))
    );
    assert_eq!(
        (&items[1]["action"], &items[1]["before"], &items[1]["producer"]),
        (&json!("page.create"), &serde_json::Value::Null, &json!("cms"))
    );
    let (_, by_actor) = auditor.get("/admin/audit-log?actor=clerk-2").await;
    assert_eq!(by_actor["items"][0]["target"], "sku:MUG");

    // Paging: one at a time, newest first, then the older one, then none.
    let (_, first) = auditor.get("/admin/audit-log?target=page:about&limit=1").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = auditor.get(&format!("/admin/audit-log?target=page:about&limit=1&cursor={cursor}")).await;
    assert_eq!(
        (&second["items"][0]["action"], &second["next_cursor"]),
        (&json!("page.create"), &serde_json::Value::Null)
    );
    let (status, _) = auditor.get("/admin/audit-log?cursor=forged").await;
    assert_eq!(status, 422);

    // Only with audit:read; and the log cannot be rewritten, not even in the database.
    let support = ServiceCaller::new("admin", addr).as_subject(Subject::user(
        Uuid::now_v7().to_string(),
        Role::Admin,
        vec!["admin:access".into()],
    ));
    assert_eq!(support.get("/admin/audit-log").await.0, 403);
    let pool = db.pool_as("admin").await;
    assert!(sqlx::query("update audit_log set actor = 'someone else'").execute(&pool).await.is_err());
    assert!(sqlx::query("delete from audit_log").execute(&pool).await.is_err());
}
