//! What the search service emits and consumes: nothing yet. It will emit nothing, and consume PRODUCT_* and STOCK_CHANGED (idempotent by product version, without a database).
