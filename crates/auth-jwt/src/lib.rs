//! External access tokens (what a shopper or admin sends as `Authorization: Bearer`): the claims,
//! RS256 signing with a key parsed once, verification with the algorithm pinned (never read from
//! the token), a key ring addressed by `kid`, and JWKS (RFC 7517) publishing and parsing.
//!
//! The generic pieces (`Signer`, `verify_rs256`, the RSA key helpers) are reused by
//! `internal-token`, which differs in its `typ`, its keys and its claim rules.

mod claims;
mod jwks;
pub mod keys;
mod token;

pub use claims::{AccessClaims, Role};
pub use jwks::{Jwk, Jwks, KeyRing};
pub use token::{AccessTokenVerifier, Signer, TokenError, TokenHeader, peek_header, rs256_validation, verify_rs256};

/// The `typ` header of external access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Clock leeway for `exp`/`nbf`, as the design asks.
pub const DEFAULT_LEEWAY_SECS: u64 = 30;

/// Where revocations live in Redis, shared by auth (which writes them) and the gateway (which
/// checks every authenticated request against them, with that caller's rate limit, in one
/// script). Every key of one user carries the user's hash tag, so on a Redis Cluster the
/// script's keys share a slot.
pub mod revocation {
    /// The hash tag of a user's keys (revocations and the gateway's rate limit of the user).
    pub fn user_tag(prefix: &str, sub: &str) -> String {
        format!("{{{prefix}u:{sub}}}")
    }

    /// A revoked access token of `sub`, kept until the token's own expiry.
    pub fn token_key(prefix: &str, sub: &str, jti: &str) -> String {
        format!("{prefix}revoked:{}:jti:{jti}", user_tag(prefix, sub))
    }

    /// Every access token of a user issued up to the stored unix time in milliseconds is revoked
    /// (logout-all, a password change).
    pub fn user_key(prefix: &str, sub: &str) -> String {
        format!("{prefix}revoked:{}:user", user_tag(prefix, sub))
    }

    /// Every access token of one session (its `sid`) of `sub` is revoked (logout, a reused
    /// refresh token).
    pub fn session_key(prefix: &str, sub: &str, sid: &str) -> String {
        format!("{prefix}revoked:{}:sid:{sid}", user_tag(prefix, sub))
    }
}
