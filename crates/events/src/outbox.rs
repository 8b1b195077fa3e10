//! The transactional outbox. A producer calls [`enqueue`] inside the transaction that makes the
//! state change, so the change and its event commit or roll back together. The table lives in
//! the producer's own schema (each producer's migrations create it):
//!
//! ```sql
//! create table outbox (
//!     id uuid primary key,              -- the event id (UUID v7)
//!     domain text not null,             -- names the stream: events.<domain>
//!     event_type text not null,
//!     envelope jsonb not null,
//!     created_at timestamptz not null default now(),
//!     sent_at timestamptz               -- null until the relay has published it
//! );
//! create index outbox_unsent_idx on outbox (created_at, id) where sent_at is null;
//! ```

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::{Envelope, Event};

/// The NOTIFY channel of a schema's outbox; the relay LISTENs on it.
pub fn channel(schema: &str) -> String {
    format!("outbox_{schema}")
}

/// Writes `event` into the outbox within `tx` and wakes the relay at commit. Returns the event id.
#[tracing::instrument(skip_all, fields(event_type = E::TYPE))]
pub async fn enqueue<E: Event>(tx: &mut Transaction<'_, Postgres>, producer: &str, event: &E) -> sqlx::Result<Uuid> {
    let envelope = Envelope::new(producer, event);
    sqlx::query("insert into outbox (id, domain, event_type, envelope) values ($1, $2, $3, $4)")
        .bind(envelope.id)
        .bind(E::DOMAIN)
        .bind(E::TYPE)
        .bind(sqlx::types::Json(&envelope))
        .execute(&mut **tx)
        .await?;
    // Delivered at commit, and only if the transaction commits.
    sqlx::query("select pg_notify('outbox_' || current_schema(), '')").execute(&mut **tx).await?;
    Ok(envelope.id)
}
