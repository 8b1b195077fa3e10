-- Profiles, preferences and addresses. A profile is created from USER_REGISTERED (or on the
-- first /users/me if that arrives first) and keyed by the auth user id.

create table processed_events (
    event_id uuid primary key,
    event_type text not null,
    processed_at timestamptz not null default now()
);

create table profiles (
    user_id uuid primary key,
    -- Known from USER_REGISTERED; null while a profile made on demand waits for the event.
    email text,
    email_verified boolean not null default false,
    display_name text constraint profiles_display_name_length check (char_length(display_name) between 1 and 100),
    phone text constraint profiles_phone_e164 check (phone ~ '^\+[1-9][0-9]{7,14}$'),
    locale text not null default 'en' constraint profiles_locale_format check (locale ~ '^[a-z]{2}(-[A-Z]{2})?$'),
    currency char(3) not null default 'EUR' constraint profiles_currency_format check (currency ~ '^[A-Z]{3}$'),
    marketing_opt_in boolean not null default false,
    notify_email boolean not null default true,
    notify_sms boolean not null default false,
    notify_push boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table addresses (
    id uuid primary key,
    user_id uuid not null references profiles (user_id) on delete cascade,
    label text constraint addresses_label_length check (char_length(label) between 1 and 50),
    recipient_name text not null constraint addresses_recipient_length check (char_length(recipient_name) between 1 and 100),
    line1 text not null constraint addresses_line1_length check (char_length(line1) between 1 and 200),
    line2 text constraint addresses_line2_length check (char_length(line2) <= 200),
    city text not null constraint addresses_city_length check (char_length(city) between 1 and 100),
    region text constraint addresses_region_length check (char_length(region) <= 100),
    postal_code text not null constraint addresses_postal_code_length check (char_length(postal_code) between 1 and 16),
    country char(2) not null constraint addresses_country_format check (country ~ '^[A-Z]{2}$'),
    phone text constraint addresses_phone_e164 check (phone ~ '^\+[1-9][0-9]{7,14}$'),
    is_default_shipping boolean not null default false,
    is_default_billing boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index addresses_user_idx on addresses (user_id, created_at);
-- At most one default shipping and one default billing address per user.
create unique index addresses_one_default_shipping on addresses (user_id) where is_default_shipping;
create unique index addresses_one_default_billing on addresses (user_id) where is_default_billing;

create function touch_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

create trigger profiles_touch_updated_at before update on profiles for each row execute function touch_updated_at();
create trigger addresses_touch_updated_at before update on addresses for each row execute function touch_updated_at();
