//! The events of `events.inventory`: stock availability and reservations.

use serde::{Deserialize, Serialize};
use shop_types::{OrderId, Quantity, Sku};

/// A SKU's availability crossed zero (in either direction), whatever moved it: a stock level
/// set, an adjustment, a reservation, a commit or a release. `seq` grows with every change of
/// the SKU, so a consumer keeps only the newest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockChanged {
    pub sku: Sku,
    pub available: bool,
    pub available_quantity: Quantity,
    pub seq: i64,
}

/// A SKU's available quantity fell below its threshold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLow {
    pub sku: Sku,
    pub available_quantity: Quantity,
    pub threshold: i64,
}

/// One line of a reservation.
pub type ReservedLine = shop_types::Line;

/// Stock was held for an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryReserved {
    /// The order the reservation is held for (its id is the order's).
    pub reservation_id: OrderId,
    pub lines: Vec<ReservedLine>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// A reservation became a sale: on hand and reserved both went down.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryCommitted {
    /// The order the reservation is held for (its id is the order's).
    pub reservation_id: OrderId,
    pub lines: Vec<ReservedLine>,
}

/// A reservation was let go (order cancelled or expired, or an orphan swept).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryReleased {
    /// The order the reservation is held for (its id is the order's).
    pub reservation_id: OrderId,
    pub lines: Vec<ReservedLine>,
    pub reason: String,
}

/// A paid order's stock could not be committed: its reservation had been released (an orphan
/// swept, or a hold that ran out) and what is on sale now does not cover it. Nothing was taken
/// from stock; the order service cancels the order, and the payment is refunded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryCommitFailed {
    /// The order the reservation is held for (its id is the order's).
    pub reservation_id: OrderId,
    /// The SKUs whose available stock is short.
    pub skus: Vec<Sku>,
    pub reason: String,
}

crate::stream! {
    /// The events of `events.inventory`.
    pub enum InventoryEvent in "inventory" {
        StockChanged = ("STOCK_CHANGED", 1, aggregate = sku),
        StockLow = ("STOCK_LOW", 1, aggregate = sku),
        InventoryReserved = ("INVENTORY_RESERVED", 1, aggregate = reservation_id),
        InventoryCommitted = ("INVENTORY_COMMITTED", 1, aggregate = reservation_id),
        InventoryReleased = ("INVENTORY_RELEASED", 1, aggregate = reservation_id),
        InventoryCommitFailed = ("INVENTORY_COMMIT_FAILED", 1, aggregate = reservation_id),
    }
}
