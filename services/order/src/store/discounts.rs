//! The statements of discount codes and their uses (schema `orders`): staff CRUD, the rules a
//! quote or a checkout checks, and uses counted once per order (the order id is the use's key),
//! given back when the order ends unpaid or was never written. `app::discounts` puts them
//! together in transactions.

use chrono::{DateTime, Utc};
use contracts::types::Amount;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{Discount, DiscountRefusal, DiscountRule, check_discount};

/// A discount code as staff see it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct DiscountView {
    /// Upper case; shoppers may type it in any case.
    pub code: String,
    /// `percent` or `fixed`.
    pub kind: String,
    /// `percent`: basis points (1000 = 10 %); `fixed`: minor units off the subtotal.
    pub value: i64,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub max_uses: Option<i32>,
    pub max_uses_per_customer: Option<i32>,
    pub min_subtotal_minor: Amount,
    pub active: bool,
    /// Orders using it now (expired and cancelled ones gave theirs back).
    pub uses: i32,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "code, kind, value, starts_at, ends_at, max_uses, max_uses_per_customer, min_subtotal_minor, \
     active, uses, created_at";

/// A code's settings (create and change).
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub kind: Option<String>,
    pub value: Option<i64>,
    pub starts_at: Option<Option<DateTime<Utc>>>,
    pub ends_at: Option<Option<DateTime<Utc>>>,
    pub max_uses: Option<Option<i32>>,
    pub max_uses_per_customer: Option<Option<i32>>,
    pub min_subtotal_minor: Option<i64>,
    pub active: Option<bool>,
}

/// Inserts a code; `None` when the code is taken.
pub(crate) async fn insert(tx: &mut PgConnection, code: &str, s: &Settings) -> sqlx::Result<Option<DiscountView>> {
    let sql = format!(
        "insert into discount_codes (id, code, kind, value, starts_at, ends_at, max_uses, max_uses_per_customer, \
           min_subtotal_minor, active) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         on conflict (code) do nothing returning {COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::now_v7())
        .bind(code)
        .bind(s.kind.as_deref())
        .bind(s.value)
        .bind(s.starts_at.flatten())
        .bind(s.ends_at.flatten())
        .bind(s.max_uses.flatten())
        .bind(s.max_uses_per_customer.flatten())
        .bind(s.min_subtotal_minor.unwrap_or(0))
        .bind(s.active.unwrap_or(true))
        .fetch_optional(&mut *tx)
        .await
}

/// Locks a code for a change; it as staff see it.
pub(crate) async fn lock(tx: &mut PgConnection, code: &str) -> sqlx::Result<Option<DiscountView>> {
    let sql = format!("select {COLUMNS} from discount_codes where code = $1 for update");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(&mut *tx).await
}

/// Writes what `s` names; the code as it is now (`None` for an unknown code).
pub(crate) async fn update(tx: &mut PgConnection, code: &str, s: &Settings) -> sqlx::Result<Option<DiscountView>> {
    let sql = format!(
        "update discount_codes set \
           kind = coalesce($2, kind), value = coalesce($3, value), \
           starts_at = case when $4 then $5 else starts_at end, ends_at = case when $6 then $7 else ends_at end, \
           max_uses = case when $8 then $9 else max_uses end, \
           max_uses_per_customer = case when $10 then $11 else max_uses_per_customer end, \
           min_subtotal_minor = coalesce($12, min_subtotal_minor), active = coalesce($13, active), updated_at = now() \
         where code = $1 returning {COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(code)
        .bind(s.kind.as_deref())
        .bind(s.value)
        .bind(s.starts_at.is_some())
        .bind(s.starts_at.flatten())
        .bind(s.ends_at.is_some())
        .bind(s.ends_at.flatten())
        .bind(s.max_uses.is_some())
        .bind(s.max_uses.flatten())
        .bind(s.max_uses_per_customer.is_some())
        .bind(s.max_uses_per_customer.flatten())
        .bind(s.min_subtotal_minor)
        .bind(s.active)
        .fetch_optional(&mut *tx)
        .await
}

/// A code by its (upper-case) text.
pub(crate) async fn find(pool: &PgPool, code: &str) -> sqlx::Result<Option<DiscountView>> {
    let sql = format!("select {COLUMNS} from discount_codes where code = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(pool).await
}

/// A page of codes, newest first, plus one to tell whether there are more.
pub(crate) async fn list(
    pool: &PgPool,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<(Uuid, DiscountView)>> {
    let sql = format!(
        "select id, {COLUMNS} from discount_codes where ($1::timestamptz is null or (created_at, id) < ($1, $2)) \
         order by created_at desc, id desc limit $3"
    );
    let rows: Vec<IdAndView> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit + 1)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.view)).collect())
}

#[derive(sqlx::FromRow)]
struct IdAndView {
    id: Uuid,
    #[sqlx(flatten)]
    view: DiscountView,
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: Uuid,
    kind: String,
    value: i64,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    max_uses: Option<i32>,
    max_uses_per_customer: Option<i32>,
    min_subtotal_minor: i64,
    active: bool,
    uses: i32,
}

impl RuleRow {
    fn rule(&self) -> DiscountRule {
        DiscountRule {
            discount: if self.kind == "percent" { Discount::Percent(self.value) } else { Discount::Fixed(self.value) },
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            max_uses: self.max_uses.map(i64::from),
            max_uses_per_customer: self.max_uses_per_customer.map(i64::from),
            min_subtotal_minor: self.min_subtotal_minor,
            active: self.active,
            uses: i64::from(self.uses),
        }
    }
}

const RULE: &str =
    "id, kind, value, starts_at, ends_at, max_uses, max_uses_per_customer, min_subtotal_minor, active, uses";

/// Uses of a code by a customer still counted, other than `order_id`'s.
pub(crate) async fn customer_uses(
    tx: &mut PgConnection,
    code_id: Uuid,
    user_id: Uuid,
    order_id: Option<Uuid>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from discount_uses where code_id = $1 and user_id = $2 and released_at is null \
           and ($3::uuid is null or order_id <> $3)",
    )
    .bind(code_id)
    .bind(user_id)
    .bind(order_id)
    .fetch_one(tx)
    .await
}

/// Whether `code` applies for `user_id` (a guest: `None`) to a subtotal now: the discount.
pub(crate) async fn quote(
    pool: &PgPool,
    code: &str,
    user_id: Option<Uuid>,
    subtotal_minor: i64,
) -> sqlx::Result<Result<Discount, DiscountRefusal>> {
    let mut connection = pool.acquire().await?;
    let sql = format!("select {RULE} from discount_codes where code = $1");
    let row: Option<RuleRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(&mut *connection).await?;
    let Some(row) = row else { return Ok(Err(DiscountRefusal::Unknown)) };
    let used = match user_id {
        Some(user) => Some(customer_uses(&mut connection, row.id, user, None).await?),
        None => None,
    };
    Ok(check_discount(&row.rule(), Utc::now(), subtotal_minor, used))
}

/// A code's id and rule, locked so that limits hold under concurrency.
pub(crate) async fn lock_rule(tx: &mut PgConnection, code: &str) -> sqlx::Result<Option<(Uuid, DiscountRule)>> {
    let sql = format!("select {RULE} from discount_codes where code = $1 for update");
    let row: Option<RuleRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(&mut *tx).await?;
    Ok(row.map(|row| (row.id, row.rule())))
}

/// Whether an order's use of a code is counted (`Some(true)`), was given back (`Some(false)`)
/// or never was (`None`).
pub(crate) async fn use_of(tx: &mut PgConnection, order_id: Uuid, code_id: Uuid) -> sqlx::Result<Option<bool>> {
    sqlx::query_scalar("select released_at is null from discount_uses where order_id = $1 and code_id = $2")
        .bind(order_id)
        .bind(code_id)
        .fetch_optional(&mut *tx)
        .await
}

/// Counts an order's use of a code (its earlier, given-back use of any code replaced).
pub(crate) async fn record_use(
    tx: &mut PgConnection,
    order_id: Uuid,
    code_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into discount_uses (order_id, code_id, user_id) values ($1, $2, $3) \
         on conflict (order_id) do update set code_id = excluded.code_id, released_at = null, created_at = now()",
    )
    .bind(order_id)
    .bind(code_id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("update discount_codes set uses = uses + 1 where id = $1").bind(code_id).execute(&mut *tx).await?;
    Ok(())
}

/// Gives back the use of an order (it ended unpaid, or its checkout failed), in `tx`; once.
pub(crate) async fn release(tx: &mut PgConnection, order_id: Uuid) -> sqlx::Result<()> {
    let code: Option<Uuid> = sqlx::query_scalar(
        "update discount_uses set released_at = now() where order_id = $1 and released_at is null returning code_id",
    )
    .bind(order_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(code_id) = code {
        sqlx::query("update discount_codes set uses = uses - 1 where id = $1").bind(code_id).execute(&mut *tx).await?;
    }
    Ok(())
}

/// Whether the order was written.
pub(crate) async fn order_written(tx: &mut PgConnection, order_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from orders where id = $1)").bind(order_id).fetch_one(&mut *tx).await
}

/// Locks the uses whose order was never written (the checkout died) after `grace`; their
/// orders' ids.
pub(crate) async fn lock_orphans(tx: &mut PgConnection, grace: std::time::Duration) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select u.order_id from discount_uses u where u.released_at is null \
           and u.created_at < now() - make_interval(secs => $1) \
           and not exists (select 1 from orders o where o.id = u.order_id) for update skip locked",
    )
    .bind(grace.as_secs_f64())
    .fetch_all(&mut *tx)
    .await
}
