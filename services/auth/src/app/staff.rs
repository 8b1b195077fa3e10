//! Staff and the back office's view of accounts: inviting a staff member (an account with a
//! role and no password, and a sealed one-time link that sets the password and enrols the
//! second factor), looking accounts up, and disabling one (no sign-in, every session ended).
//! The permission checks are here, on the staff member's identity the admin service forwards,
//! and every write records AUDIT_RECORDED in its own transaction.

use ::events::audit::{self, AuditRecorded};
use ::events::catalog::StaffInvited;
use contracts::auth::{Account, Invited};
use internal_token::Caller;
use service_kit::{FieldCode, FieldError, FieldErrors, Permission, Problem, StaffRole};
use uuid::Uuid;

use crate::accounts::Accounts;
use crate::admin::Enrolment;
use crate::domain::{Email, NewPassword};
use crate::error::{ApiError, Result};
use crate::session::Sessions;
use crate::store::{self, InsertOutcome, Purpose};
use crate::{SERVICE, one_time};

/// The password hash of a staff member who has not accepted the invitation yet.
const INVITED: &str = "!invited";

fn not_found() -> ApiError {
    ApiError::Problem(Problem::not_found("no account with this id"))
}

/// The staff member behind an internal call.
fn actor(caller: &Caller) -> Result<String> {
    Ok(caller.user_id().ok_or(ApiError::NotSignedIn)?.to_string())
}

/// What an account looks like in the audit log (the public view; never a secret), without its
/// email (review f5592e3 L7: the log is append-only and outlives a deleted account; the
/// account's id names it, and the email lives with the account while the account does).
fn view(account: &Account) -> Option<serde_json::Value> {
    let mut view = serde_json::to_value(account).ok()?;
    if let Some(fields) = view.as_object_mut() {
        fields.remove("email");
    }
    Some(view)
}

impl Accounts {
    /// Invites a staff member (`staff:write`): the account with its role and no password, the
    /// invitation token, STAFF_INVITED (the email) and the audit entry, in one transaction.
    pub(crate) async fn invite_staff(&self, caller: &Caller, email: &str, role: &str) -> Result<Invited> {
        caller.require_perm(Permission::StaffWrite)?;
        let actor = actor(caller)?;
        let mut errors = FieldErrors::default();
        let email = errors.check(Email::parse(email));
        let role = StaffRole::parse(role);
        if role.is_none() {
            errors.push(
                "role",
                FieldCode::InvalidValue,
                "one of admin, catalog_manager, order_manager, support, content_editor",
            );
        }
        let (email, role) = errors.finish_with(email.zip(role))?;
        let mut tx = self.pool.begin().await?;
        let id = match store::insert_user(&mut tx, &email, INVITED, role.as_str()).await? {
            InsertOutcome::Created(id) => id,
            InsertOutcome::EmailTaken => return Err(ApiError::EmailTaken),
        };
        let (token_ref, expires_at) =
            self.issue_token(&mut tx, Purpose::StaffInvite, id, one_time::STAFF_INVITE_TTL_SECS).await?;
        let account = store::staff::by_id(&mut tx, id).await?.ok_or_else(not_found)?;
        let invited = StaffInvited {
            user_id: id.into(),
            email: account.email.clone(),
            role: account.role.clone(),
            token_ref,
            expires_at,
        };
        ::events::enqueue(&mut tx, SERVICE, &invited).await?;
        let entry = AuditRecorded::new(&actor, "staff.invite", format!("account:{id}"), None, view(&account));
        audit::record(&mut tx, SERVICE, &entry).await?;
        tx.commit().await?;
        tracing::info!(user_id = %id, role = role.as_str(), "staff member invited");
        Ok(Invited { account, invitation_expires_at: expires_at })
    }

    /// Accepts an invitation: the token is used up, the password set, the address verified and
    /// the second factor enrolled, in one transaction. The enrolment is shown once.
    pub(crate) async fn accept_invitation(&self, token: &str, password: &str) -> Result<Enrolment> {
        let password = NewPassword::parse(password)?;
        let mut tx = self.pool.begin().await?;
        let user_id = store::consume_token(&mut tx, Purpose::StaffInvite, &one_time::hash(token))
            .await?
            .ok_or(ApiError::InvalidLink)?;
        let hash = self.passwords.hash(&password.0).await?;
        let email = store::staff::accept(&mut tx, user_id, &hash).await?;
        let enrolment = crate::admin::enroll(&mut tx, &self.vault, user_id, &email).await?;
        tx.commit().await?;
        tracing::info!(%user_id, "staff invitation accepted");
        Ok(enrolment)
    }

    /// Every staff account (`staff:write`).
    pub(crate) async fn list_staff(&self, caller: &Caller) -> Result<Vec<Account>> {
        caller.require_perm(Permission::StaffWrite)?;
        let mut conn = self.pool.acquire().await?;
        Ok(store::staff::list_staff(&mut conn).await?)
    }

    /// An account by id (`customers:read`).
    pub(crate) async fn account(&self, caller: &Caller, id: Uuid) -> Result<Account> {
        caller.require_perm(Permission::CustomersRead)?;
        let mut conn = self.pool.acquire().await?;
        store::staff::by_id(&mut conn, id).await?.ok_or_else(not_found)
    }

    /// An account by email (`customers:read`).
    pub(crate) async fn account_by_email(&self, caller: &Caller, email: &str) -> Result<Account> {
        caller.require_perm(Permission::CustomersRead)?;
        let email = Email::parse(email)?;
        let mut conn = self.pool.acquire().await?;
        store::staff::by_email(&mut conn, &email)
            .await?
            .ok_or_else(|| ApiError::Problem(Problem::not_found("no account with this email")))
    }

    /// Disables an account (`Some(reason)`) or enables it again (`None`). A customer's needs
    /// `customers:write`, a staff member's `staff:write`; nobody disables their own. Disabling
    /// ends every session and its access tokens before the commit (as a password change does).
    pub(crate) async fn set_disabled(
        &self,
        sessions: &Sessions,
        caller: &Caller,
        id: Uuid,
        reason: Option<&str>,
    ) -> Result<Account> {
        caller.require_perm(Permission::CustomersWrite)?;
        let actor = actor(caller)?;
        let reason = match reason.map(str::trim) {
            Some("") => return Err(FieldError::new("reason", FieldCode::Required, "say why").into()),
            Some(reason) if reason.chars().count() > 500 => {
                return Err(FieldError::new("reason", FieldCode::InvalidLength, "at most 500 characters").into());
            }
            other => other,
        };
        let mut tx = self.pool.begin().await?;
        let before = store::staff::lock(&mut tx, id).await?.ok_or_else(not_found)?;
        if StaffRole::parse(&before.role).is_some() {
            caller.require_perm(Permission::StaffWrite)?;
        }
        if actor == id.to_string() {
            return Err(Problem::forbidden("you cannot disable or enable your own account").into());
        }
        let after = store::staff::set_disabled(&mut tx, id, reason).await?;
        let action = if reason.is_some() { "account.disable" } else { "account.enable" };
        let entry = AuditRecorded::new(&actor, action, format!("account:{id}"), view(&before), view(&after));
        audit::record(&mut tx, SERVICE, &entry).await?;
        if reason.is_some() {
            let ended = sessions.revoke_all_in(&mut tx, id, "account_disabled").await?;
            sessions.revoke_user_tokens(id).await?;
            tracing::warn!(security_event = "account_disabled", user_id = %id, sessions = ended, "account disabled");
        }
        tx.commit().await?;
        Ok(after)
    }
}
