-- A variant's tax class: the order service taxes it at that class's rate for the destination
-- (`standard`, `reduced`, `zero` or another class the shop keeps rates for).
alter table variants add column tax_class text not null default 'standard'
    constraint variants_tax_class_format check (tax_class ~ '^[a-z][a-z0-9_]{0,31}$');
