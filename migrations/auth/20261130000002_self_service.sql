-- Self-service: an email change waits for a link sent to the new address (a `change_email`
-- one-time token carrying that address); a deleted account keeps only its id (for the orders'
-- bookkeeping elsewhere), its email replaced, no password, no session.

alter table one_time_tokens drop constraint one_time_tokens_purpose_known;
alter table one_time_tokens add constraint one_time_tokens_purpose_known
    check (purpose in ('verify_email', 'reset_password', 'staff_invite', 'change_email'));
alter table one_time_tokens
    add column new_email text,
    add constraint one_time_tokens_new_email_for_a_change check ((purpose = 'change_email') = (new_email is not null));

alter table users add column deleted_at timestamptz;

alter table refresh_families drop constraint refresh_families_reason_known;
alter table refresh_families add constraint refresh_families_reason_known
    check (revoked_reason in ('logout', 'logout_all', 'reuse_detected', 'password_changed', 'second_factor_changed',
        'account_disabled', 'account_deleted'));
