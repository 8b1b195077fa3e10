//! The events of `events.payment`: what happened to an order's payment.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The provider confirmed the payment: the order is paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
    pub provider: String,
}

/// The provider declined the payment: the order stays payable until its deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub reason: String,
}

crate::stream! {
    /// The events of `events.payment`.
    pub enum PaymentEvent in "payment" {
        PaymentSucceeded = ("PAYMENT_SUCCEEDED", 1, aggregate = payment_id),
        PaymentFailed = ("PAYMENT_FAILED", 1, aggregate = payment_id),
    }
}
