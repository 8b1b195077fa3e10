-- The catalog a storefront is built on (issue 9): products get variants (the SKU and the price
-- move there), several categories each, typed attributes, ordered images, SEO fields, a brand,
-- a version carried by their events, a rating and the price range and stock flag the listing
-- filters and sorts on. Existing rows are carried over: each product becomes one variant.

alter table products rename column name to title;

alter table products
    add column brand text,
    add column description_html text not null default '',
    add column images jsonb not null default '[]'::jsonb,
    add column seo_title text,
    add column seo_description text,
    add column version bigint not null default 1,
    add column rating_count integer not null default 0 constraint products_rating_count_not_negative check (rating_count >= 0),
    add column rating_sum integer not null default 0 constraint products_rating_sum_not_negative check (rating_sum >= 0),
    -- Maintained with the variants (same transaction): what listing filters and sorts read.
    add column price_min_minor bigint not null default 0,
    add column price_max_minor bigint not null default 0,
    add column in_stock boolean not null default false,
    add constraint products_images_array check (jsonb_typeof(images) = 'array'),
    add constraint products_attributes_object check (jsonb_typeof(attributes) = 'object');

-- The rating average, exact to two decimals, for sorting (keyset) and display.
alter table products add column rating_avg numeric(3, 2) generated always as
    (case when rating_count = 0 then 0 else round(rating_sum::numeric / rating_count, 2) end) stored;

create table variants (
    id uuid primary key,
    product_id uuid not null references products (id) on delete cascade,
    sku text not null constraint variants_sku_key unique,
    options jsonb not null default '{}'::jsonb,
    price_minor bigint not null constraint variants_price_not_negative check (price_minor >= 0),
    compare_at_minor bigint constraint variants_compare_at_not_negative check (compare_at_minor >= 0),
    currency char(3) not null constraint variants_currency_format check (currency ~ '^[A-Z]{3}$'),
    weight_grams integer constraint variants_weight_not_negative check (weight_grams >= 0),
    barcode text,
    position integer not null default 0,
    -- From inventory's STOCK_CHANGED (never a call per request); stock_seq orders them.
    in_stock boolean not null default false,
    stock_seq bigint not null default 0,
    created_at timestamptz not null default now(),
    constraint variants_sku_format check (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    constraint variants_options_object check (jsonb_typeof(options) = 'object')
);

create index variants_product_idx on variants (product_id, position);

insert into variants (id, product_id, sku, price_minor, currency, created_at)
select gen_random_uuid(), id, sku, price_minor, currency, created_at from products;

update products set price_min_minor = price_minor, price_max_minor = price_minor;

create table product_categories (
    product_id uuid not null references products (id) on delete cascade,
    category_id uuid not null references categories (id) on delete restrict,
    primary key (product_id, category_id)
);

create index product_categories_category_idx on product_categories (category_id, product_id);

insert into product_categories (product_id, category_id)
select id, category_id from products where category_id is not null;

alter table products drop column sku, drop column price_minor, drop column category_id;

alter table categories
    add column position integer not null default 0,
    add column description text not null default '',
    add column version bigint not null default 1,
    add column updated_at timestamptz not null default now();

-- The typed attributes products may carry, and what their values are.
create table attributes (
    name text primary key constraint attributes_name_format check (name ~ '^[a-z][a-z0-9_]{0,39}$'),
    kind text not null constraint attributes_kind_known check (kind in ('text', 'number', 'boolean', 'enum')),
    -- The allowed values of an enum attribute.
    choices text[] not null default '{}',
    label text not null
);

-- Listing keysets: every sort ends with (created_at desc, id desc).
drop index products_active_listing_idx;
create index products_active_newest_idx on products (created_at desc, id desc) where status = 'active';
create index products_active_price_idx on products (price_min_minor, created_at desc, id desc) where status = 'active';
create index products_active_rating_idx on products (rating_avg desc, created_at desc, id desc) where status = 'active';
create index products_active_name_idx on products (lower(title), created_at desc, id desc) where status = 'active';
create index products_attributes_idx on products using gin (attributes jsonb_path_ops);
create index products_brand_idx on products (brand) where status = 'active';

-- The newest availability inventory announced per SKU, kept even before a variant with that
-- SKU exists (stock may be set first), so a new variant starts with the right flag.
create table stock_flags (
    sku text primary key,
    available boolean not null,
    seq bigint not null
);
