//! The inventory service: how long reservations are held, when an orphaned one is swept, and
//! whether shoppers see quantities.

use crate::Setting;

pub const RESERVATION_HOLD_SECS: Setting = Setting::value(
    "RESERVATION_HOLD_SECS",
    "900",
    "How long a reservation is held unless the caller asks otherwise (the order service decides expiry).",
);
pub const RESERVATION_ORPHAN_GRACE_SECS: Setting = Setting::value(
    "RESERVATION_ORPHAN_GRACE_SECS",
    "3600",
    "A held reservation whose order was never written is released this long after its expiry.",
);
pub const RESERVATION_SWEEP_SECS: Setting =
    Setting::value("RESERVATION_SWEEP_SECS", "30", "How often the orphan sweeper looks.");
pub const STOCK_SHOW_QUANTITY: Setting =
    Setting::value("STOCK_SHOW_QUANTITY", "false", "`GET /stock` shows the available quantity besides the flag.");

pub const ALL: &[&Setting] =
    &[&RESERVATION_HOLD_SECS, &RESERVATION_ORPHAN_GRACE_SECS, &RESERVATION_SWEEP_SECS, &STOCK_SHOW_QUANTITY];
