-- Content: pages with an editable draft and immutable versions, navigation menus and
-- site-wide snippets, preview links, and the storefront revalidation calls each publication
-- causes (with every attempt recorded).

create table pages (
    id uuid primary key,
    -- The page's address on the storefront: lowercase words joined by hyphens.
    slug text not null,
    -- The draft: what staff edit. A version is made from it when it is published.
    title text not null,
    seo jsonb not null default '{}',
    blocks jsonb not null default '[]',
    -- Bumped by every draft change; `If-Match` on a change names it, so concurrent editors
    -- never overwrite each other's work unknowingly.
    revision integer not null default 1,
    -- The version the public sees (none: not published).
    live_version integer,
    -- A version waiting for its time, and when to take the page down.
    scheduled_version integer,
    publish_at timestamptz,
    unpublish_at timestamptz,
    created_by text not null,
    updated_by text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint pages_slug_key unique (slug),
    constraint pages_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 100),
    constraint pages_schedule_complete check ((scheduled_version is null) = (publish_at is null))
);

create table page_versions (
    page_id uuid not null references pages (id),
    version integer not null check (version > 0),
    -- The draft as it was (restorable) and what the public is served, rendered once.
    title text not null,
    seo jsonb not null,
    blocks jsonb not null,
    rendered jsonb not null,
    -- When it went live (null: scheduled and not yet live, or its schedule was replaced).
    published_at timestamptz,
    scheduled_for timestamptz,
    created_by text not null,
    created_at timestamptz not null default now(),
    primary key (page_id, version)
);

-- A version's content never changes once made: only the moment it went live is recorded later.
create function page_versions_immutable() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        raise exception 'page versions are immutable' using errcode = 'P0001';
    end if;
    if new.title is distinct from old.title or new.seo is distinct from old.seo
        or new.blocks is distinct from old.blocks or new.rendered is distinct from old.rendered
        or new.version is distinct from old.version or new.page_id is distinct from old.page_id then
        raise exception 'page versions are immutable' using errcode = 'P0001';
    end if;
    return new;
end $$;

create trigger page_versions_immutable before update or delete on page_versions
    for each row execute function page_versions_immutable();

-- The scheduler's queries: due publications and due take-downs.
create index pages_publish_at_idx on pages (publish_at) where publish_at is not null;
create index pages_unpublish_at_idx on pages (unpublish_at) where unpublish_at is not null;

create table menus (
    id uuid primary key,
    name text not null,
    -- [{"label", "href", "children": [...]}]
    items jsonb not null,
    revision integer not null default 1,
    updated_by text not null,
    updated_at timestamptz not null default now(),
    constraint menus_name_key unique (name),
    constraint menus_name_format check (name ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(name) <= 50)
);

create table snippets (
    id uuid primary key,
    name text not null,
    markdown text not null,
    html text not null,
    active boolean not null,
    revision integer not null default 1,
    updated_by text not null,
    updated_at timestamptz not null default now(),
    constraint snippets_name_key unique (name),
    constraint snippets_name_format check (name ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(name) <= 50)
);

-- Preview links: only a digest of the token is kept, so a database dump opens no draft.
create table preview_links (
    token_hash bytea primary key,
    page_id uuid not null references pages (id),
    expires_at timestamptz not null,
    created_by text not null,
    created_at timestamptz not null default now()
);

create index preview_links_expires_idx on preview_links (expires_at);

-- One storefront revalidation per publication, written in its transaction; the revalidator
-- sends it, retrying with backoff.
create table revalidations (
    id uuid primary key,
    -- The CONTENT_PUBLISHED / CONTENT_UNPUBLISHED event it follows.
    event_id uuid not null,
    kind text not null,
    key text not null,
    paths jsonb not null,
    tags jsonb not null,
    status text not null default 'pending',
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error text,
    created_at timestamptz not null default now(),
    sent_at timestamptz,
    constraint revalidations_event_key unique (event_id),
    constraint revalidations_status_known check (status in ('pending', 'sent', 'failed'))
);

create index revalidations_due_idx on revalidations (next_attempt_at) where status = 'pending';

-- Every call made, with what came back.
create table revalidation_attempts (
    revalidation_id uuid not null references revalidations (id),
    attempt integer not null,
    attempted_at timestamptz not null default now(),
    status_code integer,
    error text,
    primary key (revalidation_id, attempt)
);
