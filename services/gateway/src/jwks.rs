//! auth's JWKS, cached: loaded in the background at start, refreshed periodically, and
//! re-fetched when a token names an unknown `kid` — at most once per `min_interval`, so a flood
//! of forged kids cannot turn into a flood of fetches.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use auth_jwt::KeyRing;
use contracts::auth::AuthClient;
use service_kit::InternalClient;

pub(crate) struct JwksCache {
    ring: RwLock<Arc<KeyRing>>,
    loaded: AtomicBool,
    last_fetch: Mutex<Option<Instant>>,
    fetching: tokio::sync::Mutex<()>,
    auth: AuthClient,
    min_interval: Duration,
}

impl JwksCache {
    pub(crate) fn new(client: InternalClient, min_interval: Duration) -> Self {
        Self {
            ring: RwLock::new(Arc::new(KeyRing::default())),
            loaded: AtomicBool::new(false),
            last_fetch: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
            auth: AuthClient::new(client),
            min_interval,
        }
    }

    pub(crate) fn ring(&self) -> Arc<KeyRing> {
        self.ring.read().expect("jwks lock").clone()
    }

    pub(crate) fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// Loads at start (retrying every second until auth answers), then refreshes every `every`,
    /// until `stop` (the service's shutdown).
    pub(crate) fn spawn_refresher(
        self: Arc<Self>,
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut pause = Duration::ZERO;
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tokio::time::sleep(pause) => {
                        let loaded = self.fetch().await;
                        // Until the first load succeeds, retry every second.
                        pause = if loaded || self.is_loaded() { every } else { Duration::from_secs(1) };
                    }
                }
            }
        })
    }

    /// Re-fetches because a token named an unknown kid, unless one was fetched too recently.
    /// Returns whether a fresh key set is now in place.
    pub(crate) async fn refresh_for_unknown_kid(&self) -> bool {
        let _one_at_a_time = self.fetching.lock().await;
        let recent = self.last_fetch.lock().expect("jwks lock").is_some_and(|at| at.elapsed() < self.min_interval);
        if recent {
            return false;
        }
        self.fetch_locked().await
    }

    async fn fetch(&self) -> bool {
        let _one_at_a_time = self.fetching.lock().await;
        self.fetch_locked().await
    }

    async fn fetch_locked(&self) -> bool {
        *self.last_fetch.lock().expect("jwks lock") = Some(Instant::now());
        match self.auth.jwks().await {
            Ok(jwks) => {
                let ring = KeyRing::from_jwks(&jwks);
                tracing::info!(keys = ring.len(), "JWKS loaded");
                *self.ring.write().expect("jwks lock") = Arc::new(ring);
                self.loaded.store(true, Ordering::Release);
                true
            }
            Err(error) => {
                tracing::warn!(error = %service_kit::Chain(&error), "cannot fetch auth's JWKS");
                false
            }
        }
    }
}
