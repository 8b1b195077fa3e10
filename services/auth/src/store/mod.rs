//! All of the auth service's SQL: accounts and one-time tokens here; sessions, administrators
//! and the signing-key ring in their submodules. Functions that change state take the caller's
//! transaction, so the change and its event (written by the caller) commit together.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::Email;

pub(crate) mod admin;
pub(crate) mod keys;
pub(crate) mod sessions;
pub(crate) mod staff;

/// What login needs of an account.
#[derive(sqlx::FromRow)]
pub(crate) struct Credentials {
    pub id: Uuid,
    pub password_hash: String,
    pub role: String,
    pub email_verified: bool,
    /// Disabled by staff: no sign-in.
    pub disabled: bool,
}

pub(crate) enum InsertOutcome {
    Created(Uuid),
    EmailTaken,
}

/// What a one-time token is for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Purpose {
    VerifyEmail,
    ResetPassword,
    /// A staff member's invitation: choose a password and enrol the second factor.
    StaffInvite,
    /// A new email address, confirmed from that address.
    ChangeEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::StaffInvite => "staff_invite",
            Self::ChangeEmail => "change_email",
        }
    }
}

/// Creates an account with a role (`customer`, or a staff role). An invited staff member's
/// `password_hash` is a `!` marker that no argon2 string equals, so no password matches until
/// the invitation is accepted.
#[tracing::instrument(skip_all)]
pub(crate) async fn insert_user(
    tx: &mut PgConnection,
    email: &Email,
    password_hash: &str,
    role: &str,
) -> sqlx::Result<InsertOutcome> {
    let id = Uuid::now_v7();
    let result = sqlx::query("insert into users (id, email, password_hash, role) values ($1, $2, $3, $4)")
        .bind(id)
        .bind(email.as_str())
        .bind(password_hash)
        .bind(role)
        .execute(&mut *tx)
        .await;
    match result {
        Ok(_) => Ok(InsertOutcome::Created(id)),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("users_email_key") => Ok(InsertOutcome::EmailTaken),
        Err(e) => Err(e),
    }
}

#[tracing::instrument(skip_all)]
pub(crate) async fn credentials(pool: &PgPool, email: &Email) -> sqlx::Result<Option<Credentials>> {
    sqlx::query_as::<_, Credentials>("select id, password_hash, role, email_verified, disabled_at is not null as disabled from users where email = $1")
        .bind(email.as_str())
        .fetch_optional(pool)
        .await
}

#[tracing::instrument(skip_all)]
pub(crate) async fn user_id_by_email(tx: &mut PgConnection, email: &Email) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select id from users where email = $1").bind(email.as_str()).fetch_optional(&mut *tx).await
}

/// A new one-time token as stored: its hash (what a link is checked against), and its reference
/// and sealed form (what the mailer fetches to write the link).
pub(crate) struct NewToken<'a> {
    pub purpose: Purpose,
    pub user_id: Uuid,
    pub token_hash: &'a [u8],
    pub token_ref: Uuid,
    pub token_sealed: &'a [u8],
    pub ttl_secs: i64,
    /// The address an email change asks for (`ChangeEmail` only).
    pub new_email: Option<&'a str>,
}

/// Stores a new one-time token; returns when it expires.
#[tracing::instrument(skip_all, fields(purpose = token.purpose.as_str()))]
pub(crate) async fn insert_token(
    tx: &mut PgConnection,
    token: NewToken<'_>,
) -> sqlx::Result<chrono::DateTime<chrono::Utc>> {
    sqlx::query_scalar(
        "insert into one_time_tokens (token_hash, purpose, user_id, expires_at, token_ref, token_sealed, new_email) \
         values ($1, $2, $3, now() + make_interval(secs => $4), $5, $6, $7) returning expires_at",
    )
    .bind(token.token_hash)
    .bind(token.purpose.as_str())
    .bind(token.user_id)
    .bind(token.ttl_secs as f64)
    .bind(token.token_ref)
    .bind(token.token_sealed)
    .bind(token.new_email)
    .fetch_one(&mut *tx)
    .await
}

/// Reset links an account was sent in the last 2 minutes and in the last 24 hours (its user
/// row locked until `tx` ends, so concurrent requests count one after the other).
pub(crate) async fn reset_requests(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<(i64, i64)> {
    sqlx::query("select 1 from users where id = $1 for update").bind(user_id).execute(&mut *tx).await?;
    sqlx::query_as(
        "select count(*) filter (where created_at > now() - interval '2 minutes'), count(*) from one_time_tokens \
         where user_id = $1 and purpose = 'reset_password' and created_at > now() - interval '1 day'",
    )
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await
}

/// The sealed token with this reference, while it is unused and unexpired.
pub(crate) async fn sealed_token(pool: &PgPool, token_ref: Uuid) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar(
        "select token_sealed from one_time_tokens \
         where token_ref = $1 and used_at is null and expires_at > now() and token_sealed is not null",
    )
    .bind(token_ref)
    .fetch_optional(pool)
    .await
}

/// Uses up a current, unused token; returns its user. A token works once.
#[tracing::instrument(skip_all, fields(purpose = purpose.as_str()))]
pub(crate) async fn consume_token(
    tx: &mut PgConnection,
    purpose: Purpose,
    token_hash: &[u8],
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "update one_time_tokens set used_at = now(), token_sealed = null \
         where token_hash = $1 and purpose = $2 and used_at is null and expires_at > now() \
         returning user_id",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .fetch_optional(&mut *tx)
    .await
}

/// Uses up a current email-change token; returns its user and the new address.
pub(crate) async fn consume_email_change(
    tx: &mut PgConnection,
    token_hash: &[u8],
) -> sqlx::Result<Option<(Uuid, String)>> {
    sqlx::query_as(
        "update one_time_tokens set used_at = now(), token_sealed = null \
         where token_hash = $1 and purpose = 'change_email' and used_at is null and expires_at > now() \
         returning user_id, new_email",
    )
    .bind(token_hash)
    .fetch_optional(&mut *tx)
    .await
}

/// What a signed-in account's own changes need: its email and role, unless it is deleted.
pub(crate) async fn live_account(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as("select email, role from users where id = $1 and deleted_at is null")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
}

/// Moves the account to its new, verified address; `None` when another account took it since.
pub(crate) async fn change_email(tx: &mut PgConnection, user_id: Uuid, email: &str) -> sqlx::Result<Option<String>> {
    let result: sqlx::Result<Option<String>> = sqlx::query_scalar(
        "update users u set email = $2, email_verified = true from (select email from users where id = $1 for update) old \
         where u.id = $1 and u.deleted_at is null returning old.email",
    )
    .bind(user_id)
    .bind(email)
    .fetch_optional(&mut *tx)
    .await;
    match result {
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("users_email_key") => Ok(None),
        other => other,
    }
}

/// Deletes an account as far as the shop's bookkeeping allows: the id stays (orders elsewhere
/// name it), the email becomes `deleted+<id>@deleted.invalid`, no password can match, every
/// unused one-time token is voided. Returns the address it had.
pub(crate) async fn delete_account(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Option<String>> {
    let email: Option<String> = sqlx::query_scalar(
        "update users u set email = 'deleted+' || u.id || '@deleted.invalid', password_hash = '!deleted', \
            email_verified = false, deleted_at = now(), disabled_at = coalesce(u.disabled_at, now()), \
            disabled_reason = coalesce(u.disabled_reason, 'deleted by its owner') \
         from (select email from users where id = $1 and deleted_at is null for update) old \
         where u.id = $1 returning old.email",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query(
        "update one_time_tokens set used_at = now(), token_sealed = null where user_id = $1 and used_at is null",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    Ok(email)
}

/// Voids every unused token of `purpose` of a user (a new password voids older reset links).
pub(crate) async fn void_tokens(tx: &mut PgConnection, purpose: Purpose, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "update one_time_tokens set used_at = now(), token_sealed = null \
         where user_id = $1 and purpose = $2 and used_at is null",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Marks the email verified; returns the address.
pub(crate) async fn mark_email_verified(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<String> {
    sqlx::query_scalar("update users set email_verified = true where id = $1 returning email")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await
}

/// Replaces the password hash; returns the address.
pub(crate) async fn set_password(tx: &mut PgConnection, user_id: Uuid, password_hash: &str) -> sqlx::Result<String> {
    sqlx::query_scalar("update users set password_hash = $2 where id = $1 returning email")
        .bind(user_id)
        .bind(password_hash)
        .fetch_one(&mut *tx)
        .await
}

/// The staff role stored for an account; `None` for a customer.
pub(crate) fn staff_role(stored: &str) -> Option<problem::StaffRole> {
    problem::StaffRole::parse(stored)
}

/// What a token issued without a password (refresh) needs of an account.
pub(crate) struct AccountState {
    pub staff_role: Option<problem::StaffRole>,
    pub email_verified: bool,
    pub disabled: bool,
}

/// Role, verification and disabled state of an account, read at each refresh (so a changed role
/// or a disabled account shows in the next access token).
pub(crate) async fn account(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Option<AccountState>> {
    let row: Option<(String, bool, bool)> =
        sqlx::query_as("select role, email_verified, disabled_at is not null from users where id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(row.map(|(r, email_verified, disabled)| AccountState { staff_role: staff_role(&r), email_verified, disabled }))
}

/// Deletes what can no longer be used and only takes room (review L12): one-time tokens and
/// refresh families (with their tokens) that expired or ended more than `keep_secs` ago.
/// Returns how many rows went.
pub(crate) async fn prune_expired(pool: &PgPool, keep_secs: i64) -> sqlx::Result<u64> {
    let tokens = sqlx::query("delete from one_time_tokens where expires_at < now() - make_interval(secs => $1)")
        .bind(keep_secs as f64)
        .execute(pool)
        .await?
        .rows_affected();
    let families = sqlx::query(
        "delete from refresh_families where absolute_expires_at < now() - make_interval(secs => $1) \
            or revoked_at < now() - make_interval(secs => $1)",
    )
    .bind(keep_secs as f64)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(tokens + families)
}
