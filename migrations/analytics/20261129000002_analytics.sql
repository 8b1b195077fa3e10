-- Analytics: raw tracking events from the storefront (partitioned by day, so retention drops
-- whole days), the domain events as received (secret and personal fields left out), and the
-- rollups the dashboards read, each maintained in the transaction that applies its event
-- (with the consumer's processed-event record, so an event counts once however often it is
-- delivered).

create table tracking_events (
    -- Sent by the client (so a retried batch is not counted twice) or made here.
    id uuid not null,
    occurred_at timestamptz not null,
    received_at timestamptz not null default now(),
    type text not null,
    visitor_id text not null,
    session_id text not null,
    -- The signed-in shopper, from the access token (never from the body).
    user_id text,
    path text,
    product_id uuid,
    query text,
    sku text,
    constraint tracking_events_type_known
        check (type in ('page_view', 'product_view', 'search', 'add_to_cart', 'checkout_started')),
    primary key (occurred_at, id)
) partition by range (occurred_at);

-- The conversion funnel: which sessions reached which step on which day (a session counts
-- once per step and day, however many events it sends).
create table funnel_sessions (
    day date not null,
    step text not null,
    session_id text not null,
    constraint funnel_sessions_step_known check (step in ('product_view', 'add_to_cart', 'checkout_started')),
    primary key (day, step, session_id)
);

-- The domain events analytics has applied, for questions the rollups do not answer yet.
create table domain_events (
    event_id uuid primary key,
    type text not null,
    occurred_at timestamptz not null,
    aggregate_id text not null,
    -- The payload without secret fields (one-time tokens) or personal ones (email, address).
    payload jsonb not null
);

create index domain_events_occurred_idx on domain_events (occurred_at);

-- Sales per day (UTC): paid orders and their gross totals, refunds, failed payments.
create table sales_daily (
    day date primary key,
    orders bigint not null default 0,
    revenue_minor bigint not null default 0,
    refunds bigint not null default 0,
    refunded_minor bigint not null default 0,
    failed_payments bigint not null default 0
);

-- What sold, per variant and day: units and the lines' gross value.
create table product_sales_daily (
    day date not null,
    sku text not null,
    title text not null,
    units bigint not null default 0,
    revenue_minor bigint not null default 0,
    primary key (day, sku)
);

create table customers_daily (
    day date primary key,
    new_customers bigint not null default 0
);

-- SKUs whose last report was at or below their threshold.
create table stock_levels (
    sku text primary key,
    available_quantity bigint not null,
    threshold bigint,
    reported_at timestamptz not null
);
