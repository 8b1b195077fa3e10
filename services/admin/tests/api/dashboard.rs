//! The dashboard: analytics' figures read with the staff member's own identity, as JSON and as
//! a page with charts; a role without `analytics:read` is refused by analytics itself.

use std::time::Duration;

use auth_jwt::Role;
use events::Event;
use events::catalog::{OrderLine, OrderPaid};
use internal_token::Subject;
use testkit::{ServiceCaller, TestDb};
use uuid::Uuid;

fn staff(perms: &[&str]) -> Subject {
    Subject::user(Uuid::now_v7().to_string(), Role::Admin, perms.iter().map(|p| p.to_string()).collect())
}

#[tokio::test]
async fn the_dashboard_shows_a_paid_order_to_staff_who_may_read_analytics_and_to_no_one_else() {
    let db = TestDb::new().await;
    let analytics_config = testkit::service_config("analytics", Some(&db));
    let prefix = analytics_config.redis.as_ref().unwrap().key_prefix.clone();
    let analytics_addr = analytics::build_with(analytics::AnalyticsConfig::new(analytics_config), |c| {
        c.block = Duration::from_millis(100)
    })
    .await
    .unwrap()
    .spawn();
    let mut admin_service = testkit::service_config("admin", Some(&db));
    testkit::point_at(&mut admin_service, "analytics", analytics_addr);
    let admin_addr = admin::build(admin::AdminConfig::new(admin_service)).await.unwrap().spawn();
    let manager = ServiceCaller::new("admin", admin_addr).as_subject(staff(&["admin:access", "analytics:read"]));

    let paid = OrderPaid {
        order_id: Uuid::now_v7().into(),
        number: "SF-7".into(),
        user_id: Uuid::now_v7().into(),
        email: "shopper@example.com".into(),
        lines: vec![OrderLine {
            sku: "MUG".parse().unwrap(),
            quantity: 2u32.into(),
            unit_price_minor: 1250.into(),
            title: "Mug".into(),
        }],
        total_minor: 2500.into(),
        currency: "EUR".parse().unwrap(),
        ..Default::default()
    };
    testkit::stream::publish(&prefix, "order", &paid).await;
    assert_eq!(OrderPaid::DOMAIN, "order");
    testkit::wait::until("the paid order reaches the dashboard", async || {
        let (status, summary) = manager.get("/admin/dashboard/summary").await;
        status == 200 && summary["orders"] == 1
    })
    .await;
    let (_, summary) = manager.get("/admin/dashboard/summary").await;
    assert_eq!((&summary["revenue_minor"], &summary["average_order_minor"]), (&2500.into(), &2500.into()));
    assert_eq!(summary["daily"].as_array().unwrap().len(), 30, "{summary}");

    let page = manager.request(reqwest::Method::GET, "/admin/dashboard").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers()["cache-control"], "private, no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg") && html.contains("25.00 EUR"), "{html}");

    // A support agent without analytics:read: analytics refuses them, so the dashboard does.
    let support = ServiceCaller::new("admin", admin_addr).as_subject(staff(&["admin:access", "customers:read"]));
    let (status, problem) = support.get("/admin/dashboard/summary").await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("forbidden")), "{problem}");
    let shopper = ServiceCaller::new("admin", admin_addr).as_subject(Subject::user(
        Uuid::now_v7().to_string(),
        Role::Customer,
        vec![],
    ));
    assert_eq!(shopper.get("/admin/dashboard").await.0, 403);
    let (status, problem) = manager.get("/admin/dashboard/summary?from=2026-02-30").await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("from")));
}
