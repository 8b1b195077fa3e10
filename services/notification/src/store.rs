//! SQL of messages.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{Kind, Rendered};

/// How a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
    Push,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Push => "push",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            "push" => Some(Self::Push),
            _ => None,
        }
    }
}

pub struct NewMessage {
    pub event_id: Uuid,
    pub kind: Kind,
    pub channel: Channel,
    pub recipient: String,
    pub rendered: Rendered,
    /// The account the message is about.
    pub account: Uuid,
}

/// The channel the sender wakes on.
pub const WAKE_CHANNEL: &str = "notifications_messages";

/// A deleted account's messages: those recorded for the account (whatever address or phone
/// they went to) and any email to its last address lose the address and the bodies (one still
/// waiting is not sent); the record of what was sent when stays. Returns how many rows changed.
pub async fn erase_account(tx: &mut PgConnection, account: Uuid, email: &str) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "update messages set recipient = 'erased', subject = null, body_text = null, body_html = null, \
            status = case when status = 'pending' then 'failed' else status end \
         where user_id = $1 or (channel = 'email' and recipient = $2)",
    )
    .bind(account)
    .bind(email)
    .execute(&mut *tx)
    .await?;
    Ok(result.rows_affected())
}

/// Records a message unless the event already produced it; wakes the sender at commit.
pub async fn insert_message(tx: &mut PgConnection, message: &NewMessage) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "insert into messages (id, event_id, kind, channel, recipient, subject, body_text, body_html, user_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict on constraint messages_once_per_recipient do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(message.event_id)
    .bind(message.kind.as_str())
    .bind(message.channel.as_str())
    .bind(&message.recipient)
    .bind(&message.rendered.subject)
    .bind(&message.rendered.text)
    .bind(&message.rendered.html)
    .bind(message.account)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    sqlx::query("select pg_notify($1, '')").bind(WAKE_CHANNEL).execute(&mut *tx).await?;
    Ok(inserted)
}

/// A message due for (another) sending attempt.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DueMessage {
    pub id: Uuid,
    pub event_id: Uuid,
    pub kind: String,
    pub channel: String,
    pub recipient: String,
    pub subject: Option<String>,
    pub body_text: Option<String>,
    pub body_html: Option<String>,
    pub attempts: i32,
}

/// Locks up to `limit` due messages for this sender (others skip them).
pub async fn lock_due(tx: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<DueMessage>> {
    sqlx::query_as(
        "select id, event_id, kind, channel, recipient, subject, body_text, body_html, attempts from messages \
         where status = 'pending' and next_attempt_at <= now() order by next_attempt_at limit $1 for update skip locked",
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await
}

/// Sent: the body (which may hold a one-time link) is dropped.
pub async fn mark_sent(tx: &mut PgConnection, id: Uuid, provider_id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "update messages set status = 'sent', attempts = attempts + 1, provider_id = $2, sent_at = now(), \
         last_error = null, body_text = null, body_html = null where id = $1",
    )
    .bind(id)
    .bind(provider_id)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// A failed attempt: retried at `retry_at`, or failed for good (body dropped) when `None`.
pub async fn mark_attempt_failed(
    tx: &mut PgConnection,
    id: Uuid,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    match retry_at {
        Some(at) => sqlx::query("update messages set attempts = attempts + 1, last_error = $2, next_attempt_at = $3 where id = $1")
            .bind(id)
            .bind(error)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map(|_| ()),
        None => sqlx::query(
            "update messages set status = 'failed', attempts = attempts + 1, last_error = $2, body_text = null, body_html = null where id = $1",
        )
        .bind(id)
        .bind(error)
        .execute(&mut *tx)
        .await
        .map(|_| ()),
    }
}

/// A message as the admin listing shows it (never its body).
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MessageSummary {
    pub id: Uuid,
    pub event_id: Uuid,
    pub kind: String,
    pub channel: String,
    pub recipient: String,
    pub subject: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

pub async fn recent(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<MessageSummary>> {
    sqlx::query_as(
        "select id, event_id, kind, channel, recipient, subject, status, attempts, provider_id, last_error, \
         created_at, updated_at, sent_at from messages order by created_at desc, id desc limit $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}
