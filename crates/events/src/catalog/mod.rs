//! The event catalog: one versioned payload struct per event type, declared per producing
//! domain (`catalog/<domain>.rs`) with the [`stream!`](crate::stream) macro, which also makes
//! the domain's typed enum (what consumers dispatch on) and its list of secret fields. Fields
//! that carry a secret (one-time tokens) are redacted wherever events are logged and skipped by
//! analytics.

pub mod auth;
pub mod content;
pub mod inventory;
pub mod media;
pub mod order;
pub mod payment;
pub mod product;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use auth::{
    AuthEvent, EmailChangeRequested, EmailVerificationRequested, PasswordChanged, PasswordResetRequested,
    SecondFactorChanged, StaffInvited, UserDeleted, UserEmailChanged, UserEmailVerified, UserRegistered,
};
pub use content::{ContentEvent, ContentPublished, ContentUnpublished};
pub use inventory::{
    InventoryCommitFailed, InventoryCommitted, InventoryEvent, InventoryReleased, InventoryReserved, ReservedLine,
    StockChanged, StockLow,
};
pub use media::{MediaDeleted, MediaEvent, MediaUploaded};
pub use order::{
    CancelledBy, OrderCancelled, OrderCreated, OrderDelivered, OrderEvent, OrderExpired, OrderLine, OrderPaid,
    OrderRefunded, OrderShipped, ShippedLine,
};
pub use payment::{PaymentEvent, PaymentFailed, PaymentRefunded, PaymentSucceeded};
pub use product::{CategoryCreated, CategoryUpdated, ProductArchived, ProductCreated, ProductEvent, ProductUpdated};

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

/// Declares the events of one producing domain's stream: an [`Event`] impl per payload struct,
/// and a typed enum of them with `decode` (what a consumer matches on) and `secret_fields`.
///
/// ```ignore
/// stream! {
///     /// The events of `events.auth`.
///     pub enum AuthEvent in "auth" {
///         UserRegistered = ("USER_REGISTERED", 1, aggregate = user_id),
///         EmailVerificationRequested = ("EMAIL_VERIFICATION_REQUESTED", 1, aggregate = user_id, secrets = ["token"]),
///     }
/// }
/// ```
#[macro_export]
macro_rules! stream {
    (
        $(#[$meta:meta])*
        pub enum $enum:ident in $domain:literal {
            $($name:ident = ($type:literal, $version:literal, aggregate = $field:ident $(, secrets = [$($secret:literal),*])?),)*
        }
    ) => {
        $(
            impl $crate::Event for $name {
                const TYPE: &'static str = $type;
                const VERSION: u16 = $version;
                const DOMAIN: &'static str = $domain;
                const SECRET_FIELDS: &'static [&'static str] = &[$($($secret),*)?];
                fn aggregate_id(&self) -> String {
                    self.$field.to_string()
                }
            }
        )*

        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub enum $enum {
            $($name($name),)*
        }

        impl $enum {
            /// The stream's producing domain.
            pub const DOMAIN: &'static str = $domain;
            /// Every event type of the stream.
            pub const TYPES: &'static [&'static str] = &[$($type,)*];

            /// The typed event of an envelope from this stream; `None` for a type this build
            /// does not know (a newer producer), an error for a known type that does not decode.
            pub fn decode(envelope: &$crate::Envelope) -> Result<Option<Self>, $crate::DecodeError> {
                Ok(match envelope.event_type.as_str() {
                    $($type => Some(Self::$name(envelope.decode()?)),)*
                    _ => None,
                })
            }

            /// The secret payload fields of an event type of this stream, `None` for other types.
            pub fn secret_fields(event_type: &str) -> Option<&'static [&'static str]> {
                match event_type {
                    $($type => Some(<$name as $crate::Event>::SECRET_FIELDS),)*
                    _ => None,
                }
            }
        }
    };
}

/// The secret payload fields of an event type known to this build (none for unknown types).
pub fn secret_fields(event_type: &str) -> &'static [&'static str] {
    AuthEvent::secret_fields(event_type)
        .or_else(|| ProductEvent::secret_fields(event_type))
        .or_else(|| InventoryEvent::secret_fields(event_type))
        .or_else(|| OrderEvent::secret_fields(event_type))
        .or_else(|| PaymentEvent::secret_fields(event_type))
        .or_else(|| MediaEvent::secret_fields(event_type))
        .or_else(|| ContentEvent::secret_fields(event_type))
        .unwrap_or(&[])
}

#[cfg(test)]
// The test stream is declared with `stream!`, whose items are `pub` by design.
#[allow(unreachable_pub)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;
    use crate::{DecodeError, Envelope};

    fn verification() -> EmailVerificationRequested {
        EmailVerificationRequested {
            user_id: Uuid::now_v7().into(),
            email: "a@example.com".into(),
            token_ref: Uuid::now_v7(),
            expires_at: Utc::now(),
        }
    }

    /// A stream declared only for these tests, with a secret field.
    #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub(super) struct Secretive {
        pub id: Uuid,
        pub token: String,
    }

    crate::stream! {
        /// A test stream.
        pub enum TestEvent in "test" {
            Secretive = ("SECRETIVE", 1, aggregate = id, secrets = ["token"]),
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
        envelope.version = 2;
        envelope.payload = serde_json::json!({"unexpected": true});
        assert!(matches!(envelope.decode::<EmailVerificationRequested>(), Err(DecodeError::Payload { .. })));
    }

    #[test]
    fn a_stream_decodes_into_its_typed_enum_and_leaves_unknown_types_alone() {
        let event = verification();
        let decoded = AuthEvent::decode(&Envelope::new("auth", &event)).unwrap();
        assert_eq!(decoded, Some(AuthEvent::EmailVerificationRequested(event)));
        let mut unknown = Envelope::new("auth", &verification());
        unknown.event_type = "SOMETHING_NEWER".into();
        assert_eq!(AuthEvent::decode(&unknown).unwrap(), None);
        assert!(secret_fields("PASSWORD_RESET_REQUESTED").is_empty(), "no auth event carries a secret (review M7)");
        assert_eq!(TestEvent::secret_fields("SECRETIVE"), Some(&["token"][..]));
        assert!(AuthEvent::TYPES.contains(&"PASSWORD_CHANGED"));
    }

    #[test]
    fn secret_payload_fields_are_redacted_in_the_loggable_form() {
        let event = Secretive { id: Uuid::now_v7(), token: "s3cret-token".into() };
        let envelope = Envelope::new("test", &event);
        assert_eq!(TestEvent::decode(&envelope).unwrap(), Some(TestEvent::Secretive(event.clone())));
        assert_eq!((TestEvent::DOMAIN, TestEvent::TYPES), ("test", &["SECRETIVE"][..]));
        let shown = envelope.redacted_fields(TestEvent::secret_fields("SECRETIVE").unwrap()).to_string();
        assert!(!shown.contains("s3cret-token"), "{shown}");
        assert!(shown.contains(&event.id.to_string()));
    }
}
