//! All of the analytics schema's SQL: raw tracking events into their day's partition (made on
//! first use, dropped after the retention), the funnel's sessions, the domain event log, the
//! rollups each domain event moves (in the consumer's transaction), and the reports read from
//! them.

use chrono::{DateTime, NaiveDate, Utc};
use contracts::types::{Amount, Quantity, Sku};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{TrackingEvent, Window};

/// The partition of `tracking_events` that holds `day`.
fn partition_name(day: NaiveDate) -> String {
    format!("tracking_events_p{}", day.format("%Y%m%d"))
}

/// Makes the partition for `day` unless it exists. Concurrent callers are serialized by an
/// advisory lock, so two requests on a new day never race to create the same table.
pub(crate) async fn ensure_partition(tx: &mut PgConnection, day: NaiveDate) -> sqlx::Result<()> {
    let name = partition_name(day);
    let exists: bool = sqlx::query_scalar("select to_regclass($1) is not null").bind(&name).fetch_one(&mut *tx).await?;
    if exists {
        return Ok(());
    }
    sqlx::query("select pg_advisory_xact_lock(hashtext('analytics.tracking_partitions'))").execute(&mut *tx).await?;
    let next = day.succ_opt().unwrap_or(day);
    // The name is made from a date, never from input text.
    let sql = format!(
        "create table if not exists {name} partition of tracking_events for values from ('{day}') to ('{next}')"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
    Ok(())
}

/// What storing a batch came to.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Stored {
    /// Stored now.
    pub accepted: u64,
    /// Stored before (the same event sent again).
    pub duplicates: u64,
    /// Over the visitor's or the network's quota of the day: stored nowhere.
    pub dropped: u64,
}

/// How many events `key` had kept on `day`, its quota row locked until `tx` ends.
pub(crate) async fn quota_used(tx: &mut PgConnection, day: NaiveDate, key: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "insert into tracking_quotas (day, key, events) values ($1, $2, 0) \
         on conflict (day, key) do update set events = tracking_quotas.events returning events::bigint",
    )
    .bind(day)
    .bind(key)
    .fetch_one(&mut *tx)
    .await
}

/// Counts `kept` more events against `key`'s quota of `day`.
pub(crate) async fn charge(tx: &mut PgConnection, day: NaiveDate, key: &str, kept: i64) -> sqlx::Result<()> {
    sqlx::query("update tracking_quotas set events = events + $3 where day = $1 and key = $2")
        .bind(day)
        .bind(key)
        .bind(kept as i32)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Inserts tracking events (each once, however often it is sent); how many are new.
pub(crate) async fn insert_events(
    tx: &mut PgConnection,
    batch: &[(Uuid, TrackingEvent)],
    user_id: Option<&str>,
) -> sqlx::Result<u64> {
    let column = |f: fn(&TrackingEvent) -> Option<String>| batch.iter().map(|(_, e)| f(e)).collect::<Vec<_>>();
    let ids: Vec<Uuid> = batch.iter().map(|(id, _)| *id).collect();
    let at: Vec<DateTime<Utc>> = batch.iter().map(|(_, e)| e.occurred_at).collect();
    let kinds: Vec<&str> = batch.iter().map(|(_, e)| e.kind.as_str()).collect();
    let visitors = column(|e| Some(e.visitor_id.clone()));
    let sessions = column(|e| Some(e.session_id.clone()));
    let products: Vec<Option<Uuid>> = batch.iter().map(|(_, e)| e.product_id).collect();
    Ok(sqlx::query(
        "insert into tracking_events (id, occurred_at, type, visitor_id, session_id, user_id, path, product_id, query, sku) \
         select id, at, kind, visitor, session, $6, path, product, query, sku \
         from unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $7::text[], $8::uuid[], \
                     $9::text[], $10::text[]) as t(id, at, kind, visitor, session, path, product, query, sku) \
         on conflict do nothing",
    )
    .bind(&ids)
    .bind(&at)
    .bind(&kinds)
    .bind(&visitors)
    .bind(&sessions)
    .bind(user_id)
    .bind(column(|e| e.path.clone()))
    .bind(&products)
    .bind(column(|e| e.query.clone()))
    .bind(column(|e| e.sku.clone()))
    .execute(&mut *tx)
    .await?
    .rows_affected())
}

/// Records the funnel steps sessions reached: (day, step, session).
pub(crate) async fn insert_funnel_steps(tx: &mut PgConnection, steps: &[(NaiveDate, &str, &str)]) -> sqlx::Result<()> {
    sqlx::query(
        "insert into funnel_sessions (day, step, session_id) select * from unnest($1::date[], $2::text[], $3::text[]) \
         on conflict do nothing",
    )
    .bind(steps.iter().map(|s| s.0).collect::<Vec<_>>())
    .bind(steps.iter().map(|s| s.1).collect::<Vec<_>>())
    .bind(steps.iter().map(|s| s.2).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Drops the partitions of days before `keep_from` (and their funnel sessions); how many days
/// went.
pub(crate) async fn drop_tracking_before(pool: &PgPool, keep_from: NaiveDate) -> sqlx::Result<usize> {
    let partitions: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_inherits i join pg_class c on c.oid = i.inhrelid \
         where i.inhparent = 'tracking_events'::regclass",
    )
    .fetch_all(pool)
    .await?;
    let mut dropped = 0;
    for name in partitions {
        let day =
            name.strip_prefix("tracking_events_p").and_then(|digits| NaiveDate::parse_from_str(digits, "%Y%m%d").ok());
        if day.is_some_and(|day| day < keep_from) {
            // The name was checked to be a partition name made from a date.
            sqlx::query(sqlx::AssertSqlSafe(format!("drop table if exists {name}"))).execute(pool).await?;
            dropped += 1;
        }
    }
    sqlx::query("delete from funnel_sessions where day < $1").bind(keep_from).execute(pool).await?;
    // Quotas count today's (and, near midnight, yesterday's) events only.
    sqlx::query("delete from tracking_quotas where day < current_date - 1").execute(pool).await?;
    sqlx::query("delete from domain_events where occurred_at < $1").bind(keep_from).execute(pool).await?;
    Ok(dropped)
}

/// Logs a domain event (its payload already stripped of secret and personal fields).
pub(crate) async fn log_event(
    tx: &mut PgConnection,
    event_id: Uuid,
    event_type: &str,
    occurred_at: DateTime<Utc>,
    aggregate_id: &str,
    payload: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into domain_events (event_id, type, occurred_at, aggregate_id, payload) values ($1, $2, $3, $4, $5) \
         on conflict do nothing",
    )
    .bind(event_id)
    .bind(event_type)
    .bind(occurred_at)
    .bind(aggregate_id)
    .bind(payload)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Moves one day's sales figures by the given amounts.
pub(crate) async fn add_sales(
    tx: &mut PgConnection,
    day: NaiveDate,
    (orders, revenue, refunds, refunded, failed): (i64, i64, i64, i64, i64),
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into sales_daily (day, orders, revenue_minor, refunds, refunded_minor, failed_payments) \
         values ($1, $2, $3, $4, $5, $6) on conflict (day) do update set \
         orders = sales_daily.orders + excluded.orders, revenue_minor = sales_daily.revenue_minor + excluded.revenue_minor, \
         refunds = sales_daily.refunds + excluded.refunds, \
         refunded_minor = sales_daily.refunded_minor + excluded.refunded_minor, \
         failed_payments = sales_daily.failed_payments + excluded.failed_payments",
    )
    .bind(day)
    .bind(orders)
    .bind(revenue)
    .bind(refunds)
    .bind(refunded)
    .bind(failed)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Adds a paid order's lines to what sold that day.
pub(crate) async fn add_product_sales(
    tx: &mut PgConnection,
    day: NaiveDate,
    lines: &[(String, String, i64, i64)],
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into product_sales_daily (day, sku, title, units, revenue_minor) \
         select $1, sku, title, units, revenue from unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[]) \
         as t(sku, title, units, revenue) \
         on conflict (day, sku) do update set units = product_sales_daily.units + excluded.units, \
         revenue_minor = product_sales_daily.revenue_minor + excluded.revenue_minor, title = excluded.title",
    )
    .bind(day)
    .bind(lines.iter().map(|l| l.0.clone()).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.1.clone()).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.2).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.3).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(crate) async fn add_customer(tx: &mut PgConnection, day: NaiveDate) -> sqlx::Result<()> {
    sqlx::query(
        "insert into customers_daily (day, new_customers) values ($1, 1) \
         on conflict (day) do update set new_customers = customers_daily.new_customers + 1",
    )
    .bind(day)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Records a SKU's stock as last reported (an older report never overwrites a newer one); a
/// report without a threshold keeps the one known.
pub(crate) async fn report_stock(
    tx: &mut PgConnection,
    sku: &Sku,
    available: Quantity,
    threshold: Option<i64>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into stock_levels (sku, available_quantity, threshold, reported_at) values ($1, $2, $3, $4) \
         on conflict (sku) do update set available_quantity = excluded.available_quantity, \
         threshold = coalesce(excluded.threshold, stock_levels.threshold), reported_at = excluded.reported_at \
         where stock_levels.reported_at <= excluded.reported_at",
    )
    .bind(sku)
    .bind(available)
    .bind(threshold)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Sales per period: orders, revenue, refunds, failed payments.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SalesRow {
    pub period: NaiveDate,
    pub orders: i64,
    pub revenue_minor: i64,
    pub refunds: i64,
    pub refunded_minor: i64,
    pub failed_payments: i64,
}

/// Runs a report query whose `$1`, `$2` and `$3` are the window's first day, last day and unit.
async fn by_window<T>(pool: &PgPool, sql: String, window: &Window) -> sqlx::Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(window.from)
        .bind(window.to)
        .bind(window.granularity.unit())
        .fetch_all(pool)
        .await
}

/// Every period of `window`, empty ones included, as `period` (the `periods` CTE).
const PERIODS: &str = "periods as (select generate_series(date_trunc($3, $1::date::timestamp), \
    date_trunc($3, $2::date::timestamp), ('1 ' || $3)::interval)::date as period)";

pub(crate) async fn sales(pool: &PgPool, window: &Window) -> sqlx::Result<Vec<SalesRow>> {
    let sql = format!(
        "with {PERIODS} select p.period, coalesce(sum(s.orders), 0)::bigint as orders, \
         coalesce(sum(s.revenue_minor), 0)::bigint as revenue_minor, coalesce(sum(s.refunds), 0)::bigint as refunds, \
         coalesce(sum(s.refunded_minor), 0)::bigint as refunded_minor, \
         coalesce(sum(s.failed_payments), 0)::bigint as failed_payments \
         from periods p left join sales_daily s on s.day between $1 and $2 and date_trunc($3, s.day)::date = p.period \
         group by p.period order by p.period"
    );
    by_window(pool, sql, window).await
}

/// The conversion funnel per period: sessions at each step, and paid orders.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct FunnelRow {
    pub period: NaiveDate,
    pub product_views: i64,
    pub add_to_cart: i64,
    pub checkout_started: i64,
    pub paid: i64,
}

pub(crate) async fn funnel(pool: &PgPool, window: &Window) -> sqlx::Result<Vec<FunnelRow>> {
    let sql = format!(
        "with {PERIODS}, \
         steps as (select date_trunc($3, day)::date as period, step, count(distinct session_id) as sessions \
                   from funnel_sessions where day between $1 and $2 group by 1, 2), \
         paid as (select date_trunc($3, day)::date as period, sum(orders) as orders from sales_daily \
                  where day between $1 and $2 group by 1) \
         select p.period, \
         coalesce((select sessions from steps s where s.period = p.period and s.step = 'product_view'), 0)::bigint as product_views, \
         coalesce((select sessions from steps s where s.period = p.period and s.step = 'add_to_cart'), 0)::bigint as add_to_cart, \
         coalesce((select sessions from steps s where s.period = p.period and s.step = 'checkout_started'), 0)::bigint as checkout_started, \
         coalesce((select orders from paid where paid.period = p.period), 0)::bigint as paid \
         from periods p order by p.period"
    );
    by_window(pool, sql, window).await
}

/// New customers per period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct CustomersRow {
    pub period: NaiveDate,
    pub new_customers: i64,
}

pub(crate) async fn customers(pool: &PgPool, window: &Window) -> sqlx::Result<Vec<CustomersRow>> {
    let sql = format!(
        "with {PERIODS} select p.period, coalesce(sum(c.new_customers), 0)::bigint as new_customers \
         from periods p left join customers_daily c on c.day between $1 and $2 and date_trunc($3, c.day)::date = p.period \
         group by p.period order by p.period"
    );
    by_window(pool, sql, window).await
}

/// A variant's sales over a window.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ProductRow {
    pub sku: Sku,
    pub title: String,
    pub units: i64,
    pub revenue_minor: Amount,
}

/// The best sellers from `from` to `to`, by revenue or by units.
pub(crate) async fn top_products(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
    by_units: bool,
    limit: i64,
) -> sqlx::Result<Vec<ProductRow>> {
    let order = if by_units { "units desc, revenue_minor desc" } else { "revenue_minor desc, units desc" };
    let sql = format!(
        "select sku, (array_agg(title order by day desc))[1] as title, sum(units)::bigint as units, \
         sum(revenue_minor)::bigint as revenue_minor from product_sales_daily where day between $1 and $2 \
         group by sku order by {order}, sku limit $3"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).bind(limit).fetch_all(pool).await
}

/// A SKU at or below its threshold.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LowStockRow {
    pub sku: Sku,
    pub available_quantity: Quantity,
    pub threshold: i64,
    pub reported_at: DateTime<Utc>,
}

pub(crate) async fn low_stock(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<LowStockRow>> {
    sqlx::query_as(
        "select sku, available_quantity, threshold, reported_at from stock_levels \
         where threshold is not null and available_quantity <= threshold \
         order by available_quantity, sku limit $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A deleted account's raw tracking events keep their visitor and session, not the user id.
pub(crate) async fn forget_user(tx: &mut PgConnection, user_id: uuid::Uuid) -> sqlx::Result<()> {
    sqlx::query("update tracking_events set user_id = null where user_id = $1")
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
    // The domain event log keeps what happened, not to whom (review f5592e3 L7).
    sqlx::query("update domain_events set payload = payload - 'user_id' where payload->>'user_id' = $1")
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await
        .map(|_| ())
}
