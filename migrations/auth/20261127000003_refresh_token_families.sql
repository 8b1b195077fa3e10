-- Refresh tokens (RFC 9700 §4.14): opaque, stored as SHA-256 hashes, rotated on every use and
-- grouped in a family per login. Presenting a token that was already rotated means it leaked:
-- the whole family is revoked.

create table refresh_families (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    last_used_at timestamptz not null default now(),
    -- However often it is refreshed, a login ends here.
    absolute_expires_at timestamptz not null,
    revoked_at timestamptz,
    revoked_reason text constraint refresh_families_reason_known
        check (revoked_reason in ('logout', 'logout_all', 'reuse_detected', 'password_changed')),
    user_agent text,
    client_ip text
);

create index refresh_families_active_idx on refresh_families (user_id) where revoked_at is null;

create table refresh_tokens (
    token_hash bytea primary key,
    family_id uuid not null references refresh_families (id) on delete cascade,
    issued_at timestamptz not null default now(),
    -- Sliding: each rotation issues a token valid for the configured lifetime (capped by the family).
    expires_at timestamptz not null,
    -- Set when the token is rotated; presenting it again after that is reuse.
    rotated_at timestamptz
);

create index refresh_tokens_family_idx on refresh_tokens (family_id);
