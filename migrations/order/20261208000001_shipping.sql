-- Shipping as data (staff: `shipping:write`): zones are sets of countries, each with the methods
-- a shopper may choose there. A method is priced by its rule (a flat fee; bands by the cart's
-- total weight in grams; bands by its subtotal after discount), free from a subtotal when it
-- says so, and offered only while active and inside its window. The zone whose countries are
-- `{*}` is the rest of the world: its methods apply where no other zone names the country.
-- An order keeps a snapshot of the method it was shipped with (`orders.shipping_method`), so a
-- change or a deletion here never rewrites an order.

create table shipping_zones (
    id uuid primary key,
    name text not null constraint shipping_zones_name_key unique
        constraint shipping_zones_name_length check (char_length(name) between 1 and 100),
    -- ISO 3166-1 alpha-2 codes, upper case; or exactly {*}
    countries text[] not null constraint shipping_zones_countries_known check (
        countries = array['*'] or array_to_string(countries, ',') ~ '^[A-Z]{2}(,[A-Z]{2}){0,249}$'
    ),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- One rest of the world.
create unique index shipping_zones_one_rest_of_world on shipping_zones ((countries = array['*'])) where countries = array['*'];

create table shipping_methods (
    id uuid primary key,
    zone_id uuid not null references shipping_zones (id) on delete cascade,
    name text not null constraint shipping_methods_name_length check (char_length(name) between 1 and 100),
    constraint shipping_methods_name_key unique (zone_id, name),
    carrier text not null constraint shipping_methods_carrier_length check (char_length(carrier) between 1 and 100),
    min_days integer not null constraint shipping_methods_days_ordered check (min_days >= 0 and max_days >= min_days and max_days <= 365),
    max_days integer not null,
    -- {"rule": "flat", "fee_minor": 490} | {"rule": "weight" | "subtotal", "bands": [{"up_to": 2000, "fee_minor": 490}, {"up_to": null, "fee_minor": 990}]}
    price jsonb not null constraint shipping_methods_price_rule check (price->>'rule' in ('flat', 'weight', 'subtotal')),
    free_from_minor bigint constraint shipping_methods_free_from_not_negative check (free_from_minor >= 0),
    active boolean not null default true,
    active_from timestamptz,
    active_until timestamptz,
    constraint shipping_methods_window_ordered check (active_from is null or active_until is null or active_from < active_until),
    -- The order shoppers see them in; the first that applies is the default of a checkout
    -- that chose none.
    position integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index shipping_methods_zone_idx on shipping_methods (zone_id, position, id);

alter table orders add column shipping_method jsonb;

-- The rates the environment held until now (ORDER_SHIPPING_RATES' default), as data, and the
-- demo's express and pickup methods at home.
insert into shipping_zones (id, name, countries) values
    ('01900000-0000-7000-8000-000000000001', 'Germany', array['DE']),
    ('01900000-0000-7000-8000-000000000002', 'Austria', array['AT']),
    ('01900000-0000-7000-8000-000000000003', 'Rest of the world', array['*']);

insert into shipping_methods (id, zone_id, name, carrier, min_days, max_days, price, free_from_minor, position) values
    ('01900000-0000-7000-8000-000000000101', '01900000-0000-7000-8000-000000000001', 'Standard', 'DHL', 2, 3,
        '{"rule": "flat", "fee_minor": 490}', 5000, 0),
    ('01900000-0000-7000-8000-000000000102', '01900000-0000-7000-8000-000000000001', 'Express', 'DHL Express', 1, 1,
        '{"rule": "flat", "fee_minor": 1290}', null, 1),
    ('01900000-0000-7000-8000-000000000103', '01900000-0000-7000-8000-000000000001', 'Pickup at the store', 'Shop', 0, 1,
        '{"rule": "flat", "fee_minor": 0}', null, 2),
    ('01900000-0000-7000-8000-000000000201', '01900000-0000-7000-8000-000000000002', 'Standard', 'Österreichische Post', 3, 5,
        '{"rule": "flat", "fee_minor": 990}', 7500, 0),
    ('01900000-0000-7000-8000-000000000301', '01900000-0000-7000-8000-000000000003', 'International', 'DHL', 5, 10,
        '{"rule": "weight", "bands": [{"up_to": 2000, "fee_minor": 1490}, {"up_to": 10000, "fee_minor": 2990}]}', null, 0);
