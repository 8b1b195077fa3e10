-- Fulfillments (staff: `orders:write`): shipments of some or all of an order's lines, each with
-- its carrier and tracking. An order goes `paid → fulfilling` with its first partial one and
-- `shipped` when every line is fulfilled; each is delivered on its own, the order once all are.
-- Never more of a SKU is fulfilled than was ordered: the use case checks under the order's row
-- lock (and `cargo xtask audit` checks afterwards).

create table fulfillments (
    id uuid primary key,
    order_id uuid not null references orders (id),
    carrier text not null constraint fulfillments_carrier_length check (char_length(carrier) between 1 and 100),
    tracking_number text not null constraint fulfillments_tracking_length check (char_length(tracking_number) between 1 and 100),
    tracking_url text constraint fulfillments_tracking_url_length check (char_length(tracking_url) between 1 and 500),
    -- who: a staff member's id
    actor text not null,
    created_at timestamptz not null default now(),
    delivered_at timestamptz
);

create index fulfillments_order_idx on fulfillments (order_id, created_at, id);

create table fulfillment_lines (
    fulfillment_id uuid not null references fulfillments (id),
    sku text not null,
    quantity integer not null constraint fulfillment_lines_quantity_positive check (quantity > 0),
    primary key (fulfillment_id, sku)
);

-- The billing address (null on orders placed before it: the shipping address) and the buyer's
-- VAT ID, as given at checkout.
alter table orders add column billing_address jsonb;
alter table orders add column vat_id text constraint orders_vat_id_format check (vat_id ~ '^[A-Z]{2}[0-9A-Z+*.]{2,12}$');
