//! The backbone's own tables, written once here and made in each producer's or consumer's
//! schema when it starts (idempotently: `if not exists`): the producer's `outbox` and the
//! consumer's `processed_events`. Services' migrations do not repeat them. (The first services'
//! migrations made the same tables before this module existed; they are left as they were, since
//! an applied migration is never edited, and what they made is exactly what is made here.)

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The outbox: events written in the producer's transaction, published by the relay.
const OUTBOX: &str = "\
create table if not exists outbox (
    id uuid primary key,
    domain text not null,
    event_type text not null,
    envelope jsonb not null,
    created_at timestamptz not null default now(),
    sent_at timestamptz
)";

/// Unsent rows in order, for the relay's batches.
const OUTBOX_INDEX: &str =
    "create index if not exists outbox_unsent_idx on outbox (created_at, id) where sent_at is null";

/// The ids of events a consumer has applied: a redelivered event finds its id and is a no-op.
const PROCESSED_EVENTS: &str = "\
create table if not exists processed_events (
    event_id uuid primary key,
    event_type text not null,
    processed_at timestamptz not null default now()
)";

/// Makes the outbox in the schema of `pool` (the service's own `search_path`).
pub async fn ensure_outbox(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::raw_sql(OUTBOX).execute(pool).await?;
    sqlx::raw_sql(OUTBOX_INDEX).execute(pool).await?;
    Ok(())
}

/// Makes `processed_events` in the schema of `pool`.
pub async fn ensure_processed_events(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::raw_sql(PROCESSED_EVENTS).execute(pool).await?;
    Ok(())
}

/// Records that the consumer applies `event_id` in `tx`; `false` when it was applied before.
pub(crate) async fn record_processed(tx: &mut PgConnection, event_id: Uuid, event_type: &str) -> sqlx::Result<bool> {
    let inserted =
        sqlx::query("insert into processed_events (event_id, event_type) values ($1, $2) on conflict do nothing")
            .bind(event_id)
            .bind(event_type)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    Ok(inserted == 1)
}
