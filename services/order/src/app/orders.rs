//! An order's moves after it is placed, as use cases: the shopper cancels an unpaid one, staff
//! cancel one that has not shipped, ship a paid one and record its delivery, and the expiry job expires what is overdue. Each
//! is one transaction: the transition (recorded with who and why), its event, and for staff
//! the audit entry.

use events::catalog::{OrderCancelled, OrderDelivered, OrderExpired};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::Event;
use crate::error::{ApiError, Result};
use crate::store::{self, OrderFacts};

/// The order a transition moved, or why it did not move.
pub(super) fn moved(
    outcome: Option<Result<(crate::domain::Status, OrderFacts), crate::domain::IllegalTransition>>,
) -> Result<OrderFacts> {
    let (_, facts) =
        outcome.ok_or(ApiError::OrderNotFound)?.map_err(|illegal| ApiError::InvalidTransition(illegal.to_string()))?;
    Ok(facts)
}

/// Records a staff change of an order's state in the audit log, in its transaction.
pub(super) async fn audit(
    tx: &mut PgConnection,
    actor: &str,
    action: &str,
    id: Uuid,
    before: Option<String>,
    after: serde_json::Value,
) -> Result<()> {
    let before = before.map(|status| serde_json::json!({ "status": status }));
    let entry = events::audit::AuditRecorded::new(actor, action, format!("order:{id}"), before, Some(after));
    events::audit::record(tx, crate::SERVICE, &entry).await?;
    Ok(())
}

/// The shopper cancels their unpaid order (its stock is released on ORDER_CANCELLED).
#[tracing::instrument(skip_all, fields(order_id = %id, user_id = %user_id))]
pub(crate) async fn cancel(pool: &PgPool, user_id: Uuid, id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    let reason = "cancelled by the shopper";
    let outcome = store::transition(&mut tx, id, Some(user_id), Event::Cancel, &user_id.to_string(), reason).await?;
    let facts = moved(outcome)?;
    let event = OrderCancelled {
        order_id: facts.id.into(),
        number: facts.number,
        user_id: facts.user_id.into(),
        email: facts.contact_email,
        reason: reason.into(),
        was_paid: false,
        by: events::catalog::CancelledBy::Shopper,
    };
    events::enqueue(&mut tx, crate::SERVICE, &event).await?;
    tx.commit().await?;
    Ok(())
}

/// Staff cancel an order that has not shipped, for `reason` (checked by the route). A paid one
/// is refunded in full by the payment service and its committed stock goes back by inventory,
/// both on ORDER_CANCELLED (`was_paid`); an unpaid one's reservation is released. Its discount
/// use is given back (the transition does that), the shopper is told, and it is audited.
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub(crate) async fn staff_cancel(pool: &PgPool, actor: &str, id: Uuid, reason: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    let before = store::lock_status(&mut tx, id).await?;
    let was_paid = before.as_deref().and_then(crate::domain::Status::parse).is_some_and(|status| status.was_paid());
    let facts = moved(store::transition(&mut tx, id, None, Event::StaffCancel, actor, reason).await?)?;
    let event = OrderCancelled {
        order_id: facts.id.into(),
        number: facts.number,
        user_id: facts.user_id.into(),
        email: facts.contact_email,
        reason: reason.to_owned(),
        was_paid,
        by: events::catalog::CancelledBy::Staff,
    };
    events::enqueue(&mut tx, crate::SERVICE, &event).await?;
    let after = serde_json::json!({"status": "cancelled", "reason": reason, "refunded_in_full": was_paid});
    audit(&mut tx, actor, "order.cancel", id, before, after).await?;
    tx.commit().await?;
    Ok(())
}

/// Staff hand everything not shipped yet of a paid (or fulfilling) order to a carrier: its last
/// fulfillment (trimmed, checked by the route).
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub(crate) async fn ship(pool: &PgPool, actor: &str, id: Uuid, carrier: &str, tracking_number: &str) -> Result<()> {
    let shipment = super::fulfillments::Shipment { lines: None, carrier, tracking_number, tracking_url: None };
    super::fulfillments::fulfil(pool, actor, id, shipment).await.map(|_| ())
}

/// Staff record that a shipped order arrived, every fulfillment of it (ORDER_DELIVERED: its
/// buyer's reviews become verified purchases).
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub(crate) async fn deliver(pool: &PgPool, actor: &str, id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    let before = store::lock_status(&mut tx, id).await?;
    crate::store::fulfillments::deliver_all(&mut tx, id).await?;
    delivered(&mut tx, actor, id, before).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves a shipped order (locked, `before` its status) to delivered with ORDER_DELIVERED and the
/// audit entry, in `tx`.
pub(super) async fn delivered(tx: &mut PgConnection, actor: &str, id: Uuid, before: Option<String>) -> Result<()> {
    let facts = moved(store::transition(tx, id, None, Event::Deliver, actor, "delivered").await?)?;
    let paid = store::paid_event(tx, facts).await?;
    let event = OrderDelivered {
        order_id: paid.order_id,
        number: paid.number,
        user_id: paid.user_id,
        email: paid.email,
        lines: paid.lines,
    };
    events::enqueue(tx, crate::SERVICE, &event).await?;
    audit(tx, actor, "order.deliver", id, before, serde_json::json!({"status": "delivered"})).await
}

/// Expires what is overdue (up to a hundred orders a pass, replicas sharing the work); how many
/// orders it expired.
#[tracing::instrument(skip_all)]
pub async fn expire_overdue(pool: &PgPool) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let overdue = store::lock_overdue(&mut tx, 100).await?;
    let mut expired = 0;
    for id in overdue {
        if let Some(Ok((_, facts))) =
            store::transition(&mut tx, id, None, Event::Expire, "system", "payment deadline passed").await?
        {
            let event = OrderExpired {
                order_id: facts.id.into(),
                number: facts.number,
                user_id: facts.user_id.into(),
                email: facts.contact_email,
            };
            events::enqueue(&mut tx, crate::SERVICE, &event).await?;
            expired += 1;
        }
    }
    tx.commit().await?;
    Ok(expired)
}
