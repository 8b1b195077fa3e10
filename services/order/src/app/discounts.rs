//! Discount codes as use cases: staff create and change them (audited in the same
//! transaction), a checkout counts a code's use once per order with the code's row locked (so
//! its limits hold under concurrency), and uses are given back when a checkout failed before
//! its order was written or died on the way (the orphan sweep).

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{Discount, DiscountRefusal, check_discount};
use crate::store::discounts::{self, DiscountView, Settings};

/// Records a staff change of a code in the audit log, in its transaction.
async fn audit(
    tx: &mut PgConnection,
    actor: &str,
    action: &str,
    code: &str,
    before: Option<&DiscountView>,
    after: Option<&DiscountView>,
) -> sqlx::Result<()> {
    let view = |d: Option<&DiscountView>| d.and_then(|d| serde_json::to_value(d).ok());
    let entry = events::audit::AuditRecorded::new(actor, action, format!("discount:{code}"), view(before), view(after));
    events::audit::record(tx, crate::SERVICE, &entry).await.map(|_| ())
}

/// Creates a code as `actor` (audited); `None` when the code is taken.
#[tracing::instrument(skip_all, fields(code = %code))]
pub(crate) async fn create(pool: &PgPool, actor: &str, code: &str, s: &Settings) -> sqlx::Result<Option<DiscountView>> {
    let mut tx = pool.begin().await?;
    let created = discounts::insert(&mut tx, code, s).await?;
    if let Some(created) = &created {
        audit(&mut tx, actor, "discount.create", code, None, Some(created)).await?;
    }
    tx.commit().await?;
    Ok(created)
}

/// Changes what `s` names as `actor` (audited, with the code before and after; `action` says
/// what the change was); `None` for an unknown code.
#[tracing::instrument(skip_all, fields(code = %code, action = %action))]
pub(crate) async fn update(
    pool: &PgPool,
    actor: &str,
    action: &str,
    code: &str,
    s: &Settings,
) -> sqlx::Result<Option<DiscountView>> {
    let mut tx = pool.begin().await?;
    let Some(before) = discounts::lock(&mut tx, code).await? else { return Ok(None) };
    let after = discounts::update(&mut tx, code, s).await?;
    if let Some(after) = &after {
        audit(&mut tx, actor, action, code, Some(&before), Some(after)).await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// Counts a use of `code` for an order, once (a retried checkout of the same order finds its
/// use): the code's row locked, so limits hold under concurrency. The discount it gives.
#[tracing::instrument(skip_all, fields(order_id = %order_id))]
pub(crate) async fn claim(
    pool: &PgPool,
    code: &str,
    user_id: Uuid,
    order_id: Uuid,
    subtotal_minor: i64,
) -> sqlx::Result<Result<Discount, DiscountRefusal>> {
    let mut tx = pool.begin().await?;
    let Some((code_id, mut rule)) = discounts::lock_rule(&mut tx, code).await? else {
        return Ok(Err(DiscountRefusal::Unknown));
    };
    if discounts::use_of(&mut tx, order_id, code_id).await? == Some(true) {
        // Counted already for this order: its own use does not count against it.
        rule.uses -= 1;
        rule.active = true;
        return Ok(check_discount(&rule, Utc::now(), subtotal_minor, None));
    }
    let used = discounts::customer_uses(&mut tx, code_id, user_id, Some(order_id)).await?;
    let discount = match check_discount(&rule, Utc::now(), subtotal_minor, Some(used)) {
        Ok(discount) => discount,
        Err(refusal) => return Ok(Err(refusal)),
    };
    discounts::record_use(&mut tx, order_id, code_id, user_id).await?;
    tx.commit().await?;
    Ok(Ok(discount))
}

/// Gives back the use of a checkout that failed, unless its order was written after all.
#[tracing::instrument(skip_all, fields(order_id = %order_id))]
pub(crate) async fn release_unwritten(pool: &PgPool, order_id: Uuid) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    if !discounts::order_written(&mut tx, order_id).await? {
        discounts::release(&mut tx, order_id).await?;
    }
    tx.commit().await
}

/// Gives back uses whose order was never written (the checkout died) after `grace`; how many.
#[tracing::instrument(skip_all)]
pub(crate) async fn release_orphans(pool: &PgPool, grace: std::time::Duration) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let orphans = discounts::lock_orphans(&mut tx, grace).await?;
    for order_id in &orphans {
        discounts::release(&mut tx, *order_id).await?;
    }
    tx.commit().await?;
    Ok(orphans.len())
}
