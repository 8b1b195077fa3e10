//! Signing-key rotation with overlap. The ring lives in auth's schema so every replica agrees;
//! each replica reloads it periodically and signs with the newest activated key.
//!
//! Timeline of a rotation: the new key is inserted and published in the JWKS at once, but only
//! signs from `activates_at` (after `publish_delay`, longer than the gateway's JWKS refresh), so
//! no verifier sees a token with a kid it cannot know. The previous key keeps verifying the
//! tokens it signed and leaves the JWKS `retire_after` (the longest token lifetime plus leeway)
//! after the new key took over.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use auth_jwt::{Jwk, Jwks, Signer};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use sqlx::PgPool;

use crate::store;

/// The most keys the ring holds at once (review L12: rotation had no cap).
pub const MAX_KEYS: i64 = 10;
use crate::vault::Vault;

#[derive(Clone, Debug)]
pub struct KeyPolicy {
    pub publish_delay: Duration,
    pub retire_after: Duration,
    pub reload_every: Duration,
    /// The time activation and retirement are judged by (tests move it ahead).
    pub clock: service_kit::Clock,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("key: {0}")]
    Key(#[from] auth_jwt::keys::KeyError),
    #[error(
        "a sealed key cannot be opened ({0}): is AUTH_ENCRYPTION_KEY_FILE the key the ring was sealed with? (dev: `rm -rf .dev` starts over)"
    )]
    Vault(#[from] crate::vault::VaultError),
    #[error("the key ring is empty and no ACCESS_SIGNING_KEY_FILE seeds it")]
    Empty,
    #[error("the key ring already holds {0} keys; wait for old ones to retire before rotating again")]
    Full(i64),
    #[error("no key {0} in the ring")]
    UnknownKid(String),
}

struct StoredKey {
    kid: String,
    signer: Arc<Signer>,
    jwk: Jwk,
    activates_at: DateTime<Utc>,
}

pub struct KeyRing {
    pool: PgPool,
    vault: Arc<Vault>,
    policy: KeyPolicy,
    keys: RwLock<Vec<StoredKey>>,
}

fn context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

impl KeyRing {
    /// Loads the ring; an empty ring is seeded with `seed` (the configured key) active at once.
    pub async fn load(
        pool: PgPool,
        vault: Arc<Vault>,
        policy: KeyPolicy,
        seed: Option<(&str, &secrecy::SecretString)>,
    ) -> Result<Arc<Self>, KeyRingError> {
        let ring = Arc::new(Self { pool, vault, policy, keys: RwLock::new(Vec::new()) });
        if store::keys::ring_is_empty(&ring.pool).await? {
            let (kid, pem) = seed.ok_or(KeyRingError::Empty)?;
            ring.insert(kid, pem.expose_secret(), ring.policy.clock.now(), None).await?;
        }
        ring.reload().await?;
        Ok(ring)
    }

    /// Stores a new key; a staff member's rotation (`actor`) is recorded in the audit log in
    /// the same transaction.
    async fn insert(
        &self,
        kid: &str,
        pem: &str,
        activates_at: DateTime<Utc>,
        actor: Option<&str>,
    ) -> Result<(), KeyRingError> {
        let jwk = auth_jwt::keys::public_jwk(pem, kid)?;
        let sealed = self.vault.seal(pem.as_bytes(), &context(kid));
        let mut tx = self.pool.begin().await?;
        store::keys::insert(&mut tx, kid, &sealed, &jwk, activates_at).await?;
        if let Some(actor) = actor {
            let after = serde_json::json!({"kid": kid, "activates_at": activates_at});
            let entry = ::events::audit::AuditRecorded::new(
                actor,
                "signing_key.rotate",
                format!("signing_key:{kid}"),
                None,
                Some(after),
            );
            ::events::audit::record(&mut tx, crate::SERVICE, &entry).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Reads the ring again (other replicas may have rotated).
    pub async fn reload(&self) -> Result<(), KeyRingError> {
        let rows = store::keys::all(&self.pool).await?;
        let known: Vec<String> = self.keys.read().expect("key ring").iter().map(|k| k.kid.clone()).collect();
        let mut loaded = Vec::new();
        for (kid, sealed, jwk, activates_at) in rows {
            // Parse a private key once; reuse the parsed signer on later reloads.
            let existing = self.keys.read().expect("key ring").iter().find(|k| k.kid == kid).map(|k| k.signer.clone());
            let signer = match existing {
                Some(signer) if known.contains(&kid) => signer,
                _ => {
                    let pem = String::from_utf8(self.vault.open(&sealed, &context(&kid))?).unwrap_or_default();
                    Arc::new(Signer::from_pem(kid.clone(), &pem)?)
                }
            };
            loaded.push(StoredKey { kid, signer, jwk: jwk.0, activates_at });
        }
        if loaded.is_empty() {
            return Err(KeyRingError::Empty);
        }
        *self.keys.write().expect("key ring") = loaded;
        Ok(())
    }

    /// The key that signs now: the newest one whose activation time has come.
    pub fn signer(&self) -> Arc<Signer> {
        let now = self.policy.clock.now();
        let keys = self.keys.read().expect("key ring");
        keys.iter()
            .rev()
            .find(|k| k.activates_at <= now)
            .or(keys.first())
            .map(|k| k.signer.clone())
            .expect("a loaded ring is not empty")
    }

    /// The keys verifiers must know: all but those retired (superseded longer ago than
    /// `retire_after`).
    pub fn jwks(&self) -> Jwks {
        let now = self.policy.clock.now();
        let retire_after = chrono::Duration::from_std(self.policy.retire_after).unwrap_or_default();
        let keys = self.keys.read().expect("key ring");
        let published = keys
            .iter()
            .enumerate()
            .filter(|(index, _)| {
                // Superseded when the next key activated (if it has).
                let superseded_at = keys.get(index + 1).map(|next| next.activates_at).filter(|at| *at <= now);
                superseded_at.is_none_or(|at| at + retire_after > now)
            })
            .map(|(_, key)| key.jwk.clone())
            .collect();
        Jwks { keys: published }
    }

    /// Makes a new key: published now, signing after the publish delay. Returns its kid and
    /// activation time.
    pub async fn rotate(&self) -> Result<(String, DateTime<Utc>), KeyRingError> {
        self.rotate_after(self.policy.publish_delay, None).await
    }

    /// [`KeyRing::rotate`] asked for by a staff member (recorded in the audit log).
    pub async fn rotate_by(&self, actor: &str) -> Result<(String, DateTime<Utc>), KeyRingError> {
        self.rotate_after(self.policy.publish_delay, Some(actor)).await
    }

    /// Makes a new key that signs after `delay` (a rotation: the publish delay; an emergency: at
    /// once). The ring never grows past [`MAX_KEYS`].
    async fn rotate_after(
        &self,
        delay: Duration,
        actor: Option<&str>,
    ) -> Result<(String, DateTime<Utc>), KeyRingError> {
        let held = store::keys::count(&self.pool).await?;
        if held >= MAX_KEYS {
            return Err(KeyRingError::Full(held));
        }
        let pem = auth_jwt::keys::generate_rsa_private_pem();
        let now = self.policy.clock.now();
        let kid = format!("k{}", now.format("%Y%m%d%H%M%S%3f"));
        let activates_at = now + chrono::Duration::from_std(delay).unwrap_or_default();
        self.insert(&kid, &pem, activates_at, actor).await?;
        self.reload().await?;
        tracing::info!(security_event = "signing_key_rotated", %kid, %activates_at, "new signing key published");
        Ok((kid, activates_at))
    }

    /// Emergency: the key `kid` is compromised. A new key signs at once (verifiers fetch it on
    /// its first unknown kid), and `kid` leaves the ring, so the JWKS drops it and every token
    /// it signed is refused once verifiers refresh. Returns the new kid.
    pub async fn revoke(&self, kid: &str) -> Result<String, KeyRingError> {
        if !self.keys.read().expect("key ring").iter().any(|k| k.kid == kid) {
            return Err(KeyRingError::UnknownKid(kid.to_owned()));
        }
        let (new_kid, _) = self.rotate_after(Duration::ZERO, None).await?;
        store::keys::delete(&self.pool, kid).await?;
        self.reload().await?;
        tracing::warn!(security_event = "signing_key_revoked", %kid, %new_kid, "signing key revoked");
        Ok(new_kid)
    }

    /// Removes keys that left the JWKS long ago (retired for another `retire_after`).
    pub async fn prune(&self) -> Result<usize, KeyRingError> {
        let now = self.policy.clock.now();
        let grace = chrono::Duration::from_std(self.policy.retire_after).unwrap_or_default() * 2;
        let stale: Vec<String> = {
            let keys = self.keys.read().expect("key ring");
            keys.iter()
                .enumerate()
                .filter(|(index, _)| {
                    keys.get(index + 1).is_some_and(|next| next.activates_at <= now && next.activates_at + grace < now)
                })
                .map(|(_, key)| key.kid.clone())
                .collect()
        };
        for kid in &stale {
            store::keys::delete(&self.pool, kid).await?;
        }
        if !stale.is_empty() {
            self.reload().await?;
        }
        Ok(stale.len())
    }

    /// Reloads every `reload_every` until `stop`.
    pub fn spawn_reloader(
        self: Arc<Self>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tokio::time::sleep(self.policy.reload_every) => {
                        if let Err(error) = self.reload().await {
                            tracing::warn!(error = %service_kit::Chain(&error), "reloading the key ring failed; keeping the keys in memory");
                        }
                        if let Err(error) = self.prune().await {
                            tracing::warn!(error = %service_kit::Chain(&error), "pruning the key ring failed");
                        }
                    }
                }
            }
        })
    }
}
