//! The values the fleet's wire types share, each parsed once at the boundary (serde, `FromStr`,
//! `TryFrom`, and sqlx for the rows), so a handler or consumer never re-checks a SKU, never adds
//! money with `+` and never compares a status with a string:
//!
//! - [`Sku`]: 1 to 64 letters, digits, `.`, `_` or `-`.
//! - [`Quantity`]: a count of units, never negative.
//! - [`Amount`]: minor units of money with checked arithmetic only (an overflow is an error,
//!   never a wrap: review f5592e3 L4, structurally); [`Currency`]: an ISO 4217 code;
//!   [`Money`]: the two together, whose sums refuse mixed currencies.
//! - Typed ids ([`OrderId`], [`UserId`], [`ProductId`], …): a uuid that knows what it names.
//! - The status enums ([`OrderStatus`], [`PaymentStatus`], …): what is stored as text and sent as a
//!   string is an enum in Rust and in the OpenAPI document.
//!
//! On the wire each is what it was before it was a type (a string, an integer, a uuid); only the
//! OpenAPI document names them. Below the events crate (events and contracts both use it;
//! contracts re-exports it as `contracts::types`), with no dependency but serde, sqlx's traits,
//! utoipa and uuid.

mod id;
mod money;
mod parsed;
mod quantity;
mod sku;
mod status;
mod text;

pub use id::{CategoryId, MediaId, OrderId, PaymentId, ProductId, RefundId, UserId};
pub use money::{Amount, Currency, CurrencyError, MAX_PRICE, Money, MoneyError};
pub use parsed::Parsed;
pub use quantity::{Line, Quantity, QuantityError};
pub use sku::{Sku, SkuError};
pub use status::{
    DeliveryStatus, OrderStatus, PaymentStatus, ProductStatus, RefundStatus, ReservationStatus, ReviewStatus,
    UnknownStatus,
};
