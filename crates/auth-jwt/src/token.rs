//! Signing and verification. The algorithm is pinned to RS256: a token's own `alg` is only ever
//! compared against it, never used to pick how to verify.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::keys::KeyError;
use crate::{ACCESS_TOKEN_TYPE, AccessClaims, KeyRing};

/// Why a token was refused. Each variant has a stable `code()` for problem+json.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not RS256")]
    AlgorithmNotAllowed,
    #[error("the token has the wrong type")]
    WrongType,
    #[error("the token is signed with an unknown key")]
    UnknownKey(String),
    #[error("the token's signature is invalid")]
    InvalidSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is meant for another audience")]
    WrongAudience,
    #[error("the token comes from an issuer that is not accepted here")]
    WrongIssuer,
    #[error("the token lacks a required claim")]
    MissingClaim,
    #[error("the token lives longer than this kind of token may")]
    LifetimeTooLong,
}

/// The parts of a JOSE header we look at before verifying.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct TokenHeader {
    pub alg: String,
    #[serde(default)]
    pub typ: Option<String>,
    #[serde(default)]
    pub kid: Option<String>,
}

/// Reads the header without trusting it, refusing any algorithm but RS256 and any `typ` but
/// `expected_typ` (explicit typing, RFC 8725 §3.11, keeps access and internal tokens apart).
pub fn peek_header(token: &str, expected_typ: &str) -> Result<TokenHeader, TokenError> {
    let mut parts = token.split('.');
    let (Some(head), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD.decode(head).map_err(|_| TokenError::Malformed)?;
    let header: TokenHeader = serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
    if header.alg != "RS256" {
        return Err(TokenError::AlgorithmNotAllowed);
    }
    let typ_matches = header.typ.as_deref().is_some_and(|typ| {
        let typ = typ.to_ascii_lowercase();
        typ == expected_typ || typ.strip_prefix("application/") == Some(expected_typ)
    });
    if !typ_matches {
        return Err(TokenError::WrongType);
    }
    Ok(header)
}

/// Verifies signature and registered claims with RS256 pinned in `validation`.
pub fn verify_rs256<C: DeserializeOwned>(
    token: &str,
    key: &DecodingKey,
    validation: &Validation,
) -> Result<C, TokenError> {
    debug_assert_eq!(validation.algorithms, vec![Algorithm::RS256]);
    jsonwebtoken::decode::<C>(token, key, validation).map(|data| data.claims).map_err(|error| match error.kind() {
        ErrorKind::InvalidSignature => TokenError::InvalidSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => TokenError::AlgorithmNotAllowed,
        ErrorKind::MissingRequiredClaim(_) => TokenError::MissingClaim,
        _ => TokenError::Malformed,
    })
}

/// An RS256 validation with the given leeway, requiring the usual registered claims.
pub fn rs256_validation(leeway_secs: u64) -> Validation {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = leeway_secs;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
    validation
}

/// A private key parsed once, signing RS256 tokens with a fixed `kid`.
pub struct Signer {
    kid: String,
    key: EncodingKey,
}

impl Signer {
    pub fn from_pem(kid: impl Into<String>, private_pem: &str) -> Result<Self, KeyError> {
        let key = EncodingKey::from_rsa_pem(private_pem.as_bytes()).map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(Self { kid: kid.into(), key })
    }

    /// Signs `claims` with header `{alg: RS256, typ, kid}`.
    pub fn sign<C: Serialize>(&self, typ: &str, claims: &C) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some(typ.to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).expect("signing with a parsed RSA key")
    }
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// Verifies external access tokens against a key ring: RS256, `typ` at+jwt, the configured
/// issuer and audience, `exp`/`nbf` with leeway.
#[derive(Clone)]
pub struct AccessTokenVerifier {
    validation: Validation,
}

impl AccessTokenVerifier {
    pub fn new(issuer: &str, audience: &str, leeway_secs: u64) -> Self {
        let mut validation = rs256_validation(leeway_secs);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        Self { validation }
    }

    pub fn verify(&self, token: &str, ring: &KeyRing) -> Result<AccessClaims, TokenError> {
        self.verify_with_kid(token, ring).map(|(claims, _)| claims)
    }

    /// Like [`verify`](Self::verify), also handing back the `kid` that verified the token, so a
    /// cache can drop the token when its key leaves the JWKS without parsing the header again.
    pub fn verify_with_kid(&self, token: &str, ring: &KeyRing) -> Result<(AccessClaims, String), TokenError> {
        let header = peek_header(token, ACCESS_TOKEN_TYPE)?;
        let kid = header.kid.ok_or(TokenError::UnknownKey(String::new()))?;
        let key = ring.get(&kid).ok_or_else(|| TokenError::UnknownKey(kid.clone()))?;
        Ok((verify_rs256(token, key, &self.validation)?, kid))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;
    use crate::{Jwks, Role, keys};

    fn pem() -> &'static str {
        static PEM: OnceLock<String> = OnceLock::new();
        PEM.get_or_init(keys::generate_rsa_private_pem)
    }

    fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    fn claims() -> AccessClaims {
        AccessClaims {
            iss: "shopfleet-auth".into(),
            aud: "shopfleet-api".into(),
            sub: "user-1".into(),
            exp: now() + 900,
            nbf: now(),
            iat: now(),
            iat_ms: 0,
            jti: "j1".into(),
            role: Role::Customer,
            perms: vec![],
            sid: None,
            email_verified: false,
        }
    }

    fn ring() -> KeyRing {
        KeyRing::from_jwks(&Jwks { keys: vec![keys::public_jwk(pem(), "k1").unwrap()] })
    }

    fn verifier() -> AccessTokenVerifier {
        AccessTokenVerifier::new("shopfleet-auth", "shopfleet-api", 30)
    }

    fn sign(claims: &AccessClaims) -> String {
        Signer::from_pem("k1", pem()).unwrap().sign(ACCESS_TOKEN_TYPE, claims)
    }

    #[test]
    fn a_valid_token_verifies_to_its_claims() {
        let c = claims();
        assert_eq!(verifier().verify(&sign(&c), &ring()), Ok(c));
    }

    #[test]
    fn expired_wrong_audience_and_wrong_issuer_are_refused_with_their_own_codes() {
        let mut c = claims();
        c.exp = now() - 120;
        assert_eq!(verifier().verify(&sign(&c), &ring()), Err(TokenError::Expired));
        let mut c = claims();
        c.aud = "other".into();
        assert_eq!(verifier().verify(&sign(&c), &ring()), Err(TokenError::WrongAudience));
        let mut c = claims();
        c.iss = "evil".into();
        assert_eq!(verifier().verify(&sign(&c), &ring()), Err(TokenError::WrongIssuer));
        let mut c = claims();
        c.nbf = now() + 600;
        assert_eq!(verifier().verify(&sign(&c), &ring()), Err(TokenError::NotYetValid));
    }

    #[test]
    fn expiry_within_the_leeway_is_tolerated() {
        let mut c = claims();
        c.exp = now() - 10;
        assert!(verifier().verify(&sign(&c), &ring()).is_ok());
    }

    #[test]
    fn a_tampered_payload_breaks_the_signature() {
        let token = sign(&claims());
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut forged = claims();
        forged.role = Role::Admin;
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(verifier().verify(&parts.join("."), &ring()), Err(TokenError::InvalidSignature));
    }

    #[test]
    fn alg_none_and_hs256_are_refused_before_any_key_is_used() {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).unwrap());
        let none = format!("{}.{body}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt","kid":"k1"}"#));
        assert_eq!(verifier().verify(&none, &ring()), Err(TokenError::AlgorithmNotAllowed));
        let hs = format!("{}.{body}.c2ln", URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"at+jwt","kid":"k1"}"#));
        assert_eq!(verifier().verify(&hs, &ring()), Err(TokenError::AlgorithmNotAllowed));
    }

    #[test]
    fn an_unknown_kid_and_a_foreign_type_are_refused() {
        let other = Signer::from_pem("k2", pem()).unwrap().sign(ACCESS_TOKEN_TYPE, &claims());
        assert_eq!(verifier().verify(&other, &ring()), Err(TokenError::UnknownKey("k2".into())));
        let internal = Signer::from_pem("k1", pem()).unwrap().sign("internal+jwt", &claims());
        assert_eq!(verifier().verify(&internal, &ring()), Err(TokenError::WrongType));
        assert_eq!(verifier().verify("not-a-jwt", &ring()), Err(TokenError::Malformed));
    }
}
