//! Internal service tokens: how one Shopfleet service proves to another who is calling and on
//! behalf of whom. Each service signs with its own RSA key (never the users' key); a token lives
//! at most 60 s, names the called service as `aud`, and carries `typ: internal+jwt` so it can
//! never pass as an external access token, nor the reverse (RFC 8725 §3.11).

pub mod bounded;
mod guard;
mod mint;
mod verify;

use auth_jwt::Role;
use serde::{Deserialize, Serialize};

pub use guard::{Caller, InternalGuard, only_from, require_internal, token_problem};
pub use mint::Minter;
pub use verify::Verifier;

/// The `typ` header of internal tokens.
pub const INTERNAL_TOKEN_TYPE: &str = "internal+jwt";

/// The longest an internal token may live.
pub const MAX_TTL_SECS: u64 = 60;

/// The subject of anonymous calls (a shopper without a token).
pub const ANONYMOUS: &str = "anonymous";

/// On whose behalf a call is made.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Subject {
    /// The end user's id, or [`ANONYMOUS`].
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default)]
    pub perms: Vec<String>,
    /// Whether the user's email address is confirmed (from the access token).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub email_verified: bool,
    /// The access token the call was made with, for services that act on the session itself
    /// (logout revokes exactly this token and its refresh family).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
}

/// The access token behind a call.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Session {
    /// The refresh-token family (login) the access token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub jti: String,
    pub exp: u64,
}

impl Subject {
    pub fn anonymous() -> Self {
        Self { sub: ANONYMOUS.to_owned(), role: None, perms: Vec::new(), email_verified: false, session: None }
    }

    pub fn user(sub: impl Into<String>, role: Role, perms: Vec<String>) -> Self {
        Self { sub: sub.into(), role: Some(role), perms, email_verified: false, session: None }
    }

    /// The subject of a verified access token.
    pub fn from_access(claims: &auth_jwt::AccessClaims) -> Self {
        Self {
            sub: claims.sub.clone(),
            role: Some(claims.role),
            perms: claims.perms.clone(),
            email_verified: claims.email_verified,
            session: Some(Session { sid: claims.sid.clone(), jti: claims.jti.clone(), exp: claims.exp }),
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.sub == ANONYMOUS
    }
}

/// Claims of an internal token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternalClaims {
    /// The calling service.
    pub iss: String,
    /// The called service.
    pub aud: String,
    #[serde(flatten)]
    pub subject: Subject,
    pub exp: u64,
    pub nbf: u64,
    pub iat: u64,
    pub jti: String,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_secs()
}
