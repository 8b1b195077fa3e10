//! Accounts: registration, email verification, password reset and the password check of every
//! sign-in (with throttling). Each state change and its events commit in one transaction.

use std::sync::Arc;

use ::events::catalog::{
    EmailVerificationRequested, PasswordChanged, PasswordResetRequested, UserEmailVerified, UserRegistered,
};
use service_kit::FieldErrors;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{Email, NewPassword, PASSWORD_MAX_CHARS};
use crate::error::{ApiError, Result};
use crate::password::PasswordHasher;
use crate::session::Sessions;
use crate::store::{self, InsertOutcome, Purpose};
use crate::throttle::{Attempt, Throttle};
use crate::vault::Vault;
use crate::{SERVICE, one_time};

/// Which endpoint a sign-in comes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SignIn {
    /// `/auth/login`: customers only.
    Customer,
    /// `/auth/admin/login`: administrators, with a second factor.
    Admin,
}

/// A password that matched, for a sign-in not finished yet (its attempt still reserved).
pub(crate) struct PasswordOk {
    account: store::Credentials,
    attempt: Attempt,
    email: String,
}

/// The account operations, on the auth schema.
pub(crate) struct Accounts {
    pub(crate) pool: PgPool,
    pub(crate) passwords: Arc<PasswordHasher>,
    throttle: Throttle,
    pub(crate) vault: Arc<Vault>,
}

/// The context a one-time token is sealed under: its reference.
fn token_context(token_ref: Uuid) -> String {
    format!("one-time-token:{token_ref}")
}

/// Reset mails one address gets in 24 hours (and at most one per 2 minutes).
const RESET_MAILS_PER_DAY: i64 = 5;

impl Accounts {
    pub(crate) fn new(pool: PgPool, passwords: Arc<PasswordHasher>, throttle: Throttle, vault: Arc<Vault>) -> Self {
        Self { pool, passwords, throttle, vault }
    }

    /// Makes a one-time token: its hash checks the link, its sealed copy waits for the mailer
    /// (by reference: the token never travels in an event). Returns the reference and expiry.
    pub(crate) async fn issue_token(
        &self,
        tx: &mut sqlx::PgConnection,
        purpose: Purpose,
        user_id: Uuid,
        ttl_secs: i64,
    ) -> Result<(Uuid, chrono::DateTime<chrono::Utc>)> {
        self.issue_token_for(tx, purpose, user_id, ttl_secs, None).await
    }

    /// Like [`Accounts::issue_token`], for an email change to `new_email`.
    pub(crate) async fn issue_token_for(
        &self,
        tx: &mut sqlx::PgConnection,
        purpose: Purpose,
        user_id: Uuid,
        ttl_secs: i64,
        new_email: Option<&str>,
    ) -> Result<(Uuid, chrono::DateTime<chrono::Utc>)> {
        let (token, token_hash) = one_time::generate();
        let token_ref = Uuid::now_v7();
        let token_sealed = self.vault.seal(token.as_bytes(), &token_context(token_ref));
        let new = store::NewToken {
            purpose,
            user_id,
            token_hash: &token_hash,
            token_ref,
            token_sealed: &token_sealed,
            ttl_secs,
            new_email,
        };
        let expires_at = store::insert_token(tx, new).await?;
        Ok((token_ref, expires_at))
    }

    /// The clear token behind `token_ref`, for the mailer, while it is unused and unexpired.
    pub(crate) async fn one_time_token(&self, token_ref: Uuid) -> Result<Option<String>> {
        let Some(sealed) = store::sealed_token(&self.pool, token_ref).await? else {
            return Ok(None);
        };
        match self.vault.open(&sealed, &token_context(token_ref)) {
            Ok(token) => Ok(String::from_utf8(token).ok()),
            Err(error) => {
                tracing::error!(error = %service_kit::Chain(&error), "a sealed one-time token cannot be opened");
                Ok(None)
            }
        }
    }

    /// Creates an account with its verification token: the account, USER_REGISTERED and
    /// EMAIL_VERIFICATION_REQUESTED commit together or not at all. Returns its id and email.
    pub(crate) async fn register(&self, email: &str, password: &str) -> Result<(Uuid, String)> {
        let mut errors = FieldErrors::default();
        let email = errors.check(Email::parse(email));
        let password = errors.check(NewPassword::parse(password));
        let (email, password) = errors.finish_with(email.zip(password))?;
        // Cheap checks before argon2 (review M10): a taken email needs no hash. The insert below
        // still decides a race between two registrations.
        let mut conn = self.pool.acquire().await?;
        if store::user_id_by_email(&mut conn, &email).await?.is_some() {
            return Err(ApiError::EmailTaken);
        }
        drop(conn);
        let hash = self.passwords.hash(&password.0).await?;
        let mut tx = self.pool.begin().await?;
        let id = match store::insert_user(&mut tx, &email, &hash, "customer").await? {
            InsertOutcome::Created(id) => id,
            InsertOutcome::EmailTaken => return Err(ApiError::EmailTaken),
        };
        let (token_ref, expires_at) =
            self.issue_token(&mut tx, Purpose::VerifyEmail, id, one_time::VERIFY_EMAIL_TTL_SECS).await?;
        let email = email.as_str().to_owned();
        ::events::enqueue(&mut tx, SERVICE, &UserRegistered { user_id: id.into(), email: email.clone() }).await?;
        let requested = EmailVerificationRequested { user_id: id.into(), email: email.clone(), token_ref, expires_at };
        ::events::enqueue(&mut tx, SERVICE, &requested).await?;
        tx.commit().await?;
        tracing::info!(user_id = %id, "account registered");
        Ok((id, email))
    }

    /// Marks the address of the token's account verified (USER_EMAIL_VERIFIED).
    pub(crate) async fn verify_email(&self, token: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let user_id = store::consume_token(&mut tx, Purpose::VerifyEmail, &one_time::hash(token))
            .await?
            .ok_or(ApiError::InvalidLink)?;
        let email = store::mark_email_verified(&mut tx, user_id).await?;
        ::events::enqueue(&mut tx, SERVICE, &UserEmailVerified { user_id: user_id.into(), email }).await?;
        tx.commit().await?;
        tracing::info!(%user_id, "email verified");
        Ok(())
    }

    /// Starts a password reset if an account has this email (PASSWORD_RESET_REQUESTED); the
    /// caller answers the same either way.
    pub(crate) async fn request_password_reset(&self, email: &str) -> Result<()> {
        let email = Email::parse(email)?;
        let mut tx = self.pool.begin().await?;
        if let Some(user_id) = store::user_id_by_email(&mut tx, &email).await? {
            // A cooldown per address (review f5592e3 L8): one reset mail per 2 minutes and 5 a
            // day, however many networks ask; the answer stays the same, so nothing is told.
            let (recent, today) = store::reset_requests(&mut tx, user_id).await?;
            if recent >= 1 || today >= RESET_MAILS_PER_DAY {
                tracing::info!(security_event = "password_reset_cooldown", %user_id, "a reset mail was sent moments ago");
                tx.commit().await?;
                return Ok(());
            }
            let ttl = one_time::RESET_PASSWORD_TTL_SECS;
            let (token_ref, expires_at) = self.issue_token(&mut tx, Purpose::ResetPassword, user_id, ttl).await?;
            let event = PasswordResetRequested {
                user_id: user_id.into(),
                email: email.as_str().to_owned(),
                token_ref,
                expires_at,
            };
            ::events::enqueue(&mut tx, SERVICE, &event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets the new password; the token and every other unused reset token of the account stop
    /// working, and every session ends (whoever knew the old password is signed out).
    pub(crate) async fn confirm_password_reset(&self, sessions: &Sessions, token: &str, password: &str) -> Result<()> {
        let password = NewPassword::parse(password)?;
        // The token is checked and consumed before any argon2 work (review M10); a busy hasher
        // rolls the transaction back, so the link still works on a retry.
        let mut tx = self.pool.begin().await?;
        let user_id = store::consume_token(&mut tx, Purpose::ResetPassword, &one_time::hash(token))
            .await?
            .ok_or(ApiError::InvalidLink)?;
        let hash = self.passwords.hash(&password.0).await?;
        let email = store::set_password(&mut tx, user_id, &hash).await?;
        store::void_tokens(&mut tx, Purpose::ResetPassword, user_id).await?;
        sessions.revoke_all_in(&mut tx, user_id, "password_changed").await?;
        ::events::enqueue(&mut tx, SERVICE, &PasswordChanged { user_id: user_id.into(), email }).await?;
        // The access tokens die before the commit (review L12): if Redis fails, nothing is
        // changed and the request fails; never a changed password with live old tokens.
        sessions.revoke_user_tokens(user_id).await?;
        tx.commit().await?;
        tracing::info!(%user_id, "password reset");
        Ok(())
    }

    /// The password check of every sign-in, the attempt reserved before any argon2 work (see
    /// `throttle`): the same 401 (and about the same time) for an unknown email, a wrong password
    /// and, at the customer endpoint, an administrator's account (which signs in only with its
    /// second factor). A matching password is not a sign-in yet: [`Accounts::complete`] or
    /// [`Accounts::admin_check`] finishes it.
    pub(crate) async fn check_password(
        &self,
        email: &str,
        password: &str,
        network: Option<&str>,
        kind: SignIn,
    ) -> Result<PasswordOk> {
        if kind == SignIn::Admin
            && let Some(retry_after) = self.throttle.second_factor_locked(email).await
        {
            tracing::warn!(
                security_event = "admin_second_factor_locked",
                "admin sign-in refused: too many wrong codes"
            );
            return Err(ApiError::TooManyAttempts(retry_after));
        }
        let attempt = self.throttle.reserve(email, network).await.map_err(ApiError::TooManyAttempts)?;
        let account = match Email::parse(email) {
            Ok(email) => store::credentials(&self.pool, &email).await?,
            Err(_) => None,
        };
        // Over-long passwords cannot belong to anyone; cap the work spent on them.
        let password = if password.chars().count() > PASSWORD_MAX_CHARS { "" } else { password };
        // An invited staff member has no password yet (a `!` marker): checked like an unknown
        // email, against the dummy hash, so the answer takes as long.
        let hash = account.as_ref().map(|a| a.password_hash.clone()).filter(|h| !h.starts_with('!'));
        let matches = self.passwords.verify(password, hash).await?;
        let is_staff = account.as_ref().is_some_and(|a| store::staff_role(&a.role).is_some());
        match account.filter(|_| matches && is_staff == (kind == SignIn::Admin)) {
            Some(account) if account.disabled => {
                // The right password of a disabled account: say so (only to whoever knows it).
                attempt.failed();
                tracing::warn!(security_event = "disabled_account_sign_in", user_id = %account.id,
                    "sign-in refused: the account is disabled");
                Err(ApiError::AccountDisabled)
            }
            Some(account) => Ok(PasswordOk { account, attempt, email: email.to_owned() }),
            None => {
                attempt.failed();
                Err(ApiError::InvalidCredentials)
            }
        }
    }

    /// Finishes a customer's sign-in: the account's failure counters start over.
    pub(crate) async fn complete(&self, ok: PasswordOk) -> store::Credentials {
        self.throttle.succeeded(ok.attempt).await;
        ok.account
    }

    /// A password checked on its own (a signed-in account's step-up): its password counters
    /// start over; the second-factor counter stays as it is.
    pub(crate) async fn complete_password_only(&self, ok: PasswordOk) -> store::Credentials {
        self.throttle.password_succeeded(ok.attempt).await;
        ok.account
    }

    /// An administrator's full check, for the admin sign-in and for the step-up before a
    /// sensitive change: the password, then the TOTP or recovery code. Any wrong part answers the
    /// same `invalid_credentials`.
    pub(crate) async fn admin_check(
        &self,
        email: &str,
        password: &str,
        network: Option<&str>,
        factor: (Option<&str>, Option<&str>),
    ) -> Result<store::Credentials> {
        let ok = match self.check_password(email, password, network, SignIn::Admin).await {
            Err(ApiError::InvalidCredentials) => return Err(ApiError::InvalidAdminCredentials),
            other => other?,
        };
        self.second_factor(ok, factor.0, factor.1).await
    }

    /// Finishes an administrator's sign-in with a TOTP or recovery code. Wrong codes count on
    /// their own per-account counter (never cleared by a right password): past its limit the
    /// account's admin sign-in answers 429 until the window passes.
    async fn second_factor(
        &self,
        ok: PasswordOk,
        code: Option<&str>,
        recovery_code: Option<&str>,
    ) -> Result<store::Credentials> {
        let user_id = ok.account.id;
        if let Err(retry_after) = self.throttle.reserve_second_factor(&ok.email).await {
            tracing::warn!(security_event = "admin_second_factor_locked", %user_id, "too many wrong admin codes");
            ok.attempt.failed();
            return Err(ApiError::TooManyAttempts(retry_after));
        }
        if crate::admin::second_factor_ok(&self.pool, &self.vault, user_id, code, recovery_code).await? {
            return Ok(self.complete(ok).await);
        }
        tracing::warn!(security_event = "admin_second_factor_failed", %user_id, "wrong or reused admin code");
        ok.attempt.failed();
        Err(ApiError::InvalidAdminCredentials)
    }
}
