//! The order service: how long an order waits for payment, what one shopper may hold unpaid,
//! and the pricing tables (shipping and VAT by country).

use crate::Setting;

pub const ORDER_PAYMENT_WINDOW_SECS: Setting = Setting::value(
    "ORDER_PAYMENT_WINDOW_SECS",
    "1800",
    "How long an order may be paid once a payment started (the reservation is held as long).",
);
pub const ORDER_UNPAID_HOLD_SECS: Setting = Setting::value(
    "ORDER_UNPAID_HOLD_SECS",
    "600",
    "How long a new order holds its stock before a payment is started; past it unpaid, it expires and its stock goes back on sale.",
);
pub const ORDER_EXPIRY_SWEEP_SECS: Setting =
    Setting::value("ORDER_EXPIRY_SWEEP_SECS", "15", "How often unpaid orders past their deadline are expired.");
pub const ORDER_MAX_UNPAID: Setting = Setting::value(
    "ORDER_MAX_UNPAID",
    "3",
    "Open unpaid orders one shopper may have (the next is 409 `too_many_unpaid_orders`).",
);
pub const ORDER_MAX_UNITS_PER_SKU: Setting = Setting::value(
    "ORDER_MAX_UNITS_PER_SKU",
    "20",
    "Units of one SKU in one order (beyond: 409 `quantity_limit_exceeded`).",
);
pub const ORDER_MAX_OPEN_UNITS_PER_SKU: Setting = Setting::value(
    "ORDER_MAX_OPEN_UNITS_PER_SKU",
    "20",
    "Units of one SKU across the shopper's open unpaid orders (beyond: 409 `quantity_limit_exceeded`).",
);
pub const ORDER_KEY_IN_FLIGHT_SECS: Setting = Setting::value(
    "ORDER_KEY_IN_FLIGHT_SECS",
    "60",
    "How long a checkout whose process died keeps its Idempotency-Key before a retry resumes it (under the same order id).",
);
pub const ORDER_SELLER_NAME: Setting = Setting::value(
    "ORDER_SELLER_NAME",
    "Shopfleet Demo GmbH",
    "The seller's legal name, printed on every invoice and credit note.",
);
pub const ORDER_SELLER_ADDRESS: Setting = Setting::value(
    "ORDER_SELLER_ADDRESS",
    "Unter den Linden 1|10117 Berlin|Germany",
    "The seller's address on invoices, its lines separated by `|`.",
);
pub const ORDER_SELLER_VAT_ID: Setting =
    Setting::value("ORDER_SELLER_VAT_ID", "DE000000000", "The seller's VAT ID on invoices.");

pub const ALL: &[&Setting] = &[
    &ORDER_PAYMENT_WINDOW_SECS,
    &ORDER_UNPAID_HOLD_SECS,
    &ORDER_EXPIRY_SWEEP_SECS,
    &ORDER_MAX_UNPAID,
    &ORDER_MAX_UNITS_PER_SKU,
    &ORDER_MAX_OPEN_UNITS_PER_SKU,
    &ORDER_KEY_IN_FLIGHT_SECS,
    &ORDER_SELLER_NAME,
    &ORDER_SELLER_ADDRESS,
    &ORDER_SELLER_VAT_ID,
];
