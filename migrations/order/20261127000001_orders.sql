-- Orders (DESIGN §7): the order with its price, address and contact snapshots, its lines, every
-- transition with actor and reason, and the Idempotency-Keys of POST /orders (per shopper, kept
-- 24 hours). Money is integer minor units of the shop's one currency.

create sequence order_numbers;

create table orders (
    id uuid primary key,
    -- SF-000123
    number text not null constraint orders_number_key unique,
    user_id uuid not null,
    status text not null constraint orders_status_known check (status in
        ('awaiting_payment', 'paid', 'fulfilling', 'shipped', 'delivered', 'cancelled', 'expired', 'refunded', 'partially_refunded')),
    currency char(3) not null,
    subtotal_minor bigint not null constraint orders_subtotal_not_negative check (subtotal_minor >= 0),
    discount_minor bigint not null default 0 constraint orders_discount_within check (discount_minor between 0 and subtotal_minor),
    shipping_minor bigint not null constraint orders_shipping_not_negative check (shipping_minor >= 0),
    tax_minor bigint not null constraint orders_tax_not_negative check (tax_minor >= 0),
    total_minor bigint not null constraint orders_total_adds_up check (total_minor = subtotal_minor - discount_minor + shipping_minor),
    shipping_address jsonb not null,
    contact_email text not null,
    payment_deadline timestamptz not null,
    carrier text,
    tracking_number text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index orders_user_idx on orders (user_id, created_at desc, id desc);
create index orders_newest_idx on orders (created_at desc, id desc);
-- The expiry job's scan.
create index orders_unpaid_deadline_idx on orders (payment_deadline) where status = 'awaiting_payment';

create table order_lines (
    order_id uuid not null references orders (id) on delete cascade,
    position integer not null,
    sku text not null,
    title text not null,
    quantity bigint not null constraint order_lines_quantity_positive check (quantity > 0),
    unit_price_minor bigint not null constraint order_lines_price_not_negative check (unit_price_minor >= 0),
    discount_minor bigint not null default 0,
    tax_minor bigint not null,
    primary key (order_id, position)
);

create table order_transitions (
    id uuid primary key,
    order_id uuid not null references orders (id) on delete cascade,
    from_status text,
    to_status text not null,
    -- a user id, `system` (expiry), or a service
    actor text not null,
    reason text not null,
    at timestamptz not null default now()
);

create index order_transitions_order_idx on order_transitions (order_id, at, id);

create table idempotency_keys (
    user_id uuid not null,
    key text not null,
    -- SHA-256 of the request body in its canonical form.
    request_hash text not null,
    -- The order this request makes (fixed before anything else, so a retry after a crash
    -- reserves under the same id).
    order_id uuid not null,
    state text not null constraint idempotency_keys_state_known check (state in ('in_flight', 'done')),
    created_at timestamptz not null default now(),
    primary key (user_id, key)
);

create index idempotency_keys_age_idx on idempotency_keys (created_at);
