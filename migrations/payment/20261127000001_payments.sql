-- Payments (DESIGN §7): one intent per order (whatever the retries), its provider's id and
-- state; the provider events already handled (deduplicated by id). No card data is ever here.

create table payments (
    id uuid primary key,
    order_id uuid not null constraint payments_one_per_order unique,
    user_id uuid not null,
    provider text not null,
    provider_intent_id text not null constraint payments_intent_key unique,
    amount_minor bigint not null constraint payments_amount_positive check (amount_minor > 0),
    currency char(3) not null,
    -- requires_confirmation → processing → succeeded | failed (failed may be retried: processing again)
    status text not null constraint payments_status_known check (status in ('requires_confirmation', 'processing', 'succeeded', 'failed')),
    -- What the storefront confirms with (the sandbox's, or Stripe's client secret).
    client_secret text not null,
    failure_reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table provider_events (
    provider text not null,
    event_id text not null,
    event_type text not null,
    received_at timestamptz not null default now(),
    primary key (provider, event_id)
);
