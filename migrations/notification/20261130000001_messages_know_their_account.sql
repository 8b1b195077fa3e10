-- Each message keeps the account it is about, so a deleted account's messages are found
-- whatever address or phone they went to (an email changed since, an SMS). Older rows have none.
alter table messages add column user_id uuid;
create index messages_user_idx on messages (user_id) where user_id is not null;
