//! One-time tokens: 256 random bits, handed out in clear once (inside an event that only the
//! notification service turns into an email), stored as a SHA-256 hash.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How long an email verification link works.
pub(crate) const VERIFY_EMAIL_TTL_SECS: i64 = 24 * 3600;
/// How long a password reset link works.
pub(crate) const RESET_PASSWORD_TTL_SECS: i64 = 3600;

/// How long a staff invitation works.
pub(crate) const STAFF_INVITE_TTL_SECS: i64 = 72 * 3600;
/// How long the link that confirms a new email address works.
pub(crate) const CHANGE_EMAIL_TTL_SECS: i64 = 24 * 3600;

/// A fresh token and its hash.
pub(crate) fn generate() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system RNG works");
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub(crate) fn hash(token: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, token.trim().as_bytes()).as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_stored_only_as_their_hash() {
        let (a, hash_a) = generate();
        let (b, _) = generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash(&a), hash_a);
        assert_eq!(hash_a.len(), 32);
        assert!(!hash_a.windows(a.len().min(8)).any(|w| w == &a.as_bytes()[..8]));
    }
}
