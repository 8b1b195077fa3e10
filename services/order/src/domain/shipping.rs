//! Shipping methods as the checkout prices them: a price rule (a flat fee, or bands by the
//! order's weight or by its subtotal after discount), an optional subtotal from which shipping
//! is free, and when the method is offered at all. Which methods a country gets (its zones, the
//! rest of the world's) is the store's query; what one costs is decided here, once, for the
//! cart's list, the checkout and the tests.

use chrono::{DateTime, Utc};
use contracts::types::Amount;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One band of a banded price: up to `up_to` (inclusive: grams, or minor units of the
/// subtotal), this fee. Only the last band may be open (`up_to: null`); past a closed last band
/// the method does not ship the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub up_to: Option<i64>,
    pub fee_minor: Amount,
}

/// How a method is priced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum PriceRule {
    /// One fee for every order.
    Flat { fee_minor: Amount },
    /// By the order's total weight in grams (a variant without a weight weighs nothing).
    Weight { bands: Vec<Band> },
    /// By the order's subtotal after discount, in minor units.
    Subtotal { bands: Vec<Band> },
}

/// The most bands one rule may have.
pub const MAX_BANDS: usize = 20;

impl PriceRule {
    /// What is wrong with the rule as staff wrote it, if anything: fees not negative; bands
    /// present, at most [`MAX_BANDS`], their bounds not negative and rising, only the last open.
    pub fn problem(&self) -> Option<&'static str> {
        let bands = match self {
            PriceRule::Flat { fee_minor } => {
                return fee_minor.is_negative().then_some("the fee is not negative");
            }
            PriceRule::Weight { bands } | PriceRule::Subtotal { bands } => bands,
        };
        if bands.is_empty() || bands.len() > MAX_BANDS {
            return Some("1 to 20 bands");
        }
        if bands.iter().any(|band| band.fee_minor.is_negative() || band.up_to.is_some_and(|up_to| up_to < 0)) {
            return Some("fees and bounds are not negative");
        }
        let (last, closed) = bands.split_last().expect("at least one band");
        let bounds: Option<Vec<i64>> = closed.iter().map(|band| band.up_to).collect();
        let Some(mut bounds) = bounds else { return Some("only the last band may be open (up_to: null)") };
        bounds.extend(last.up_to);
        if bounds.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Some("each band's up_to is above the one before");
        }
        None
    }

    /// The fee for an order of `weight_grams` and `subtotal_minor` (after discount); `None` past
    /// the last band.
    pub fn fee(&self, weight_grams: i64, subtotal_minor: i64) -> Option<i64> {
        let (bands, measure) = match self {
            PriceRule::Flat { fee_minor } => return Some(fee_minor.minor()),
            PriceRule::Weight { bands } => (bands, weight_grams),
            PriceRule::Subtotal { bands } => (bands, subtotal_minor),
        };
        bands.iter().find(|band| band.up_to.is_none_or(|up_to| measure <= up_to)).map(|band| band.fee_minor.minor())
    }
}

/// What prices one method and says when it is offered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodRule {
    pub price: PriceRule,
    /// Shipping is free from this subtotal (after discount) on.
    pub free_from_minor: Option<i64>,
    pub active: bool,
    pub active_from: Option<DateTime<Utc>>,
    pub active_until: Option<DateTime<Utc>>,
}

/// Why a method does not ship an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// Switched off, or outside its window now.
    NotOffered,
    /// Past its last band (too heavy, or a subtotal beyond what it takes).
    OutOfBands,
}

impl MethodRule {
    /// Whether it is offered at `now`.
    pub fn offered_at(&self, now: DateTime<Utc>) -> bool {
        self.active
            && self.active_from.is_none_or(|from| from <= now)
            && self.active_until.is_none_or(|until| now < until)
    }

    /// Its fee at `now` for an order of `weight_grams` and `subtotal_minor` (after discount).
    pub fn fee(&self, now: DateTime<Utc>, weight_grams: i64, subtotal_minor: i64) -> Result<i64, Unavailable> {
        if !self.offered_at(now) {
            return Err(Unavailable::NotOffered);
        }
        let fee = self.price.fee(weight_grams, subtotal_minor).ok_or(Unavailable::OutOfBands)?;
        Ok(if self.free_from_minor.is_some_and(|free_from| subtotal_minor >= free_from) { 0 } else { fee })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(up_to: Option<i64>, fee: i64) -> Band {
        Band { up_to, fee_minor: Amount::new(fee) }
    }

    fn rule(price: PriceRule, free_from_minor: Option<i64>) -> MethodRule {
        MethodRule { price, free_from_minor, active: true, active_from: None, active_until: None }
    }

    #[test]
    fn a_method_is_priced_by_its_band_and_free_from_its_threshold() {
        let now = Utc::now();
        let flat = rule(PriceRule::Flat { fee_minor: Amount::new(490) }, Some(5_000));
        assert_eq!(flat.fee(now, 0, 4_999), Ok(490));
        assert_eq!(flat.fee(now, 0, 5_000), Ok(0), "free from the threshold on");

        let weight = rule(PriceRule::Weight { bands: vec![band(Some(2_000), 1_490), band(Some(10_000), 2_990)] }, None);
        assert_eq!(weight.fee(now, 0, 100), Ok(1_490), "nothing weighed is the first band");
        assert_eq!(weight.fee(now, 2_000, 100), Ok(1_490), "a band's bound is in the band");
        assert_eq!(weight.fee(now, 2_001, 100), Ok(2_990));
        assert_eq!(weight.fee(now, 10_001, 100), Err(Unavailable::OutOfBands), "too heavy for it");

        let subtotal = rule(PriceRule::Subtotal { bands: vec![band(Some(2_500), 690), band(None, 290)] }, None);
        assert_eq!(subtotal.fee(now, 50_000, 2_500), Ok(690));
        assert_eq!(subtotal.fee(now, 50_000, 1_000_000), Ok(290), "the open band takes the rest");
    }

    #[test]
    fn a_method_is_offered_only_while_active_and_inside_its_window() {
        let now = Utc::now();
        let hour = chrono::Duration::hours(1);
        let mut method = rule(PriceRule::Flat { fee_minor: Amount::new(100) }, None);
        method.active_from = Some(now - hour);
        method.active_until = Some(now + hour);
        assert_eq!(method.fee(now, 0, 0), Ok(100));
        assert_eq!(method.fee(now + hour, 0, 0), Err(Unavailable::NotOffered), "the end is outside");
        assert_eq!(method.fee(now - hour - hour, 0, 0), Err(Unavailable::NotOffered));
        method.active = false;
        assert_eq!(method.fee(now, 0, 0), Err(Unavailable::NotOffered));
    }

    #[test]
    fn staff_rules_need_rising_bands_with_only_the_last_open() {
        let weight = |bands| PriceRule::Weight { bands };
        assert_eq!(weight(vec![band(Some(1), 1), band(None, 2)]).problem(), None);
        assert!(weight(vec![]).problem().is_some());
        assert!(weight(vec![band(None, 1), band(Some(5), 2)]).problem().is_some(), "an open band in the middle");
        assert!(weight(vec![band(Some(5), 1), band(Some(5), 2)]).problem().is_some(), "bounds must rise");
        assert!(weight(vec![band(Some(-1), 1)]).problem().is_some());
        assert!(weight(vec![band(Some(1), -1)]).problem().is_some());
        assert!(weight((0..21).map(|n| band(Some(n), 1)).collect()).problem().is_some());
        assert!(PriceRule::Flat { fee_minor: Amount::new(-1) }.problem().is_some());
        assert_eq!(PriceRule::Flat { fee_minor: Amount::ZERO }.problem(), None);
    }

    #[test]
    fn a_rule_reads_and_writes_as_the_stored_json() {
        let text = r#"{"rule":"weight","bands":[{"up_to":2000,"fee_minor":1490},{"up_to":null,"fee_minor":2990}]}"#;
        let rule: PriceRule = serde_json::from_str(text).unwrap();
        assert_eq!(rule, PriceRule::Weight { bands: vec![band(Some(2_000), 1_490), band(None, 2_990)] });
        assert_eq!(serde_json::to_string(&rule).unwrap(), text);
        assert!(serde_json::from_str::<PriceRule>(r#"{"rule":"volume","bands":[]}"#).is_err());
    }
}
