//! The sandbox provider's own records (`sandbox_*`): what a real provider would hold, apart
//! from ours.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Sets an intent's verdict unless it already succeeded: (amount, currency, order id), or
/// `None` for an unknown or settled intent.
pub(crate) async fn decide(
    pool: &PgPool,
    intent_id: &str,
    status: &str,
    error: Option<&str>,
) -> sqlx::Result<Option<(i64, String, Uuid)>> {
    sqlx::query_as(
        "update sandbox_intents set status = $2, last_error = $3 where id = $1 and status not in ('succeeded', 'canceled') \
         returning amount_minor, currency::text, order_id",
    )
    .bind(intent_id)
    .bind(status)
    .bind(error)
    .fetch_optional(pool)
    .await
}

/// A new sandbox intent.
pub(crate) struct NewSandboxIntent<'a> {
    pub id: &'a str,
    pub idempotency_key: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub order_id: Uuid,
    pub client_secret: &'a str,
}

/// Makes an intent unless one was made under the key: (id, client secret) of the key's intent.
pub(crate) async fn create_intent(pool: &PgPool, intent: &NewSandboxIntent<'_>) -> sqlx::Result<(String, String)> {
    sqlx::query(
        "insert into sandbox_intents (id, idempotency_key, amount_minor, currency, order_id, client_secret, status) \
         values ($1, $2, $3, $4, $5, $6, 'requires_payment_method') on conflict (idempotency_key) do nothing",
    )
    .bind(intent.id)
    .bind(intent.idempotency_key)
    .bind(intent.amount_minor)
    .bind(intent.currency)
    .bind(intent.order_id)
    .bind(intent.client_secret)
    .execute(pool)
    .await?;
    sqlx::query_as("select id, client_secret from sandbox_intents where idempotency_key = $1")
        .bind(intent.idempotency_key)
        .fetch_one(pool)
        .await
}

/// Cancels an intent unless it succeeded: whether it is cancelled now.
pub(crate) async fn cancel(pool: &PgPool, intent_id: &str) -> sqlx::Result<bool> {
    let status: Option<String> = sqlx::query_scalar(
        "update sandbox_intents set status = case when status = 'succeeded' then status else 'canceled' end \
         where id = $1 returning status",
    )
    .bind(intent_id)
    .fetch_optional(pool)
    .await?;
    Ok(status.as_deref() == Some("canceled"))
}

/// An intent's (status, last error).
pub(crate) async fn intent_status(pool: &PgPool, intent_id: &str) -> sqlx::Result<Option<(String, Option<String>)>> {
    sqlx::query_as("select status, last_error from sandbox_intents where id = $1")
        .bind(intent_id)
        .fetch_optional(pool)
        .await
}

/// What the sandbox made of a refund.
pub(crate) enum SandboxRefund {
    /// Refunded now or before under the same key: its id.
    Done(String),
    NoIntent,
    NotSucceeded,
    TooMuch,
}

/// Locks a sandbox intent: (status, amount).
pub(crate) async fn lock_intent(tx: &mut PgConnection, intent_id: &str) -> sqlx::Result<Option<(String, i64)>> {
    sqlx::query_as("select status, amount_minor from sandbox_intents where id = $1 for update")
        .bind(intent_id)
        .fetch_optional(&mut *tx)
        .await
}

/// The sandbox refund made under this key, if any.
pub(crate) async fn refund_by_key(tx: &mut PgConnection, key: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("select id from sandbox_refunds where idempotency_key = $1")
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
}

/// What an intent's sandbox refunds add up to.
pub(crate) async fn refunded(tx: &mut PgConnection, intent_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("select coalesce(sum(amount_minor), 0)::bigint from sandbox_refunds where intent_id = $1")
        .bind(intent_id)
        .fetch_one(&mut *tx)
        .await
}

/// Records a sandbox refund.
pub(crate) async fn insert_refund(
    tx: &mut PgConnection,
    id: &str,
    intent_id: &str,
    key: &str,
    amount_minor: i64,
) -> sqlx::Result<()> {
    sqlx::query("insert into sandbox_refunds (id, intent_id, idempotency_key, amount_minor) values ($1, $2, $3, $4)")
        .bind(id)
        .bind(intent_id)
        .bind(key)
        .bind(amount_minor)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
