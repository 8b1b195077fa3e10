//! All of the payment service's SQL (schema `payments`): intents, their state changes with
//! their events in one transaction, and the provider events already handled.

use chrono::{DateTime, Utc};
use events::catalog::{PaymentFailed, PaymentSucceeded};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A payment as its payer sees it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Payment {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub provider: String,
    #[serde(skip)]
    pub provider_intent_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    /// What the storefront confirms the payment with.
    pub client_secret: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id as payment_id, order_id, provider, provider_intent_id, amount_minor, \
     currency::text as currency, status, client_secret, created_at";

/// A new intent for an order.
pub struct NewIntent<'a> {
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub provider: &'a str,
    pub provider_intent_id: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub client_secret: &'a str,
}

/// Writes the order's intent unless it has one; (the payment, whether it is new).
pub async fn create_or_find(pool: &PgPool, intent: &NewIntent<'_>) -> sqlx::Result<(Payment, bool)> {
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
pub async fn find_for_order(pool: &PgPool, order_id: Uuid) -> sqlx::Result<Option<Payment>> {
    let sql = format!("select {COLUMNS} from payments where order_id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(order_id).fetch_optional(pool).await
}

/// A payment of `owner`.
pub async fn find(pool: &PgPool, id: Uuid, owner: Uuid) -> sqlx::Result<Option<Payment>> {
    let sql = format!("select {COLUMNS} from payments where id = $1 and user_id = $2");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(owner).fetch_optional(pool).await
}

/// Marks a payment as being confirmed (from `requires_confirmation` or `failed`); whether it was.
pub async fn start_confirming(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "update payments set status = 'processing', updated_at = now() where id = $1 and status in ('requires_confirmation', 'failed')",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Records a provider event id; false when it was handled before.
pub async fn first_delivery(
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

/// What a provider's verdict changed.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    Succeeded,
    Failed,
    /// Nothing: an unknown intent, or a state that may not change that way (a success is final).
    Nothing,
}

/// Applies a provider's verdict on an intent with its event, in `tx`. A payment never goes
/// from succeeded to failed; a second success changes nothing.
pub async fn record_verdict(
    tx: &mut PgConnection,
    provider: &str,
    intent_id: &str,
    succeeded: bool,
    reason: &str,
) -> sqlx::Result<Recorded> {
    let row: Option<(Uuid, Uuid, String, i64, String)> = sqlx::query_as(
        "select id, order_id, status, amount_minor, currency::text from payments where provider = $1 and provider_intent_id = $2 for update",
    )
    .bind(provider)
    .bind(intent_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((payment_id, order_id, status, amount_minor, currency)) = row else { return Ok(Recorded::Nothing) };
    if status == "succeeded" {
        return Ok(Recorded::Nothing);
    }
    if succeeded {
        sqlx::query(
            "update payments set status = 'succeeded', failure_reason = null, updated_at = now() where id = $1",
        )
        .bind(payment_id)
        .execute(&mut *tx)
        .await?;
        let event = PaymentSucceeded { payment_id, order_id, amount_minor, currency, provider: provider.to_owned() };
        events::enqueue(tx, crate::SERVICE, &event).await?;
        Ok(Recorded::Succeeded)
    } else {
        sqlx::query("update payments set status = 'failed', failure_reason = $2, updated_at = now() where id = $1")
            .bind(payment_id)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        events::enqueue(tx, crate::SERVICE, &PaymentFailed { payment_id, order_id, reason: reason.to_owned() }).await?;
        Ok(Recorded::Failed)
    }
}
