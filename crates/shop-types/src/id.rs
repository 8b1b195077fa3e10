//! Typed ids: a uuid that knows what it names, so an order's id cannot be passed where a
//! user's is meant. On the wire and in the database each is the uuid it wraps.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id {
    ($($(#[$doc:meta])* $name:ident: $what:literal;)+) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id (UUIDv7: time-ordered, as the fleet's ids are).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self(Uuid::nil())
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl PartialEq<Uuid> for $name {
            fn eq(&self, other: &Uuid) -> bool {
                self.0 == *other
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(text: &str) -> Result<Self, uuid::Error> {
                Uuid::parse_str(text).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid)))
                    .description(Some(concat!("The id of ", $what, ".")))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    )+};
}

id! {
    /// An order's id (also its reservation's and the key of its payment).
    OrderId: "an order";
    /// An account's id (a shopper's or a staff member's).
    UserId: "an account";
    ProductId: "a product";
    CategoryId: "a category";
    PaymentId: "a payment";
    RefundId: "a refund";
    MediaId: "an uploaded image";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_uuid_on_the_wire() {
        let uuid = Uuid::now_v7();
        let id = OrderId::from_uuid(uuid);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{uuid}\""));
        assert_eq!(serde_json::from_str::<OrderId>(&format!("\"{uuid}\"")).unwrap(), id);
        assert_eq!(id.to_string().parse::<OrderId>().unwrap(), id);
        assert!("not-a-uuid".parse::<UserId>().is_err());
        assert_eq!(Uuid::from(id), uuid);
        assert_ne!(OrderId::new(), OrderId::new());
    }
}
