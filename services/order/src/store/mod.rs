//! All of the order service's SQL (schema `orders`): Idempotency-Keys, orders with their lines
//! and transitions, the shopper's and staff's reads, and the expiry scan.

use chrono::{DateTime, Utc};
use contracts::types::{Amount, Currency, Quantity, Sku};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub(crate) mod discounts;
pub(crate) mod fulfillments;
pub(crate) mod invoices;
pub(crate) mod shipping;
pub(crate) mod taxes;

use crate::domain::{self, Event, IllegalTransition, Status};

/// Claims `key` of `user_id` for a request with `hash` under a fresh order id; that id, or
/// none when the key is taken.
pub(crate) async fn insert_key(
    tx: &mut PgConnection,
    user_id: Uuid,
    key: &str,
    hash: &str,
    order_id: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "insert into idempotency_keys (user_id, key, request_hash, order_id, state) values ($1, $2, $3, $4, 'in_flight') \
         on conflict (user_id, key) do nothing returning order_id",
    )
    .bind(user_id)
    .bind(key)
    .bind(hash)
    .bind(order_id)
    .fetch_optional(&mut *tx)
    .await
}

/// A key as it stands, locked: its request's hash, its order, its state, and whether it is
/// older than `in_flight`.
pub(crate) async fn lock_key(
    tx: &mut PgConnection,
    user_id: Uuid,
    key: &str,
    in_flight: std::time::Duration,
) -> sqlx::Result<(String, Uuid, String, bool)> {
    sqlx::query_as(
        "select request_hash, order_id, state, created_at < now() - make_interval(secs => $3) \
         from idempotency_keys where user_id = $1 and key = $2 for update",
    )
    .bind(user_id)
    .bind(key)
    .bind(in_flight.as_secs_f64())
    .fetch_one(&mut *tx)
    .await
}

/// Starts a key's in-flight time afresh (a resumed request).
pub(crate) async fn touch_key(tx: &mut PgConnection, user_id: Uuid, key: &str) -> sqlx::Result<()> {
    sqlx::query("update idempotency_keys set created_at = now() where user_id = $1 and key = $2")
        .bind(user_id)
        .bind(key)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Gives a key back after a request that made nothing (a 4xx), so it may be retried as is.
pub(crate) async fn forget_key(pool: &PgPool, user_id: Uuid, key: &str) -> sqlx::Result<()> {
    sqlx::query("delete from idempotency_keys where user_id = $1 and key = $2 and state = 'in_flight'")
        .bind(user_id)
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}

/// Keys older than a day are forgotten.
pub(crate) async fn prune_keys(pool: &PgPool) -> sqlx::Result<u64> {
    Ok(sqlx::query("delete from idempotency_keys where created_at < now() - interval '24 hours'")
        .execute(pool)
        .await?
        .rows_affected())
}

/// A line to write.
pub(crate) struct NewLine {
    pub sku: Sku,
    pub title: String,
    pub quantity: Quantity,
    pub unit_price_minor: Amount,
    pub discount_minor: i64,
    pub tax_minor: i64,
    /// The rate it was taxed at (basis points).
    pub tax_rate_bp: i64,
}

/// An order to write.
pub(crate) struct NewOrder<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub currency: Currency,
    pub totals: &'a domain::Totals,
    pub lines: Vec<NewLine>,
    pub shipping_address: serde_json::Value,
    pub billing_address: serde_json::Value,
    pub vat_id: Option<&'a str>,
    /// The VAT rate it was priced at (basis points).
    pub tax_rate_bp: i64,
    /// The VAT its shipping fee contains (part of the totals' tax).
    pub shipping_tax_minor: i64,
    pub contact_email: &'a str,
    /// Seconds from now to the payment deadline (the unpaid hold; starting a payment extends
    /// it to the payment window).
    pub deadline_secs: f64,
    pub idempotency_key: &'a str,
    /// The discount code applied (its use counted before).
    pub discount_code: Option<&'a str>,
    /// The method it ships with, as it was chosen.
    pub shipping_method: ShippingSnapshot,
}

/// The shipping method an order was placed with, as it was then (the method may change or go
/// later; the order keeps this).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct ShippingSnapshot {
    pub id: Uuid,
    pub name: String,
    pub carrier: String,
    /// The delivery estimate, in days.
    pub min_days: i32,
    pub max_days: i32,
}

impl ShippingSnapshot {
    pub(crate) fn of(method: &shipping::MethodView) -> Self {
        ShippingSnapshot {
            id: method.id,
            name: method.name.clone(),
            carrier: method.carrier.clone(),
            min_days: method.min_days,
            max_days: method.max_days,
        }
    }
}

/// Serialises the checkouts of one shopper until `tx` ends, so that what they hold unpaid is
/// counted and added to one at a time.
pub(crate) async fn lock_shopper(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('orders.shopper:' || $1::text, 0))")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// What a shopper holds unpaid: their open orders awaiting payment, and the units of each of
/// `skus` in them.
pub(crate) async fn unpaid_holdings(
    conn: &mut PgConnection,
    user_id: Uuid,
    skus: &[String],
) -> sqlx::Result<(i64, std::collections::BTreeMap<String, i64>)> {
    let open: i64 =
        sqlx::query_scalar("select count(*) from orders where user_id = $1 and status = 'awaiting_payment'")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?;
    let units: Vec<(String, i64)> = sqlx::query_as(
        "select l.sku, sum(l.quantity)::bigint from order_lines l join orders o on o.id = l.order_id \
         where o.user_id = $1 and o.status = 'awaiting_payment' and l.sku = any($2) group by l.sku",
    )
    .bind(user_id)
    .bind(skus)
    .fetch_all(&mut *conn)
    .await?;
    Ok((open, units.into_iter().collect()))
}

/// A payment is being started for an order awaiting payment: its deadline moves from the short
/// unpaid hold out to the whole payment window (counted from its creation). The order as
/// payment reads it; `None` when there is no such order.
pub(crate) async fn payment_started(
    pool: &PgPool,
    order_id: Uuid,
    window_secs: f64,
) -> sqlx::Result<Option<contracts::order::OrderSummary>> {
    sqlx::query(
        "update orders set payment_deadline = greatest(payment_deadline, created_at + make_interval(secs => $2)), \
           updated_at = now() where id = $1 and status = 'awaiting_payment'",
    )
    .bind(order_id)
    .bind(window_secs)
    .execute(pool)
    .await?;
    summary(pool, order_id).await
}

/// Writes the order, its lines and its first transition, and marks its key done; returns
/// (number, payment deadline).
pub(crate) async fn insert_order(tx: &mut PgConnection, order: &NewOrder<'_>) -> sqlx::Result<(String, DateTime<Utc>)> {
    let sequence: i64 = sqlx::query_scalar("select nextval('order_numbers')").fetch_one(&mut *tx).await?;
    let number = domain::order_number(sequence);
    let t = order.totals;
    let deadline: DateTime<Utc> = sqlx::query_scalar(
        "insert into orders (id, number, user_id, status, currency, subtotal_minor, discount_minor, shipping_minor, \
           tax_minor, total_minor, shipping_address, contact_email, payment_deadline, discount_code, shipping_method, \
           billing_address, vat_id, tax_rate_bp, shipping_tax_minor) \
         values ($1, $2, $3, 'awaiting_payment', $4, $5, $6, $7, $8, $9, $10, $11, now() + make_interval(secs => $12), $13, $14, \
           $15, $16, $17, $18) \
         returning payment_deadline",
    )
    .bind(order.id)
    .bind(&number)
    .bind(order.user_id)
    .bind(order.currency)
    .bind(t.subtotal_minor)
    .bind(t.discount_minor)
    .bind(t.shipping_minor)
    .bind(t.tax_minor)
    .bind(t.total_minor)
    .bind(&order.shipping_address)
    .bind(order.contact_email)
    .bind(order.deadline_secs)
    .bind(order.discount_code)
    .bind(sqlx::types::Json(&order.shipping_method))
    .bind(&order.billing_address)
    .bind(order.vat_id)
    .bind(i32::try_from(order.tax_rate_bp).unwrap_or(0))
    .bind(order.shipping_tax_minor)
    .fetch_one(&mut *tx)
    .await?;
    for (position, line) in order.lines.iter().enumerate() {
        sqlx::query(
            "insert into order_lines (order_id, position, sku, title, quantity, unit_price_minor, discount_minor, tax_minor, \
               tax_rate_bp) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(order.id)
        .bind(position as i32)
        .bind(&line.sku)
        .bind(&line.title)
        .bind(line.quantity)
        .bind(line.unit_price_minor)
        .bind(line.discount_minor)
        .bind(line.tax_minor)
        .bind(i32::try_from(line.tax_rate_bp).unwrap_or(0))
        .execute(&mut *tx)
        .await?;
    }
    record_transition(tx, order.id, None, Status::AwaitingPayment, &order.user_id.to_string(), "placed").await?;
    sqlx::query("update idempotency_keys set state = 'done' where user_id = $1 and key = $2")
        .bind(order.user_id)
        .bind(order.idempotency_key)
        .execute(&mut *tx)
        .await?;
    Ok((number, deadline))
}

async fn record_transition(
    tx: &mut PgConnection,
    order_id: Uuid,
    from: Option<Status>,
    to: Status,
    actor: &str,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query("insert into order_transitions (id, order_id, from_status, to_status, actor, reason) values ($1, $2, $3, $4, $5, $6)")
        .bind(Uuid::now_v7())
        .bind(order_id)
        .bind(from.map(Status::as_str))
        .bind(to.as_str())
        .bind(actor)
        .bind(reason)
        .execute(tx)
        .await?;
    Ok(())
}

/// What an event about an order needs to say.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OrderFacts {
    pub id: Uuid,
    pub number: String,
    pub user_id: Uuid,
    pub contact_email: String,
}

/// An order's number, shopper and contact email.
pub(crate) async fn facts(conn: &mut PgConnection, order_id: Uuid) -> sqlx::Result<Option<OrderFacts>> {
    let row: Option<(String, Uuid, String)> =
        sqlx::query_as("select number, user_id, contact_email from orders where id = $1")
            .bind(order_id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|(number, user_id, contact_email)| OrderFacts { id: order_id, number, user_id, contact_email }))
}

/// An order's status, locked until `tx` ends (what a staff change records as its "before").
pub(crate) async fn lock_status(tx: &mut PgConnection, order_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("select status from orders where id = $1 for update")
        .bind(order_id)
        .fetch_optional(&mut *tx)
        .await
}

/// An order's total and currency.
pub(crate) async fn amount(conn: &mut PgConnection, order_id: Uuid) -> sqlx::Result<Option<(Amount, Currency)>> {
    sqlx::query_as("select total_minor, currency::text from orders where id = $1")
        .bind(order_id)
        .fetch_optional(&mut *conn)
        .await
}

/// Moves an order (of `owner`, when given) through the state machine with its transition
/// record. `None`: no such order (of that owner).
pub(crate) async fn transition(
    tx: &mut PgConnection,
    order_id: Uuid,
    owner: Option<Uuid>,
    event: Event,
    actor: &str,
    reason: &str,
) -> sqlx::Result<Option<Result<(Status, OrderFacts), IllegalTransition>>> {
    let row: Option<(Status, Uuid, String, String)> = sqlx::query_as(
        "select status, user_id, number, contact_email from orders where id = $1 and ($2::uuid is null or user_id = $2) for update",
    )
    .bind(order_id)
    .bind(owner)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((from, user_id, number, contact_email)) = row else { return Ok(None) };
    let to = match domain::next(from, event) {
        Ok(to) => to,
        Err(illegal) => return Ok(Some(Err(illegal))),
    };
    sqlx::query("update orders set status = $2, updated_at = now() where id = $1")
        .bind(order_id)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    record_transition(tx, order_id, Some(from), to, actor, reason).await?;
    if matches!(to, Status::Cancelled | Status::Expired) {
        // Its discount code's use is given back with the order's end.
        discounts::release(tx, order_id).await?;
    }
    Ok(Some(Ok((to, OrderFacts { id: order_id, number, user_id, contact_email }))))
}

/// Records what went back to the shopper after a refund (everything so far) and moves the order
/// through the state machine when it was paid (`refunded` once all of it went back); an order
/// that ended unpaid before its late payment keeps its status. The order's status afterwards.
pub(crate) async fn record_refund(
    tx: &mut PgConnection,
    order_id: Uuid,
    refunded_minor: Amount,
    full: bool,
    reason: &str,
) -> sqlx::Result<Option<(Status, OrderFacts)>> {
    let row: Option<(Status, Uuid, String, String)> = sqlx::query_as(
        "update orders set refunded_minor = greatest(refunded_minor, $2), updated_at = now() where id = $1 \
         returning status, user_id, number, contact_email",
    )
    .bind(order_id)
    .bind(refunded_minor)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((from, user_id, number, contact_email)) = row else { return Ok(None) };
    let facts = OrderFacts { id: order_id, number, user_id, contact_email };
    if !from.was_paid() {
        return Ok(Some((from, facts)));
    }
    match transition(tx, order_id, None, Event::Refund { full }, "payment", reason).await? {
        Some(Ok((to, facts))) => Ok(Some((to, facts))),
        // Refunded in full already: a later refund event changes nothing more.
        _ => Ok(Some((from, facts))),
    }
}

/// Unpaid orders past their deadline, locked (another expiry job skips them).
pub(crate) async fn lock_overdue(tx: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select id from orders where status = 'awaiting_payment' and payment_deadline < now() \
         order by payment_deadline limit $1 for update skip locked",
    )
    .bind(limit)
    .fetch_all(tx)
    .await
}

/// One line of an order as shown.
#[derive(Clone, Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct OrderLineView {
    pub sku: Sku,
    pub title: String,
    pub quantity: Quantity,
    /// Gross, when ordered.
    pub unit_price_minor: Amount,
    /// This line's share of the order's discount.
    pub discount_minor: Amount,
    /// The VAT contained in the line.
    pub tax_minor: Amount,
}

/// An order as its shopper (and staff) see it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct OrderView {
    pub id: Uuid,
    /// SF-000123.
    pub number: String,
    pub status: Status,
    #[schema(value_type = Vec<OrderLineView>)]
    pub lines: sqlx::types::Json<Vec<OrderLineView>>,
    pub subtotal_minor: Amount,
    pub discount_minor: Amount,
    pub shipping_minor: Amount,
    pub tax_minor: Amount,
    /// The VAT the shipping fee contains (part of `tax_minor`).
    pub shipping_tax_minor: Amount,
    pub total_minor: Amount,
    /// What went back to the shopper so far.
    pub refunded_minor: Amount,
    pub currency: Currency,
    #[schema(value_type = Object)]
    pub shipping_address: serde_json::Value,
    /// Where the invoice goes (the shipping address unless another was given).
    #[schema(value_type = Object)]
    pub billing_address: serde_json::Value,
    /// The buyer's VAT ID, if given.
    pub vat_id: Option<String>,
    pub payment_deadline: DateTime<Utc>,
    /// The discount code applied, if any.
    pub discount_code: Option<String>,
    /// The method it ships with, as it was when the order was placed (none on orders placed
    /// before shipping methods were data).
    #[schema(value_type = Option<ShippingSnapshot>)]
    pub shipping_method: Option<sqlx::types::Json<ShippingSnapshot>>,
    /// Its shipments, oldest first: the lines each carries, its carrier and tracking, and when
    /// it arrived.
    #[schema(value_type = Vec<fulfillments::FulfillmentView>)]
    pub fulfillments: sqlx::types::Json<Vec<fulfillments::FulfillmentView>>,
    /// Its invoice (`GET /orders/{id}/invoice`), once paid.
    pub invoice_number: Option<String>,
    /// Its credit notes, one per refund (`GET /orders/{id}/credit-notes/{number}`).
    #[schema(value_type = Vec<String>)]
    pub credit_notes: sqlx::types::Json<Vec<String>>,
    /// Once shipped: the latest shipment's carrier and tracking number (orders shipped before
    /// fulfillments existed keep theirs in `orders`).
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub created_at: DateTime<Utc>,
}

const VIEW_COLUMNS: &str = "o.id, o.number, o.status, \
     coalesce((select json_agg(json_build_object('sku', l.sku, 'title', l.title, 'quantity', l.quantity, \
        'unit_price_minor', l.unit_price_minor, 'discount_minor', l.discount_minor, 'tax_minor', l.tax_minor) \
        order by l.position) from order_lines l where l.order_id = o.id), '[]'::json) as lines, \
     o.subtotal_minor, o.discount_minor, o.shipping_minor, o.tax_minor, o.shipping_tax_minor, o.total_minor, o.refunded_minor, \
     o.currency::text as currency, o.discount_code, o.shipping_method, o.shipping_address, \
     coalesce(o.billing_address, o.shipping_address) as billing_address, o.vat_id, o.payment_deadline, \
     coalesce((select f.carrier from fulfillments f where f.order_id = o.id order by f.created_at desc, f.id desc limit 1), \
       o.carrier) as carrier, \
     coalesce((select f.tracking_number from fulfillments f where f.order_id = o.id order by f.created_at desc, f.id desc \
       limit 1), o.tracking_number) as tracking_number, \
     o.created_at, ";

/// Every column of an order as the shopper sees it, its fulfillments included.
static VIEW: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{VIEW_COLUMNS}{}{}", invoices::VIEW_COLUMNS, fulfillments::VIEW_COLUMN));

/// An order of `owner` (any order for staff: `None`), in one statement.
pub(crate) async fn find(pool: &PgPool, id: Uuid, owner: Option<Uuid>) -> sqlx::Result<Option<OrderView>> {
    let view = &*VIEW;
    let sql = format!("select {view} from orders o where o.id = $1 and ($2::uuid is null or o.user_id = $2)");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(owner).fetch_optional(pool).await
}

/// A page of a shopper's orders (all orders for staff: `None`), newest first, plus one.
pub(crate) async fn list(
    pool: &PgPool,
    owner: Option<Uuid>,
    status: Option<&str>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<OrderView>> {
    let view = &*VIEW;
    let sql = format!(
        "select {view} from orders o where ($1::uuid is null or o.user_id = $1) and ($2::text is null or o.status = $2) \
           and ($3::timestamptz is null or (o.created_at, o.id) < ($3, $4)) \
         order by o.created_at desc, o.id desc limit $5"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(owner)
        .bind(status)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit + 1)
        .fetch_all(pool)
        .await
}

/// A deleted account's orders, kept for the books without the person: the shipping address
/// down to its country, the contact email replaced by the deleted account's placeholder (which
/// the mailer never writes to); its Idempotency-Keys forgotten. Returns how many orders.
pub(crate) async fn anonymise_customer(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<u64> {
    let orders = sqlx::query(
        "update orders set shipping_address = jsonb_build_object('country', shipping_address->'country', 'anonymised', true), \
            contact_email = 'deleted+' || user_id || '@deleted.invalid', updated_at = now() \
         where user_id = $1",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("delete from idempotency_keys where user_id = $1").bind(user_id).execute(&mut *tx).await?;
    Ok(orders)
}

/// An order's state changes, oldest first.
pub(crate) async fn transitions(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<contracts::order::Transition>> {
    type Row = (Option<Status>, Status, String, String, DateTime<Utc>);
    let rows: Vec<Row> = sqlx::query_as(
        "select from_status, to_status, actor, reason, at from order_transitions where order_id = $1 order by at, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(from_status, to_status, actor, reason, at)| contracts::order::Transition {
            from_status,
            to_status,
            actor,
            reason,
            at,
        })
        .collect())
}

/// An order's amount and owner, for the payment service.
pub(crate) async fn summary(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<contracts::order::OrderSummary>> {
    let row: Option<(Uuid, Uuid, String, Status, Amount, Currency)> =
        sqlx::query_as("select id, user_id, number, status, total_minor, currency::text from orders where id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(id, user_id, number, status, total_minor, currency)| contracts::order::OrderSummary {
        id: id.into(),
        user_id: user_id.into(),
        number,
        status,
        total_minor,
        currency,
    }))
}

/// ORDER_PAID of an order (its lines, totals and address; ORDER_DELIVERED takes its lines).
pub(crate) async fn paid_event(tx: &mut PgConnection, facts: OrderFacts) -> sqlx::Result<events::catalog::OrderPaid> {
    let order_id = facts.id;
    let lines: Vec<(Sku, Quantity, Amount, String)> = sqlx::query_as(
        "select sku, quantity, unit_price_minor, title from order_lines where order_id = $1 order by position",
    )
    .bind(order_id)
    .fetch_all(&mut *tx)
    .await?;
    let (subtotal_minor, discount_minor, shipping_minor, tax_minor, total_minor, currency, address): (
        Amount,
        Amount,
        Amount,
        Amount,
        Amount,
        Currency,
        serde_json::Value,
    ) = sqlx::query_as(
        "select subtotal_minor, discount_minor, shipping_minor, tax_minor, total_minor, currency::text, shipping_address \
         from orders where id = $1",
    )
    .bind(order_id)
    .fetch_one(tx)
    .await?;
    let lines = lines
        .into_iter()
        .map(|(sku, quantity, unit_price_minor, title)| events::catalog::OrderLine {
            sku,
            quantity,
            unit_price_minor,
            title,
        })
        .collect();
    Ok(events::catalog::OrderPaid {
        order_id: order_id.into(),
        number: facts.number,
        user_id: facts.user_id.into(),
        email: facts.contact_email,
        lines,
        subtotal_minor,
        discount_minor,
        shipping_minor,
        tax_minor,
        total_minor,
        currency,
        ship_to: crate::domain::address_lines(&address),
    })
}
