//! The bounds of money the shop handles (review f5592e3 L4): a price is at most
//! `MAX_PRICE_MINOR` minor units (10^10: a hundred million in a two-decimal currency), so a
//! cart's lines (at most 50 of at most 20 units) cannot come near `i64`'s range, and every sum
//! of them is checked all the same.

/// The largest price (and compare-at price) a variant may have, in minor units.
pub const MAX_PRICE_MINOR: i64 = 10_000_000_000;

/// The sum of `quantity × unit price` over `lines`, or `None` when any product or the sum
/// would overflow.
pub fn checked_subtotal(lines: impl IntoIterator<Item = (i64, i64)>) -> Option<i64> {
    lines.into_iter().try_fold(0i64, |sum, (quantity, unit)| sum.checked_add(quantity.checked_mul(unit)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subtotal_that_would_wrap_is_refused() {
        assert_eq!(checked_subtotal([(2, 1_000), (1, 500)]), Some(2_500));
        // The review's probe: 20 × 922337203685477581 wraps to 4 unchecked.
        assert_eq!(checked_subtotal([(20, 922_337_203_685_477_581)]), None);
        assert_eq!(checked_subtotal([(1, i64::MAX), (1, 1)]), None);
    }
}
