//! Verification: signed by the key of the service named in `iss`, meant for this service,
//! current, short-lived, and from an issuer the route accepts.

use std::collections::HashMap;

use auth_jwt::{Jwks, TokenError, peek_header, rs256_validation, verify_rs256};
use jsonwebtoken::{DecodingKey, Validation};

use crate::{INTERNAL_TOKEN_TYPE, InternalClaims, MAX_TTL_SECS};

/// Clock leeway between services of one fleet; internal tokens are too short-lived for 30 s.
const LEEWAY_SECS: u64 = 5;

/// Verifies internal tokens addressed to one service.
#[derive(Clone)]
pub struct Verifier {
    me: String,
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl Verifier {
    /// `service_keys` holds every service's internal public key, `kid` = service name.
    pub fn new(me: &str, service_keys: &Jwks) -> Self {
        let ring = auth_jwt::KeyRing::from_jwks(service_keys);
        let keys =
            service_keys.keys.iter().filter_map(|jwk| Some((jwk.kid.clone(), ring.get(&jwk.kid)?.clone()))).collect();
        let mut validation = rs256_validation(LEEWAY_SECS);
        validation.set_audience(&[me]);
        Self { me: me.to_owned(), keys, validation }
    }

    pub fn service(&self) -> &str {
        &self.me
    }

    /// Checks the token and that its issuer is one of `allowed_issuers`.
    pub fn verify(&self, token: &str, allowed_issuers: &[&str]) -> Result<InternalClaims, TokenError> {
        let header = peek_header(token, INTERNAL_TOKEN_TYPE)?;
        let kid = header.kid.unwrap_or_default();
        let key = self.keys.get(&kid).ok_or_else(|| TokenError::UnknownKey(kid.clone()))?;
        let claims: InternalClaims = verify_rs256(token, key, &self.validation)?;
        // The key names the signer; a service cannot claim to be another one.
        if claims.iss != kid || !allowed_issuers.contains(&claims.iss.as_str()) {
            return Err(TokenError::WrongIssuer);
        }
        if claims.exp.saturating_sub(claims.iat) > MAX_TTL_SECS {
            return Err(TokenError::LifetimeTooLong);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use auth_jwt::{Role, Signer, keys};

    use super::*;
    use crate::{Minter, Subject, unix_now};

    struct Keys {
        gateway: String,
        order: String,
        jwks: Jwks,
    }

    fn keys() -> &'static Keys {
        static KEYS: OnceLock<Keys> = OnceLock::new();
        KEYS.get_or_init(|| {
            let gateway = keys::generate_rsa_private_pem();
            let order = keys::generate_rsa_private_pem();
            let jwks = Jwks {
                keys: vec![keys::public_jwk(&gateway, "gateway").unwrap(), keys::public_jwk(&order, "order").unwrap()],
            };
            Keys { gateway, order, jwks }
        })
    }

    fn alice() -> Subject {
        Subject::user("alice", Role::Customer, vec![])
    }

    #[test]
    fn a_minted_token_verifies_for_its_audience_from_an_allowed_issuer() {
        let minter = Minter::new("gateway", &keys().gateway, 60).unwrap();
        let token = minter.mint("product", &alice());
        let claims = Verifier::new("product", &keys().jwks).verify(&token, &["gateway"]).unwrap();
        assert_eq!(claims.iss, "gateway");
        assert_eq!(claims.subject, alice());
        assert!(claims.exp - claims.iat <= MAX_TTL_SECS);
    }

    #[test]
    fn minted_tokens_are_reused_per_audience_and_subject() {
        let minter = Minter::new("gateway", &keys().gateway, 60).unwrap();
        let first = minter.mint("product", &alice());
        assert!(std::sync::Arc::ptr_eq(&first, &minter.mint("product", &alice())));
        assert_ne!(first, minter.mint("cart", &alice()));
        assert_ne!(first, minter.mint("product", &Subject::anonymous()));
    }

    #[test]
    fn another_audience_or_a_disallowed_issuer_is_refused() {
        let token = Minter::new("gateway", &keys().gateway, 60).unwrap().mint("cart", &alice());
        let product = Verifier::new("product", &keys().jwks);
        assert_eq!(product.verify(&token, &["gateway"]), Err(TokenError::WrongAudience));
        let from_order = Minter::new("order", &keys().order, 60).unwrap().mint("product", &alice());
        assert_eq!(product.verify(&from_order, &["gateway"]), Err(TokenError::WrongIssuer));
        assert!(product.verify(&from_order, &["gateway", "order"]).is_ok());
    }

    #[test]
    fn a_service_cannot_sign_in_the_name_of_another() {
        // order's key, but claiming to be the gateway.
        let now = unix_now();
        let claims = InternalClaims {
            iss: "gateway".into(),
            aud: "product".into(),
            subject: alice(),
            exp: now + 30,
            nbf: now,
            iat: now,
            jti: "x".into(),
        };
        let token = Signer::from_pem("order", &keys().order).unwrap().sign(INTERNAL_TOKEN_TYPE, &claims);
        let result = Verifier::new("product", &keys().jwks).verify(&token, &["gateway"]);
        assert_eq!(result, Err(TokenError::WrongIssuer));
    }

    #[test]
    fn expired_long_lived_and_external_tokens_are_refused() {
        let now = unix_now();
        let sign = |exp: u64, iat: u64, typ: &str| {
            let claims = InternalClaims {
                iss: "gateway".into(),
                aud: "product".into(),
                subject: alice(),
                exp,
                nbf: iat,
                iat,
                jti: "x".into(),
            };
            Signer::from_pem("gateway", &keys().gateway).unwrap().sign(typ, &claims)
        };
        let verifier = Verifier::new("product", &keys().jwks);
        assert_eq!(
            verifier.verify(&sign(now - 100, now - 130, INTERNAL_TOKEN_TYPE), &["gateway"]),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verifier.verify(&sign(now + 3600, now, INTERNAL_TOKEN_TYPE), &["gateway"]),
            Err(TokenError::LifetimeTooLong)
        );
        assert_eq!(verifier.verify(&sign(now + 30, now, "at+jwt"), &["gateway"]), Err(TokenError::WrongType));
    }
}
