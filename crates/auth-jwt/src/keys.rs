//! RSA key material: generation (dev keys, tests) and the public half as a JWK.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::Jwk;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key is not a PEM-encoded PKCS#8 RSA private key")]
    NotPkcs8Pem,
    #[error("the RSA key was rejected: {0}")]
    Rejected(String),
}

/// A fresh 2048-bit RSA private key as PKCS#8 PEM.
pub fn generate_rsa_private_pem() -> String {
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
    let der = pair.as_der().expect("PKCS#8 encoding of a fresh key");
    pem_encode("PRIVATE KEY", der.as_ref())
}

/// The public half of a PKCS#8 PEM private key, as an RS256 signing JWK with the given `kid`.
pub fn public_jwk(private_pem: &str, kid: &str) -> Result<Jwk, KeyError> {
    let der = pem_decode(private_pem, "PRIVATE KEY").ok_or(KeyError::NotPkcs8Pem)?;
    let pair = KeyPair::from_pkcs8(&der).map_err(|e| KeyError::Rejected(e.to_string()))?;
    let public = pair.public_key();
    Ok(Jwk::rs256(
        kid,
        URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    ))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_decode(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = pem[start..].find(&end)? + start;
    let body: String = pem[start..stop].split_whitespace().collect();
    STANDARD.decode(body).ok()
}

/// `n` bytes from the system's cryptographic RNG.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system RNG works");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_round_trips_through_pem_to_a_jwk() {
        let pem = generate_rsa_private_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let jwk = public_jwk(&pem, "k1").unwrap();
        assert_eq!(jwk.kid, "k1");
        assert_eq!(jwk.e, "AQAB");
        assert!(jwk.n.len() > 300);
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(matches!(public_jwk("hello", "k"), Err(KeyError::NotPkcs8Pem)));
    }
}
