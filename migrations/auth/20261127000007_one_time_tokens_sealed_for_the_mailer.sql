-- A one-time token no longer travels in clear in its event (review M7): the event names the token
-- by a reference, and auth keeps the token sealed (AES-GCM under AUTH_ENCRYPTION_KEY) for the
-- notification service to fetch over the internal API while it is unused and unexpired. The
-- sealed copy is dropped when the token is used or voided.
alter table one_time_tokens add column token_ref uuid;
alter table one_time_tokens add column token_sealed bytea;
create unique index one_time_tokens_ref_idx on one_time_tokens (token_ref) where token_ref is not null;
