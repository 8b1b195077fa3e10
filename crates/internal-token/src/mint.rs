//! Minting with a cache: RSA signing costs far more than verifying, so a token minted for
//! (audience, subject, role, perms) is reused until shortly before it expires.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use auth_jwt::Signer;
use auth_jwt::keys::KeyError;

use crate::{INTERNAL_TOKEN_TYPE, InternalClaims, MAX_TTL_SECS, Subject, unix_now};

/// A cached token is replaced when less than this much of its life is left, so a receiver
/// never sees it expire in flight.
const RENEW_MARGIN_SECS: u64 = 15;

/// Entries beyond this many trigger a sweep of expired ones (one per active user at most).
const CACHE_SWEEP_THRESHOLD: usize = 10_000;

type CacheKey = (String, Subject);

struct Cached {
    token: Arc<str>,
    exp: u64,
}

/// Mints internal tokens for one calling service.
pub struct Minter {
    service: String,
    signer: Signer,
    ttl_secs: u64,
    cache: Mutex<HashMap<CacheKey, Cached>>,
}

impl Minter {
    /// `private_pem` is this service's own internal key; the `kid` is the service name, which is
    /// how receivers pick the public key to verify with. The TTL is capped at 60 s.
    pub fn new(service: &str, private_pem: &str, ttl_secs: u64) -> Result<Self, KeyError> {
        Ok(Self {
            service: service.to_owned(),
            signer: Signer::from_pem(service, private_pem)?,
            ttl_secs: ttl_secs.clamp(RENEW_MARGIN_SECS + 5, MAX_TTL_SECS),
            cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// A token for calling `audience` on behalf of `subject`, from the cache when one is fresh.
    pub fn mint(&self, audience: &str, subject: &Subject) -> Arc<str> {
        self.mint_counted(audience, subject).0
    }

    /// Like [`Minter::mint`], also telling whether the token came from the cache.
    pub fn mint_counted(&self, audience: &str, subject: &Subject) -> (Arc<str>, bool) {
        let now = unix_now();
        let key = (audience.to_owned(), subject.clone());
        if let Some(cached) = self.cache.lock().expect("mint cache lock").get(&key)
            && cached.exp > now + RENEW_MARGIN_SECS
        {
            return (cached.token.clone(), true);
        }
        // Sign outside the lock: two racing callers may both sign once, which is harmless.
        let claims = InternalClaims {
            iss: self.service.clone(),
            aud: audience.to_owned(),
            subject: subject.clone(),
            exp: now + self.ttl_secs,
            nbf: now,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
        };
        let token: Arc<str> = self.signer.sign(INTERNAL_TOKEN_TYPE, &claims).into();
        let mut cache = self.cache.lock().expect("mint cache lock");
        crate::bounded::sweep(&mut cache, CACHE_SWEEP_THRESHOLD, |_, cached| cached.exp > now + RENEW_MARGIN_SECS);
        cache.insert(key, Cached { token: token.clone(), exp: claims.exp });
        (token, false)
    }
}

impl std::fmt::Debug for Minter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Minter").field("service", &self.service).finish_non_exhaustive()
    }
}
