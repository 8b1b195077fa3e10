-- Discount codes (staff: `promotions:write`): a percentage (basis points) or a fixed amount off
-- the subtotal, a validity window, usage limits per code and per customer, a minimum subtotal.
-- A use is counted once per order (keyed by the order id, so a retried checkout counts once)
-- and given back when the order expires or is cancelled; a use whose order was never written
-- (its checkout died) is given back by the expiry job.

create table discount_codes (
    id uuid primary key,
    -- upper case; codes are matched case-insensitively
    code text not null constraint discount_codes_code_key unique
        constraint discount_codes_code_format check (code ~ '^[A-Z0-9][A-Z0-9_-]{1,31}$'),
    kind text not null constraint discount_codes_kind_known check (kind in ('percent', 'fixed')),
    -- percent: basis points (1000 = 10 %); fixed: minor units
    value bigint not null constraint discount_codes_value_positive check (value > 0),
    constraint discount_codes_percent_within check (kind <> 'percent' or value <= 10000),
    starts_at timestamptz,
    ends_at timestamptz,
    constraint discount_codes_window_ordered check (starts_at is null or ends_at is null or starts_at < ends_at),
    max_uses integer constraint discount_codes_max_uses_positive check (max_uses > 0),
    max_uses_per_customer integer constraint discount_codes_per_customer_positive check (max_uses_per_customer > 0),
    min_subtotal_minor bigint not null default 0 constraint discount_codes_min_not_negative check (min_subtotal_minor >= 0),
    active boolean not null default true,
    uses integer not null default 0 constraint discount_codes_uses_within check (uses >= 0 and (max_uses is null or uses <= max_uses)),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index discount_codes_newest_idx on discount_codes (created_at desc, id desc);

create table discount_uses (
    order_id uuid primary key,
    code_id uuid not null references discount_codes (id),
    user_id uuid not null,
    created_at timestamptz not null default now(),
    -- given back (the order expired or was cancelled, or was never written)
    released_at timestamptz
);

create index discount_uses_customer_idx on discount_uses (code_id, user_id) where released_at is null;

alter table orders add column discount_code text;
