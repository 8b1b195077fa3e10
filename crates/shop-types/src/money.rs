//! Money: an [`Amount`] of minor units, its [`Currency`], and [`Money`], the two together.
//!
//! Amounts have no `+`, `-` or `*`: every sum, difference and product is checked and an
//! overflow is an error the caller must answer (review f5592e3 L4, where 20 × a huge price
//! wrapped to 4). On the wire an amount is the integer it always was (`total_minor: 2500`) and
//! its currency the field beside it (`currency: "EUR"`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Quantity;

/// An amount of money in minor units (cents) of the currency named beside it. Signed, because
/// a balance (net revenue after refunds) may be negative; a price, a total or a refund is not,
/// which the rules that take them check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct Amount(i64);

/// The largest price (and compare-at price) a variant may have: 10^10 minor units, a hundred
/// million in a two-decimal currency, so a cart's lines (at most 50 of at most 20 units) stay
/// far inside `i64`, and every sum of them is checked all the same.
pub const MAX_PRICE: Amount = Amount(10_000_000_000);

/// Why arithmetic on money has no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("the amount is too large")]
    Overflow,
    #[error("amounts in {0} and {1} cannot be added")]
    CurrencyMismatch(Currency, Currency),
}

impl Amount {
    pub const ZERO: Amount = Amount(0);
    pub const MAX: Amount = Amount(i64::MAX);

    /// `minor` minor units.
    pub const fn new(minor: i64) -> Self {
        Self(minor)
    }

    /// The amount in minor units.
    pub const fn minor(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Amount) -> Result<Amount, MoneyError> {
        self.0.checked_add(other.0).map(Amount).ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Amount) -> Result<Amount, MoneyError> {
        self.0.checked_sub(other.0).map(Amount).ok_or(MoneyError::Overflow)
    }

    /// `quantity` units at this unit price.
    pub fn times(self, quantity: Quantity) -> Result<Amount, MoneyError> {
        self.0.checked_mul(quantity.get()).map(Amount).ok_or(MoneyError::Overflow)
    }

    /// `basis_points` / 10 000 of the amount, rounded half away from zero (1000 = 10 %).
    pub fn basis_points(self, basis_points: i64) -> Result<Amount, MoneyError> {
        let product = i128::from(self.0) * i128::from(basis_points);
        let half = if product < 0 { -5_000 } else { 5_000 };
        i64::try_from((product + half) / 10_000).map(Amount).map_err(|_| MoneyError::Overflow)
    }

    /// The sum of `amounts`.
    pub fn sum(amounts: impl IntoIterator<Item = Amount>) -> Result<Amount, MoneyError> {
        amounts.into_iter().try_fold(Amount::ZERO, Amount::checked_add)
    }
}

impl From<i64> for Amount {
    fn from(minor: i64) -> Self {
        Self(minor)
    }
}

impl From<Amount> for i64 {
    fn from(amount: Amount) -> i64 {
        amount.0
    }
}

impl PartialEq<i64> for Amount {
    fn eq(&self, other: &i64) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl utoipa::PartialSchema for Amount {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)))
            .description(Some("An amount of money in minor units (cents) of the `currency` beside it."))
            .into()
    }
}

impl utoipa::ToSchema for Amount {}

/// An ISO 4217 currency code: three capital letters (`EUR`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

/// Why a text is not a currency code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a currency is three capital letters (ISO 4217, e.g. EUR)")]
pub struct CurrencyError;

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");

    pub fn parse(text: &str) -> Result<Self, CurrencyError> {
        match text.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(CurrencyError),
        }
    }

    pub fn as_str(&self) -> &str {
        // Three ASCII capitals by construction.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

/// The shop's currency unless it says otherwise: the euro, as every migration's default
/// (`profiles.currency default 'EUR'`) and the demo shop's.
impl Default for Currency {
    fn default() -> Self {
        Currency::EUR
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(text: &str) -> Result<Self, CurrencyError> {
        Self::parse(text)
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;

    fn try_from(text: String) -> Result<Self, CurrencyError> {
        Self::parse(&text)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.as_str().to_owned()
    }
}

impl PartialEq<str> for Currency {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Currency {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

crate::text::sqlx_text!(Currency);

impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[A-Z]{3}$"))
            .description(Some("An ISO 4217 currency code."))
            .examples(["EUR"])
            .into()
    }
}

impl utoipa::ToSchema for Currency {}

/// An amount in a currency: what a sum of money is computed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    pub amount: Amount,
    pub currency: Currency,
}

impl Money {
    pub const fn new(amount: Amount, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self { amount: Amount::ZERO, currency }
    }

    /// The sum; money in another currency is refused.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(Money { amount: self.amount.checked_add(other.amount)?, currency: self.currency })
    }

    /// The difference; money in another currency is refused.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(Money { amount: self.amount.checked_sub(other.amount)?, currency: self.currency })
    }

    /// `quantity` units at this unit price.
    pub fn times(self, quantity: Quantity) -> Result<Money, MoneyError> {
        Ok(Money { amount: self.amount.times(quantity)?, currency: self.currency })
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

/// As a receipt or a dashboard prints it, in units and hundredths (the fleet's currencies have
/// two decimals): `-12.05 EUR`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minor = self.amount.minor();
        let sign = if minor < 0 { "-" } else { "" };
        let (units, hundredths) = (minor.unsigned_abs() / 100, minor.unsigned_abs() % 100);
        write!(f, "{sign}{units}.{hundredths:02} {}", self.currency)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn eur(minor: i64) -> Money {
        Money::new(Amount::new(minor), Currency::EUR)
    }

    #[test]
    fn an_amount_is_the_integer_it_was_on_the_wire() {
        assert_eq!(serde_json::to_string(&Amount::new(2500)).unwrap(), "2500");
        assert_eq!(serde_json::from_str::<Amount>("-7").unwrap(), Amount::new(-7));
        assert!(serde_json::from_str::<Amount>("1.5").is_err());
    }

    #[test]
    fn a_product_that_would_wrap_is_an_error() {
        // The review's probe: 20 × 922337203685477581 wraps to 4 unchecked.
        let quantity = Quantity::new(20).unwrap();
        assert_eq!(Amount::new(922_337_203_685_477_581).times(quantity), Err(MoneyError::Overflow));
        assert_eq!(Amount::new(i64::MAX).checked_add(Amount::new(1)), Err(MoneyError::Overflow));
        assert_eq!(Amount::sum([Amount::new(2_000), Amount::new(500)]), Ok(Amount::new(2_500)));
    }

    #[test]
    fn basis_points_round_half_away_from_zero() {
        assert_eq!(Amount::new(1_000).basis_points(1_000), Ok(Amount::new(100)));
        assert_eq!(Amount::new(5).basis_points(1_000), Ok(Amount::new(1))); // 0.5 → 1
        assert_eq!(Amount::new(4).basis_points(1_000), Ok(Amount::new(0))); // 0.4 → 0
        assert_eq!(Amount::new(-5).basis_points(1_000), Ok(Amount::new(-1)));
        assert_eq!(Amount::new(i64::MAX).basis_points(20_000), Err(MoneyError::Overflow));
    }

    #[test]
    fn a_currency_is_three_capitals() {
        assert_eq!(Currency::parse("EUR"), Ok(Currency::EUR));
        for bad in ["eur", "EU", "EURO", "E1R", ""] {
            assert_eq!(Currency::parse(bad), Err(CurrencyError), "{bad:?}");
        }
        assert_eq!(serde_json::to_string(&Currency::EUR).unwrap(), "\"EUR\"");
        assert!(serde_json::from_str::<Currency>("\"usd\"").is_err());
    }

    #[test]
    fn money_in_two_currencies_does_not_add() {
        let usd = Money::new(Amount::new(1), Currency::parse("USD").unwrap());
        assert_eq!(eur(1).checked_add(usd), Err(MoneyError::CurrencyMismatch(Currency::EUR, usd.currency)));
        assert_eq!(eur(1).checked_add(eur(2)), Ok(eur(3)));
        assert_eq!(eur(1).checked_sub(eur(2)), Ok(eur(-1)));
        assert_eq!(eur(7).to_string(), "0.07 EUR");
        assert_eq!(eur(-1205).to_string(), "-12.05 EUR");
        assert_eq!(eur(i64::MIN).to_string(), "-92233720368547758.08 EUR");
    }

    proptest! {
        /// Checked arithmetic agrees with exact (i128) arithmetic wherever the result fits, and
        /// is an error exactly where it does not: never a wrapped value.
        #[test]
        fn checked_sums_and_products_are_exact_or_errors(a in any::<i64>(), b in any::<i64>(), q in 0i64..=i64::MAX) {
            let exact = i128::from(a) + i128::from(b);
            prop_assert_eq!(Amount::new(a).checked_add(Amount::new(b)).ok().map(|x| i128::from(x.minor())), i64::try_from(exact).ok().map(i128::from));
            let exact = i128::from(a) - i128::from(b);
            prop_assert_eq!(Amount::new(a).checked_sub(Amount::new(b)).ok().map(|x| i128::from(x.minor())), i64::try_from(exact).ok().map(i128::from));
            let exact = i128::from(a) * i128::from(q);
            let quantity = Quantity::new(q).unwrap();
            prop_assert_eq!(Amount::new(a).times(quantity).ok().map(|x| i128::from(x.minor())), i64::try_from(exact).ok().map(i128::from));
        }

        /// A sum of prices within bounds is never an error, whatever the order of its lines, and
        /// equals the sum of the products.
        #[test]
        fn a_cart_of_bounded_prices_always_has_a_total(lines in proptest::collection::vec((1i64..=20, 0i64..=MAX_PRICE.minor()), 0..50)) {
            let amounts: Vec<Amount> = lines.iter().map(|&(q, p)| Amount::new(p).times(Quantity::new(q).unwrap()).unwrap()).collect();
            let total = Amount::sum(amounts.iter().copied()).unwrap();
            let reversed = Amount::sum(amounts.iter().rev().copied()).unwrap();
            prop_assert_eq!(total, reversed);
            prop_assert_eq!(i128::from(total.minor()), lines.iter().map(|&(q, p)| i128::from(q) * i128::from(p)).sum::<i128>());
        }

        /// Adding then subtracting the same money gives back what was there, and the currency
        /// travels with it.
        #[test]
        fn adding_and_subtracting_money_round_trips(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000) {
            let sum = eur(a).checked_add(eur(b)).unwrap();
            prop_assert_eq!(sum.checked_sub(eur(b)).unwrap(), eur(a));
            prop_assert_eq!(sum.currency, Currency::EUR);
        }

        /// A percentage of an amount is never more than the amount and rounds to the nearest unit.
        #[test]
        fn basis_points_of_a_price_stay_within_it(p in 0i64..=MAX_PRICE.minor(), bp in 0i64..=10_000) {
            let part = Amount::new(p).basis_points(bp).unwrap();
            prop_assert!(part <= Amount::new(p) && !part.is_negative());
            let exact = p as f64 * bp as f64 / 10_000.0;
            prop_assert!((part.minor() as f64 - exact).abs() <= 0.5 + 1e-6);
        }
    }
}
