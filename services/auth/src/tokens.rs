//! Issuing access tokens and publishing the key that verifies them.

use std::time::{SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use auth_jwt::{ACCESS_TOKEN_TYPE, AccessClaims, Jwks, Role};
use problem::StaffRole;

use crate::config::AuthConfig;
use crate::keyring::KeyRing;

pub(crate) struct TokenIssuer {
    ring: Arc<KeyRing>,
    issuer: String,
    audience: String,
    ttl_secs: u64,
    admin_ttl_secs: u64,
}

impl TokenIssuer {
    pub(crate) fn new(config: &AuthConfig, ring: Arc<KeyRing>) -> Self {
        Self {
            ring,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            ttl_secs: config.access_token_ttl.as_secs(),
            admin_ttl_secs: config.admin_access_token_ttl.as_secs(),
        }
    }

    /// A signed access token for `user_id`, and its lifetime in seconds. `staff` is the staff
    /// role of a session opened with a second factor, `None` for a shopper's.
    pub(crate) fn issue(
        &self,
        user_id: uuid::Uuid,
        staff: Option<StaffRole>,
        email_verified: bool,
        sid: Option<uuid::Uuid>,
    ) -> (String, u64) {
        // Staff tokens are shorter-lived and carry their role's permissions; shoppers have none.
        let (ttl_secs, role, perms) = match staff {
            None => (self.ttl_secs, Role::Customer, Vec::new()),
            Some(StaffRole::Admin) => (self.admin_ttl_secs, Role::Admin, StaffRole::Admin.permission_names()),
            Some(staff) => (self.admin_ttl_secs, Role::Staff, staff.permission_names()),
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
    pub(crate) fn longest_lifetime_secs(&self) -> u64 {
        self.ttl_secs.max(self.admin_ttl_secs)
    }

    pub(crate) fn jwks(&self) -> Jwks {
        self.ring.jwks()
    }

    pub(crate) fn ring(&self) -> &Arc<KeyRing> {
        &self.ring
    }
}
