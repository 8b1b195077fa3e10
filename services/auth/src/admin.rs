//! Administrators: created by `auth create-admin`, signed in with password plus TOTP (or a
//! recovery code), given shorter-lived tokens that carry the admin permissions.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::one_time;
use crate::totp;
use crate::vault::Vault;

const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "Shopfleet";

/// What an admin sees once, at enrolment.
#[derive(Debug, serde::Serialize)]
pub struct Enrolment {
    pub otpauth_uri: String,
    pub secret: String,
    pub recovery_codes: Vec<String>,
}

fn seal_context(user_id: Uuid) -> String {
    format!("totp:{user_id}")
}

/// A recovery code as printed: `xxxx-xxxx-xxxx` (base32, lowercase).
fn new_recovery_code() -> String {
    let text = totp::base32(&auth_jwt::keys::random_bytes(8)).to_ascii_lowercase();
    format!("{}-{}-{}", &text[0..4], &text[4..8], &text[8..12])
}

fn recovery_hash(code: &str) -> Vec<u8> {
    one_time::hash(&code.trim().to_ascii_lowercase().replace(' ', ""))
}

/// (Re-)enrols a second factor: a new TOTP seed and new recovery codes replace the old ones.
pub async fn enroll(tx: &mut PgConnection, vault: &Vault, user_id: Uuid, email: &str) -> sqlx::Result<Enrolment> {
    let secret = auth_jwt::keys::random_bytes(20);
    sqlx::query(
        "insert into admin_totp (user_id, secret_sealed) values ($1, $2) \
         on conflict (user_id) do update set secret_sealed = excluded.secret_sealed, last_used_step = null, created_at = now()",
    )
    .bind(user_id)
    .bind(vault.seal(&secret, &seal_context(user_id)))
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from recovery_codes where user_id = $1").bind(user_id).execute(&mut *tx).await?;
    let mut codes = Vec::new();
    for _ in 0..RECOVERY_CODES {
        let code = new_recovery_code();
        sqlx::query("insert into recovery_codes (code_hash, user_id) values ($1, $2)")
            .bind(recovery_hash(&code))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        codes.push(code);
    }
    Ok(Enrolment {
        otpauth_uri: totp::otpauth_uri(ISSUER, email, &secret),
        secret: totp::base32(&secret),
        recovery_codes: codes,
    })
}

/// Checks a TOTP code (single use: its step is remembered) or a recovery code (used up).
pub async fn second_factor_ok(
    pool: &PgPool,
    vault: &Vault,
    user_id: Uuid,
    code: Option<&str>,
    recovery_code: Option<&str>,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let ok = match (code, recovery_code) {
        (Some(code), _) => {
            let row: Option<(Vec<u8>, Option<i64>)> =
                sqlx::query_as("select secret_sealed, last_used_step from admin_totp where user_id = $1 for update")
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((sealed, last_used)) = row else { return Ok(false) };
            let Ok(secret) = vault.open(&sealed, &seal_context(user_id)) else {
                tracing::error!(%user_id, "a TOTP seed cannot be opened: wrong AUTH_ENCRYPTION_KEY?");
                return Ok(false);
            };
            let now = chrono::Utc::now().timestamp().max(0) as u64;
            match totp::verify(&secret, code, now, last_used.map(|s| s as u64)) {
                Some(step) => {
                    sqlx::query("update admin_totp set last_used_step = $2 where user_id = $1")
                        .bind(user_id)
                        .bind(step as i64)
                        .execute(&mut *tx)
                        .await?;
                    true
                }
                None => false,
            }
        }
        (None, Some(recovery)) => {
            sqlx::query(
                "update recovery_codes set used_at = now() where code_hash = $1 and user_id = $2 and used_at is null",
            )
            .bind(recovery_hash(recovery))
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1
        }
        (None, None) => false,
    };
    tx.commit().await?;
    Ok(ok)
}

#[derive(Debug, thiserror::Error)]
pub enum CreateAdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("an account with this email already exists")]
    Exists,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Creates an admin (email verified) with a second factor enrolled; returns the enrolment.
pub async fn create(
    pool: &PgPool,
    vault: &Vault,
    email: &str,
    password_hash: &str,
) -> Result<(Uuid, Enrolment), CreateAdminError> {
    let email = crate::domain::Email::parse(email).map_err(|e| CreateAdminError::Invalid(e.message))?;
    let mut tx = pool.begin().await?;
    let id = match crate::store::insert_user(&mut tx, &email, password_hash).await? {
        crate::store::InsertOutcome::Created(id) => id,
        crate::store::InsertOutcome::EmailTaken => return Err(CreateAdminError::Exists),
    };
    sqlx::query("update users set role = 'admin', email_verified = true where id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let enrolment = enroll(&mut tx, vault, id, email.as_str()).await?;
    tx.commit().await?;
    Ok((id, enrolment))
}
