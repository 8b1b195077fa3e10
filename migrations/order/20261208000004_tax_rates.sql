-- VAT as data (staff: `taxes:write`): a rate per country and tax class in basis points (1900 =
-- 19 %). Prices are gross: each line's VAT is extracted at its class's rate for the destination
-- (every variant is `standard` until variants carry a class), shipping's at the destination's
-- `standard` rate. A country without a rate for a class charges no VAT on it. The seed is the
-- environment's old default (Germany 19 %, Austria 20 %) and more EU countries' standard and
-- reduced rates as of 2026.

create table tax_rates (
    country text not null constraint tax_rates_country_format check (country ~ '^[A-Z]{2}$'),
    tax_class text not null constraint tax_rates_class_format check (tax_class ~ '^[a-z][a-z0-9_]{0,31}$'),
    rate_bp integer not null constraint tax_rates_rate_within check (rate_bp between 0 and 10000),
    updated_at timestamptz not null default now(),
    primary key (country, tax_class)
);

insert into tax_rates (country, tax_class, rate_bp) values
    ('DE', 'standard', 1900), ('DE', 'reduced', 700), ('DE', 'zero', 0),
    ('AT', 'standard', 2000), ('AT', 'reduced', 1000), ('AT', 'zero', 0),
    ('FR', 'standard', 2000), ('FR', 'reduced', 550),
    ('NL', 'standard', 2100), ('NL', 'reduced', 900),
    ('BE', 'standard', 2100), ('BE', 'reduced', 600),
    ('IT', 'standard', 2200), ('IT', 'reduced', 1000),
    ('ES', 'standard', 2100), ('ES', 'reduced', 1000),
    ('IE', 'standard', 2300), ('IE', 'reduced', 1350),
    ('PL', 'standard', 2300), ('PL', 'reduced', 800),
    ('SE', 'standard', 2500), ('SE', 'reduced', 1200),
    ('FI', 'standard', 2550), ('FI', 'reduced', 1400),
    ('PT', 'standard', 2300), ('PT', 'reduced', 600),
    ('LU', 'standard', 1700), ('LU', 'reduced', 800);

-- The VAT the shipping fee contains (part of `tax_minor`).
alter table orders add column shipping_tax_minor bigint not null default 0
    constraint orders_shipping_tax_not_negative check (shipping_tax_minor >= 0);

-- The rate each line was taxed at (its class's for the destination), for the invoice's VAT per
-- rate; null on lines of earlier orders (their order's `tax_rate_bp`).
alter table order_lines add column tax_rate_bp integer;
