//! The events of `events.payment`: what happened to an order's payment.

use serde::{Deserialize, Serialize};
use shop_types::{Amount, Currency, OrderId, PaymentId, RefundId};

/// The provider confirmed the payment: the order is paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub amount_minor: Amount,
    pub currency: Currency,
    pub provider: String,
}

/// The provider declined the payment: the order stays payable until its deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub reason: String,
}

/// Money went back to the shopper: staff refunded part or all of a payment, or a success that
/// arrived after its order expired or was cancelled was refunded automatically.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRefunded {
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub refund_id: RefundId,
    /// This refund.
    pub amount_minor: Amount,
    /// Everything refunded so far, this refund included.
    pub refunded_minor: Amount,
    /// What was captured.
    pub captured_minor: Amount,
    pub currency: Currency,
    pub reason: String,
    /// Made by the payment service itself (a success for an order that can no longer be paid).
    pub automatic: bool,
}

crate::stream! {
    /// The events of `events.payment`.
    pub enum PaymentEvent in "payment" {
        PaymentSucceeded = ("PAYMENT_SUCCEEDED", 1, aggregate = payment_id),
        PaymentFailed = ("PAYMENT_FAILED", 1, aggregate = payment_id),
        PaymentRefunded = ("PAYMENT_REFUNDED", 1, aggregate = payment_id),
    }
}
