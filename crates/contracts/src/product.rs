//! The product service's internal contract (callers: cart and order): the current price and
//! availability of variants by SKU, authoritative (never a cached copy elsewhere).

use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::InternalClient;
use service_kit::fleet::PRODUCT;
use uuid::Uuid;

use crate::types::{Amount, CategoryId, Currency, MediaId, ProductId, ProductStatus, Sku};
use crate::{CallError, call_json};

/// `GET /internal/variants?skus=a,b,c` (at most [`MAX_SKUS`]).
pub const VARIANTS_PATH: &str = "/internal/variants";
pub const MAX_SKUS: usize = 100;

/// `GET /internal/export/reviews`: every review the shopper the call is made for wrote, with its
/// status (caller: user, assembling the shopper's data export).
pub const EXPORT_REVIEWS_PATH: &str = "/internal/export/reviews";

/// A shopper's reviews, for their data export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportedReviews {
    pub items: Vec<serde_json::Value>,
}

/// A variant as a cart line or an order line needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantInfo {
    pub sku: Sku,
    pub product_id: ProductId,
    pub slug: String,
    /// The product's title with the variant's option values, e.g. "Async Tokio Mug (450 ml)".
    pub title: String,
    /// Gross, minor units.
    pub price_minor: Amount,
    pub currency: Currency,
    /// Whether inventory last said it can be bought.
    pub in_stock: bool,
    /// Whether its product is on sale (active); an archived or draft product's variant is not.
    pub purchasable: bool,
    /// Its shipping weight, when the catalog knows it (shipping priced by weight counts a
    /// variant without one as weighing nothing).
    #[serde(default)]
    pub weight_grams: Option<i32>,
    /// Its VAT class (`standard` in answers of earlier producers).
    #[serde(default = "crate::product::standard_class")]
    pub tax_class: String,
}

fn standard_class() -> String {
    "standard".to_owned()
}

/// The shipping weight of `lines` (SKU and quantity) in grams, from their variants: one without
/// a weight, or not found, weighs nothing. Saturating, never wrapping.
pub fn total_weight_grams<'a>(
    lines: impl IntoIterator<Item = (&'a crate::types::Sku, crate::types::Quantity)>,
    variants: &[VariantInfo],
) -> i64 {
    lines
        .into_iter()
        .map(|(sku, quantity)| {
            let each = variants.iter().find(|v| &v.sku == sku).and_then(|v| v.weight_grams).unwrap_or(0);
            i64::from(each.max(0)).saturating_mul(quantity.get())
        })
        .fold(0, i64::saturating_add)
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
    pub async fn variants(&self, skus: &[Sku]) -> Result<Vec<VariantInfo>, CallError> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        // A SKU is letters, digits, '.', '_' and '-': nothing to escape in a query.
        let skus: Vec<&str> = skus.iter().map(Sku::as_str).collect();
        let path = format!("{VARIANTS_PATH}?skus={}", skus.join(","));
        let request = self.client.request(Method::GET, PRODUCT, &path, &Subject::anonymous());
        Ok(call_json::<Variants>(PRODUCT, request).await?.items)
    }

    /// Every review `shopper` (the subject of the call) wrote, for their data export.
    pub async fn export_reviews(&self, shopper: &Subject) -> Result<Vec<serde_json::Value>, CallError> {
        let request = self.client.request(Method::GET, PRODUCT, EXPORT_REVIEWS_PATH, shopper);
        Ok(call_json::<ExportedReviews>(PRODUCT, request).await?.items)
    }
}

/// `GET /internal/search-documents?after=<id>&limit=<n>`: active products in id order, a page
/// at a time (search's rebuild); `?ids=a,b,c` (at most [`MAX_DOCUMENTS`]): these products in any
/// status (search's update after an event: a product that is not active leaves the index).
pub const SEARCH_DOCUMENTS_PATH: &str = "/internal/search-documents";
/// `GET /internal/categories`: every category, flat.
pub const CATEGORIES_PATH: &str = "/internal/categories";
pub const MAX_DOCUMENTS: usize = 500;

/// A variant's stock flag with the inventory sequence it came from (search keeps the newest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMark {
    pub sku: Sku,
    pub in_stock: bool,
    /// The `seq` of the STOCK_CHANGED the flag came from (0: none yet).
    pub stock_seq: i64,
}

/// A product as search indexes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchDocument {
    pub product_id: ProductId,
    /// The product's version (events carry it).
    pub version: i64,
    /// Only active products are searchable.
    pub status: ProductStatus,
    pub slug: String,
    pub title: String,
    pub brand: Option<String>,
    /// Markdown, as written.
    pub description: String,
    /// Attribute values in text form by name (as the listing's `attr.<name>` filter reads them).
    pub attributes: std::collections::BTreeMap<String, String>,
    /// The first image's media id.
    pub image: Option<MediaId>,
    /// The first image's `medium` variant URL, once the media service announced it.
    #[serde(default)]
    pub image_url: Option<String>,
    pub price_min_minor: Amount,
    pub price_max_minor: Amount,
    pub currency: Currency,
    /// The categories the product is in directly.
    pub category_ids: Vec<CategoryId>,
    pub variants: Vec<StockMark>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A page of the export.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SearchDocuments {
    pub items: Vec<SearchDocument>,
    /// Pass as `after` for the next page; absent on the last page (or for `ids`).
    pub next_after: Option<ProductId>,
}

/// A category, flat (its place in the tree by `parent_id`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryEntry {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub slug: String,
    pub name: String,
    pub position: i32,
}

/// Every category.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Categories {
    pub items: Vec<CategoryEntry>,
}

impl ProductClient {
    /// One page of active products after `after` (in id order), at most `limit`.
    pub async fn search_documents(&self, after: Option<Uuid>, limit: usize) -> Result<SearchDocuments, CallError> {
        let mut path = format!("{SEARCH_DOCUMENTS_PATH}?limit={limit}");
        if let Some(after) = after {
            path.push_str(&format!("&after={after}"));
        }
        let request = self.client.request(Method::GET, PRODUCT, &path, &Subject::anonymous());
        call_json(PRODUCT, request).await
    }

    /// These products (at most [`MAX_DOCUMENTS`]) in any status; an unknown id is absent.
    pub async fn search_documents_by_id(&self, ids: &[Uuid]) -> Result<Vec<SearchDocument>, CallError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let path = format!("{SEARCH_DOCUMENTS_PATH}?ids={}", ids.join(","));
        let request = self.client.request(Method::GET, PRODUCT, &path, &Subject::anonymous());
        Ok(call_json::<SearchDocuments>(PRODUCT, request).await?.items)
    }

    /// Every category.
    pub async fn categories(&self) -> Result<Vec<CategoryEntry>, CallError> {
        let request = self.client.request(Method::GET, PRODUCT, CATEGORIES_PATH, &Subject::anonymous());
        Ok(call_json::<Categories>(PRODUCT, request).await?.items)
    }
}
