//! Pure rules of carts: guest cart tokens (256 random bits plus a MAC, so a token this service
//! never issued is told apart without storing anything), whose cart a request names, and the
//! cart as shown (current prices, changed prices, availability, the subtotal).

use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use contracts::product::VariantInfo;
use contracts::types::{Amount, Currency, Quantity, Sku};
use serde::Serialize;
use uuid::Uuid;

const RANDOM_BYTES: usize = 32;
const MAC_BYTES: usize = 16;

/// Issues and checks guest cart tokens.
pub(crate) struct CartTokens {
    key: hmac::Key,
}

impl CartTokens {
    /// Keyed by a secret derived from the service's own private key (no extra secret to ship).
    pub(crate) fn new(secret: &[u8]) -> Self {
        let derived = digest::digest(&digest::SHA256, &[b"cart-token:".as_slice(), secret].concat());
        Self { key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()) }
    }

    /// A new token: 256 random bits and their MAC, base64url.
    pub(crate) fn issue(&self) -> String {
        let mut random = [0u8; RANDOM_BYTES];
        aws_lc_rs::rand::fill(&mut random).expect("the system RNG works");
        let tag = hmac::sign(&self.key, &random);
        let mut token = random.to_vec();
        token.extend_from_slice(&tag.as_ref()[..MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(token)
    }

    /// The cart a token names (a digest of its random part, so the token itself is stored
    /// nowhere), or `None` for a token this service did not issue.
    pub(crate) fn verify(&self, token: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        if bytes.len() != RANDOM_BYTES + MAC_BYTES {
            return None;
        }
        let (random, mac) = bytes.split_at(RANDOM_BYTES);
        let expected = hmac::sign(&self.key, random);
        // Constant-time comparison of the truncated tag.
        let same = aws_lc_rs::constant_time::verify_slices_are_equal(&expected.as_ref()[..MAC_BYTES], mac).is_ok();
        same.then(|| {
            let id = digest::digest(&digest::SHA256, random);
            id.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect()
        })
    }
}

/// Whose cart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    User(Uuid),
    /// A guest cart by the digest of its token.
    Guest(String),
}

impl Owner {
    /// The cart's storage id (`u:<uuid>` / `g:<digest>`).
    pub(crate) fn id(&self) -> String {
        match self {
            Owner::User(id) => format!("u:{id}"),
            Owner::Guest(digest) => format!("g:{digest}"),
        }
    }
}

/// A line as stored: how many, the price when it was added, when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoredLine {
    pub sku: Sku,
    pub quantity: Quantity,
    pub price_at_add: Amount,
    pub added_at_ms: i64,
}

/// A line as shown.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CartLine {
    pub sku: Sku,
    pub title: String,
    pub quantity: Quantity,
    /// The current price (gross, minor units).
    pub unit_price_minor: Amount,
    /// The price differs from when the line was added.
    pub price_changed: bool,
    /// It can be bought now (on sale and in stock).
    pub available: bool,
}

/// A discount code on the cart.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CartDiscount {
    pub code: String,
    /// What it takes off the subtotal now (0 while it does not apply).
    pub discount_minor: Amount,
    /// Why it does not apply now (e.g. the subtotal is below its minimum), if it does not.
    pub refusal: Option<String>,
}

/// A cart as shown.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Cart {
    pub lines: Vec<CartLine>,
    /// Of the available lines, at current prices.
    pub subtotal_minor: Amount,
    /// The discount code's share (0 without one).
    pub discount_minor: Amount,
    /// Subtotal minus discount; shipping and tax follow from the address at checkout.
    pub total_minor: Amount,
    pub discount: Option<CartDiscount>,
    /// The shipping method chosen (`PUT /carts/current/shipping-method`), if any; its price
    /// depends on the address (`GET /carts/current/shipping-methods?country=`).
    pub shipping_method_id: Option<uuid::Uuid>,
    pub currency: Currency,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Cart {
    /// The cart with its discount as the order service priced it.
    pub(crate) fn with_discount(mut self, discount: Option<CartDiscount>) -> Self {
        self.discount_minor = discount.as_ref().map_or(Amount::ZERO, |d| d.discount_minor);
        // The order service never quotes more than the subtotal.
        self.total_minor = self.subtotal_minor.checked_sub(self.discount_minor).unwrap_or(Amount::ZERO);
        self.discount = discount;
        self
    }
}

/// The cart from its stored lines and the current variants (a SKU no longer sold shows as
/// unavailable at its stored price).
pub(crate) fn render(
    mut lines: Vec<StoredLine>,
    variants: &[VariantInfo],
    updated_ms: Option<i64>,
    currency: Currency,
) -> Cart {
    lines.sort_by(|a, b| (a.added_at_ms, &a.sku).cmp(&(b.added_at_ms, &b.sku)));
    let lines: Vec<CartLine> = lines
        .into_iter()
        .map(|line| match variants.iter().find(|v| v.sku == line.sku) {
            Some(v) => CartLine {
                title: v.title.clone(),
                quantity: line.quantity,
                unit_price_minor: v.price_minor,
                price_changed: v.price_minor != line.price_at_add,
                available: v.purchasable && v.in_stock,
                sku: line.sku,
            },
            None => CartLine {
                title: String::new(),
                quantity: line.quantity,
                unit_price_minor: line.price_at_add,
                price_changed: false,
                available: false,
                sku: line.sku,
            },
        })
        .collect();
    // A price is bounded where it is set (`contracts::types::MAX_PRICE`) and a cart's lines by
    // the limits, so the sum fits; were it ever too large, the cart shows the largest amount
    // and the checkout refuses it (`amount_out_of_range`), never a wrapped total.
    let subtotal_minor = lines
        .iter()
        .filter(|l| l.available)
        .try_fold(Amount::ZERO, |sum, l| sum.checked_add(l.unit_price_minor.times(l.quantity)?))
        .unwrap_or(Amount::MAX);
    Cart {
        lines,
        subtotal_minor,
        discount_minor: Amount::ZERO,
        total_minor: subtotal_minor,
        discount: None,
        shipping_method_id: None,
        currency,
        updated_at: updated_ms.and_then(DateTime::<Utc>::from_timestamp_millis),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_as_issued_and_names_a_stable_cart() {
        let tokens = CartTokens::new(b"secret");
        let token = tokens.issue();
        assert!(URL_SAFE_NO_PAD.decode(&token).unwrap().len() == 48);
        let id = tokens.verify(&token).expect("issued here");
        assert_eq!(tokens.verify(&token), Some(id.clone()));
        assert_ne!(tokens.verify(&tokens.issue()), Some(id));
        let mut forged = URL_SAFE_NO_PAD.decode(&token).unwrap();
        forged[0] ^= 1;
        assert_eq!(tokens.verify(&URL_SAFE_NO_PAD.encode(forged)), None);
        assert_eq!(CartTokens::new(b"other").verify(&token), None);
        assert_eq!(tokens.verify("garbage"), None);
    }

    #[test]
    fn the_cart_shows_current_prices_flags_changes_and_counts_only_available_lines() {
        let variant = |sku: &str, price: i64, in_stock| VariantInfo {
            sku: sku.parse().unwrap(),
            product_id: Uuid::nil().into(),
            slug: "s".into(),
            title: format!("T {sku}"),
            price_minor: price.into(),
            currency: Currency::EUR,
            in_stock,
            purchasable: true,
            weight_grams: None,
            tax_class: "standard".into(),
        };
        let stored = |sku: &str, quantity: u32, price_at_add: i64, added_at_ms| StoredLine {
            sku: sku.parse().unwrap(),
            quantity: quantity.into(),
            price_at_add: price_at_add.into(),
            added_at_ms,
        };
        let cart = render(
            vec![stored("B", 1, 500, 2), stored("A", 2, 1000, 1), stored("GONE", 1, 300, 3)],
            &[variant("A", 1200, true), variant("B", 500, false)],
            Some(5),
            Currency::EUR,
        );
        let skus: Vec<&str> = cart.lines.iter().map(|l| l.sku.as_str()).collect();
        assert_eq!(skus, ["A", "B", "GONE"], "in the order added");
        assert!(cart.lines[0].price_changed && !cart.lines[1].price_changed);
        assert!(!cart.lines[1].available && !cart.lines[2].available);
        assert_eq!(cart.subtotal_minor, 2400);
    }
}
