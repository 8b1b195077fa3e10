//! A signed-in account's own changes, each behind its current password (checked and throttled
//! like a sign-in): a new password (every other session ends), a new email (effective once the
//! link sent to it is used; the old address is told), and deleting the account (USER_DELETED:
//! every service erases or anonymises what it holds about the person).

use ::events::catalog::{EmailChangeRequested, PasswordChanged, UserDeleted, UserEmailChanged};
use service_kit::{FieldCode, FieldError, Problem};
use uuid::Uuid;

use crate::accounts::{Accounts, SignIn};
use crate::domain::{Email, NewPassword};
use crate::error::{ApiError, Result};
use crate::session::Sessions;
use crate::store::{self, Purpose};
use crate::{SERVICE, one_time};

impl Accounts {
    /// Checks the signed-in account's password, counted and throttled like a sign-in; a wrong
    /// one is a 422 on `field` (the caller is signed in: a 401 would read as an expired token).
    /// A staff account is refused with `staff_refusal` (403) before any password is checked,
    /// when the change is not one staff make here. A right password clears the password
    /// counters only, never the second-factor one (review f5592e3 L9).
    async fn confirm(
        &self,
        user_id: Uuid,
        password: &str,
        network: Option<&str>,
        field: &str,
        staff_refusal: Option<&str>,
    ) -> Result<String> {
        let mut conn = self.pool.acquire().await?;
        let (email, role) = store::live_account(&mut conn, user_id).await?.ok_or(ApiError::NotSignedIn)?;
        drop(conn);
        let staff = store::staff_role(&role).is_some();
        if let Some(refusal) = staff_refusal.filter(|_| staff) {
            return Err(Problem::forbidden(refusal).into());
        }
        let kind = if staff { SignIn::Admin } else { SignIn::Customer };
        match self.check_password(&email, password, network, kind).await {
            Ok(ok) => {
                self.complete_password_only(ok).await;
                Ok(email)
            }
            Err(ApiError::InvalidCredentials) => {
                Err(FieldError::new(field, FieldCode::InvalidValue, "this is not the account's current password")
                    .into())
            }
            Err(other) => Err(other),
        }
    }

    /// Sets a new password after checking the current one; every other session (and its access
    /// tokens) ends, this one stays. PASSWORD_CHANGED tells the owner. Returns how many ended.
    pub(crate) async fn change_password(
        &self,
        sessions: &Sessions,
        user_id: Uuid,
        current_session: Option<Uuid>,
        current: &str,
        new: &str,
        network: Option<&str>,
    ) -> Result<usize> {
        let new = NewPassword::parse(new).map_err(|e| FieldError::new("new_password", e.code, e.message))?;
        let email = self.confirm(user_id, current, network, "current_password", None).await?;
        let hash = self.passwords.hash(&new.0).await?;
        let mut tx = self.pool.begin().await?;
        store::set_password(&mut tx, user_id, &hash).await?;
        store::void_tokens(&mut tx, Purpose::ResetPassword, user_id).await?;
        let ended = store::sessions::revoke_others(&mut tx, user_id, current_session, "password_changed").await?;
        ::events::enqueue(&mut tx, SERVICE, &PasswordChanged { user_id: user_id.into(), email }).await?;
        // The ended sessions' access tokens die before the commit (as on a reset).
        for family in &ended {
            sessions.revoke_session_tokens(user_id, &family.to_string()).await?;
        }
        tx.commit().await?;
        tracing::info!(%user_id, ended_sessions = ended.len(), "password changed");
        Ok(ended.len())
    }

    /// Asks to move the account to `new_email`: a link goes there (EMAIL_CHANGE_REQUESTED);
    /// nothing changes until it is used. Older unused change links stop working.
    pub(crate) async fn request_email_change(
        &self,
        user_id: Uuid,
        password: &str,
        new_email: &str,
        network: Option<&str>,
    ) -> Result<(String, chrono::DateTime<chrono::Utc>)> {
        let new_email = Email::parse(new_email).map_err(|e| FieldError::new("new_email", e.code, e.message))?;
        let refusal = "a staff account's email is changed by an administrator";
        let old_email = self.confirm(user_id, password, network, "password", Some(refusal)).await?;
        if new_email.as_str() == old_email {
            return Err(FieldError::new("new_email", FieldCode::InvalidValue, "this is the current address").into());
        }
        let mut tx = self.pool.begin().await?;
        if store::user_id_by_email(&mut tx, &new_email).await?.is_some() {
            return Err(ApiError::EmailTaken);
        }
        store::void_tokens(&mut tx, Purpose::ChangeEmail, user_id).await?;
        let (token_ref, expires_at) = self
            .issue_token_for(
                &mut tx,
                Purpose::ChangeEmail,
                user_id,
                one_time::CHANGE_EMAIL_TTL_SECS,
                Some(new_email.as_str()),
            )
            .await?;
        let email = new_email.as_str().to_owned();
        let event =
            EmailChangeRequested { user_id: user_id.into(), email: email.clone(), old_email, token_ref, expires_at };
        ::events::enqueue(&mut tx, SERVICE, &event).await?;
        tx.commit().await?;
        Ok((email, expires_at))
    }

    /// Uses an email-change link: the account moves to the new (now verified) address, and
    /// USER_EMAIL_CHANGED tells the old one. 409 if another account took the address since.
    pub(crate) async fn confirm_email_change(&self, token: &str) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        let (user_id, new_email) =
            store::consume_email_change(&mut tx, &one_time::hash(token)).await?.ok_or(ApiError::InvalidLink)?;
        let old_email = store::change_email(&mut tx, user_id, &new_email).await?.ok_or(ApiError::EmailTaken)?;
        let event = UserEmailChanged { user_id: user_id.into(), old_email, new_email: new_email.clone() };
        ::events::enqueue(&mut tx, SERVICE, &event).await?;
        tx.commit().await?;
        tracing::info!(%user_id, "email changed");
        Ok(new_email)
    }

    /// Deletes the signed-in shopper's account after checking the password: the account keeps
    /// only its id, every session and access token ends, and USER_DELETED asks every service
    /// to erase or anonymise the person's data. Staff accounts are disabled by an administrator
    /// instead.
    pub(crate) async fn delete_account(
        &self,
        sessions: &Sessions,
        user_id: Uuid,
        password: &str,
        network: Option<&str>,
    ) -> Result<()> {
        let refusal = "a staff account is disabled by an administrator, not deleted";
        self.confirm(user_id, password, network, "password", Some(refusal)).await?;
        let mut tx = self.pool.begin().await?;
        let email = store::delete_account(&mut tx, user_id).await?.ok_or(ApiError::NotSignedIn)?;
        sessions.revoke_all_in(&mut tx, user_id, "account_deleted").await?;
        ::events::enqueue(&mut tx, SERVICE, &UserDeleted { user_id: user_id.into(), email }).await?;
        sessions.revoke_user_tokens(user_id).await?;
        tx.commit().await?;
        tracing::info!(%user_id, "account deleted by its owner");
        Ok(())
    }
}
