//! What the cart service emits and consumes: nothing yet. It will emit nothing, and consume ORDER_PAID (idempotent by construction, without a database).
