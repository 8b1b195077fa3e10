//! Issuing access tokens and publishing the key that verifies them.

use std::time::{SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use auth_jwt::{ACCESS_TOKEN_TYPE, AccessClaims, Jwks, Role};

use crate::config::AuthConfig;
use crate::keyring::KeyRing;

pub struct TokenIssuer {
    ring: Arc<KeyRing>,
    issuer: String,
    audience: String,
    ttl_secs: u64,
    admin_ttl_secs: u64,
}

impl TokenIssuer {
    pub fn new(config: &AuthConfig, ring: Arc<KeyRing>) -> Self {
        Self {
            ring,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            ttl_secs: config.access_token_ttl.as_secs(),
            admin_ttl_secs: config.admin_access_token_ttl.as_secs(),
        }
    }

    /// A signed access token for `user_id`, and its lifetime in seconds.
    pub fn issue(
        &self,
        user_id: uuid::Uuid,
        role: Role,
        email_verified: bool,
        sid: Option<uuid::Uuid>,
    ) -> (String, u64) {
        // Admin tokens are shorter-lived and carry the admin permissions; customers have none.
        let (ttl_secs, perms) = match role {
            Role::Admin => (self.admin_ttl_secs, service_kit::Permission::all_names()),
            Role::Customer => (self.ttl_secs, Vec::new()),
        };
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as u64;
        let now = now_ms / 1000;
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            exp: now + ttl_secs,
            nbf: now,
            iat: now,
            iat_ms: now_ms,
            jti: uuid::Uuid::now_v7().to_string(),
            role,
            perms,
            sid: sid.map(|s| s.to_string()),
            email_verified,
        };
        (self.ring.signer().sign(ACCESS_TOKEN_TYPE, &claims), ttl_secs)
    }

    /// The longest any access token issued here lives.
    pub fn longest_lifetime_secs(&self) -> u64 {
        self.ttl_secs.max(self.admin_ttl_secs)
    }

    pub fn jwks(&self) -> Jwks {
        self.ring.jwks()
    }

    pub fn ring(&self) -> &Arc<KeyRing> {
        &self.ring
    }
}
