-- The transactional outbox (see crates/events): registration and the token flows write their
-- events here in the same transaction as the state change; the relay publishes them.
create table outbox (
    id uuid primary key,
    domain text not null,
    event_type text not null,
    envelope jsonb not null,
    created_at timestamptz not null default now(),
    sent_at timestamptz
);

create index outbox_unsent_idx on outbox (created_at, id) where sent_at is null;

-- One-time tokens for email verification and password reset. Only a SHA-256 of the token is
-- stored: the clear token exists in the email alone. Single use (used_at), short-lived.
create table one_time_tokens (
    token_hash bytea primary key,
    purpose text not null constraint one_time_tokens_purpose_known check (purpose in ('verify_email', 'reset_password')),
    user_id uuid not null references users (id) on delete cascade,
    expires_at timestamptz not null,
    used_at timestamptz,
    created_at timestamptz not null default now()
);

create index one_time_tokens_user_idx on one_time_tokens (user_id, purpose) where used_at is null;
