//! What the product service emits and consumes: nothing yet. With the catalog issue it emits
//! PRODUCT_CREATED/UPDATED/ARCHIVED and CATEGORY_* and consumes STOCK_CHANGED.
