//! Staff accounts and the back office's view of every account: invitations, lookups, and
//! disabling (a disabled account cannot sign in or refresh).

use contracts::auth::Account;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::Email;

/// The columns of an [`AccountRow`], for `concat!` (sqlx takes only static SQL).
macro_rules! columns {
    () => {
        "id, email, role, email_verified, created_at, disabled_at, disabled_reason"
    };
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: Uuid,
    email: String,
    role: String,
    email_verified: bool,
    created_at: chrono::DateTime<chrono::Utc>,
    disabled_at: Option<chrono::DateTime<chrono::Utc>>,
    disabled_reason: Option<String>,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        Account {
            id: row.id.into(),
            email: row.email,
            role: row.role,
            email_verified: row.email_verified,
            created_at: row.created_at,
            disabled_at: row.disabled_at,
            disabled_reason: row.disabled_reason,
        }
    }
}

/// Every staff account, oldest first.
pub(crate) async fn list_staff(conn: &mut PgConnection) -> sqlx::Result<Vec<Account>> {
    let rows: Vec<AccountRow> =
        sqlx::query_as(concat!("select ", columns!(), " from users where role <> 'customer' order by created_at, id"))
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.into_iter().map(Account::from).collect())
}

pub(crate) async fn by_id(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Account>> {
    let row: Option<AccountRow> = sqlx::query_as(concat!("select ", columns!(), " from users where id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(Account::from))
}

pub(crate) async fn by_email(conn: &mut PgConnection, email: &Email) -> sqlx::Result<Option<Account>> {
    let row: Option<AccountRow> = sqlx::query_as(concat!("select ", columns!(), " from users where email = $1"))
        .bind(email.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(Account::from))
}

/// The account, locked for a change in this transaction; `None` for a deleted one too (its
/// owner ended it: there is nothing left to disable or enable).
pub(crate) async fn lock(tx: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Account>> {
    let row: Option<AccountRow> =
        sqlx::query_as(concat!("select ", columns!(), " from users where id = $1 and deleted_at is null for update"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(row.map(Account::from))
}

/// Disables (with a reason) or enables (`None`) the account; returns it as it is now.
pub(crate) async fn set_disabled(tx: &mut PgConnection, id: Uuid, reason: Option<&str>) -> sqlx::Result<Account> {
    let row: AccountRow = sqlx::query_as(concat!(
        "update users set disabled_at = case when $2::text is null then null else coalesce(disabled_at, now()) end, \
            disabled_reason = $2 where id = $1 returning ",
        columns!()
    ))
    .bind(id)
    .bind(reason)
    .fetch_one(&mut *tx)
    .await?;
    Ok(row.into())
}

/// Accepts an invitation: the password, and the address verified (the invitation reached it).
pub(crate) async fn accept(tx: &mut PgConnection, id: Uuid, password_hash: &str) -> sqlx::Result<String> {
    sqlx::query_scalar("update users set password_hash = $2, email_verified = true where id = $1 returning email")
        .bind(id)
        .bind(password_hash)
        .fetch_one(&mut *tx)
        .await
}
