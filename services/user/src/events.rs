//! What the user service consumes and emits: from auth's stream, USER_REGISTERED makes a profile
//! (idempotently) and USER_EMAIL_VERIFIED marks it verified; it emits nothing yet.

use events::catalog::AuthEvent;
use events::consumer::HandleFuture;
use events::{Envelope, Handled, Handler};
use sqlx::PgConnection;

/// The streams this service consumes.
pub const CONSUMES: &[&str] = &[AuthEvent::DOMAIN];

/// Applies auth's events to profiles.
pub struct Profiles;

impl Handler for Profiles {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            match AuthEvent::decode(event)? {
                Some(AuthEvent::UserRegistered(e)) => {
                    crate::store::upsert_from_registration(tx, e.user_id, &e.email).await?;
                    Ok(Handled::Applied)
                }
                Some(AuthEvent::UserEmailVerified(e)) => {
                    crate::store::mark_email_verified(tx, e.user_id, &e.email).await?;
                    Ok(Handled::Applied)
                }
                _ => Ok(Handled::Ignored),
            }
        })
    }
}
