//! What the payment service emits and consumes: nothing yet. It will emit PAYMENT_SUCCEEDED/FAILED/REFUNDED, and consume ORDER_EXPIRED.
