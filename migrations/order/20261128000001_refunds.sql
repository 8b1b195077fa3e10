-- What went back to the shopper (PAYMENT_REFUNDED): never more than the order's total. An order
-- that expired or was cancelled before a late payment keeps its status and records the
-- automatic refund here.
alter table orders add column refunded_minor bigint not null default 0;
alter table orders add constraint orders_refund_within check (refunded_minor between 0 and total_minor);
