-- Prices have an upper bound (review f5592e3 L4): at most 10^10 minor units, so sums of a
-- cart's lines stay far inside bigint (`contracts::money::MAX_PRICE_MINOR`; the routes and the
-- CSV import refuse more with a 422 first). NOT VALID: rows written before are not checked.
alter table variants add constraint variants_price_within_bound
    check (price_minor <= 10000000000 and (compare_at_minor is null or compare_at_minor <= 10000000000)) not valid;
