//! What the order service emits and consumes: nothing yet. It will emit ORDER_CREATED/PAID/CANCELLED/EXPIRED/SHIPPED/DELIVERED/REFUNDED, and consume PAYMENT_SUCCEEDED/FAILED/REFUNDED.
