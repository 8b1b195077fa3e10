//! All of the admin schema's SQL: the audit log, appended to by the consumer (once per event)
//! and read newest first, by target or by actor.

use chrono::{DateTime, Utc};
use events::audit::AuditRecorded;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Appends an entry (a redelivered event adds nothing).
pub(crate) async fn append(
    tx: &mut PgConnection,
    event_id: Uuid,
    recorded_at: DateTime<Utc>,
    producer: &str,
    entry: &AuditRecorded,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into audit_log (event_id, recorded_at, producer, actor, action, target, before, after, request_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (event_id) do nothing",
    )
    .bind(event_id)
    .bind(recorded_at)
    .bind(producer)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(&entry.before)
    .bind(&entry.after)
    .bind(&entry.request_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// An entry as kept.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Entry {
    pub event_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub producer: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

/// Entries newest first, optionally of one target and/or one actor, after a cursor position.
pub(crate) async fn entries(
    pool: &PgPool,
    target: Option<&str>,
    actor: Option<&str>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<Entry>> {
    sqlx::query_as(
        "select event_id, recorded_at, producer, actor, action, target, before, after, request_id from audit_log \
         where ($1::text is null or target = $1) and ($2::text is null or actor = $2) \
         and ($3::timestamptz is null or (recorded_at, event_id) < ($3, $4)) \
         order by recorded_at desc, event_id desc limit $5",
    )
    .bind(target)
    .bind(actor)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(pool)
    .await
}
