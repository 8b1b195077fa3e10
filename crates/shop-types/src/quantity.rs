//! A count of units.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A number of units of a SKU (a line's, a reservation's, stock on hand): never negative. A
/// change of stock, which may be negative, is a plain `i64` delta, not a quantity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Quantity(i64);

/// Why a number is not a quantity, or a sum of quantities would not be one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("a quantity is not negative")]
    Negative,
    #[error("the quantity is too large")]
    Overflow,
}

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);
    pub const ONE: Quantity = Quantity(1);

    pub fn new(units: i64) -> Result<Self, QuantityError> {
        if units < 0 { Err(QuantityError::Negative) } else { Ok(Self(units)) }
    }

    /// The number of units.
    pub fn get(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn checked_add(self, other: Quantity) -> Result<Quantity, QuantityError> {
        self.0.checked_add(other.0).map(Quantity).ok_or(QuantityError::Overflow)
    }

    pub fn saturating_add(self, other: Quantity) -> Quantity {
        Quantity(self.0.saturating_add(other.0))
    }

    /// `self − other`, `None` when `other` is more.
    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_sub(other.0).and_then(|units| Quantity::new(units).ok())
    }

    /// The sum of `quantities`.
    pub fn sum(quantities: impl IntoIterator<Item = Quantity>) -> Result<Quantity, QuantityError> {
        quantities.into_iter().try_fold(Quantity::ZERO, Quantity::checked_add)
    }

    /// `self − other`, at least zero.
    pub fn saturating_sub(self, other: Quantity) -> Quantity {
        Quantity(self.0.saturating_sub(other.0).max(0))
    }
}

impl TryFrom<i64> for Quantity {
    type Error = QuantityError;

    fn try_from(units: i64) -> Result<Self, QuantityError> {
        Self::new(units)
    }
}

/// Every unsigned 32-bit count is a quantity.
impl From<u32> for Quantity {
    fn from(units: u32) -> Self {
        Self(i64::from(units))
    }
}

impl From<Quantity> for i64 {
    fn from(quantity: Quantity) -> i64 {
        quantity.0
    }
}

impl PartialEq<i64> for Quantity {
    fn eq(&self, other: &i64) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A `bigint` column; a negative stored value is a decode error, never a negative quantity.
impl sqlx::Type<sqlx::Postgres> for Quantity {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <i64 as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

impl sqlx::postgres::PgHasArrayType for Quantity {
    fn array_type_info() -> sqlx::postgres::PgTypeInfo {
        <i64 as sqlx::postgres::PgHasArrayType>::array_type_info()
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for Quantity {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <i64 as sqlx::Encode<'_, sqlx::Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for Quantity {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(Quantity::new(<i64 as sqlx::Decode<'r, sqlx::Postgres>>::decode(value)?)?)
    }
}

impl utoipa::PartialSchema for Quantity {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)))
            .minimum(Some(0))
            .description(Some("A number of units, never negative."))
            .into()
    }
}

impl utoipa::ToSchema for Quantity {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantity_is_never_negative() {
        assert_eq!(Quantity::new(3).map(Quantity::get), Ok(3));
        assert_eq!(Quantity::new(0), Ok(Quantity::ZERO));
        assert_eq!(Quantity::new(-1), Err(QuantityError::Negative));
        assert!(serde_json::from_str::<Quantity>("-1").is_err());
        assert_eq!(serde_json::from_str::<Quantity>("20").unwrap(), 20);
        assert_eq!(serde_json::to_string(&Quantity::ONE).unwrap(), "1");
    }

    #[test]
    fn quantities_add_checked_and_subtract_down_to_zero() {
        let two = Quantity::new(2).unwrap();
        assert_eq!(two.checked_add(Quantity::ONE), Quantity::new(3));
        assert_eq!(Quantity::new(i64::MAX).unwrap().checked_add(Quantity::ONE), Err(QuantityError::Overflow));
        assert_eq!(two.checked_sub(Quantity::ONE), Some(Quantity::ONE));
        assert_eq!(Quantity::ONE.checked_sub(two), None);
        assert_eq!(Quantity::ONE.saturating_sub(two), Quantity::ZERO);
        assert_eq!(Quantity::sum([two, Quantity::ONE]), Quantity::new(3));
    }
}

/// Units of one SKU: a line of a reservation, of an order's fulfilment, of a stock movement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Line {
    pub sku: crate::Sku,
    pub quantity: Quantity,
}
