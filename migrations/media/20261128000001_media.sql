-- Uploads in progress and the media they became. An upload is a presigned PUT of one raw
-- object; completing it checks the bytes, re-encodes them (no metadata survives), stores the
-- original and its variants under content-hashed keys and records the media.

create table uploads (
    id uuid primary key,
    -- The staff member who asked for it (the internal token's subject).
    created_by text not null,
    filename text not null,
    declared_type text not null,
    declared_size bigint not null check (declared_size > 0),
    raw_key text not null unique,
    expires_at timestamptz not null,
    created_at timestamptz not null default now(),
    -- Set once completed: a second completion answers the same media.
    media_id uuid
);

create table media (
    id uuid primary key,
    created_by text not null,
    filename text not null,
    content_type text not null,
    -- The re-encoded original.
    original_key text not null,
    bytes bigint not null,
    width integer not null check (width > 0),
    height integer not null check (height > 0),
    -- {"thumb": {"jpeg": key, "webp": key, "width": n, "height": n}, ...}
    variants jsonb not null,
    created_at timestamptz not null default now(),
    deleted_at timestamptz
);

create index uploads_expired_idx on uploads (expires_at) where media_id is null;
