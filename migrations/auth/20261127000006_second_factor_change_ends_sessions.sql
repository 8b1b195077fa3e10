-- Re-enrolling an administrator's second factor ends the administrator's other sessions; the
-- reason is recorded like the others.
alter table refresh_families drop constraint refresh_families_reason_known;
alter table refresh_families add constraint refresh_families_reason_known
    check (revoked_reason in ('logout', 'logout_all', 'reuse_detected', 'password_changed', 'second_factor_changed'));
