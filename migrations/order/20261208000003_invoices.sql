-- Invoices, issued when an order is paid, and credit notes, one per refund of a paid order
-- (`CN-2026-000045`, their own gap-free sequence): a number from a gap-free sequence per year
-- (`INV-2026-000123`), allocated in the paying transaction (a rolled-back payment uses none),
-- and the document as issued (seller, billing address, lines with their tax, totals, the tax
-- per rate), stored whole and never changed: the PDF is rendered from it, not from the order.

create table invoice_sequences (
    kind text not null,
    year integer not null,
    last integer not null constraint invoice_sequences_last_positive check (last > 0),
    primary key (kind, year)
);

create table invoices (
    id uuid primary key,
    order_id uuid not null references orders (id),
    kind text not null constraint invoices_kind_known check (kind in ('invoice', 'credit_note')),
    year integer not null,
    sequence integer not null,
    number text not null constraint invoices_number_key unique,
    issued_at timestamptz not null default now(),
    document jsonb not null,
    -- A credit note's refund (one per refund).
    refund_id uuid constraint invoices_refund_key unique,
    constraint invoices_sequence_key unique (kind, year, sequence),
    constraint invoices_credit_note_has_refund check ((kind = 'credit_note') = (refund_id is not null))
);

create unique index invoices_one_invoice_per_order on invoices (order_id) where kind = 'invoice';

-- Issued is final: no update, no delete.
create function invoices_are_immutable() returns trigger language plpgsql as $$
begin
    raise exception 'invoices are immutable once issued';
end $$;

create trigger invoices_immutable before update or delete on invoices
    for each row execute function invoices_are_immutable();

-- The VAT rate the order was priced at (basis points), for its invoice's tax per rate.
alter table orders add column tax_rate_bp integer;
