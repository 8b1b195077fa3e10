//! JWKS (RFC 7517): the public keys a verifier trusts, addressed by `kid`.

use std::collections::HashMap;

use jsonwebtoken::DecodingKey;
use serde::{Deserialize, Serialize};

/// One RSA public key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    pub kid: String,
    pub n: String,
    pub e: String,
}

impl Jwk {
    pub fn rs256(kid: &str, n: String, e: String) -> Self {
        Self { kty: "RSA".into(), use_: Some("sig".into()), alg: Some("RS256".into()), kid: kid.into(), n, e }
    }
}

/// A key set as published at `/.well-known/jwks.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// Decoding keys by `kid`. Only RSA signing keys meant for RS256 are taken from a JWKS; others
/// (encryption keys, other algorithms) are skipped, never trusted.
#[derive(Clone, Default)]
pub struct KeyRing {
    keys: HashMap<String, DecodingKey>,
}

impl KeyRing {
    pub fn from_jwks(jwks: &Jwks) -> Self {
        let keys = jwks
            .keys
            .iter()
            .filter(|k| k.kty == "RSA")
            .filter(|k| k.use_.as_deref().is_none_or(|u| u == "sig"))
            .filter(|k| k.alg.as_deref().is_none_or(|a| a == "RS256"))
            .filter_map(|k| Some((k.kid.clone(), DecodingKey::from_rsa_components(&k.n, &k.e).ok()?)))
            .collect();
        Self { keys }
    }

    pub fn get(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.get(kid)
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_round_trips_and_skips_keys_not_for_rs256_signing() {
        let pem = crate::keys::generate_rsa_private_pem();
        let good = crate::keys::public_jwk(&pem, "good").unwrap();
        let mut enc = good.clone();
        enc.kid = "enc".into();
        enc.use_ = Some("enc".into());
        let mut hs = good.clone();
        hs.kid = "hs".into();
        hs.alg = Some("HS256".into());
        let jwks = Jwks { keys: vec![good, enc, hs] };
        let parsed: Jwks = serde_json::from_str(&serde_json::to_string(&jwks).unwrap()).unwrap();
        assert_eq!(parsed, jwks);
        assert!(serde_json::to_string(&jwks).unwrap().contains(r#""use":"sig""#));
        let ring = KeyRing::from_jwks(&parsed);
        assert!(ring.contains("good"));
        assert!(!ring.contains("enc"));
        assert!(!ring.contains("hs"));
    }
}
