-- Every message the notification service sends, one row per (event, kind, channel): a
-- redelivered event finds its row and adds nothing. The rendered body is kept only until the
-- message is sent (it may carry a one-time link), then cleared.

create table processed_events (
    event_id uuid primary key,
    event_type text not null,
    processed_at timestamptz not null default now()
);

create table messages (
    id uuid primary key,
    event_id uuid not null,
    kind text not null,
    channel text not null constraint messages_channel_known check (channel in ('email', 'sms', 'push')),
    recipient text not null,
    subject text,
    body_text text,
    body_html text,
    status text not null default 'pending' constraint messages_status_known check (status in ('pending', 'sent', 'failed')),
    attempts integer not null default 0 constraint messages_attempts_not_negative check (attempts >= 0),
    provider_id text,
    last_error text,
    next_attempt_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    sent_at timestamptz,
    constraint messages_once_per_event unique (event_id, kind, channel)
);

-- The sender's queue: pending messages whose time has come.
create index messages_due_idx on messages (next_attempt_at) where status = 'pending';
-- The admin listing: newest first.
create index messages_recent_idx on messages (created_at desc, id desc);

create function touch_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

create trigger messages_touch_updated_at before update on messages
    for each row execute function touch_updated_at();
