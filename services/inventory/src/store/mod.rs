//! All of the inventory's SQL (schema `inventory`): stock rows and their movements (every change
//! of a row and its ledger entry are one statement), reservations, and the reads.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use contracts::types::{Quantity, ReservationStatus, Sku};

use crate::domain::Line;

/// A SKU's stock as staff see it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StockRow {
    pub sku: Sku,
    pub on_hand: i64,
    pub reserved: i64,
    pub low_threshold: i64,
    #[serde(skip)]
    pub seq: i64,
    pub updated_at: DateTime<Utc>,
}

impl StockRow {
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    /// What can be sold, as a quantity (never below zero: the row's CHECK keeps reserved within
    /// on hand).
    pub fn available_quantity(&self) -> Quantity {
        Quantity::new(self.available()).unwrap_or(Quantity::ZERO)
    }
}

/// Why a change happened, for the ledger.
pub struct Why<'a> {
    pub reason: &'a str,
    pub reference: Option<&'a str>,
    pub actor: &'a str,
}

/// Changes a stock row by the deltas and writes its movement, in one statement (so the ledger
/// sums to the totals by construction). `None` when the SKU has no row. A delta that would
/// break a CHECK (negative stock, reserved above on hand) is refused by the database.
pub async fn movement(
    tx: &mut PgConnection,
    sku: &str,
    on_hand_delta: i64,
    reserved_delta: i64,
    why: &Why<'_>,
) -> sqlx::Result<Option<StockRow>> {
    sqlx::query_as(
        "with changed as ( \
           update stock set on_hand = on_hand + $2, reserved = reserved + $3, seq = seq + 1, updated_at = now() \
           where sku = $1 returning sku, on_hand, reserved, low_threshold, seq, updated_at), \
         logged as ( \
           insert into movements (id, sku, on_hand_delta, reserved_delta, reason, reference, actor) \
           select $4, sku, $2, $3, $5, $6, $7 from changed) \
         select * from changed",
    )
    .bind(sku)
    .bind(on_hand_delta)
    .bind(reserved_delta)
    .bind(Uuid::now_v7())
    .bind(why.reason)
    .bind(why.reference)
    .bind(why.actor)
    .fetch_optional(tx)
    .await
}

/// Makes a SKU's row if it has none (zero stock), then locks it.
pub async fn lock_or_create(tx: &mut PgConnection, sku: &str) -> sqlx::Result<StockRow> {
    sqlx::query("insert into stock (sku) values ($1) on conflict (sku) do nothing").bind(sku).execute(&mut *tx).await?;
    sqlx::query_as("select sku, on_hand, reserved, low_threshold, seq, updated_at from stock where sku = $1 for update")
        .bind(sku)
        .fetch_one(tx)
        .await
}

/// Sets a SKU's low-stock threshold.
pub async fn set_threshold(tx: &mut PgConnection, sku: &str, threshold: i64) -> sqlx::Result<()> {
    sqlx::query("update stock set low_threshold = $2 where sku = $1").bind(sku).bind(threshold).execute(tx).await?;
    Ok(())
}

/// Locks the rows of `skus` in SKU order (every writer locks in this order: no deadlocks).
pub async fn lock_in_order(tx: &mut PgConnection, skus: &[Sku]) -> sqlx::Result<Vec<StockRow>> {
    sqlx::query_as(
        "select sku, on_hand, reserved, low_threshold, seq, updated_at from stock \
         where sku = any($1) order by sku for update",
    )
    .bind(skus)
    .fetch_all(tx)
    .await
}

/// The stock of some SKUs (those that have a row).
pub async fn stock_of(pool: &PgPool, skus: &[String]) -> sqlx::Result<Vec<StockRow>> {
    sqlx::query_as("select sku, on_hand, reserved, low_threshold, seq, updated_at from stock where sku = any($1)")
        .bind(skus)
        .fetch_all(pool)
        .await
}

/// One ledger entry.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Movement {
    pub id: Uuid,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub reason: String,
    pub reference: Option<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// A SKU's movements, newest first, before `before` (a movement id: ids are UUID v7, so they
/// order by time), plus one to tell whether more exist.
pub async fn movements(pool: &PgPool, sku: &str, before: Option<Uuid>, limit: i64) -> sqlx::Result<Vec<Movement>> {
    sqlx::query_as(
        "select id, on_hand_delta, reserved_delta, reason, reference, actor, created_at from movements \
         where sku = $1 and ($2::uuid is null or id < $2) order by id desc limit $3",
    )
    .bind(sku)
    .bind(before)
    .bind(limit + 1)
    .fetch_all(pool)
    .await
}

/// A reservation as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReservationRow {
    pub id: Uuid,
    pub status: ReservationStatus,
    pub lines: sqlx::types::Json<Vec<Line>>,
    pub expires_at: DateTime<Utc>,
}

/// Writes a held reservation unless one with this id exists (then waits for its writer's
/// transaction and inserts nothing); whether it was new.
pub async fn insert_reservation(tx: &mut PgConnection, id: Uuid, lines: &[Line], hold_secs: f64) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "insert into reservations (id, status, lines, expires_at) \
         values ($1, 'held', $2, now() + make_interval(secs => $3)) on conflict (id) do nothing",
    )
    .bind(id)
    .bind(sqlx::types::Json(lines))
    .bind(hold_secs)
    .execute(tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// A reservation, locked for a change.
pub async fn lock_reservation(tx: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ReservationRow>> {
    sqlx::query_as("select id, status, lines, expires_at from reservations where id = $1 for update")
        .bind(id)
        .fetch_optional(tx)
        .await
}

pub async fn set_status(
    tx: &mut PgConnection,
    id: Uuid,
    status: ReservationStatus,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("update reservations set status = $2, release_reason = $3, updated_at = now() where id = $1")
        .bind(id)
        .bind(status)
        .bind(reason)
        .execute(tx)
        .await?;
    Ok(())
}

/// Records that the order of a reservation was written (it is no orphan).
pub async fn mark_order_written(tx: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update reservations set order_written = true where id = $1").bind(id).execute(tx).await?;
    Ok(())
}

/// Held reservations whose order was never written and whose expiry is `grace_secs` past,
/// locked and skipping those another sweeper holds (so each is released once).
pub async fn lock_orphans(tx: &mut PgConnection, grace_secs: f64, limit: i64) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select id from reservations where status = 'held' and not order_written \
           and expires_at < now() - make_interval(secs => $1) \
         order by expires_at limit $2 for update skip locked",
    )
    .bind(grace_secs)
    .bind(limit)
    .fetch_all(tx)
    .await
}
