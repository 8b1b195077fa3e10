-- Staff roles (the permission sets of the registry in crates/problem) stored per account, staff
-- invitations as one-time tokens, and accounts disabled by staff (no sign-in, no refresh).

alter table users drop constraint users_role_known;
alter table users add constraint users_role_known
    check (role in ('customer', 'admin', 'catalog_manager', 'order_manager', 'support', 'content_editor'));

alter table users
    add column disabled_at timestamptz,
    add column disabled_reason text,
    add constraint users_disabled_reason_with_date check ((disabled_at is null) = (disabled_reason is null));

alter table one_time_tokens drop constraint one_time_tokens_purpose_known;
alter table one_time_tokens add constraint one_time_tokens_purpose_known
    check (purpose in ('verify_email', 'reset_password', 'staff_invite'));

-- Staff are few; customers are looked up by email (unique already) or id.
create index users_staff_idx on users (created_at) where role <> 'customer';

-- Disabling an account ends its sessions; the reason is recorded like the others.
alter table refresh_families drop constraint refresh_families_reason_known;
alter table refresh_families add constraint refresh_families_reason_known
    check (revoked_reason in ('logout', 'logout_all', 'reuse_detected', 'password_changed', 'second_factor_changed',
        'account_disabled'));
