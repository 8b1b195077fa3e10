//! The rollups from domain events: each counted once however often it is delivered.

use chrono::Utc;
use events::catalog::{OrderLine, OrderPaid, OrderRefunded, PaymentFailed, StockChanged, StockLow, UserRegistered};
use events::{Envelope, Event};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::TestApp;

fn paid(total: i64, lines: Vec<OrderLine>) -> OrderPaid {
    OrderPaid {
        order_id: Uuid::now_v7().into(),
        number: "SF-1".into(),
        user_id: Uuid::now_v7().into(),
        email: "shopper@example.com".into(),
        lines,
        total_minor: total.into(),
        currency: "EUR".parse().unwrap(),
        ..Default::default()
    }
}

fn line(sku: &str, quantity: u32, unit: i64) -> OrderLine {
    OrderLine {
        sku: sku.parse().unwrap(),
        quantity: quantity.into(),
        unit_price_minor: unit.into(),
        title: format!("Product {sku}"),
    }
}

#[tokio::test]
async fn replaying_the_same_domain_events_leaves_every_rollup_unchanged() {
    let app = TestApp::spawn().await;
    let today = Utc::now().date_naive();
    let first = paid(3000, vec![line("MUG", 2, 1000), line("CAP", 1, 1000)]);
    let order_id = first.order_id;
    let envelopes: Vec<(Envelope, &str)> = vec![
        (Envelope::new("order", &first), OrderPaid::DOMAIN),
        (Envelope::new("order", &paid(1500, vec![line("MUG", 1, 1500)])), OrderPaid::DOMAIN),
        (
            Envelope::new(
                "order",
                &OrderRefunded {
                    order_id,
                    number: "SF-1".into(),
                    user_id: Uuid::now_v7().into(),
                    email: "shopper@example.com".into(),
                    refund_id: Uuid::now_v7().into(),
                    amount_minor: 1000.into(),
                    refunded_minor: 1000.into(),
                    currency: "EUR".parse().unwrap(),
                    status: "partially_refunded".parse().unwrap(),
                    reason: "damaged".into(),
                },
            ),
            OrderPaid::DOMAIN,
        ),
        (
            Envelope::new(
                "payment",
                &PaymentFailed { payment_id: Uuid::now_v7().into(), order_id, reason: "declined".into() },
            ),
            PaymentFailed::DOMAIN,
        ),
        (
            Envelope::new("auth", &UserRegistered { user_id: Uuid::now_v7().into(), email: "new@example.com".into() }),
            UserRegistered::DOMAIN,
        ),
        (
            Envelope::new(
                "inventory",
                &StockLow { sku: "MUG".parse().unwrap(), available_quantity: 2u32.into(), threshold: 5 },
            ),
            StockLow::DOMAIN,
        ),
        (
            Envelope::new(
                "inventory",
                &StockChanged { sku: "MUG".parse().unwrap(), available: true, available_quantity: 1u32.into(), seq: 9 },
            ),
            StockLow::DOMAIN,
        ),
    ];
    for (envelope, domain) in &envelopes {
        app.deliver(envelope, domain).await;
    }
    let domains = [OrderPaid::DOMAIN, PaymentFailed::DOMAIN, UserRegistered::DOMAIN, StockLow::DOMAIN];
    app.wait_consumed(&domains).await;
    let window = format!("from={today}&to={today}");
    let reports = async || {
        (
            app.report(&format!("/analytics/revenue?{window}")).await,
            app.report(&format!("/analytics/top-products?{window}")).await,
            app.report(&format!("/analytics/customers?{window}")).await,
            app.report("/analytics/low-stock").await,
            app.report(&format!("/analytics/refunds?{window}")).await,
        )
    };
    let before = reports().await;
    let revenue = &before.0[0];
    assert_eq!(revenue["orders"], 2);
    assert_eq!(revenue["revenue_minor"], 4500);
    assert_eq!(revenue["average_order_minor"], 2250);
    assert_eq!(revenue["refunded_minor"], 1000);
    assert_eq!(revenue["net_revenue_minor"], 3500);
    assert_eq!(revenue["failed_payments"], 1);
    assert_eq!(before.1[0], json!({"sku": "MUG", "title": "Product MUG", "units": 3, "revenue_minor": 3500}));
    assert_eq!(before.1[1]["sku"], "CAP");
    assert_eq!(before.2[0]["new_customers"], 1);
    assert_eq!(before.3[0]["sku"], "MUG");
    assert_eq!((&before.3[0]["available_quantity"], &before.3[0]["threshold"]), (&json!(1), &json!(5)));
    assert_eq!(before.4[0]["refunds"], 1);

    // Every event delivered again: nothing moves.
    for (envelope, domain) in &envelopes {
        app.deliver(envelope, domain).await;
    }
    app.wait_consumed(&domains).await;
    let after = reports().await;
    assert_eq!(format!("{after:?}"), format!("{before:?}"));

    // The event log keeps neither emails nor addresses.
    let logged: Vec<serde_json::Value> =
        sqlx::query_scalar("select payload from domain_events").fetch_all(&app.pool).await.unwrap();
    assert_eq!(logged.len(), envelopes.len());
    assert!(logged.iter().all(|p| p.get("email").is_none()), "{logged:?}");
}

/// A deleted account (review f5592e3 L7): the domain event log keeps what happened, not to
/// whom; other shoppers' events keep theirs.
#[tokio::test]
async fn a_deleted_accounts_id_leaves_the_domain_event_log() {
    let app = TestApp::spawn().await;
    let (gone, other) = (paid(1000, vec![line("MUG", 1, 1000)]), paid(2000, vec![line("CAP", 1, 2000)]));
    for order in [&gone, &other] {
        app.deliver(&Envelope::new("order", order), OrderPaid::DOMAIN).await;
    }
    let logged = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from domain_events where payload ? 'user_id'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    testkit::wait::until("both orders are logged", || async { logged().await == 2 }).await;
    let deleted = events::catalog::UserDeleted { user_id: gone.user_id, email: gone.email.clone() };
    app.deliver(&Envelope::new("auth", &deleted), events::catalog::UserDeleted::DOMAIN).await;
    testkit::wait::until("the deleted account's id is gone", || async { logged().await == 1 }).await;
    let kept: String = sqlx::query_scalar("select payload->>'user_id' from domain_events where payload ? 'user_id'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(kept, other.user_id.to_string());
}
