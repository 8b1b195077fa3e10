//! The statuses the fleet stores as text and sends as strings, as enums: a handler matches on
//! them, the database's check constraints and the OpenAPI document list the same values.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A text that is none of a status enum's values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a {kind}")]
pub struct UnknownStatus {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! status {
    ($($(#[$doc:meta])* $name:ident ($kind:literal) { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ })+) => {$(
        $(#[$doc])*
        // The text of each value is its name in snake case (`as_str` spells it for SQL and
        // messages; a unit test holds the two to the same words). A literal passed through
        // this macro would not reach utoipa's derive as a literal, hence `rename_all`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in the order of its life.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value written `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|status| status.as_str() == text)
            }
        }

        impl FromStr for $name {
            type Err = UnknownStatus;

            fn from_str(text: &str) -> Result<Self, UnknownStatus> {
                Self::parse(text).ok_or_else(|| UnknownStatus { kind: $kind, value: text.to_owned() })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        crate::text::sqlx_text!($name);
    )+};
}

status! {
    /// Where an order is (the order service's state machine moves it).
    OrderStatus ("order status") {
        AwaitingPayment = "awaiting_payment",
        Paid = "paid",
        Fulfilling = "fulfilling",
        Shipped = "shipped",
        Delivered = "delivered",
        Cancelled = "cancelled",
        Expired = "expired",
        Refunded = "refunded",
        PartiallyRefunded = "partially_refunded",
    }

    /// Where a payment is with its provider.
    PaymentStatus ("payment status") {
        RequiresConfirmation = "requires_confirmation",
        Processing = "processing",
        Succeeded = "succeeded",
        Failed = "failed",
        /// Its order expired or was cancelled first.
        Canceled = "canceled",
    }

    /// Where a refund is with the payment provider.
    RefundStatus ("refund status") {
        /// Sent, or to be sent, to the provider.
        Requested = "requested",
        Succeeded = "succeeded",
        Failed = "failed",
    }

    /// What a stock reservation holds.
    ReservationStatus ("reservation status") {
        Held = "held",
        Committed = "committed",
        Released = "released",
    }

    /// Whether a product is on sale.
    ProductStatus ("product status") {
        Draft = "draft",
        Active = "active",
        Archived = "archived",
    }

    /// Whether a review is shown.
    ReviewStatus ("review status") {
        Published = "published",
        Hidden = "hidden",
    }

    /// Where a delivery (a message, a storefront revalidation) is.
    DeliveryStatus ("delivery status") {
        /// Not delivered yet; retried.
        Pending = "pending",
        Sent = "sent",
        /// Given up after its attempts.
        Failed = "failed",
    }
}

impl OrderStatus {
    /// Whether money was taken for the order (it was paid at some point).
    pub fn was_paid(self) -> bool {
        !matches!(self, OrderStatus::AwaitingPayment | OrderStatus::Cancelled | OrderStatus::Expired)
    }

    /// No transition leaves these.
    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Cancelled | OrderStatus::Expired | OrderStatus::Refunded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelled_alike<T>(all: &[T])
    where
        T: Copy
            + fmt::Display
            + FromStr<Err = UnknownStatus>
            + Serialize
            + utoipa::PartialSchema
            + PartialEq
            + fmt::Debug,
    {
        let schema = serde_json::to_value(T::schema()).unwrap();
        let listed: Vec<String> = serde_json::from_value(schema["enum"].clone()).unwrap();
        let texts: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(listed, texts, "the OpenAPI enum lists the texts");
        for &status in all {
            assert_eq!(status.to_string().parse::<T>(), Ok(status));
            assert_eq!(serde_json::to_string(&status).unwrap(), format!("\"{status}\""));
        }
    }

    #[test]
    fn a_status_is_its_text_everywhere() {
        spelled_alike(OrderStatus::ALL);
        spelled_alike(PaymentStatus::ALL);
        spelled_alike(RefundStatus::ALL);
        spelled_alike(ReservationStatus::ALL);
        spelled_alike(ProductStatus::ALL);
        spelled_alike(ReviewStatus::ALL);
        spelled_alike(DeliveryStatus::ALL);
        assert_eq!(OrderStatus::ALL.len(), 9);
        assert_eq!(serde_json::from_str::<PaymentStatus>("\"canceled\"").unwrap(), PaymentStatus::Canceled);
        assert_eq!(
            "shipped".parse::<ProductStatus>(),
            Err(UnknownStatus { kind: "product status", value: "shipped".into() })
        );
        assert!(serde_json::from_str::<ReviewStatus>("\"deleted\"").is_err());
    }

    #[test]
    fn an_order_was_paid_unless_it_never_was() {
        let unpaid = [OrderStatus::AwaitingPayment, OrderStatus::Cancelled, OrderStatus::Expired];
        for &status in OrderStatus::ALL {
            assert_eq!(status.was_paid(), !unpaid.contains(&status), "{status}");
        }
        assert!(OrderStatus::Refunded.is_final() && !OrderStatus::PartiallyRefunded.is_final());
    }
}
