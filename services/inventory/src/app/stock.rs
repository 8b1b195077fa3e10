//! What changes stock, each in one transaction with its events: staff setting and adjusting
//! levels, reservations (all or nothing, idempotent by id, rows locked in SKU order), their
//! commit and release (from order events), and the sweep of orphaned reservations.

use contracts::types::{ReservationStatus, Sku};
use events::catalog::{InventoryCommitted, InventoryReleased, InventoryReserved, ReservedLine, StockChanged, StockLow};
use service_kit::{FieldCode, FieldError, Problem};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{Line, announce};
use crate::error::{ApiError, Result};
use crate::store::{self, ReservationRow, StockRow, Why};

/// Emits STOCK_CHANGED / STOCK_LOW when a row's change calls for it.
async fn announce_change(tx: &mut PgConnection, available_before: i64, row: &StockRow) -> sqlx::Result<()> {
    let said = announce(available_before, row.available(), row.low_threshold);
    if said.changed {
        let event = StockChanged {
            sku: row.sku.clone(),
            available: row.available() > 0,
            available_quantity: row.available_quantity(),
            seq: row.seq,
        };
        events::enqueue(tx, crate::SERVICE, &event).await?;
    }
    if said.low {
        let event = StockLow {
            sku: row.sku.clone(),
            available_quantity: row.available_quantity(),
            threshold: row.low_threshold,
        };
        events::enqueue(tx, crate::SERVICE, &event).await?;
    }
    Ok(())
}

/// Applies deltas to a locked SKU, writes the movement and announces; the row after.
async fn change(
    tx: &mut PgConnection,
    before: &StockRow,
    on_hand: i64,
    reserved: i64,
    why: &Why<'_>,
) -> Result<StockRow> {
    let after = store::movement(tx, before.sku.as_str(), on_hand, reserved, why).await?.ok_or(ApiError::UnknownSku)?;
    announce_change(tx, before.available(), &after).await?;
    Ok(after)
}

fn below_reserved(reserved: i64) -> ApiError {
    Problem::validation(vec![FieldError::new(
        "on_hand",
        FieldCode::OutOfRange,
        format!("{reserved} units are reserved; on hand cannot go below that"),
    )])
    .into()
}

/// Sets a SKU's on-hand quantity (creating the SKU), optionally its low-stock threshold.
pub async fn set_on_hand(
    pool: &PgPool,
    sku: &str,
    on_hand: i64,
    threshold: Option<i64>,
    why: &Why<'_>,
) -> Result<StockRow> {
    let mut tx = pool.begin().await?;
    let mut row = store::lock_or_create(&mut tx, sku).await?;
    let before = row.clone();
    if on_hand < row.reserved {
        return Err(below_reserved(row.reserved));
    }
    if let Some(threshold) = threshold {
        store::set_threshold(&mut tx, sku, threshold).await?;
        row.low_threshold = threshold;
    }
    if on_hand != row.on_hand {
        row = change(&mut tx, &row, on_hand - row.on_hand, 0, why).await?;
    }
    audit(&mut tx, why, "stock.set", &before, &row).await?;
    tx.commit().await?;
    Ok(row)
}

/// Records a staff change of a SKU's stock in the audit log, in its transaction.
async fn audit(
    tx: &mut sqlx::PgConnection,
    why: &Why<'_>,
    action: &str,
    before: &StockRow,
    after: &StockRow,
) -> Result<()> {
    let view = |row: &StockRow| serde_json::to_value(row).ok();
    let mut after_view = view(after);
    if let Some(object) = after_view.as_mut().and_then(|v| v.as_object_mut()) {
        object.insert("reason".into(), why.reason.into());
    }
    let entry =
        events::audit::AuditRecorded::new(why.actor, action, format!("sku:{}", after.sku), view(before), after_view);
    events::audit::record(tx, crate::SERVICE, &entry).await?;
    Ok(())
}

/// Adds `delta` (negative to remove) to a SKU's on-hand quantity.
pub async fn adjust(pool: &PgPool, sku: &str, delta: i64, why: &Why<'_>) -> Result<StockRow> {
    let mut tx = pool.begin().await?;
    let row = store::lock_or_create(&mut tx, sku).await?;
    if row.on_hand + delta < row.reserved {
        return Err(below_reserved(row.reserved));
    }
    let after = change(&mut tx, &row, delta, 0, why).await?;
    audit(&mut tx, why, "stock.adjust", &row, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// What a reservation request came to.
pub enum Reserve {
    /// Newly held.
    Created(ReservationRow),
    /// Held before under this id with the same lines, and still held now (a reservation that
    /// was let go is `ReservationReleased`, never a replay: its stock may be sold).
    Replayed(ReservationRow),
}

fn event_lines(lines: &[Line]) -> Vec<ReservedLine> {
    lines.to_vec()
}

/// Holds every line or none. `lines` are normalized (merged, sorted by SKU). The reservation
/// row is written first: a concurrent request with the same id waits for it and then finds it.
pub async fn reserve(pool: &PgPool, id: Uuid, lines: &[Line], hold_secs: f64, actor: &str) -> Result<Reserve> {
    let mut tx = pool.begin().await?;
    if !store::insert_reservation(&mut tx, id, lines, hold_secs).await? {
        let existing = store::lock_reservation(&mut tx, id).await?.ok_or(ApiError::ReservationConflict)?;
        return match (existing.lines.0 == lines, existing.status) {
            (false, _) => Err(ApiError::ReservationConflict),
            (true, ReservationStatus::Held) => Ok(Reserve::Replayed(existing)),
            (true, _) => Err(ApiError::ReservationReleased),
        };
    }
    let skus: Vec<Sku> = lines.iter().map(|l| l.sku.clone()).collect();
    let rows = store::lock_in_order(&mut tx, &skus).await?;
    let short: Vec<Sku> = lines
        .iter()
        .filter(|line| !rows.iter().any(|row| row.sku == line.sku && row.available() >= line.quantity.get()))
        .map(|line| line.sku.clone())
        .collect();
    if !short.is_empty() {
        // Rolled back: nothing is held, not even the reservation row.
        return Err(ApiError::OutOfStock(short));
    }
    let reference = id.to_string();
    let why = Why { reason: "reserve", reference: Some(&reference), actor };
    for line in lines {
        let row = rows.iter().find(|row| row.sku == line.sku).expect("every line's row was checked");
        change(&mut tx, row, 0, line.quantity.get(), &why).await?;
    }
    let reservation = store::lock_reservation(&mut tx, id).await?.expect("written above");
    let event =
        InventoryReserved { reservation_id: id.into(), lines: event_lines(lines), expires_at: reservation.expires_at };
    events::enqueue(&mut tx, crate::SERVICE, &event).await?;
    tx.commit().await?;
    Ok(Reserve::Created(reservation))
}

/// Turns a held reservation into a sale (on hand and reserved both go down). Committing a
/// committed one changes nothing. A released one (its order was paid after the hold was let
/// go) is sold from what is on sale now if that covers every line, all or nothing; else
/// `StockLost` names the short SKUs and nothing changes.
pub async fn commit(tx: &mut PgConnection, id: Uuid, actor: &str) -> Result<ReservationRow> {
    let reservation = store::lock_reservation(tx, id).await?.ok_or(ApiError::ReservationNotFound)?;
    let held = match reservation.status {
        ReservationStatus::Committed => return Ok(reservation),
        ReservationStatus::Released => false,
        ReservationStatus::Held => true,
    };
    let skus: Vec<Sku> = reservation.lines.iter().map(|l| l.sku.clone()).collect();
    let rows = store::lock_in_order(tx, &skus).await?;
    if !held {
        let short: Vec<Sku> = reservation
            .lines
            .iter()
            .filter(|line| !rows.iter().any(|row| row.sku == line.sku && row.available() >= line.quantity.get()))
            .map(|line| line.sku.clone())
            .collect();
        if !short.is_empty() {
            return Err(ApiError::StockLost(short));
        }
    }
    let reference = id.to_string();
    let why = Why { reason: if held { "commit" } else { "commit after release" }, reference: Some(&reference), actor };
    // A held line leaves both on hand and reserved; a released one only on hand.
    let unreserve = |quantity: i64| if held { -quantity } else { 0 };
    for line in reservation.lines.iter() {
        let row = rows.iter().find(|row| row.sku == line.sku).ok_or(ApiError::UnknownSku)?;
        change(tx, row, -line.quantity.get(), unreserve(line.quantity.get()), &why).await?;
    }
    store::set_status(tx, id, ReservationStatus::Committed, None).await?;
    events::enqueue(
        tx,
        crate::SERVICE,
        &InventoryCommitted { reservation_id: id.into(), lines: event_lines(&reservation.lines) },
    )
    .await?;
    Ok(ReservationRow { status: ReservationStatus::Committed, ..reservation })
}

/// Lets a held reservation go. Releasing a released one changes nothing; a committed one is a
/// sale and stays one (`ReservationConflict`).
pub async fn release(tx: &mut PgConnection, id: Uuid, reason: &str, actor: &str) -> Result<ReservationRow> {
    let reservation = store::lock_reservation(tx, id).await?.ok_or(ApiError::ReservationNotFound)?;
    match reservation.status {
        ReservationStatus::Released => Ok(reservation),
        ReservationStatus::Committed => Err(ApiError::ReservationConflict),
        // What was held is held no more.
        ReservationStatus::Held => let_go(tx, reservation, "release", reason, actor, |q| (0, -q)).await,
    }
}

/// Puts a sold reservation's lines back on hand: its paid order was cancelled before it
/// shipped. Each line is a movement (`restock`, referencing the order, in the ledger) and the
/// reservation ends released, with `reason`. Restocking a released one changes nothing (a
/// replay, or an order whose stock was lost); a held one is released as usual.
pub async fn restock(tx: &mut PgConnection, id: Uuid, reason: &str, actor: &str) -> Result<ReservationRow> {
    let reservation = store::lock_reservation(tx, id).await?.ok_or(ApiError::ReservationNotFound)?;
    match reservation.status {
        ReservationStatus::Released => Ok(reservation),
        ReservationStatus::Held => let_go(tx, reservation, "release", reason, actor, |q| (0, -q)).await,
        // What was sold is on hand again.
        ReservationStatus::Committed => let_go(tx, reservation, "restock", reason, actor, |q| (q, 0)).await,
    }
}

/// Ends a (locked) reservation released: each line's stock changed by `deltas(quantity)` (on
/// hand, reserved) as a `movement` of the ledger, the status with `reason`, and
/// INVENTORY_RELEASED.
async fn let_go(
    tx: &mut PgConnection,
    reservation: ReservationRow,
    movement: &str,
    reason: &str,
    actor: &str,
    deltas: impl Fn(i64) -> (i64, i64),
) -> Result<ReservationRow> {
    let id = reservation.id;
    let skus: Vec<Sku> = reservation.lines.iter().map(|l| l.sku.clone()).collect();
    let rows = store::lock_in_order(tx, &skus).await?;
    let reference = id.to_string();
    let why = Why { reason: movement, reference: Some(&reference), actor };
    for line in reservation.lines.iter() {
        let row = rows.iter().find(|row| row.sku == line.sku).ok_or(ApiError::UnknownSku)?;
        let (on_hand, reserved) = deltas(line.quantity.get());
        change(tx, row, on_hand, reserved, &why).await?;
    }
    store::set_status(tx, id, ReservationStatus::Released, Some(reason)).await?;
    let event = InventoryReleased {
        reservation_id: id.into(),
        lines: event_lines(&reservation.lines),
        reason: reason.to_owned(),
    };
    events::enqueue(tx, crate::SERVICE, &event).await?;
    Ok(ReservationRow { status: ReservationStatus::Released, ..reservation })
}

/// Commits a reservation in a transaction of its own (the order service's direct call).
#[tracing::instrument(skip_all, fields(reservation_id = %id))]
pub(crate) async fn commit_now(pool: &PgPool, id: Uuid, actor: &str) -> Result<ReservationRow> {
    let mut tx = pool.begin().await?;
    let row = commit(&mut tx, id, actor).await?;
    tx.commit().await?;
    Ok(row)
}

/// Releases a reservation in a transaction of its own (the order service's direct call).
#[tracing::instrument(skip_all, fields(reservation_id = %id))]
pub(crate) async fn release_now(pool: &PgPool, id: Uuid, reason: &str, actor: &str) -> Result<ReservationRow> {
    let mut tx = pool.begin().await?;
    let row = release(&mut tx, id, reason, actor).await?;
    tx.commit().await?;
    Ok(row)
}

/// Releases held reservations whose order was never written, `grace_secs` after their expiry.
/// Safe with several sweepers: each takes the rows it locks and skips the others'. Returns how
/// many it released.
pub async fn sweep_orphans(pool: &PgPool, grace_secs: f64) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let orphans = store::lock_orphans(&mut tx, grace_secs, 100).await?;
    for id in &orphans {
        release(&mut tx, *id, "orphaned: no order was written", "inventory-sweeper").await?;
    }
    tx.commit().await?;
    Ok(orphans.len())
}
