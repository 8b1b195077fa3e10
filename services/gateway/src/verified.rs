//! A cache of access tokens already verified: the RS256 check costs tens of microseconds and a
//! shopper sends the same token with every request for 15 minutes. Entries are keyed by the
//! whole token (a tampered token can never hit), expire with the token, and are dropped when
//! their key leaves the JWKS. Revocation is not cached: it is checked in Redis on every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use auth_jwt::{AccessClaims, KeyRing};

/// Beyond this many entries the cache sweeps expired ones, and starts over if that is not enough.
const CAPACITY: usize = 50_000;

#[derive(Default)]
pub(crate) struct VerifiedTokens {
    entries: Mutex<HashMap<Arc<str>, (String, AccessClaims)>>,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl VerifiedTokens {
    /// The claims of `token` if it was verified before, is not expired (with `leeway`) and its
    /// key is still in `ring`.
    pub(crate) fn get(&self, token: &str, ring: &KeyRing, leeway: u64) -> Option<AccessClaims> {
        let entries = self.entries.lock().expect("verified tokens");
        let (kid, claims) = entries.get(token)?;
        (claims.exp + leeway > unix_now() && ring.contains(kid)).then(|| claims.clone())
    }

    pub(crate) fn insert(&self, token: &str, kid: String, claims: AccessClaims) {
        let mut entries = self.entries.lock().expect("verified tokens");
        let now = unix_now();
        internal_token::bounded::sweep(&mut entries, CAPACITY, |_, (_, c)| c.exp > now);
        entries.insert(Arc::from(token), (kid, claims));
    }
}

#[cfg(test)]
mod tests {
    use auth_jwt::{Jwks, Role};

    use super::*;

    fn claims(exp: u64) -> AccessClaims {
        AccessClaims {
            iss: "i".into(),
            aud: "a".into(),
            sub: "s".into(),
            exp,
            nbf: 0,
            iat: 0,
            iat_ms: 0,
            jti: "j".into(),
            role: Role::Customer,
            perms: vec![],
            sid: None,
            email_verified: false,
        }
    }

    fn ring_with(kid: &str) -> KeyRing {
        let pem = auth_jwt::keys::generate_rsa_private_pem();
        KeyRing::from_jwks(&Jwks { keys: vec![auth_jwt::keys::public_jwk(&pem, kid).unwrap()] })
    }

    #[test]
    fn a_cached_token_is_served_only_while_current_and_while_its_key_is_published() {
        let cache = VerifiedTokens::default();
        let ring = ring_with("k1");
        cache.insert("token-a", "k1".into(), claims(unix_now() + 600));
        cache.insert("token-old", "k1".into(), claims(unix_now() - 100));
        assert!(cache.get("token-a", &ring, 30).is_some());
        assert!(cache.get("token-a-tampered", &ring, 30).is_none(), "only the exact token hits");
        assert!(cache.get("token-old", &ring, 30).is_none(), "expired");
        assert!(cache.get("token-a", &ring_with("k2"), 30).is_none(), "its key left the JWKS");
    }
}
