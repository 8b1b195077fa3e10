-- Stock per SKU, its movements ledger, and reservations (DESIGN §5, §7). Every change of a
-- stock row goes through one statement that also writes its movement (store::movement), so the
-- ledger sums to the totals; the CHECKs make overselling and negative reservations impossible
-- whatever the code above does.

create table stock (
    sku text primary key constraint stock_sku_format check (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    on_hand bigint not null default 0 constraint stock_on_hand_not_negative check (on_hand >= 0),
    reserved bigint not null default 0 constraint stock_reserved_not_negative check (reserved >= 0),
    -- STOCK_LOW when what is available falls below it.
    low_threshold bigint not null default 5 constraint stock_low_threshold_not_negative check (low_threshold >= 0),
    -- Grows with every change; STOCK_CHANGED carries it so consumers keep the newest.
    seq bigint not null default 0,
    updated_at timestamptz not null default now(),
    constraint stock_reserved_within_on_hand check (reserved <= on_hand)
);

create table movements (
    id uuid primary key,
    sku text not null references stock (sku),
    on_hand_delta bigint not null,
    reserved_delta bigint not null,
    -- set, adjust, reserve, commit, release, demo-seed
    reason text not null,
    -- What caused it: a reservation (order) id, or the staff member's note.
    reference text,
    -- Who: a user id, or a service name.
    actor text not null,
    created_at timestamptz not null default now(),
    constraint movements_changes_something check (on_hand_delta <> 0 or reserved_delta <> 0)
);

create index movements_sku_idx on movements (sku, created_at desc, id desc);

create table reservations (
    -- The order's id: a reservation is idempotent by it.
    id uuid primary key,
    status text not null constraint reservations_status_known check (status in ('held', 'committed', 'released')),
    -- [{"sku", "quantity"}], SKUs unique and sorted.
    lines jsonb not null,
    expires_at timestamptz not null,
    -- Whether ORDER_CREATED was seen: a held reservation without an order is an orphan.
    order_written boolean not null default false,
    release_reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- The sweeper's scan: held orphans by expiry.
create index reservations_orphans_idx on reservations (expires_at) where status = 'held' and not order_written;
