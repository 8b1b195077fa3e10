//! The claims of an access token.

use serde::{Deserialize, Serialize};

/// Who the subject is to the shop. Serialized in snake_case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    /// A staff member with every permission.
    Admin,
    /// A staff member whose role holds some permissions (listed in `perms`).
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Admin => "admin",
            Self::Staff => "staff",
        }
    }
}

/// Claims of an external access token (RFC 9068 profile plus `role`, `perms` and `sid`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub exp: u64,
    pub nbf: u64,
    pub iat: u64,
    /// When it was issued, in milliseconds: revocation cutoffs (logout everywhere, a password
    /// change) compare with it, so a token issued just before a cutoff in the same second is
    /// refused while one issued after it is not. 0 in tokens from before this claim existed.
    #[serde(default)]
    pub iat_ms: u64,
    /// Unique token id, the handle for revocation.
    pub jti: String,
    pub role: Role,
    #[serde(default)]
    pub perms: Vec<String>,
    /// The session (refresh-token family) this token belongs to, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Whether the account's email address has been confirmed.
    #[serde(default)]
    pub email_verified: bool,
}

impl AccessClaims {
    /// When it was issued, in milliseconds; for a token without `iat_ms`, the last millisecond
    /// of its `iat` second (so a cutoff in that second revokes it).
    pub fn issued_at_ms(&self) -> u64 {
        if self.iat_ms > 0 { self.iat_ms } else { self.iat * 1000 + 999 }
    }
}
