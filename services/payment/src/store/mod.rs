//! All of the payment service's SQL (schema `payments`; the sandbox provider's own records in
//! [`sandbox`]): intents, their state changes with their events in one transaction, the provider
//! events already handled, refunds (requested, then settled once) and what reconciliation asks.

use chrono::{DateTime, Utc};
use contracts::types::{Amount, Currency, PaymentStatus, RefundStatus};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub(crate) mod sandbox;

/// A payment as its payer sees it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct Payment {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub provider: String,
    #[serde(skip)]
    pub provider_intent_id: String,
    pub amount_minor: Amount,
    pub currency: Currency,
    /// `canceled`: its order expired or was cancelled first.
    pub status: PaymentStatus,
    /// What went back to the shopper so far.
    pub refunded_minor: Amount,
    /// What the storefront confirms the payment with.
    pub client_secret: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id as payment_id, order_id, provider, provider_intent_id, amount_minor, \
     currency::text as currency, status, refunded_minor, client_secret, created_at";

/// A new intent for an order.
pub(crate) struct NewIntent<'a> {
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub provider: &'a str,
    pub provider_intent_id: &'a str,
    pub amount_minor: Amount,
    pub currency: Currency,
    pub client_secret: &'a str,
}

/// Writes the order's intent unless it has one; (the payment, whether it is new).
pub(crate) async fn create_or_find(pool: &PgPool, intent: &NewIntent<'_>) -> sqlx::Result<(Payment, bool)> {
    let sql = format!(
        "insert into payments (id, order_id, user_id, provider, provider_intent_id, amount_minor, currency, status, client_secret) \
         values ($1, $2, $3, $4, $5, $6, $7, 'requires_confirmation', $8) \
         on conflict (order_id) do nothing returning {COLUMNS}"
    );
    let created: Option<Payment> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::now_v7())
        .bind(intent.order_id)
        .bind(intent.user_id)
        .bind(intent.provider)
        .bind(intent.provider_intent_id)
        .bind(intent.amount_minor)
        .bind(intent.currency)
        .bind(intent.client_secret)
        .fetch_optional(pool)
        .await?;
    match created {
        Some(payment) => Ok((payment, true)),
        None => {
            let sql = format!("select {COLUMNS} from payments where order_id = $1");
            Ok((sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(intent.order_id).fetch_one(pool).await?, false))
        }
    }
}

/// The intent of an order, if it has one.
pub(crate) async fn find_for_order(pool: &PgPool, order_id: Uuid) -> sqlx::Result<Option<Payment>> {
    let sql = format!("select {COLUMNS} from payments where order_id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(order_id).fetch_optional(pool).await
}

/// A payment of `owner`.
pub(crate) async fn find(pool: &PgPool, id: Uuid, owner: Uuid) -> sqlx::Result<Option<Payment>> {
    let sql = format!("select {COLUMNS} from payments where id = $1 and user_id = $2");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(owner).fetch_optional(pool).await
}

/// Marks a payment as being confirmed (from `requires_confirmation` or `failed`); whether it was.
pub(crate) async fn start_confirming(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "update payments set status = 'processing', updated_at = now() where id = $1 and status in ('requires_confirmation', 'failed')",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Records a provider event id; false when it was handled before.
pub(crate) async fn first_delivery(
    tx: &mut PgConnection,
    provider: &str,
    event_id: &str,
    event_type: &str,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "insert into provider_events (provider, event_id, event_type) values ($1, $2, $3) on conflict do nothing",
    )
    .bind(provider)
    .bind(event_id)
    .bind(event_type)
    .execute(tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// An intent's payment, locked for its verdict: (payment, order, status, amount, currency).
pub(crate) async fn lock_by_intent(
    tx: &mut PgConnection,
    provider: &str,
    intent_id: &str,
) -> sqlx::Result<Option<(Uuid, Uuid, PaymentStatus, Amount, Currency)>> {
    sqlx::query_as(
        "select id, order_id, status, amount_minor, currency::text from payments where provider = $1 and provider_intent_id = $2 for update",
    )
    .bind(provider)
    .bind(intent_id)
    .fetch_optional(&mut *tx)
    .await
}

/// Marks a payment succeeded.
pub(crate) async fn mark_succeeded(tx: &mut PgConnection, payment_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update payments set status = 'succeeded', failure_reason = null, updated_at = now() where id = $1")
        .bind(payment_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Marks a payment failed, for `reason`.
pub(crate) async fn mark_failed(tx: &mut PgConnection, payment_id: Uuid, reason: &str) -> sqlx::Result<()> {
    sqlx::query("update payments set status = 'failed', failure_reason = $2, updated_at = now() where id = $1")
        .bind(payment_id)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The reason given for an automatic refund.
pub(crate) const TOO_LATE: &str = "the payment arrived after the order expired or was cancelled";

/// Requests the one automatic refund of a payment (all that is left of it), in `tx`; `None`
/// when it has one already or nothing is left.
pub(crate) async fn request_automatic_refund(
    tx: &mut PgConnection,
    payment_id: Uuid,
    reason: &str,
) -> sqlx::Result<Option<Uuid>> {
    let id = Uuid::now_v7();
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "insert into refunds (id, payment_id, amount_minor, reason, automatic, requested_by, status) \
         select $1, p.id, p.amount_minor - p.refunded_minor - coalesce((select sum(r.amount_minor) from refunds r \
                where r.payment_id = p.id and r.status = 'requested'), 0), $3, true, 'system', 'requested' \
         from payments p where p.id = $2 and p.amount_minor - p.refunded_minor > 0 \
         on conflict do nothing returning id",
    )
    .bind(id)
    .bind(payment_id)
    .bind(reason)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(inserted)
}

/// The order of a payment ended (expired or cancelled), in `tx`: a payment not yet succeeded is
/// cancelled (a success that still comes is refunded); one that already succeeded gets its
/// automatic refund, for `refund_reason` (a paid order cancelled because its stock was gone,
/// or a success that raced the order's end). The refund requested, if any.
pub(crate) async fn order_ended(
    tx: &mut PgConnection,
    order_id: Uuid,
    refund_reason: &str,
) -> sqlx::Result<Option<Uuid>> {
    let row: Option<(Uuid, PaymentStatus)> =
        sqlx::query_as("select id, status from payments where order_id = $1 for update")
            .bind(order_id)
            .fetch_optional(&mut *tx)
            .await?;
    match row {
        None => Ok(None),
        Some((payment_id, PaymentStatus::Succeeded)) => request_automatic_refund(tx, payment_id, refund_reason).await,
        Some((payment_id, _)) => {
            sqlx::query(
                "update payments set status = 'canceled', updated_at = now() where id = $1 and status <> 'canceled'",
            )
            .bind(payment_id)
            .execute(&mut *tx)
            .await?;
            Ok(None)
        }
    }
}

/// A refund as staff see it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct Refund {
    pub refund_id: Uuid,
    pub payment_id: Uuid,
    pub amount_minor: Amount,
    pub currency: Currency,
    pub reason: String,
    /// `requested`: sent or to be sent to the provider.
    pub status: RefundStatus,
    /// Made by the service itself (a success after the order ended).
    pub automatic: bool,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

const REFUND_COLUMNS: &str = "r.id as refund_id, r.payment_id, r.amount_minor, p.currency::text as currency, r.reason, \
     r.status, r.automatic, r.failure_reason, r.created_at";

#[derive(sqlx::FromRow)]
struct PaymentRecordRow {
    payment_id: Uuid,
    provider: String,
    status: PaymentStatus,
    amount_minor: Amount,
    currency: Currency,
    refunded_minor: Amount,
    failure_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct RefundRecordRow {
    refund_id: Uuid,
    amount_minor: Amount,
    reason: String,
    status: RefundStatus,
    automatic: bool,
    requested_by: String,
    failure_reason: Option<String>,
    created_at: DateTime<Utc>,
}

/// An order's payment with its refunds, as staff see it.
pub(crate) async fn record_for_order(
    pool: &PgPool,
    order_id: Uuid,
) -> sqlx::Result<Option<contracts::payment::PaymentRecord>> {
    let payment: Option<PaymentRecordRow> = sqlx::query_as(
        "select id as payment_id, provider, status, amount_minor, currency::text as currency, refunded_minor, \
            failure_reason, created_at, updated_at from payments where order_id = $1",
    )
    .bind(order_id)
    .fetch_optional(pool)
    .await?;
    let Some(p) = payment else { return Ok(None) };
    let refunds: Vec<RefundRecordRow> = sqlx::query_as(
        "select id as refund_id, amount_minor, reason, status, automatic, requested_by, failure_reason, created_at \
         from refunds where payment_id = $1 order by created_at, id",
    )
    .bind(p.payment_id)
    .fetch_all(pool)
    .await?;
    let refunds = refunds
        .into_iter()
        .map(|r| contracts::payment::RefundRecord {
            refund_id: r.refund_id.into(),
            amount_minor: r.amount_minor,
            reason: r.reason,
            status: r.status,
            automatic: r.automatic,
            requested_by: r.requested_by,
            failure_reason: r.failure_reason,
            created_at: r.created_at,
        })
        .collect();
    Ok(Some(contracts::payment::PaymentRecord {
        payment_id: p.payment_id.into(),
        provider: p.provider,
        status: p.status,
        amount_minor: p.amount_minor,
        currency: p.currency,
        refunded_minor: p.refunded_minor,
        failure_reason: p.failure_reason,
        created_at: p.created_at,
        updated_at: p.updated_at,
        refunds,
    }))
}

/// A refund by id.
pub(crate) async fn refund(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Refund>> {
    let sql = format!("select {REFUND_COLUMNS} from refunds r join payments p on p.id = r.payment_id where r.id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await
}

/// A staff refund request.
pub(crate) struct RefundAsk<'a> {
    pub payment_id: Uuid,
    pub amount_minor: i64,
    pub reason: &'a str,
    pub requested_by: &'a str,
    pub key: &'a str,
    pub request_hash: &'a str,
}

/// Where a refund request stands.
#[derive(Debug)]
pub(crate) enum RefundClaim {
    /// A new refund, requested.
    New(Uuid),
    /// The same key and body as before: that refund.
    Replay(Uuid),
    /// The same key with another body.
    KeyReused,
    NoSuchPayment,
    /// The payment has not succeeded.
    NotCaptured(PaymentStatus),
    /// More than what is left to refund (which is given).
    TooMuch(i64),
}

/// Locks a payment for a refund: (status, captured, refunded).
pub(crate) async fn lock_for_refund(
    tx: &mut PgConnection,
    payment_id: Uuid,
) -> sqlx::Result<Option<(PaymentStatus, i64, i64)>> {
    sqlx::query_as("select status, amount_minor, refunded_minor from payments where id = $1 for update")
        .bind(payment_id)
        .fetch_optional(&mut *tx)
        .await
}

/// The refund an Idempotency-Key of a payment asked for: (id, the request's hash).
pub(crate) async fn refund_by_key(
    tx: &mut PgConnection,
    payment_id: Uuid,
    key: &str,
) -> sqlx::Result<Option<(Uuid, Option<String>)>> {
    sqlx::query_as("select id, request_hash from refunds where payment_id = $1 and idempotency_key = $2")
        .bind(payment_id)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
}

/// What a payment's requested (unsettled) refunds add up to.
pub(crate) async fn refunding(tx: &mut PgConnection, payment_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select coalesce(sum(amount_minor), 0)::bigint from refunds where payment_id = $1 and status = 'requested'",
    )
    .bind(payment_id)
    .fetch_one(&mut *tx)
    .await
}

/// Records a requested refund.
pub(crate) async fn insert_refund(tx: &mut PgConnection, id: Uuid, ask: &RefundAsk<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into refunds (id, payment_id, amount_minor, reason, requested_by, idempotency_key, request_hash, status) \
         values ($1, $2, $3, $4, $5, $6, $7, 'requested')",
    )
    .bind(id)
    .bind(ask.payment_id)
    .bind(ask.amount_minor)
    .bind(ask.reason)
    .bind(ask.requested_by)
    .bind(ask.key)
    .bind(ask.request_hash)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// What the provider is asked for a requested refund: (payment's provider intent, amount); `None`
/// when the refund is no longer requested.
pub(crate) async fn refund_to_send(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<(String, i64, Option<String>)>> {
    sqlx::query_as(
        "select p.provider_intent_id, r.amount_minor, r.provider_refund_id from refunds r \
         join payments p on p.id = r.payment_id where r.id = $1 and r.status = 'requested'",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Marks a requested refund succeeded: (payment, amount, reason, automatic); none when it was
/// not requested any more (a second outcome).
pub(crate) async fn mark_refund_succeeded(
    tx: &mut PgConnection,
    id: Uuid,
    provider_refund_id: &str,
) -> sqlx::Result<Option<(Uuid, Amount, String, bool)>> {
    sqlx::query_as(
        "update refunds set status = 'succeeded', provider_refund_id = $2, updated_at = now() \
         where id = $1 and status = 'requested' returning payment_id, amount_minor, reason, automatic",
    )
    .bind(id)
    .bind(provider_refund_id)
    .fetch_optional(&mut *tx)
    .await
}

/// Books a refunded amount on its payment: (order, refunded in all, captured, currency).
pub(crate) async fn add_refunded(
    tx: &mut PgConnection,
    payment_id: Uuid,
    amount_minor: Amount,
) -> sqlx::Result<(Uuid, Amount, Amount, Currency)> {
    sqlx::query_as(
        "update payments set refunded_minor = refunded_minor + $2, updated_at = now() where id = $1 \
         returning order_id, refunded_minor, amount_minor, currency::text",
    )
    .bind(payment_id)
    .bind(amount_minor)
    .fetch_one(&mut *tx)
    .await
}

/// Records that the provider refused a refund (nothing went back).
/// The provider accepted a refund that settles later: it stays requested (so reconciliation
/// asks about it by `provider_refund_id`) and nothing is booked yet.
pub(crate) async fn refund_pending(pool: &PgPool, id: Uuid, provider_refund_id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "update refunds set provider_refund_id = $2, updated_at = now() where id = $1 and status = 'requested'",
    )
    .bind(id)
    .bind(provider_refund_id)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn refund_failed(pool: &PgPool, id: Uuid, reason: &str) -> sqlx::Result<()> {
    sqlx::query(
        "update refunds set status = 'failed', failure_reason = $2, updated_at = now() where id = $1 and status = 'requested'",
    )
    .bind(id)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(())
}

/// Payments still waiting for a verdict (or cancelled, and not yet at the provider) that
/// reconciliation has not asked about for `after`: (provider intent id, status), oldest check
/// first; each marked as checked.
pub(crate) async fn unsettled(
    pool: &PgPool,
    provider: &str,
    after: std::time::Duration,
    limit: i64,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "update payments set checked_at = now() where id in ( \
             select id from payments where provider = $3 and (status in ('requires_confirmation', 'processing') \
                 or (status = 'canceled' and not provider_canceled)) \
             and checked_at < now() - make_interval(secs => $1) and created_at > now() - interval '30 days' \
             order by checked_at limit $2 for update skip locked) \
         returning provider_intent_id, status",
    )
    .bind(after.as_secs_f64())
    .bind(limit)
    .bind(provider)
    .fetch_all(pool)
    .await
}

/// Refunds requested more than `after` ago and still not settled (a crash or an unreachable
/// provider in between).
pub(crate) async fn stale_refunds(pool: &PgPool, after: std::time::Duration, limit: i64) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select id from refunds where status = 'requested' and updated_at < now() - make_interval(secs => $1) \
         order by created_at limit $2",
    )
    .bind(after.as_secs_f64())
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A cancelled payment's intent, unless the provider has cancelled it already.
pub(crate) async fn intent_to_cancel(pool: &PgPool, order_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "select provider_intent_id from payments where order_id = $1 and status = 'canceled' and not provider_canceled",
    )
    .bind(order_id)
    .fetch_optional(pool)
    .await
}

/// Records that the provider cancelled an intent (reconciliation stops asking about it).
pub(crate) async fn provider_canceled(pool: &PgPool, intent_id: &str) -> sqlx::Result<()> {
    sqlx::query("update payments set provider_canceled = true where provider_intent_id = $1 and status = 'canceled'")
        .bind(intent_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The requested automatic refund of an order's payment, if there is one.
pub(crate) async fn automatic_refund_of_order(pool: &PgPool, order_id: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "select r.id from refunds r join payments p on p.id = r.payment_id \
         where p.order_id = $1 and r.automatic and r.status = 'requested'",
    )
    .bind(order_id)
    .fetch_optional(pool)
    .await
}
