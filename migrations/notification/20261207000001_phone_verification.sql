-- SMS only to a number its account proved it holds, within daily quotas (review f5592e3 M3:
-- SMS pumping). A shopper asks for a one-time code, which goes by SMS to the phone on their
-- profile; only its SHA-256 is kept, it lives a few minutes and allows five guesses. A
-- confirmed code records the (account, number) pair; a profile's number that is not recorded
-- for its account never gets an SMS.
create table phone_codes (
    user_id uuid primary key,
    phone text not null,
    code_hash text not null,
    attempts integer not null default 0 constraint phone_codes_attempts_not_negative check (attempts >= 0),
    expires_at timestamptz not null,
    created_at timestamptz not null default now()
);

create table verified_phones (
    user_id uuid not null,
    phone text not null,
    verified_at timestamptz not null default now(),
    primary key (user_id, phone)
);

-- The quotas count a number's and an account's texts of the last day.
create index messages_sms_recipient_idx on messages (recipient, created_at) where channel = 'sms';
create index messages_sms_account_idx on messages (user_id, created_at) where channel = 'sms';
