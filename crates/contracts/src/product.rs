//! The product service's internal contract (callers: cart and order): the current price and
//! availability of variants by SKU, authoritative (never a cached copy elsewhere).

use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::InternalClient;
use service_kit::fleet::PRODUCT;
use uuid::Uuid;

use crate::{CallError, call_json};

/// `GET /internal/variants?skus=a,b,c` (at most [`MAX_SKUS`]).
pub const VARIANTS_PATH: &str = "/internal/variants";
pub const MAX_SKUS: usize = 100;

/// A variant as a cart line or an order line needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantInfo {
    pub sku: String,
    pub product_id: Uuid,
    pub slug: String,
    /// The product's title with the variant's option values, e.g. "Async Tokio Mug (450 ml)".
    pub title: String,
    /// Gross, minor units.
    pub price_minor: i64,
    pub currency: String,
    /// Whether inventory last said it can be bought.
    pub in_stock: bool,
    /// Whether its product is on sale (active); an archived or draft product's variant is not.
    pub purchasable: bool,
}

/// The answer: the variants found (an unknown SKU is simply absent).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Variants {
    pub items: Vec<VariantInfo>,
}

/// Calls the product service.
#[derive(Clone)]
pub struct ProductClient {
    client: InternalClient,
}

impl ProductClient {
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// The variants with these SKUs (at most [`MAX_SKUS`]; an empty list asks nothing).
    pub async fn variants(&self, skus: &[String]) -> Result<Vec<VariantInfo>, CallError> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        // SKUs are letters, digits, '.', '_' and '-'; anything else is escaped all the same.
        let escaped: Vec<String> = skus
            .iter()
            .map(|sku| {
                sku.bytes()
                    .map(|b| {
                        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
                            (b as char).to_string()
                        } else {
                            format!("%{b:02X}")
                        }
                    })
                    .collect()
            })
            .collect();
        let path = format!("{VARIANTS_PATH}?skus={}", escaped.join(","));
        let request = self.client.request(Method::GET, PRODUCT, &path, &Subject::anonymous());
        Ok(call_json::<Variants>(PRODUCT, request).await?.items)
    }
}
