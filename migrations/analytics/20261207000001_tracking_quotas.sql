-- Daily tracking quotas (review f5592e3 M5): how many events each visitor id and each client
-- network (`v:<visitor>`, `n:<network>`) had kept on a day. Events beyond a quota are stored
-- nowhere and counted in no rollup, so one network adds at most its quota a day whatever the
-- ids it invents. Rows of past days go with the retention sweep.
create table tracking_quotas (
    day date not null,
    key text not null,
    events integer not null constraint tracking_quotas_events_not_negative check (events >= 0),
    primary key (day, key)
);
