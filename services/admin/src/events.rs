//! What the admin service consumes: AUDIT_RECORDED from every producer's stream, appended to
//! the audit log in the consumer's transaction (with the processed-event record). Every other
//! event on those streams is acknowledged without a transaction (`wants`). It emits nothing.

use events::audit::{self, AUDIT_RECORDED};
use events::consumer::HandleFuture;
use events::{Envelope, Handled, Handler, HandlerError};
use sqlx::PgConnection;

/// The streams this service consumes: every producer's.
pub(crate) const CONSUMES: &[&str] = service_kit::redis_acl::PRODUCES;

/// Appends staff writes to the audit log.
pub(crate) struct AuditLog;

impl Handler for AuditLog {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            let Some(entry) = audit::decode(event) else { return Ok(Handled::Ignored) };
            let entry = entry.map_err(HandlerError::new)?;
            crate::store::append(tx, event.id, event.occurred_at, &event.producer, &entry).await?;
            Ok(Handled::Applied)
        })
    }

    fn wants(&self, event_type: &str) -> bool {
        event_type == AUDIT_RECORDED
    }
}
