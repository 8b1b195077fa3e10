//! Dev and test key material, in the layout `cargo xtask keys` writes under `.dev/keys`:
//! `internal/<service>.pem` (each service's private internal key), `internal-jwks.json` (all
//! their public keys, kid = service), `access-signing.pem` (auth's key for access tokens) and
//! `auth-encryption.key` (what auth seals TOTP seeds and key-ring keys with).

use std::collections::BTreeMap;
use std::path::Path;

use auth_jwt::Jwks;
use auth_jwt::keys::{generate_rsa_private_pem, public_jwk};

/// The kid of the dev access-token signing key.
pub const ACCESS_KID: &str = "dev-access-1";

#[derive(Clone)]
pub struct FleetKeys {
    internal: BTreeMap<String, String>,
    pub internal_jwks: Jwks,
    pub access_signing_pem: String,
    /// Auth's key for sealing TOTP seeds and key-ring private keys (32 bytes, base64).
    pub auth_encryption_key: String,
}

impl FleetKeys {
    /// Fresh keys for every service (about a second of RSA key generation).
    pub fn generate() -> Self {
        let internal: BTreeMap<String, String> =
            service_kit::SERVICES.iter().map(|s| (s.name.to_owned(), generate_rsa_private_pem())).collect();
        let internal_jwks =
            Jwks { keys: internal.iter().map(|(name, pem)| public_jwk(pem, name).expect("fresh key")).collect() };
        let auth_encryption_key =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, auth_jwt::keys::random_bytes(32));
        Self { internal, internal_jwks, access_signing_pem: generate_rsa_private_pem(), auth_encryption_key }
    }

    pub fn load(dir: &Path) -> std::io::Result<Self> {
        let mut internal = BTreeMap::new();
        for spec in service_kit::SERVICES {
            internal.insert(
                spec.name.to_owned(),
                std::fs::read_to_string(dir.join(format!("internal/{}.pem", spec.name)))?,
            );
        }
        let jwks_text = std::fs::read_to_string(dir.join("internal-jwks.json"))?;
        let internal_jwks = serde_json::from_str(&jwks_text).map_err(std::io::Error::other)?;
        let access_signing_pem = std::fs::read_to_string(dir.join("access-signing.pem"))?;
        let auth_encryption_key = std::fs::read_to_string(dir.join("auth-encryption.key"))?.trim().to_owned();
        Ok(Self { internal, internal_jwks, access_signing_pem, auth_encryption_key })
    }

    /// Writes the layout under `dir`; private keys are readable by the owner only.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir.join("internal"))?;
        let write_private = |path: &Path, pem: &str| -> std::io::Result<()> {
            std::fs::write(path, pem)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        };
        for (name, pem) in &self.internal {
            write_private(&dir.join(format!("internal/{name}.pem")), pem)?;
        }
        write_private(&dir.join("access-signing.pem"), &self.access_signing_pem)?;
        write_private(&dir.join("auth-encryption.key"), &self.auth_encryption_key)?;
        std::fs::write(dir.join("internal-jwks.json"), serde_json::to_string_pretty(&self.internal_jwks)?)?;
        ensure_webhook_secret(dir, "sandbox")?;
        std::fs::write(
            dir.join("README"),
            "DEV-ONLY keys made by `cargo xtask keys`. Never use them outside a developer machine.\n",
        )
    }

    pub fn internal_private(&self, service: &str) -> &str {
        self.internal.get(service).map(String::as_str).expect("a fleet service")
    }
}

/// The file of a payment provider's webhook signing secret under a keys directory.
pub fn webhook_secret_path(dir: &Path, provider: &str) -> std::path::PathBuf {
    dir.join(format!("payment-webhook-{provider}.secret"))
}

/// Writes a provider's webhook secret (`whsec_` and 32 random bytes in hex, the whole text being
/// the HMAC key, like Stripe's) unless the file exists.
pub fn ensure_webhook_secret(dir: &Path, provider: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = webhook_secret_path(dir, provider);
    if path.exists() {
        return Ok(());
    }
    let secret: String = auth_jwt::keys::random_bytes(32).iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, format!("whsec_{secret}\n"))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
}

/// The file of the S3 server's dev credentials under a keys directory (`AWS_ACCESS_KEY_ID=…`
/// and `AWS_SECRET_ACCESS_KEY=…` lines, as an env file).
pub fn s3_credentials_path(dir: &Path) -> std::path::PathBuf {
    dir.join("s3.env")
}

/// Writes random DEV-ONLY S3 credentials unless the file exists.
pub fn ensure_s3_credentials(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = s3_credentials_path(dir);
    if path.exists() {
        return Ok(());
    }
    let hex = |n| auth_jwt::keys::random_bytes(n).iter().map(|b| format!("{b:02x}")).collect::<String>();
    std::fs::write(&path, format!("AWS_ACCESS_KEY_ID=shopfleet-dev-{}\nAWS_SECRET_ACCESS_KEY={}\n", hex(6), hex(24)))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
}

/// The S3 dev credentials: (access key id, secret access key).
pub fn s3_credentials(dir: &Path) -> std::io::Result<(String, String)> {
    let text = std::fs::read_to_string(s3_credentials_path(dir))?;
    let value = |name: &str| {
        text.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('='))).map(|v| v.trim().to_owned())
    };
    match (
        value(settings::service::media::AWS_ACCESS_KEY_ID.name),
        value(settings::service::media::AWS_SECRET_ACCESS_KEY.name),
    ) {
        (Some(key), Some(secret)) => Ok((key, secret)),
        _ => Err(std::io::Error::other("s3.env lacks AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY")),
    }
}
