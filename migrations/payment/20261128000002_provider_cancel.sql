-- A payment cancelled because its order ended is also cancelled at the provider, so the
-- shopper can no longer pay it there; once the provider confirms, reconciliation stops asking.
alter table payments add column provider_canceled boolean not null default false;
drop index payments_unsettled_idx;
create index payments_unsettled_idx on payments (checked_at)
    where status in ('requires_confirmation', 'processing') or (status = 'canceled' and not provider_canceled);
