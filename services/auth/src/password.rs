//! Argon2id with OWASP's parameters (19 MiB, t=2, p=1), run on blocking threads behind a
//! semaphore so a burst of logins can neither starve the async workers nor exhaust memory.

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2: {0}")]
    Argon2(String),
    #[error("hashing task failed: {0}")]
    Task(String),
    #[error("too many password checks are waiting")]
    Busy,
}

/// How long any hashing waits for a slot before the request is turned away (503 `busy`), so a
/// storm queues briefly instead of piling up until the gateway's timeout opens auth's breaker.
const PERMIT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

pub(crate) struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Argon2 runs by operation (`hash`, `verify`): `auth_argon2_total`.
    runs: prometheus::IntCounterVec,
    /// A hash of a random password, verified against when the email is unknown so that the
    /// answer takes as long as for a known email with a wrong password.
    dummy_hash: String,
}

fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("OWASP parameters are valid"),
    )
}

fn hash_blocking(password: &[u8]) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| HashError::Argon2("no randomness for the salt".into()))?;
    argon2()
        .hash_password_with_salt(password, &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError::Argon2(e.to_string()))
}

impl PasswordHasher {
    pub(crate) async fn new(concurrency: usize) -> Result<Self, HashError> {
        let mut random = [0u8; 32];
        aws_lc_rs::rand::fill(&mut random).map_err(|_| HashError::Argon2("no randomness".into()))?;
        let dummy_hash = tokio::task::spawn_blocking(move || hash_blocking(&random))
            .await
            .map_err(|e| HashError::Task(e.to_string()))??;
        let runs = prometheus::IntCounterVec::new(
            prometheus::Opts::new("auth_argon2_total", "Argon2 computations, by operation (hash, verify)."),
            &["op"],
        )
        .expect("valid metric");
        Ok(Self { permits: Arc::new(Semaphore::new(concurrency.max(1))), runs, dummy_hash })
    }

    /// Exports the argon2 counter on the service's metrics.
    pub(crate) fn register(&self, metrics: &observability::Metrics) {
        metrics.register(Box::new(self.runs.clone())).expect("registered once");
    }

    /// A hashing slot, waited for at most [`PERMIT_PATIENCE`].
    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, HashError> {
        tokio::time::timeout(PERMIT_PATIENCE, self.permits.acquire())
            .await
            .map_err(|_| HashError::Busy)?
            .map_err(|e| HashError::Task(e.to_string()))
    }

    /// A PHC string for a new password.
    pub(crate) async fn hash(&self, password: &SecretString) -> Result<String, HashError> {
        let _permit = self.slot().await?;
        self.runs.with_label_values(&["hash"]).inc();
        let password = password.expose_secret().as_bytes().to_vec();
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(|e| HashError::Task(e.to_string()))?
    }

    /// Whether `password` matches `hash`; with `None` (unknown account) it verifies against the
    /// dummy hash and answers false, taking the same time.
    pub(crate) async fn verify(&self, password: &str, hash: Option<String>) -> Result<bool, HashError> {
        let _permit = self.slot().await?;
        self.runs.with_label_values(&["verify"]).inc();
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.clone());
        let password = password.as_bytes().to_vec();
        let matches = tokio::task::spawn_blocking(move || argon2().verify_password(&password, hash.as_str()).is_ok())
            .await
            .map_err(|e| HashError::Task(e.to_string()))?;
        Ok(known && matches)
    }
}
