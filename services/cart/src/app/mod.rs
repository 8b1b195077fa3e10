//! The cart service's use cases, between the routes (HTTP: whose cart a request names, the
//! body's shape, the answer) and the store (Redis): showing a cart at current prices, adding,
//! changing and removing lines within the limits, merging a guest cart, and applying a
//! discount code the order service prices. Each carries a span with the cart it works on.

pub(crate) mod carts;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use contracts::order::OrderClient;
use contracts::product::{ProductClient, VariantInfo};
use contracts::types::{Currency, Sku};

use crate::domain::CartTokens;
use crate::error::Result;
use crate::store::Carts;

/// Limits and lifetimes.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub guest_ttl: Duration,
    pub user_ttl: Duration,
    pub max_line_quantity: i64,
    pub max_lines: usize,
}

/// Current prices from the product service, each reused for a short while.
pub(crate) struct Prices {
    client: ProductClient,
    ttl: Duration,
    seen: Mutex<HashMap<Sku, (VariantInfo, Instant)>>,
}

impl Prices {
    pub(crate) fn new(client: ProductClient, ttl: Duration) -> Self {
        Self { client, ttl, seen: Mutex::new(HashMap::new()) }
    }

    /// The variants of `skus` (unknown ones absent), asking product only for those not seen
    /// within the TTL.
    async fn of(&self, skus: &[Sku]) -> Result<Vec<VariantInfo>> {
        let now = Instant::now();
        let (mut found, missing): (Vec<VariantInfo>, Vec<Sku>) = {
            let seen = self.seen.lock().expect("price cache lock");
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for sku in skus {
                match seen.get(sku) {
                    Some((variant, at)) if now.duration_since(*at) < self.ttl => found.push(variant.clone()),
                    _ => missing.push(sku.clone()),
                }
            }
            (found, missing)
        };
        if !missing.is_empty() {
            let fresh = self.client.variants(&missing).await?;
            let mut seen = self.seen.lock().expect("price cache lock");
            if seen.len() > 10_000 {
                seen.clear();
            }
            for variant in &fresh {
                seen.insert(variant.sku.clone(), (variant.clone(), now));
            }
            found.extend(fresh);
        }
        Ok(found)
    }
}

/// What every cart use case reads.
#[derive(Clone)]
pub(crate) struct AppState {
    pub carts: Carts,
    pub tokens: Arc<CartTokens>,
    pub prices: Arc<Prices>,
    /// Prices discount codes (the order service owns them and the totals function).
    pub orders: OrderClient,
    pub limits: Limits,
    pub currency: Currency,
}
