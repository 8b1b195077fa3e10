//! Administrators: created by `auth create-admin`, signed in with password plus TOTP (or a
//! recovery code), given shorter-lived tokens that carry the admin permissions.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::password::PasswordHasher;
use crate::vault::Vault;
use crate::{one_time, store};

const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "Shopfleet";

/// What an admin sees once, at enrolment.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Enrolment {
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

fn normalized(code: &str) -> String {
    code.trim().to_ascii_lowercase().replace(' ', "")
}

/// What is stored of a recovery code: a keyed digest bound to its admin (review L7: an unsalted
/// SHA-256 of a 60-bit code could be brute-forced from a database dump).
fn recovery_digest(vault: &Vault, user_id: Uuid, code: &str) -> Vec<u8> {
    vault.digest(normalized(code).as_bytes(), &format!("recovery-code:{user_id}"))
}

/// The digest codes enrolled before keyed digests had (they keep working until re-enrolment).
fn legacy_recovery_hash(code: &str) -> Vec<u8> {
    one_time::hash(&normalized(code))
}

/// (Re-)enrols a second factor: a new TOTP seed and new recovery codes replace the old ones.
pub(crate) async fn enroll(
    tx: &mut PgConnection,
    vault: &Vault,
    user_id: Uuid,
    email: &str,
) -> sqlx::Result<Enrolment> {
    let secret = auth_jwt::keys::random_bytes(20);
    store::admin::upsert_totp(tx, user_id, &vault.seal(&secret, &seal_context(user_id))).await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|code| recovery_digest(vault, user_id, code)).collect();
    store::admin::replace_recovery_codes(tx, user_id, &hashes).await?;
    Ok(Enrolment {
        otpauth_uri: totp::otpauth_uri(ISSUER, email, &secret),
        secret: totp::base32(&secret),
        recovery_codes: codes,
    })
}

/// Replaces the second factor of an administrator whose password and current factor were just
/// checked: a new seed and recovery codes, every other session ended, and SECOND_FACTOR_CHANGED
/// (a notice to the owner), in one transaction. Returns the enrolment and the ended sessions.
pub(crate) async fn re_enroll(
    pool: &PgPool,
    vault: &Vault,
    user_id: Uuid,
    email: &str,
    current_session: Option<Uuid>,
) -> sqlx::Result<(Enrolment, Vec<Uuid>)> {
    let mut tx = pool.begin().await?;
    let enrolment = enroll(&mut tx, vault, user_id, email).await?;
    let ended = store::sessions::revoke_others(&mut tx, user_id, current_session, "second_factor_changed").await?;
    let event = ::events::catalog::SecondFactorChanged { user_id: user_id.into(), email: email.to_owned() };
    ::events::enqueue(&mut tx, crate::SERVICE, &event).await?;
    tx.commit().await?;
    Ok((enrolment, ended))
}

/// The email of an administrator, `None` for anyone else.
pub(crate) async fn admin_email(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Option<String>> {
    let mut conn = pool.acquire().await?;
    store::admin::admin_email(&mut conn, user_id).await
}

/// Checks a TOTP code (single use: its step is remembered) or a recovery code (used up).
pub(crate) async fn second_factor_ok(
    pool: &PgPool,
    vault: &Vault,
    user_id: Uuid,
    code: Option<&str>,
    recovery_code: Option<&str>,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let ok = match (code, recovery_code) {
        (Some(code), _) => {
            let Some((sealed, last_used)) = store::admin::lock_totp(&mut tx, user_id).await? else {
                return Ok(false);
            };
            let Ok(secret) = vault.open(&sealed, &seal_context(user_id)) else {
                tracing::error!(%user_id, "a TOTP seed cannot be opened: wrong AUTH_ENCRYPTION_KEY?");
                return Ok(false);
            };
            let now = chrono::Utc::now().timestamp().max(0) as u64;
            match totp::verify(&secret, code, now, last_used.map(|s| s as u64)) {
                Some(step) => {
                    store::admin::set_last_used_step(&mut tx, user_id, step as i64).await?;
                    true
                }
                None => false,
            }
        }
        (None, Some(recovery)) => {
            store::admin::use_recovery_code(&mut tx, user_id, &recovery_digest(vault, user_id, recovery)).await?
                || store::admin::use_recovery_code(&mut tx, user_id, &legacy_recovery_hash(recovery)).await?
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
    #[error("password hashing: {0}")]
    Hash(#[from] crate::password::HashError),
}

/// Creates an admin (`auth create-admin`): a generated password, email verified and a second
/// factor enrolled. Returns the id, the password and the enrolment, shown once.
pub(crate) async fn create(
    pool: &PgPool,
    hasher: &PasswordHasher,
    vault: &Vault,
    email: &str,
) -> Result<(Uuid, String, Enrolment), CreateAdminError> {
    let email = crate::domain::Email::parse(email).map_err(|e| CreateAdminError::Invalid(e.message))?;
    let password: String = totp::base32(&auth_jwt::keys::random_bytes(15)).to_ascii_lowercase();
    let hash = hasher.hash(&secrecy::SecretString::from(password.clone())).await?;
    let mut tx = pool.begin().await?;
    let id = match store::insert_user(&mut tx, &email, &hash, "customer").await? {
        store::InsertOutcome::Created(id) => id,
        store::InsertOutcome::EmailTaken => return Err(CreateAdminError::Exists),
    };
    store::admin::make_admin(&mut tx, id).await?;
    let enrolment = enroll(&mut tx, vault, id, email.as_str()).await?;
    tx.commit().await?;
    Ok((id, password, enrolment))
}
