-- The catalog: a category tree and the products in it. Prices are integer minor units plus an
-- ISO 4217 code, never floating point. Listing is newest first with the id breaking ties, so the
-- index below serves the keyset pagination of GET /products directly.

create table categories (
    id uuid primary key,
    parent_id uuid references categories (id) on delete restrict,
    slug text not null constraint categories_slug_key unique,
    name text not null,
    created_at timestamptz not null default now(),
    constraint categories_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    constraint categories_not_own_parent check (parent_id is distinct from id)
);

create index categories_parent_idx on categories (parent_id);

create table products (
    id uuid primary key,
    sku text not null constraint products_sku_key unique,
    slug text not null constraint products_slug_key unique,
    name text not null,
    description text not null default '',
    price_minor bigint not null constraint products_price_not_negative check (price_minor >= 0),
    currency char(3) not null constraint products_currency_format check (currency ~ '^[A-Z]{3}$'),
    category_id uuid references categories (id) on delete restrict,
    attributes jsonb not null default '{}'::jsonb,
    status text not null default 'draft'
        constraint products_status_known check (status in ('draft', 'active', 'archived')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint products_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$')
);

-- Newest active products first, id as tie-breaker: the listing's keyset.
create index products_active_listing_idx on products (created_at desc, id desc) where status = 'active';
create index products_category_idx on products (category_id);

-- updated_at is maintained by the database, not by each query.
create function touch_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

create trigger products_touch_updated_at before update on products
    for each row execute function touch_updated_at();
