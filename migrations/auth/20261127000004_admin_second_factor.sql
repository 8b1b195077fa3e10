-- Admins sign in with a password AND a TOTP code (RFC 6238) or a single-use recovery code.
-- The TOTP seed must be readable to check codes, so it is stored sealed (AES-256-GCM under a key
-- from configuration); recovery codes only as hashes. last_used_step makes every code single-use.

create table admin_totp (
    user_id uuid primary key references users (id) on delete cascade,
    secret_sealed bytea not null,
    last_used_step bigint,
    created_at timestamptz not null default now()
);

create table recovery_codes (
    code_hash bytea primary key,
    user_id uuid not null references users (id) on delete cascade,
    used_at timestamptz,
    created_at timestamptz not null default now()
);

create index recovery_codes_user_idx on recovery_codes (user_id) where used_at is null;

-- Admin sessions refresh into admin tokens (shorter-lived, with permissions); customer sessions
-- never do.
alter table refresh_families add column admin boolean not null default false;
