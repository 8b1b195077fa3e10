//! Secrets auth must be able to read back (TOTP seeds, and signing keys in the key ring) are
//! stored encrypted with AES-256-GCM under a key from configuration (AUTH_ENCRYPTION_KEY_FILE),
//! so a database dump alone reveals none of them.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

pub struct Vault {
    key: LessSafeKey,
    /// For keyed digests of secrets auth only compares (recovery codes): derived from the same
    /// key file, so a database dump alone cannot test guesses offline.
    mac_key: aws_lc_rs::hmac::Key,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the encryption key must be 32 bytes (base64 in the key file)")]
    BadKey,
    #[error("the ciphertext is damaged or was made with another key")]
    Undecryptable,
}

impl Vault {
    /// From the key file's text: 32 bytes in standard base64.
    pub fn from_base64(text: &str) -> Result<Self, VaultError> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| VaultError::BadKey)?;
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| VaultError::BadKey)?;
        // A separate key for MACs, derived so the encryption key is never used for two purposes.
        let derive = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &bytes);
        let mac_key_bytes = aws_lc_rs::hmac::sign(&derive, b"shopfleet-auth mac key v1");
        let mac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, mac_key_bytes.as_ref());
        Ok(Self { key: LessSafeKey::new(key), mac_key })
    }

    /// A keyed digest (HMAC-SHA256) of `secret` for `context` (whose secret it is): what is
    /// stored of secrets that are only ever compared.
    pub fn digest(&self, secret: &[u8], context: &str) -> Vec<u8> {
        let mut message = context.as_bytes().to_vec();
        message.push(0);
        message.extend_from_slice(secret);
        aws_lc_rs::hmac::sign(&self.mac_key, &message).as_ref().to_vec()
    }

    /// A fresh random key in the key file's format (dev keys, tests).
    pub fn generate_base64() -> String {
        use base64::Engine;
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system RNG works");
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// nonce ‖ ciphertext ‖ tag; `context` is bound as associated data (what the secret is for).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system RNG works");
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context.as_bytes()), &mut in_out)
            .expect("sealing in memory cannot fail");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&in_out);
        sealed
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, VaultError> {
        if sealed.len() < NONCE_LEN {
            return Err(VaultError::Undecryptable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Undecryptable)?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut in_out)
            .map_err(|_| VaultError::Undecryptable)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_depends_on_the_key_and_the_context() {
        let vault = Vault::from_base64(&Vault::generate_base64()).unwrap();
        let other = Vault::from_base64(&Vault::generate_base64()).unwrap();
        assert_eq!(vault.digest(b"code", "a"), vault.digest(b"code", "a"));
        assert_ne!(vault.digest(b"code", "a"), vault.digest(b"code", "b"));
        assert_ne!(vault.digest(b"code", "a"), other.digest(b"code", "a"));
    }

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_context() {
        let vault = Vault::from_base64(&Vault::generate_base64()).unwrap();
        let sealed = vault.seal(b"totp seed", "totp:user-1");
        assert!(!sealed.windows(9).any(|w| w == b"totp seed"));
        assert_eq!(vault.open(&sealed, "totp:user-1").unwrap(), b"totp seed");
        assert!(vault.open(&sealed, "totp:user-2").is_err(), "bound to its context");
        let other = Vault::from_base64(&Vault::generate_base64()).unwrap();
        assert!(other.open(&sealed, "totp:user-1").is_err());
        assert!(Vault::from_base64("c2hvcnQ=").is_err());
    }
}
