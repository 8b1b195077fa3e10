//! The auth binary's commands besides serving, reading the same configuration as the service:
//! `auth create-admin --email ADDRESS` makes an administrator and prints its password, TOTP
//! enrolment and recovery codes once (as JSON); `auth rotate-keys` publishes a new access-token
//! signing key in the shared key ring; `auth revoke-key --kid KID` takes a compromised key out of
//! the ring at once (a new key signs immediately; tokens the old one signed are refused once
//! verifiers refresh their JWKS); `auth prune` deletes ended sessions and spent one-time tokens
//! now (the service also does it every hour).

use std::process::ExitCode;
use std::sync::Arc;

use secrecy::ExposeSecret;
use sqlx::PgPool;

use crate::config::AuthConfig;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("usage: auth create-admin --email ADDRESS | auth rotate-keys | auth revoke-key --kid KID | auth prune")]
    Usage,
    #[error("{0}")]
    Config(#[from] service_kit::ConfigError),
    #[error("DATABASE_URL is not set")]
    NoDatabase,
    #[error("{0}")]
    Database(#[from] service_kit::db::DbError),
    #[error("AUTH_ENCRYPTION_KEY: {0}")]
    Vault(#[from] crate::vault::VaultError),
    #[error("password hashing: {0}")]
    Hash(#[from] crate::password::HashError),
    #[error("{0}")]
    CreateAdmin(#[from] crate::admin::CreateAdminError),
    #[error("signing key ring: {0}")]
    Keys(#[from] crate::keyring::KeyRingError),
    #[error("pruning: {0}")]
    Prune(sqlx::Error),
}

/// Runs the command named by `args`, or `None` when they name none (then the binary serves).
pub fn run(args: &[String]) -> Option<ExitCode> {
    let command = args.first()?.as_str();
    Some(match (command, &args[1..]) {
        ("create-admin", [flag, email]) if flag == "--email" => {
            let code = service_kit::run_command("auth create-admin", || async {
                let config = AuthConfig::from_env()?;
                create_admin(&config, email).await.map(|created| created.to_string())
            });
            eprintln!("auth create-admin: shown once; store the password, TOTP secret and recovery codes safely.");
            code
        }
        ("rotate-keys", []) => service_kit::run_command("auth rotate-keys", || async {
            rotate_keys(&AuthConfig::from_env()?).await.map(|rotated| rotated.to_string())
        }),
        ("revoke-key", [flag, kid]) if flag == "--kid" => service_kit::run_command("auth revoke-key", || async {
            revoke_key(&AuthConfig::from_env()?, kid).await.map(|revoked| revoked.to_string())
        }),
        ("prune", []) => service_kit::run_command("auth prune", || async {
            prune(&AuthConfig::from_env()?).await.map(|pruned| pruned.to_string())
        }),
        ("create-admin" | "rotate-keys" | "revoke-key" | "prune", _) => {
            eprintln!("{}", CliError::Usage);
            ExitCode::from(2)
        }
        _ => return None,
    })
}

async fn connect(config: &AuthConfig) -> Result<(PgPool, Arc<crate::vault::Vault>), CliError> {
    let vault = Arc::new(crate::vault::Vault::from_base64(config.encryption_key.expose_secret())?);
    let database = config.service.database.as_ref().ok_or(CliError::NoDatabase)?;
    let pool = service_kit::db::connect(database, Some(&crate::MIGRATOR)).await?;
    Ok((pool, vault))
}

/// Makes the first administrator of a deployment and returns what must be shown once: a
/// generated password, the TOTP enrolment and the recovery codes.
pub async fn create_admin(config: &AuthConfig, email: &str) -> Result<serde_json::Value, CliError> {
    let (pool, vault) = connect(config).await?;
    let hasher = crate::password::PasswordHasher::new(1).await?;
    let (id, password, enrolment) = crate::admin::create(&pool, &hasher, &vault, email).await?;
    Ok(serde_json::json!({
        "id": id,
        "email": email.trim().to_lowercase(),
        "password": password,
        "totp_secret": enrolment.secret,
        "otpauth_uri": enrolment.otpauth_uri,
        "recovery_codes": enrolment.recovery_codes,
    }))
}

/// Publishes a new signing key in the shared key ring (it signs after the publish delay;
/// replicas pick it up on their next reload). Returns its kid and activation time.
pub async fn rotate_keys(config: &AuthConfig) -> Result<serde_json::Value, CliError> {
    let (pool, vault) = connect(config).await?;
    let seed = (config.signing_kid.as_str(), &config.signing_key);
    let ring = crate::keyring::KeyRing::load(pool, vault, config.key_policy(), Some(seed)).await?;
    let (kid, activates_at) = ring.rotate().await?;
    Ok(serde_json::json!({"kid": kid, "activates_at": activates_at}))
}

/// Takes the compromised key `kid` out of the ring; returns the key that signs from now on.
pub async fn revoke_key(config: &AuthConfig, kid: &str) -> Result<serde_json::Value, CliError> {
    let (pool, vault) = connect(config).await?;
    let seed = (config.signing_kid.as_str(), &config.signing_key);
    let ring = crate::keyring::KeyRing::load(pool, vault, config.key_policy(), Some(seed)).await?;
    let signing = ring.revoke(kid).await?;
    Ok(serde_json::json!({"revoked": kid, "signing_kid": signing}))
}

/// Deletes ended sessions and spent one-time tokens older than a day; returns how many rows went.
pub async fn prune(config: &AuthConfig) -> Result<serde_json::Value, CliError> {
    let (pool, _) = connect(config).await?;
    let deleted = crate::session::prune_now(&pool).await.map_err(CliError::Prune)?;
    Ok(serde_json::json!({"deleted": deleted}))
}
