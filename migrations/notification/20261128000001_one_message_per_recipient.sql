-- A push message goes to each of a shopper's devices: one row per (event, kind, channel,
-- recipient); a redelivered event still adds nothing.
alter table messages drop constraint messages_once_per_event;
alter table messages add constraint messages_once_per_recipient unique (event_id, kind, channel, recipient);
