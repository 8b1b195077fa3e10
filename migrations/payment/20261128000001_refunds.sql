-- Refunds, cancelled intents and reconciliation (DESIGN §7).
-- A payment whose order expired or was cancelled before it succeeded is `canceled`: a success
-- that still arrives for it is recorded and refunded automatically. `refunded_minor` is what
-- went back so far (never more than was captured); `checked_at` is when reconciliation last
-- asked the provider about a payment still waiting for its verdict.

alter table payments drop constraint payments_status_known;
alter table payments add constraint payments_status_known
    check (status in ('requires_confirmation', 'processing', 'succeeded', 'failed', 'canceled'));
alter table payments add column refunded_minor bigint not null default 0;
alter table payments add constraint payments_refund_within
    check (refunded_minor >= 0 and refunded_minor <= amount_minor);
alter table payments add column checked_at timestamptz not null default now();
create index payments_unsettled_idx on payments (checked_at)
    where status in ('requires_confirmation', 'processing', 'canceled');

-- requested → succeeded | failed. A requested refund is sent to the provider with its id as the
-- provider's Idempotency-Key, as often as it takes (a crash between the row and the call is
-- repaired by reconciliation); only the first recorded outcome counts.
create table refunds (
    id uuid primary key,
    payment_id uuid not null references payments (id),
    amount_minor bigint not null constraint refunds_amount_positive check (amount_minor > 0),
    reason text not null,
    -- made by the service itself: a success for an order that can no longer be paid
    automatic boolean not null default false,
    -- a staff user's id, or `system`
    requested_by text not null,
    -- the staff request's Idempotency-Key and the SHA-256 of its body
    idempotency_key text,
    request_hash text,
    status text not null constraint refunds_status_known check (status in ('requested', 'succeeded', 'failed')),
    provider_refund_id text,
    failure_reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create unique index refunds_key_idx on refunds (payment_id, idempotency_key) where idempotency_key is not null;
-- one automatic refund per payment, however the late success and the order's end interleave
create unique index refunds_one_automatic_idx on refunds (payment_id) where automatic;
create index refunds_requested_idx on refunds (created_at) where status = 'requested';

-- The sandbox provider's own side: what a real provider would hold (its intents, their
-- verdicts and refunds), kept apart from our records so that reconciliation can repair a lost
-- webhook from it exactly as it would from Stripe.
create table sandbox_intents (
    id text primary key,
    idempotency_key text not null constraint sandbox_intents_key unique,
    amount_minor bigint not null,
    currency char(3) not null,
    order_id uuid not null,
    client_secret text not null,
    -- requires_payment_method | succeeded | requires_payment_method after a decline
    status text not null,
    last_error text,
    created_at timestamptz not null default now()
);

create table sandbox_refunds (
    id text primary key,
    intent_id text not null references sandbox_intents (id),
    idempotency_key text not null constraint sandbox_refunds_key unique,
    amount_minor bigint not null,
    created_at timestamptz not null default now()
);
