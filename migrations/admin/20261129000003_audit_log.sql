-- The audit log: every staff write in the fleet, as its owner recorded it (AUDIT_RECORDED, in
-- the write's own transaction), gathered from every stream. Append-only: a trigger refuses any
-- change or deletion, so the log can be trusted to say what happened.

create table audit_log (
    -- The event's id: a redelivered event finds its row and adds nothing.
    event_id uuid primary key,
    recorded_at timestamptz not null,
    -- The service that took the write.
    producer text not null,
    actor text not null,
    action text not null,
    target text not null,
    before jsonb,
    after jsonb,
    request_id text
);

create index audit_log_target_idx on audit_log (target, recorded_at desc, event_id desc);
create index audit_log_actor_idx on audit_log (actor, recorded_at desc, event_id desc);
create index audit_log_recent_idx on audit_log (recorded_at desc, event_id desc);

create function audit_log_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the audit log is append-only' using errcode = 'P0001';
end $$;

create trigger audit_log_append_only before update or delete on audit_log
    for each row execute function audit_log_append_only();
