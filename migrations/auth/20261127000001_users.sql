-- Accounts. The email is stored trimmed and lowercased, so the unique constraint is on that
-- form; the password only as an argon2id PHC string.

create table users (
    id uuid primary key,
    email text not null constraint users_email_key unique,
    password_hash text not null,
    role text not null default 'customer' constraint users_role_known check (role in ('customer', 'admin')),
    email_verified boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint users_email_normalized check (email = lower(btrim(email)))
);

create function touch_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

create trigger users_touch_updated_at before update on users
    for each row execute function touch_updated_at();
