//! The cart service: how long carts live, their limits, and how long a looked-up price is reused.

use crate::Setting;

pub const CART_GUEST_TTL_DAYS: Setting =
    Setting::value("CART_GUEST_TTL_DAYS", "30", "A guest's cart lives this long after its last use.");
pub const CART_USER_TTL_DAYS: Setting =
    Setting::value("CART_USER_TTL_DAYS", "90", "A signed-in shopper's cart lives this long after its last use.");
pub const CART_MAX_LINE_QUANTITY: Setting =
    Setting::value("CART_MAX_LINE_QUANTITY", "20", "The most units of one line (beyond: 422).");
pub const CART_MAX_LINES: Setting = Setting::value("CART_MAX_LINES", "50", "The most lines in a cart (beyond: 422).");
pub const CART_PRICE_CACHE_MS: Setting = Setting::value(
    "CART_PRICE_CACHE_MS",
    "2000",
    "How long a price looked up from the product service is reused (0 asks every time).",
);

pub const ALL: &[&Setting] =
    &[&CART_GUEST_TTL_DAYS, &CART_USER_TTL_DAYS, &CART_MAX_LINE_QUANTITY, &CART_MAX_LINES, &CART_PRICE_CACHE_MS];
