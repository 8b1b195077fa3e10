//! SQL of messages.

use chrono::{DateTime, Utc};
use contracts::types::DeliveryStatus;
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

/// A deleted account's verified numbers and pending code go.
pub async fn forget_phones(tx: &mut PgConnection, account: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from verified_phones where user_id = $1").bind(account).execute(&mut *tx).await?;
    sqlx::query("delete from phone_codes where user_id = $1").bind(account).execute(&mut *tx).await?;
    Ok(())
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

/// Claims up to `limit` due messages for this sender: they are due again only after `lease`
/// (other replicas skip them meanwhile; a sender that dies mid-send leaves them to be retried
/// then). No lock outlives the statement.
pub async fn claim_due(pool: &PgPool, limit: i64, lease: std::time::Duration) -> sqlx::Result<Vec<DueMessage>> {
    sqlx::query_as(
        "update messages set next_attempt_at = now() + make_interval(secs => $2) where id in \
           (select id from messages where status = 'pending' and next_attempt_at <= now() \
            order by next_attempt_at limit $1 for update skip locked) \
         returning id, event_id, kind, channel, recipient, subject, body_text, body_html, attempts",
    )
    .bind(limit)
    .bind(lease.as_secs_f64())
    .fetch_all(pool)
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
    pub status: DeliveryStatus,
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

/// Serialises what counts against an account's and a number's SMS quotas until `tx` ends.
async fn lock_sms_quota(tx: &mut PgConnection, account: Uuid, phone: &str) -> sqlx::Result<()> {
    sqlx::query(
        "select pg_advisory_xact_lock(hashtextextended('notifications.sms-account:' || $1::text, 0)), \
                pg_advisory_xact_lock(hashtextextended('notifications.sms-recipient:' || $2, 0))",
    )
    .bind(account)
    .bind(phone)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Whether one more SMS to `phone` about `account` stays within the daily quotas (the texts of
/// the last 24 hours, verification codes included). Holds the quota's lock until `tx` ends, so
/// the message recorded next in `tx` is counted by whoever asks after.
pub async fn sms_within_quota(
    tx: &mut PgConnection,
    account: Uuid,
    phone: &str,
    limits: &crate::domain::SmsLimits,
) -> sqlx::Result<bool> {
    lock_sms_quota(tx, account, phone).await?;
    let (by_account, by_recipient): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where user_id = $1), count(*) filter (where recipient = $2) from messages \
         where channel = 'sms' and created_at > now() - interval '1 day' and (user_id = $1 or recipient = $2)",
    )
    .bind(account)
    .bind(phone)
    .fetch_one(&mut *tx)
    .await?;
    Ok(by_account < limits.per_account_day && by_recipient < limits.per_recipient_day)
}

/// Whether `account` proved it holds `phone` (a confirmed code).
pub async fn phone_verified(conn: &mut PgConnection, account: Uuid, phone: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from verified_phones where user_id = $1 and phone = $2)")
        .bind(account)
        .bind(phone)
        .fetch_one(&mut *conn)
        .await
}

/// What asking for a new code came to.
pub enum CodeStarted {
    /// A code (its digest stored) for `phone` until `expires_at`.
    Started { expires_at: DateTime<Utc> },
    /// The last code was asked for less than the interval ago; retry after so many seconds.
    TooSoon { retry_after_secs: u64 },
}

/// Stores a new code's digest for `account` and `phone` (replacing an earlier one), unless one
/// was asked for within `interval`.
pub async fn start_code(
    tx: &mut PgConnection,
    account: Uuid,
    phone: &str,
    code_hash: &str,
    limits: &crate::domain::SmsLimits,
) -> sqlx::Result<CodeStarted> {
    let since: Option<f64> = sqlx::query_scalar(
        "select extract(epoch from now() - created_at)::float8 from phone_codes where user_id = $1 for update",
    )
    .bind(account)
    .fetch_optional(&mut *tx)
    .await?;
    let interval = limits.code_interval.as_secs_f64();
    if let Some(since) = since.filter(|since| *since < interval) {
        return Ok(CodeStarted::TooSoon { retry_after_secs: (interval - since).ceil().max(1.0) as u64 });
    }
    let expires_at: DateTime<Utc> = sqlx::query_scalar(
        "insert into phone_codes (user_id, phone, code_hash, expires_at) values ($1, $2, $3, now() + make_interval(secs => $4)) \
         on conflict (user_id) do update set phone = excluded.phone, code_hash = excluded.code_hash, attempts = 0, \
           expires_at = excluded.expires_at, created_at = now() \
         returning expires_at",
    )
    .bind(account)
    .bind(phone)
    .bind(code_hash)
    .bind(limits.code_ttl.as_secs_f64())
    .fetch_one(&mut *tx)
    .await?;
    Ok(CodeStarted::Started { expires_at })
}

/// How many wrong guesses a code allows.
pub const CODE_ATTEMPTS: i32 = 5;

/// Checks a code: the number it was sent to when it matches (then recorded as verified and the
/// code used up), `None` when it is wrong, used, expired or out of guesses (each wrong guess
/// counts).
pub async fn confirm_code(tx: &mut PgConnection, account: Uuid, code_hash: &str) -> sqlx::Result<Option<String>> {
    let row: Option<(String, String, i32, bool)> = sqlx::query_as(
        "select phone, code_hash, attempts, expires_at > now() from phone_codes where user_id = $1 for update",
    )
    .bind(account)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((phone, stored, attempts, live)) = row else { return Ok(None) };
    if !live || attempts >= CODE_ATTEMPTS {
        return Ok(None);
    }
    if stored != code_hash {
        sqlx::query("update phone_codes set attempts = attempts + 1 where user_id = $1")
            .bind(account)
            .execute(&mut *tx)
            .await?;
        return Ok(None);
    }
    sqlx::query("delete from phone_codes where user_id = $1").bind(account).execute(&mut *tx).await?;
    sqlx::query("insert into verified_phones (user_id, phone) values ($1, $2) on conflict do nothing")
        .bind(account)
        .bind(&phone)
        .execute(&mut *tx)
        .await?;
    Ok(Some(phone))
}
