//! What the user service consumes and emits: from auth's stream, USER_REGISTERED makes a profile
//! (idempotently), USER_EMAIL_VERIFIED marks it verified, USER_EMAIL_CHANGED moves it to the new
//! address and USER_DELETED erases it (addresses and devices with it); it emits nothing.

use events::catalog::AuthEvent;
use events::consumer::HandleFuture;
use events::{Envelope, Handled, Handler};
use sqlx::PgConnection;

/// The streams this service consumes.
pub(crate) const CONSUMES: &[&str] = &[AuthEvent::DOMAIN];

/// Applies auth's events to profiles.
pub(crate) struct Profiles;

impl Handler for Profiles {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            match AuthEvent::decode(event)? {
                Some(AuthEvent::UserRegistered(e)) => {
                    crate::store::upsert_from_registration(tx, e.user_id.into(), &e.email).await?;
                    Ok(Handled::Applied)
                }
                Some(AuthEvent::UserEmailVerified(e)) => {
                    crate::store::mark_email_verified(tx, e.user_id.into(), &e.email).await?;
                    Ok(Handled::Applied)
                }
                Some(AuthEvent::UserEmailChanged(e)) => {
                    crate::store::change_email(tx, e.user_id.into(), &e.new_email).await?;
                    Ok(Handled::Applied)
                }
                Some(AuthEvent::UserDeleted(e)) => {
                    crate::store::erase(tx, e.user_id.into()).await?;
                    Ok(Handled::Applied)
                }
                _ => Ok(Handled::Ignored),
            }
        })
    }
}
