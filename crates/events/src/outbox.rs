//! The transactional outbox. A producer calls [`enqueue`] inside the transaction that makes the
//! state change, so the change and its event commit or roll back together. The table lives in
//! the producer's own schema; its DDL is `crate::schema`'s, made when the relay starts
//! (`Relay::start`).

use sqlx::PgConnection;
use uuid::Uuid;

use crate::{Envelope, Event};

/// The NOTIFY channel of a schema's outbox; the relay LISTENs on it.
pub fn channel(schema: &str) -> String {
    format!("outbox_{schema}")
}

/// Writes `event` into the outbox within `tx` and wakes the relay at commit. Returns the event id.
/// `tx` is the connection of an open transaction (a `&mut Transaction` coerces to it; so does
/// the consumer's connection, whose transaction records the processed event).
#[tracing::instrument(skip_all, fields(event_type = E::TYPE))]
pub async fn enqueue<E: Event>(tx: &mut PgConnection, producer: &str, event: &E) -> sqlx::Result<Uuid> {
    enqueue_envelope(tx, E::DOMAIN, &Envelope::new(producer, event)).await
}

/// Writes a made envelope into the outbox for the stream of `domain` (the producer's own);
/// what [`enqueue`] does, for events whose type every producer shares (AUDIT_RECORDED).
pub async fn enqueue_envelope(tx: &mut PgConnection, domain: &str, envelope: &Envelope) -> sqlx::Result<Uuid> {
    sqlx::query("insert into outbox (id, domain, event_type, envelope) values ($1, $2, $3, $4)")
        .bind(envelope.id)
        .bind(domain)
        .bind(&envelope.event_type)
        .bind(sqlx::types::Json(envelope))
        .execute(&mut *tx)
        .await?;
    // Delivered at commit, and only if the transaction commits.
    sqlx::query("select pg_notify('outbox_' || current_schema(), '')").execute(&mut *tx).await?;
    Ok(envelope.id)
}
