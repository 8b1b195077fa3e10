-- Devices that receive push notifications (FCM registration tokens), at most ten per user (the
-- oldest make way). A token belongs to one user: registering it again moves it.

create table devices (
    id uuid primary key,
    user_id uuid not null references profiles (user_id) on delete cascade,
    token text not null constraint devices_token_key unique
        constraint devices_token_format check (char_length(token) between 1 and 512),
    platform text not null constraint devices_platform_known check (platform in ('android', 'ios', 'web')),
    created_at timestamptz not null default now()
);

create index devices_user_idx on devices (user_id, created_at desc);
