//! The events of `events.order`: the checkout saga's order side. Declared ahead of the order
//! service (issue 10) because inventory and cart consume them; the order service is their only
//! producer.

use serde::{Deserialize, Serialize};
use shop_types::{Amount, Currency, OrderId, OrderStatus, Quantity, RefundId, Sku, UserId};

/// One line of an order, as the consumers need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: Sku,
    pub quantity: Quantity,
    pub unit_price_minor: Amount,
    /// The product and variant as ordered (for messages).
    #[serde(default)]
    pub title: String,
}

/// An order was written (awaiting payment); its stock is reserved under the order's id. Like
/// every ORDER_* event it carries what a message about it needs (number, email, totals).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreated {
    pub order_id: OrderId,
    pub number: String,
    pub user_id: UserId,
    pub email: String,
    pub lines: Vec<OrderLine>,
    pub total_minor: Amount,
    pub currency: Currency,
    pub payment_deadline: chrono::DateTime<chrono::Utc>,
}

/// The order was paid: inventory commits its reservation, cart removes the ordered lines, the
/// shopper gets a receipt.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPaid {
    pub order_id: OrderId,
    pub number: String,
    pub user_id: UserId,
    pub email: String,
    pub lines: Vec<OrderLine>,
    pub subtotal_minor: Amount,
    pub discount_minor: Amount,
    pub shipping_minor: Amount,
    pub tax_minor: Amount,
    pub total_minor: Amount,
    pub currency: Currency,
    /// The shipping address as a receipt prints it, line by line.
    #[serde(default)]
    pub ship_to: Vec<String>,
}

/// The order was cancelled: before payment (by the shopper or staff), or after it because its
/// stock could not be committed (`was_paid`, and the payment is refunded in full). Its
/// reservation is released.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub order_id: OrderId,
    pub number: String,
    pub user_id: UserId,
    pub email: String,
    pub reason: String,
    /// It had been paid (the money goes back); absent in events of earlier producers.
    #[serde(default)]
    pub was_paid: bool,
    /// Who cancelled it; `unknown` in events of earlier producers.
    #[serde(default)]
    pub by: CancelledBy,
}

/// Who cancelled an order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    /// The shopper themselves (they know: no text is sent).
    Shopper,
    /// The shop's staff.
    Staff,
    /// The shop itself (stock that could not be committed).
    System,
    /// Not said (an event of an earlier producer).
    #[default]
    Unknown,
}

/// The order's payment deadline passed: its reservation is released.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderExpired {
    pub order_id: OrderId,
    pub number: String,
    pub user_id: UserId,
    pub email: String,
}

/// A shipment of the order was handed to a carrier: one fulfillment, of some of its lines or of
/// the rest of them (`complete`: the order has shipped in full with it). One per fulfillment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderShipped {
    pub order_id: OrderId,
    pub number: String,
    pub user_id: UserId,
    pub email: String,
    pub carrier: String,
    pub tracking_number: String,
    /// The fulfillment (absent in events of earlier producers, which shipped whole orders).
    #[serde(default)]
    pub fulfillment_id: Option<uuid::Uuid>,
    /// What this shipment carries (empty in events of earlier producers: everything).
    #[serde(default)]
    pub lines: Vec<ShippedLine>,
    #[serde(default)]
    pub tracking_url: Option<String>,
    /// Whether every line of the order has now shipped (true in events of earlier producers).
    #[serde(default = "whole_order")]
    pub complete: bool,
}

fn whole_order() -> bool {
    true
}

/// A line of a shipment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippedLine {
    pub sku: Sku,
    pub title: String,
    pub quantity: Quantity,
}

/// The order arrived: its buyer's reviews of these SKUs' products are verified purchases.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDelivered {
    pub order_id: OrderId,
    pub number: String,
    pub user_id: UserId,
    pub email: String,
    #[serde(default)]
    pub lines: Vec<OrderLine>,
}

/// Money of the order went back to the shopper. A paid order moves to `refunded` or
/// `partially_refunded`; an order that expired or was cancelled before its late payment keeps
/// its status (`status` says which), and the shopper is told all the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRefunded {
    pub order_id: OrderId,
    pub number: String,
    pub user_id: UserId,
    pub email: String,
    pub refund_id: RefundId,
    /// This refund.
    pub amount_minor: Amount,
    /// Everything refunded so far.
    pub refunded_minor: Amount,
    pub currency: Currency,
    /// The order's status after it.
    pub status: OrderStatus,
    pub reason: String,
}

crate::stream! {
    /// The events of `events.order`.
    pub enum OrderEvent in "order" {
        OrderCreated = ("ORDER_CREATED", 1, aggregate = order_id),
        OrderPaid = ("ORDER_PAID", 1, aggregate = order_id),
        OrderCancelled = ("ORDER_CANCELLED", 1, aggregate = order_id),
        OrderExpired = ("ORDER_EXPIRED", 1, aggregate = order_id),
        OrderShipped = ("ORDER_SHIPPED", 1, aggregate = order_id),
        OrderDelivered = ("ORDER_DELIVERED", 1, aggregate = order_id),
        OrderRefunded = ("ORDER_REFUNDED", 1, aggregate = order_id),
    }
}
