//! The SQL of administrators: the sealed TOTP seed with its last used step, and the hashed
//! recovery codes.

use sqlx::PgConnection;
use uuid::Uuid;

/// Stores (or replaces) the sealed TOTP seed; the last used step starts over.
pub(crate) async fn upsert_totp(tx: &mut PgConnection, user_id: Uuid, secret_sealed: &[u8]) -> sqlx::Result<()> {
    sqlx::query(
        "insert into admin_totp (user_id, secret_sealed) values ($1, $2) \
         on conflict (user_id) do update set secret_sealed = excluded.secret_sealed, last_used_step = null, created_at = now()",
    )
    .bind(user_id)
    .bind(secret_sealed)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Replaces every recovery code of the admin with these hashes.
pub(crate) async fn replace_recovery_codes(
    tx: &mut PgConnection,
    user_id: Uuid,
    hashes: &[Vec<u8>],
) -> sqlx::Result<()> {
    sqlx::query("delete from recovery_codes where user_id = $1").bind(user_id).execute(&mut *tx).await?;
    sqlx::query("insert into recovery_codes (code_hash, user_id) select unnest($1::bytea[]), $2")
        .bind(hashes)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The sealed seed and last used step, locked until the transaction ends (one code, one use).
pub(crate) async fn lock_totp(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Option<(Vec<u8>, Option<i64>)>> {
    sqlx::query_as("select secret_sealed, last_used_step from admin_totp where user_id = $1 for update")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
}

/// Remembers the step a code was accepted for, so it is never accepted again.
pub(crate) async fn set_last_used_step(tx: &mut PgConnection, user_id: Uuid, step: i64) -> sqlx::Result<()> {
    sqlx::query("update admin_totp set last_used_step = $2 where user_id = $1")
        .bind(user_id)
        .bind(step)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Uses up a recovery code; returns whether it was an unused code of this admin.
pub(crate) async fn use_recovery_code(tx: &mut PgConnection, user_id: Uuid, code_hash: &[u8]) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "update recovery_codes set used_at = now() where code_hash = $1 and user_id = $2 and used_at is null",
    )
    .bind(code_hash)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Makes an account an administrator with a verified email.
pub(crate) async fn make_admin(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update users set role = 'admin', email_verified = true where id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The email of a staff member (any staff role), `None` for anyone else.
pub(crate) async fn admin_email(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("select email from users where id = $1 and role <> 'customer'")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
}
