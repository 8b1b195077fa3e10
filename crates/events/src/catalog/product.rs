//! The events of `events.product`: the catalog's products and categories. Each carries the
//! aggregate's version, so a consumer that keeps a copy (search) applies only what is newer.

use serde::{Deserialize, Serialize};
use shop_types::{CategoryId, ProductId, ProductStatus};

/// A product was created (in any status).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCreated {
    pub product_id: ProductId,
    pub version: i64,
    pub slug: String,
    pub status: ProductStatus,
}

/// A product or one of its variants changed (status included, unless archived).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductUpdated {
    pub product_id: ProductId,
    pub version: i64,
    pub slug: String,
    pub status: ProductStatus,
}

/// A product was archived: it leaves the storefront.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductArchived {
    pub product_id: ProductId,
    pub version: i64,
    pub slug: String,
}

/// A category was created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryCreated {
    pub category_id: CategoryId,
    pub version: i64,
    pub slug: String,
    pub parent_id: Option<CategoryId>,
}

/// A category was renamed, moved or otherwise changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryUpdated {
    pub category_id: CategoryId,
    pub version: i64,
    pub slug: String,
    pub parent_id: Option<CategoryId>,
}

crate::stream! {
    /// The events of `events.product`.
    pub enum ProductEvent in "product" {
        ProductCreated = ("PRODUCT_CREATED", 1, aggregate = product_id),
        ProductUpdated = ("PRODUCT_UPDATED", 1, aggregate = product_id),
        ProductArchived = ("PRODUCT_ARCHIVED", 1, aggregate = product_id),
        CategoryCreated = ("CATEGORY_CREATED", 1, aggregate = category_id),
        CategoryUpdated = ("CATEGORY_UPDATED", 1, aggregate = category_id),
    }
}
