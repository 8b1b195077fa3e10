//! The event catalog: one versioned payload struct per event type. Fields that carry a secret
//! (one-time tokens) are listed in `SECRET_FIELDS`, redacted wherever events are logged and
//! skipped by analytics.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// A catalog entry.
pub trait Event: Serialize + DeserializeOwned + Send + Sync {
    /// `USER_REGISTERED`, ...
    const TYPE: &'static str;
    /// Bumped on any incompatible change of the payload.
    const VERSION: u16;
    /// The producing domain, which names the stream (`events.<domain>`).
    const DOMAIN: &'static str;
    /// Payload fields that must never be logged.
    const SECRET_FIELDS: &'static [&'static str] = &[];
    fn aggregate_id(&self) -> String;
}

/// Implements [`Event`] for a payload struct: type name, version, producing domain, the field
/// that names the aggregate, and the fields that carry secrets.
macro_rules! event {
    ($name:ident, $type:literal, $version:literal, $domain:literal, aggregate = $field:ident $(, secrets = [$($secret:literal),*])?) => {
        impl Event for $name {
            const TYPE: &'static str = $type;
            const VERSION: u16 = $version;
            const DOMAIN: &'static str = $domain;
            $(const SECRET_FIELDS: &'static [&'static str] = &[$($secret),*];)?
            fn aggregate_id(&self) -> String {
                self.$field.to_string()
            }
        }
    };
}

/// A new account (auth).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserRegistered {
    pub user_id: Uuid,
    pub email: String,
}

event!(UserRegistered, "USER_REGISTERED", 1, "auth", aggregate = user_id);

/// An email address must be confirmed: send the link carrying `token` (auth).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EmailVerificationRequested {
    pub user_id: Uuid,
    pub email: String,
    /// The one-time token, in clear: only the email carries it; auth stores a hash.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

event!(EmailVerificationRequested, "EMAIL_VERIFICATION_REQUESTED", 1, "auth", aggregate = user_id, secrets = ["token"]);

/// The email address is confirmed (auth).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserEmailVerified {
    pub user_id: Uuid,
    pub email: String,
}

event!(UserEmailVerified, "USER_EMAIL_VERIFIED", 1, "auth", aggregate = user_id);

/// Someone asked to reset the password of an existing account: send the link (auth).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PasswordResetRequested {
    pub user_id: Uuid,
    pub email: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

event!(PasswordResetRequested, "PASSWORD_RESET_REQUESTED", 1, "auth", aggregate = user_id, secrets = ["token"]);

/// The password was changed through a reset (auth); a notice goes to the owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PasswordChanged {
    pub user_id: Uuid,
    pub email: String,
}

event!(PasswordChanged, "PASSWORD_CHANGED", 1, "auth", aggregate = user_id);

/// The secret payload fields of an event type known to this build (none for unknown types).
pub fn secret_fields(event_type: &str) -> &'static [&'static str] {
    match event_type {
        EmailVerificationRequested::TYPE => EmailVerificationRequested::SECRET_FIELDS,
        PasswordResetRequested::TYPE => PasswordResetRequested::SECRET_FIELDS,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DecodeError, Envelope};

    fn verification() -> EmailVerificationRequested {
        EmailVerificationRequested {
            user_id: Uuid::now_v7(),
            email: "a@example.com".into(),
            token: "s3cret-token".into(),
            expires_at: Utc::now(),
        }
    }

    #[test]
    fn an_envelope_decodes_to_its_own_type_only() {
        let event = verification();
        let envelope = Envelope::new("auth", &event);
        assert_eq!(envelope.event_type, "EMAIL_VERIFICATION_REQUESTED");
        assert_eq!(envelope.aggregate_id, event.user_id.to_string());
        assert_eq!(envelope.id.get_version_num(), 7);
        assert_eq!(envelope.decode::<EmailVerificationRequested>().unwrap(), event);
        assert!(matches!(envelope.decode::<UserRegistered>(), Err(DecodeError::WrongType { .. })));
    }

    #[test]
    fn an_unknown_version_or_a_foreign_payload_is_an_error_not_a_panic() {
        let mut envelope = Envelope::new("auth", &verification());
        envelope.version = 9;
        assert!(matches!(
            envelope.decode::<EmailVerificationRequested>(),
            Err(DecodeError::UnknownVersion { found: 9, .. })
        ));
        envelope.version = 1;
        envelope.payload = serde_json::json!({"unexpected": true});
        assert!(matches!(envelope.decode::<EmailVerificationRequested>(), Err(DecodeError::Payload { .. })));
    }

    #[test]
    fn secret_payload_fields_are_redacted_in_the_loggable_form() {
        let envelope = Envelope::new("auth", &verification());
        let shown = envelope.redacted().to_string();
        assert!(!shown.contains("s3cret-token"), "{shown}");
        assert!(shown.contains("a@example.com"));
    }
}
