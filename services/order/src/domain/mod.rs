//! Pure rules of orders: the one state machine (every transition goes through [`next`]) and the
//! one totals function (subtotal, discount, shipping, tax, total in minor units; a shipping
//! method's price in [`shipping`]), all free of I/O and unit- and property-tested.

pub mod shipping;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where an order is (the fleet's one order status type).
pub use contracts::types::OrderStatus as Status;

/// What can happen to an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The payment succeeded.
    Pay,
    /// Staff started picking and packing.
    StartFulfilment,
    /// Handed to the carrier.
    Ship,
    Deliver,
    /// The shopper or staff cancelled it before payment.
    Cancel,
    /// Staff cancelled it, paid or not, before any of it shipped (a paid one is refunded in
    /// full and its stock goes back).
    StaffCancel,
    /// Its payment deadline passed unpaid.
    Expire,
    /// Paid, but its stock could not be committed (the reservation had been released and the
    /// stock sold): it is cancelled and its payment refunded in full.
    StockLost,
    /// Money was given back: all of what was captured (`full`) or part of it.
    Refund {
        full: bool,
    },
}

/// A transition the state machine does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {} cannot take {:?}", from.as_str(), event)]
pub struct IllegalTransition {
    pub from: Status,
    pub event: Event,
}

/// The state machine: where `event` takes an order that is `from`.
pub fn next(from: Status, event: Event) -> Result<Status, IllegalTransition> {
    use Event::*;
    use Status::*;
    let to = match (from, event) {
        (AwaitingPayment, Pay) => Paid,
        (AwaitingPayment, Cancel) => Cancelled,
        // A partly shipped order is not cancelled whole (what shipped comes back as a return).
        (AwaitingPayment | Paid, StaffCancel) => Cancelled,
        (AwaitingPayment, Expire) => Expired,
        (Paid | Fulfilling, StockLost) => Cancelled,
        (Paid, StartFulfilment) => Fulfilling,
        (Paid | Fulfilling, Ship) => Shipped,
        (Shipped, Deliver) => Delivered,
        (Paid | Fulfilling | Shipped | Delivered | PartiallyRefunded, Refund { full: true }) => Refunded,
        (Paid | Fulfilling | Shipped | Delivered | PartiallyRefunded, Refund { full: false }) => PartiallyRefunded,
        _ => return Err(IllegalTransition { from, event }),
    };
    Ok(to)
}

/// How much one shopper may hold without paying (review f5592e3 M2): a few open unpaid orders,
/// a cap per SKU in one order and across their open unpaid orders, and a short hold until a
/// payment is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Open unpaid orders at once (`ORDER_MAX_UNPAID`, 3).
    pub max_unpaid_orders: i64,
    /// Units of one SKU in one order (`ORDER_MAX_UNITS_PER_SKU`, 20).
    pub max_units_per_order: i64,
    /// Units of one SKU across a shopper's open unpaid orders, this one included
    /// (`ORDER_MAX_OPEN_UNITS_PER_SKU`, 20).
    pub max_open_units: i64,
}

/// Why a checkout would hold more than a shopper may.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitRefusal {
    /// As many unpaid orders as allowed are open.
    TooManyUnpaid { limit: i64 },
    /// These SKUs would exceed a cap (per order or across open orders).
    Quantity { skus: Vec<String> },
}

impl Limits {
    /// Checks a new order of `lines` (SKU, quantity) against what the shopper already holds
    /// unpaid: `open_orders` orders with `open_units` units per SKU.
    pub fn check(
        &self,
        open_orders: i64,
        lines: &[(String, i64)],
        open_units: &BTreeMap<String, i64>,
    ) -> Result<(), LimitRefusal> {
        if open_orders >= self.max_unpaid_orders {
            return Err(LimitRefusal::TooManyUnpaid { limit: self.max_unpaid_orders });
        }
        let mut asked: BTreeMap<&str, i64> = BTreeMap::new();
        for (sku, quantity) in lines {
            *asked.entry(sku.as_str()).or_default() += quantity;
        }
        let skus: Vec<String> = asked
            .iter()
            .filter(|(sku, quantity)| {
                **quantity > self.max_units_per_order
                    || open_units.get(**sku).copied().unwrap_or(0).saturating_add(**quantity) > self.max_open_units
            })
            .map(|(sku, _)| (*sku).to_owned())
            .collect();
        if skus.is_empty() { Ok(()) } else { Err(LimitRefusal::Quantity { skus }) }
    }
}

/// A snapshotted address (`contracts::user::PostalAddress` as JSON) as a receipt prints it:
/// recipient, street lines, postal code and city, region, country; empty parts left out.
pub fn address_lines(address: &serde_json::Value) -> Vec<String> {
    let part = |name: &str| address[name].as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let city = [part("postal_code"), part("city")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    [
        part("recipient_name"),
        part("line1"),
        part("line2"),
        Some(city).filter(|c| !c.is_empty()),
        part("region"),
        part("country"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A line to price: gross unit price (tax included), the discount quote's line.
pub use contracts::order::QuoteLine as PricedLine;

/// A discount on the subtotal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discount {
    /// Basis points of the subtotal (1000 = 10 %), rounded half-up.
    Percent(i64),
    /// A fixed amount, at most the subtotal.
    Fixed(i64),
}

/// A discount code's rules as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscountRule {
    pub discount: Discount,
    pub starts_at: Option<chrono::DateTime<chrono::Utc>>,
    pub ends_at: Option<chrono::DateTime<chrono::Utc>>,
    pub max_uses: Option<i64>,
    pub max_uses_per_customer: Option<i64>,
    pub min_subtotal_minor: i64,
    pub active: bool,
    /// Uses counted so far (orders not expired or cancelled).
    pub uses: i64,
}

/// Why a code does not apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DiscountRefusal {
    #[error("no such discount code")]
    Unknown,
    #[error("this discount code is no longer offered")]
    Inactive,
    #[error("this discount code is not valid yet")]
    NotYet,
    #[error("this discount code has expired")]
    Ended,
    #[error("this discount code has been used up")]
    UsedUp,
    #[error("you have used this discount code as often as it may be used")]
    UsedByYou,
    #[error("this discount code needs a subtotal of at least {0} (minor units)")]
    BelowMinimum(i64),
}

impl DiscountRefusal {
    /// What a shopper is told (review f5592e3 L2: distinct answers let anyone enumerate private
    /// codes): an unknown code, one not offered, not yet or no longer valid, or used up all read
    /// "does not apply"; only a code that exists and applies but for the subtotal says so, and
    /// a shopper's own use limit is theirs to know.
    pub fn public(&self) -> String {
        match self {
            Self::Unknown | Self::Inactive | Self::NotYet | Self::Ended | Self::UsedUp => {
                "this discount code does not apply".to_owned()
            }
            Self::UsedByYou | Self::BelowMinimum(_) => self.to_string(),
        }
    }
}

/// Whether a code applies now to a subtotal for a customer who used it `customer_uses` times
/// (`None`: a guest, whose own limit is checked at checkout): the discount it gives.
pub fn check_discount(
    rule: &DiscountRule,
    now: chrono::DateTime<chrono::Utc>,
    subtotal_minor: i64,
    customer_uses: Option<i64>,
) -> Result<Discount, DiscountRefusal> {
    if !rule.active {
        return Err(DiscountRefusal::Inactive);
    }
    if rule.starts_at.is_some_and(|starts| now < starts) {
        return Err(DiscountRefusal::NotYet);
    }
    if rule.ends_at.is_some_and(|ends| now >= ends) {
        return Err(DiscountRefusal::Ended);
    }
    if rule.max_uses.is_some_and(|max| rule.uses >= max) {
        return Err(DiscountRefusal::UsedUp);
    }
    if let (Some(max), Some(used)) = (rule.max_uses_per_customer, customer_uses)
        && used >= max
    {
        return Err(DiscountRefusal::UsedByYou);
    }
    if subtotal_minor < rule.min_subtotal_minor {
        return Err(DiscountRefusal::BelowMinimum(rule.min_subtotal_minor));
    }
    Ok(rule.discount)
}

/// The VAT rates of one destination by tax class, in basis points (1900 = 19 %); a class
/// without a rate there is charged none. The rates are data (`tax_rates`, staff keep them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pricing {
    pub rates: BTreeMap<String, i64>,
}

impl Pricing {
    /// The class of every variant until variants carry one, and of shipping.
    pub const STANDARD: &'static str = "standard";

    /// The rate (basis points) of `class` here.
    pub fn rate(&self, class: &str) -> i64 {
        self.rates.get(class).copied().unwrap_or(0)
    }

    /// No tax: what a cart without an address shows.
    pub fn none() -> Self {
        Pricing::default()
    }
}

/// An order's money, all in minor units of the shop's currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub shipping_minor: i64,
    /// The VAT contained in the (discounted) lines and the shipping fee: the sum of
    /// `line_tax_minor` and `shipping_tax_minor`.
    pub tax_minor: i64,
    /// The VAT the shipping fee contains, at the destination's standard rate.
    pub shipping_tax_minor: i64,
    /// That rate (basis points): what shipping is taxed at.
    pub standard_rate_bp: i64,
    pub total_minor: i64,
    /// Per line, in the lines' order: its share of the discount, the tax it contains and the
    /// rate (basis points) it was taxed at.
    pub line_discount_minor: Vec<i64>,
    pub line_tax_minor: Vec<i64>,
    pub line_rate_bp: Vec<i64>,
}

/// `numerator / denominator` rounded half-up, for non-negative numbers.
pub(crate) fn div_half_up(numerator: i128, denominator: i128) -> i64 {
    ((2 * numerator + denominator) / (2 * denominator)) as i64
}

/// The one totals function. Prices are gross. The discount is split over the lines in proportion
/// to their amounts (largest remainder, so the shares add up exactly); each line's tax is
/// extracted from its discounted gross at its class's rate for the destination (`pricing`),
/// rounded half-up to the minor unit (`gross × rate / (10000 + rate)`); the order's tax is the
/// sum of its lines' and its shipping's. Shipping is added by [`Totals::ship`] (nothing to
/// ship: nothing added), its tax extracted at the destination's standard rate.
pub fn totals(lines: &[PricedLine], discount: Option<Discount>, pricing: &Pricing) -> Totals {
    // Saturating, never wrapping: the checkout refuses a subtotal past its bound before this
    // prices an order, and prices are bounded where they are set (`contracts::money`).
    let amounts: Vec<i64> = lines.iter().map(|l| l.unit_price_minor.minor().saturating_mul(l.quantity.get())).collect();
    let subtotal: i64 = amounts.iter().fold(0i64, |sum, amount| sum.saturating_add(*amount));
    let discount_minor = match discount {
        None => 0,
        Some(Discount::Percent(bp)) => div_half_up(i128::from(subtotal) * i128::from(bp.clamp(0, 10_000)), 10_000),
        Some(Discount::Fixed(amount)) => amount.clamp(0, subtotal),
    };
    // Largest-remainder split of the discount.
    let mut shares: Vec<i64> = Vec::with_capacity(lines.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(lines.len());
    if subtotal > 0 {
        for (index, amount) in amounts.iter().enumerate() {
            let exact = i128::from(discount_minor) * i128::from(*amount);
            shares.push((exact / i128::from(subtotal)) as i64);
            remainders.push((exact % i128::from(subtotal), index));
        }
        let mut left = discount_minor - shares.iter().sum::<i64>();
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, index) in remainders {
            if left == 0 {
                break;
            }
            shares[index] += 1;
            left -= 1;
        }
    } else {
        shares = vec![0; lines.len()];
    }
    let line_rates: Vec<i64> = lines.iter().map(|l| pricing.rate(&l.tax_class)).collect();
    let line_tax: Vec<i64> = amounts
        .iter()
        .zip(&shares)
        .zip(&line_rates)
        .map(|((amount, share), rate)| {
            div_half_up(i128::from(amount - share) * i128::from(*rate), 10_000 + i128::from(*rate))
        })
        .collect();
    let discounted = subtotal - discount_minor;
    Totals {
        subtotal_minor: subtotal,
        discount_minor,
        shipping_minor: 0,
        tax_minor: line_tax.iter().sum(),
        shipping_tax_minor: 0,
        standard_rate_bp: pricing.rate(Pricing::STANDARD),
        total_minor: discounted,
        line_discount_minor: shares,
        line_tax_minor: line_tax,
        line_rate_bp: line_rates,
    }
}

impl Totals {
    /// The subtotal after the discount: what shipping bands and free-shipping thresholds read.
    pub fn discounted_minor(&self) -> i64 {
        self.subtotal_minor - self.discount_minor
    }

    /// These totals shipped by `method` at `now` for lines weighing `weight_grams`: its fee
    /// (gross) added to the total and the VAT it contains to the tax; why not when the method
    /// does not ship them.
    pub fn ship(
        self,
        method: &shipping::MethodRule,
        now: chrono::DateTime<chrono::Utc>,
        weight_grams: i64,
    ) -> Result<Totals, shipping::Unavailable> {
        let shipping_minor = method.fee(now, weight_grams, self.discounted_minor())?;
        let rate = i128::from(self.standard_rate_bp);
        let shipping_tax_minor = div_half_up(i128::from(shipping_minor) * rate, 10_000 + rate);
        let tax_minor = self.line_tax_minor.iter().sum::<i64>() + shipping_tax_minor;
        Ok(Totals {
            shipping_minor,
            shipping_tax_minor,
            tax_minor,
            total_minor: self.discounted_minor() + shipping_minor,
            ..self
        })
    }
}

/// The human order number: `SF-000123`.
pub fn order_number(sequence: i64) -> String {
    format!("SF-{sequence:06}")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_discount_applies_only_inside_its_window_limits_and_minimum() {
        let now = chrono::Utc::now();
        let hour = chrono::Duration::hours(1);
        let rule = DiscountRule {
            discount: Discount::Percent(1000),
            starts_at: Some(now - hour),
            ends_at: Some(now + hour),
            max_uses: Some(10),
            max_uses_per_customer: Some(1),
            min_subtotal_minor: 2000,
            active: true,
            uses: 9,
        };
        assert_eq!(check_discount(&rule, now, 2000, Some(0)), Ok(Discount::Percent(1000)));
        assert_eq!(check_discount(&rule, now, 2000, None), Ok(Discount::Percent(1000)), "a guest's own limit waits");
        assert_eq!(check_discount(&rule, now, 1999, Some(0)), Err(DiscountRefusal::BelowMinimum(2000)));
        assert_eq!(check_discount(&rule, now, 2000, Some(1)), Err(DiscountRefusal::UsedByYou));
        assert_eq!(
            check_discount(&DiscountRule { uses: 10, ..rule.clone() }, now, 2000, Some(0)),
            Err(DiscountRefusal::UsedUp)
        );
        assert_eq!(check_discount(&rule, now - hour * 2, 2000, Some(0)), Err(DiscountRefusal::NotYet));
        assert_eq!(
            check_discount(&rule, now + hour, 2000, Some(0)),
            Err(DiscountRefusal::Ended),
            "the end is exclusive"
        );
        assert_eq!(
            check_discount(&DiscountRule { active: false, ..rule }, now, 2000, Some(0)),
            Err(DiscountRefusal::Inactive)
        );
    }

    #[test]
    fn an_address_prints_its_parts_in_postal_order_leaving_out_empty_ones() {
        let address = serde_json::json!({"recipient_name": "Ada Lovelace", "line1": "Unter den Linden 1", "line2": null,
            "city": "Berlin", "region": "", "postal_code": "10115", "country": "DE", "phone": null});
        assert_eq!(address_lines(&address), ["Ada Lovelace", "Unter den Linden 1", "10115 Berlin", "DE"]);
        assert!(address_lines(&serde_json::json!({})).is_empty());
    }

    /// The seeded rates of `country` (none elsewhere).
    fn pricing(country: &str) -> Pricing {
        let standard = match country {
            "DE" => 1_900,
            "AT" => 2_000,
            _ => return Pricing::none(),
        };
        Pricing { rates: [(Pricing::STANDARD.to_owned(), standard), ("zero".to_owned(), 0)].into() }
    }

    fn line(sku: &str, quantity: i64, unit: i64) -> PricedLine {
        PricedLine {
            sku: sku.parse().unwrap(),
            quantity: contracts::types::Quantity::new(quantity).unwrap(),
            unit_price_minor: unit.into(),
            tax_class: Pricing::STANDARD.to_owned(),
        }
    }

    #[test]
    fn the_happy_path_and_its_refunds_are_allowed_and_nothing_else() {
        use Event::*;
        use Status::*;
        let mut status = AwaitingPayment;
        for event in [Pay, StartFulfilment, Ship, Deliver, Refund { full: false }, Refund { full: true }] {
            status = next(status, event).unwrap();
        }
        assert_eq!(status, Refunded);
        assert!(next(Paid, Cancel).is_err(), "a shopper's paid order is refunded, not cancelled");
        assert_eq!(next(Paid, StaffCancel), Ok(Cancelled), "unless staff cancel it (and refund it)");
        assert!(next(Shipped, StaffCancel).is_err(), "what shipped comes back as a return");
        assert_eq!(next(Paid, StockLost), Ok(Cancelled), "unless its stock is gone");
        assert!(next(Shipped, StockLost).is_err(), "what was shipped had its stock");
        assert!(next(Expired, Pay).is_err(), "a late payment does not revive an expired order");
        assert!(next(AwaitingPayment, Ship).is_err());
        assert_eq!(next(Paid, Ship), Ok(Shipped), "fulfilment may be skipped");
        for &status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
    }

    /// The seeded standard method at home: 4.90, free from 50.00.
    fn standard() -> shipping::MethodRule {
        shipping::MethodRule {
            price: shipping::PriceRule::Flat { fee_minor: 490.into() },
            free_from_minor: Some(5_000),
            active: true,
            active_from: None,
            active_until: None,
        }
    }

    #[test]
    fn totals_extract_tax_per_line_half_up_and_ship_free_from_the_threshold() {
        let now = chrono::Utc::now();
        // 19 % VAT in 1190 gross is exactly 190; in 1000 gross 159.66 → 160.
        let t = totals(&[line("A", 1, 1_190), line("B", 2, 500)], None, &pricing("DE"));
        assert_eq!((t.subtotal_minor, t.line_tax_minor.clone(), t.tax_minor), (2_190, vec![190, 160], 350));
        assert_eq!((t.shipping_minor, t.total_minor), (0, 2_190), "nothing shipped yet");
        let t = t.ship(&standard(), now, 0).unwrap();
        // Shipping's 4.90 gross contains 0.78 of VAT at the standard 19 % (78.24 → 78).
        assert_eq!((t.shipping_minor, t.total_minor, t.shipping_tax_minor, t.tax_minor), (490, 2_680, 78, 428));
        let t = totals(&[line("A", 5, 1_000)], None, &pricing("DE")).ship(&standard(), now, 0).unwrap();
        assert_eq!((t.shipping_minor, t.total_minor), (0, 5_000), "free from 50.00");
        // A discount that takes the subtotal under the threshold brings the fee back.
        let t = totals(&[line("A", 5, 1_000)], Some(Discount::Percent(1_000)), &pricing("DE"));
        let t = t.ship(&standard(), now, 0).unwrap();
        assert_eq!((t.discount_minor, t.shipping_minor, t.total_minor), (500, 490, 4_990));
        let t = totals(&[line("A", 1, 1_000)], Some(Discount::Fixed(5_000)), &pricing("US"));
        assert_eq!((t.discount_minor, t.total_minor, t.tax_minor), (1_000, 0, 0), "no more than the subtotal");
        let heavy = shipping::MethodRule {
            price: shipping::PriceRule::Weight {
                bands: vec![shipping::Band { up_to: Some(2_000), fee_minor: 1_490.into() }],
            },
            free_from_minor: None,
            ..standard()
        };
        assert_eq!(t.clone().ship(&heavy, now, 2_000).map(|t| t.total_minor), Ok(1_490));
        assert_eq!(t.ship(&heavy, now, 2_001), Err(shipping::Unavailable::OutOfBands));
    }

    #[test]
    fn each_line_is_taxed_at_its_class_and_shipping_at_the_standard_rate() {
        let mut book = line("BOOK", 1, 1_070);
        book.tax_class = "reduced".into();
        let mut rates = pricing("DE");
        rates.rates.insert("reduced".into(), 700);
        let t = totals(&[line("MUG", 1, 1_190), book], None, &rates).ship(&standard(), chrono::Utc::now(), 0).unwrap();
        assert_eq!((t.line_tax_minor.clone(), t.line_rate_bp.clone()), (vec![190, 70], vec![1_900, 700]));
        assert_eq!((t.shipping_tax_minor, t.tax_minor), (78, 338), "shipping at 19 %");
    }

    #[test]
    fn a_class_without_a_rate_is_charged_none_and_numbers_read_as_numbers() {
        assert_eq!((pricing("AT").rate(Pricing::STANDARD), pricing("AT").rate("reduced")), (2_000, 0));
        assert_eq!(Pricing::none().rate(Pricing::STANDARD), 0);
        assert_eq!(order_number(123), "SF-000123");
    }

    #[test]
    fn a_discount_is_split_over_the_lines_exactly() {
        let t = totals(
            &[line("A", 1, 333), line("B", 1, 333), line("C", 1, 334)],
            Some(Discount::Fixed(100)),
            &pricing("AT"),
        );
        assert_eq!(t.line_discount_minor.iter().sum::<i64>(), 100);
        assert_eq!(t.line_discount_minor, vec![33, 33, 34]);
    }

    #[test]
    fn a_shopper_holds_no_more_than_a_few_unpaid_orders_and_capped_units_per_sku() {
        let limits = Limits { max_unpaid_orders: 3, max_units_per_order: 20, max_open_units: 20 };
        let none = BTreeMap::new();
        let line = |sku: &str, quantity: i64| (sku.to_owned(), quantity);
        assert_eq!(limits.check(2, &[line("A", 20)], &none), Ok(()));
        assert_eq!(limits.check(3, &[line("A", 1)], &none), Err(LimitRefusal::TooManyUnpaid { limit: 3 }));
        assert_eq!(
            limits.check(0, &[line("A", 21), line("B", 1)], &none),
            Err(LimitRefusal::Quantity { skus: vec!["A".into()] })
        );
        // The review's probe: three orders of 20 of one 60-unit SKU; the second is refused.
        let open = BTreeMap::from([("A".to_owned(), 20)]);
        assert_eq!(limits.check(1, &[line("A", 20)], &open), Err(LimitRefusal::Quantity { skus: vec!["A".into()] }));
        assert_eq!(limits.check(1, &[line("B", 20)], &open), Ok(()), "other SKUs are not held back");
        let loose = Limits { max_unpaid_orders: 5, max_units_per_order: 20, max_open_units: 60 };
        assert_eq!(loose.check(2, &[line("A", 20)], &BTreeMap::from([("A".to_owned(), 40)])), Ok(()));
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            Just(Event::Pay),
            Just(Event::StartFulfilment),
            Just(Event::Ship),
            Just(Event::Deliver),
            Just(Event::Cancel),
            Just(Event::StaffCancel),
            Just(Event::Expire),
            Just(Event::StockLost),
            any::<bool>().prop_map(|full| Event::Refund { full }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Whatever happens, in whatever order: a final state is never left, an order that was
        /// paid never becomes unpaid, cancelled or expired (but for stock that could not be
        /// committed, whose payment is refunded in full), and only a paid order is refunded.
        #[test]
        fn no_sequence_of_events_reaches_an_illegal_state(events in proptest::collection::vec(event(), 0..40)) {
            let mut status = Status::AwaitingPayment;
            for event in events {
                let before = status;
                if let Ok(after) = next(before, event) {
                    prop_assert!(!before.is_final(), "{before:?} left by {event:?}");
                    prop_assert!(
                        !before.was_paid() || after.was_paid() || matches!(event, Event::StockLost | Event::StaffCancel),
                        "{before:?} → {after:?} lost the payment"
                    );
                    prop_assert!(!matches!(after, Status::Refunded | Status::PartiallyRefunded) || before.was_paid());
                    prop_assert!(after != Status::Paid || before == Status::AwaitingPayment, "paid twice");
                    status = after;
                }
            }
        }

        /// The totals add up for any lines and discount.
        #[test]
        fn totals_always_add_up(
            lines in proptest::collection::vec((1i64..20, 0i64..100_000), 0..12),
            percent in proptest::option::of(0i64..=10_000),
            fixed in 0i64..200_000,
            country in prop_oneof![Just("DE"), Just("AT"), Just("US")],
        ) {
            let lines: Vec<PricedLine> = lines.iter().enumerate().map(|(i, (q, p))| line(&format!("S{i}"), *q, *p)).collect();
            let discount = percent.map(Discount::Percent).or(Some(Discount::Fixed(fixed)));
            let t = totals(&lines, discount, &pricing(country)).ship(&standard(), chrono::Utc::now(), 0).unwrap();
            prop_assert!(t.discount_minor >= 0 && t.discount_minor <= t.subtotal_minor);
            prop_assert_eq!(t.line_discount_minor.iter().sum::<i64>(), t.discount_minor);
            prop_assert_eq!(t.line_tax_minor.iter().sum::<i64>() + t.shipping_tax_minor, t.tax_minor);
            prop_assert!(t.shipping_tax_minor <= t.shipping_minor);
            prop_assert!(t.tax_minor <= t.total_minor);
            prop_assert_eq!(t.total_minor, t.subtotal_minor - t.discount_minor + t.shipping_minor);
            prop_assert!(t.total_minor >= 0);
        }
    }
}
