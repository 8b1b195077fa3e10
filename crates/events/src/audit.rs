//! AUDIT_RECORDED: every staff write, recorded by the owner that took it, in the write's own
//! transaction, on the owner's own stream (only its producer writes a stream). The admin
//! service gathers them from every stream into the append-only audit log. Unlike the catalog's
//! events, one type is shared by every producer, so it has its own way onto the outbox.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::Envelope;

pub const AUDIT_RECORDED: &str = "AUDIT_RECORDED";
pub const VERSION: u16 = 1;

/// One staff write: who, what, on which thing, and the thing before and after (never a
/// secret: owners record what their staff routes answer, not what they keep sealed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecorded {
    /// The staff member's user id (the internal token's subject).
    pub actor: String,
    /// `<domain>.<verb>`, e.g. `page.publish`, `stock.set`, `payment.refund`.
    pub action: String,
    /// `<kind>:<id>`, e.g. `page:about`, `sku:MUG-1`, `payment:<uuid>`.
    pub target: String,
    /// None when the write created the thing.
    pub before: Option<serde_json::Value>,
    /// None when the write deleted it.
    pub after: Option<serde_json::Value>,
    /// The request that made the write (also on the envelope).
    pub request_id: Option<String>,
}

impl AuditRecorded {
    /// An entry for `actor`'s `action` on `target`, with the current request id.
    pub fn new(
        actor: &str,
        action: &str,
        target: impl Into<String>,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Self {
        Self {
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.into(),
            before,
            after,
            request_id: observability::current_request_id().map(|id| id.as_str().to_owned()),
        }
    }
}

/// Records `entry` in `producer`'s outbox (its own stream), within the write's transaction.
pub async fn record(tx: &mut PgConnection, producer: &str, entry: &AuditRecorded) -> sqlx::Result<Uuid> {
    let envelope = Envelope {
        id: Uuid::now_v7(),
        event_type: AUDIT_RECORDED.to_owned(),
        version: VERSION,
        occurred_at: chrono::Utc::now(),
        producer: producer.to_owned(),
        aggregate_id: entry.target.clone(),
        request_id: entry.request_id.clone(),
        payload: serde_json::to_value(entry).expect("audit entries serialize"),
    };
    crate::outbox::enqueue_envelope(tx, producer, &envelope).await
}

/// The entry an envelope holds, if it is an AUDIT_RECORDED of a version this build reads.
pub fn decode(envelope: &Envelope) -> Option<Result<AuditRecorded, serde_json::Error>> {
    (envelope.event_type == AUDIT_RECORDED && envelope.version == VERSION)
        .then(|| serde_json::from_value(envelope.payload.clone()))
}
