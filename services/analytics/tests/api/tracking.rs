//! The tracking endpoint: validation per event, idempotent batches, the shopper from the token,
//! and the funnel counted against a brute-force count over the raw events.

use std::collections::{BTreeMap, HashSet};

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::TestApp;

fn event(kind: &str, session: &str, at: chrono::DateTime<Utc>) -> Value {
    let mut e = json!({"type": kind, "visitor_id": format!("v-{session}"), "session_id": session, "occurred_at": at, "event_id": Uuid::now_v7()});
    match kind {
        "page_view" => e["path"] = "/".into(),
        "product_view" => e["product_id"] = Uuid::now_v7().to_string().into(),
        "search" => e["query"] = "mug".into(),
        "add_to_cart" => e["sku"] = "MUG-1".into(),
        _ => {}
    }
    e
}

#[tokio::test]
async fn a_batch_is_stored_once_however_often_it_is_sent_and_an_invalid_event_is_named_by_index() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let batch = json!({"events": [event("page_view", "session-aaaa", now), event("search", "session-aaaa", now)]});
    let (status, body) = app.shopper.post_json("/analytics/events", batch.clone()).await;
    assert_eq!((status, &body["accepted"]), (202, &json!(2)), "{body}");
    let (status, body) = app.shopper.post_json("/analytics/events", batch).await;
    assert_eq!((status, &body["accepted"], &body["duplicates"]), (202, &json!(0), &json!(2)));
    let users: Vec<Option<String>> =
        sqlx::query_scalar("select user_id from tracking_events").fetch_all(&app.pool).await.unwrap();
    assert_eq!(users, vec![Some(app.shopper_id.clone()); 2], "the shopper comes from the token");

    let mut bad = event("product_view", "session-bbbb", now);
    bad.as_object_mut().unwrap().remove("product_id");
    let (status, problem) = app
        .public
        .post_json("/analytics/events", json!({"events": [event("page_view", "session-bbbb", now), bad]}))
        .await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("events[1].product_id")), "{problem}");
    let (status, problem) = app
        .public
        .post_json(
            "/analytics/events",
            json!({"events": [event("checkout_started", "session-bbbb", now - Duration::days(5))]}),
        )
        .await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("events[0].occurred_at")));
    let too_many: Vec<Value> = (0..51).map(|_| event("page_view", "session-cccc", now)).collect();
    let (status, problem) = app.public.post_json("/analytics/events", json!({"events": too_many})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("events")));
    let (status, _) = app.public.post_json("/analytics/events", json!({"events": [{"type": "teleport"}]})).await;
    assert_eq!(status, 422);
    let stored: i64 = sqlx::query_scalar("select count(*) from tracking_events").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, 2, "nothing of a refused batch is kept");

    // Reports are for staff only.
    let (status, _) = app.shopper.get("/analytics/funnel").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_funnel_matches_a_brute_force_count_over_the_raw_events_and_old_days_are_dropped() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let steps = ["page_view", "product_view", "search", "add_to_cart", "checkout_started"];
    // 24 sessions over today and yesterday, each sending a pseudo-random run of events (some
    // steps repeated, some skipped), in batches of up to 50.
    let mut events = Vec::new();
    let mut seed: u64 = 0x5eed;
    for s in 0..24 {
        let session = format!("session-{s:04}");
        let at = if s % 3 == 0 { now - Duration::hours(26) } else { now - Duration::minutes(5) };
        for _ in 0..6 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            events.push(event(steps[(seed >> 33) as usize % steps.len()], &session, at));
        }
    }
    for batch in events.chunks(50) {
        let (status, body) = app.public.post_json("/analytics/events", json!({"events": batch})).await;
        assert_eq!(status, 202, "{body}");
    }
    // By hand: distinct sessions per (day, step).
    let mut expected: BTreeMap<(String, String), HashSet<String>> = BTreeMap::new();
    for e in &events {
        let kind = e["type"].as_str().unwrap();
        if ["product_view", "add_to_cart", "checkout_started"].contains(&kind) {
            let day = e["occurred_at"].as_str().unwrap()[..10].to_owned();
            expected.entry((day, kind.to_owned())).or_default().insert(e["session_id"].as_str().unwrap().to_owned());
        }
    }
    let from = (now - Duration::hours(26)).date_naive();
    let rows = app.report(&format!("/analytics/funnel?from={from}&to={}", now.date_naive())).await;
    assert!(!rows.is_empty());
    for row in &rows {
        let day = row["period"].as_str().unwrap().to_owned();
        for (field, step) in [
            ("product_views", "product_view"),
            ("add_to_cart", "add_to_cart"),
            ("checkout_started", "checkout_started"),
        ] {
            let want = expected.get(&(day.clone(), step.to_owned())).map_or(0, HashSet::len);
            assert_eq!(row[field], json!(want), "{day} {step}");
        }
    }
    // And by SQL over the raw events, as an analyst would.
    let raw: i64 = sqlx::query_scalar(
        "select count(distinct (occurred_at::date, session_id)) from tracking_events where type = 'add_to_cart'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let reported: i64 = rows.iter().map(|r| r["add_to_cart"].as_i64().unwrap()).sum();
    assert_eq!(raw, reported);

    // CSV on request.
    let response = app
        .staff
        .request(reqwest::Method::GET, &format!("/analytics/funnel?from={from}"))
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("period,product_views,add_to_cart,checkout_started,paid\n"), "{csv}");

    // Retention: a sweep 100 days on drops every day kept for 90.
    let dropped = analytics::sweep_retention(&app.pool, now.date_naive() + Duration::days(100), 90).await.unwrap();
    assert!(dropped >= 1);
    let left: i64 = sqlx::query_scalar("select count(*) from tracking_events").fetch_one(&app.pool).await.unwrap();
    assert_eq!(left, 0);
}

async fn scalar(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).fetch_one(&app.pool).await.unwrap()
}

/// Posts `events` from the client address `ip` (as the gateway tells it): the answer.
async fn track_from(app: &TestApp, ip: &str, events: Vec<Value>) -> Value {
    let response = app
        .public
        .request(reqwest::Method::POST, "/analytics/events")
        .header("x-client-ip", ip)
        .json(&json!({"events": events}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 202, "{body}");
    body
}

fn visitor_events(visitor: &str, kind: &str, n: usize, at: chrono::DateTime<Utc>) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let mut e = event(kind, &format!("{visitor}-session"), at);
            e["visitor_id"] = visitor.into();
            e.as_object_mut().unwrap().remove("event_id");
            if kind == "page_view" {
                e["path"] = format!("/page/{i}").into();
            }
            if kind == "add_to_cart" {
                e["sku"] = format!("SKU-{i}").into();
            }
            e
        })
        .collect()
}

/// The review's probe (f5592e3 M5), sized: one network adds at most its daily quota of events
/// (each under `MAX_EVENT_BYTES`), whatever visitor ids it invents; one visitor at most its
/// own; what is over a quota is stored nowhere and counted in no funnel; an event sent twice
/// without an id is kept once; paths keep no query string and no email address.
#[tokio::test]
async fn one_network_adds_no_more_than_its_daily_quota_and_nothing_personal() {
    let app = TestApp::spawn_with(|config| {
        config.quota = analytics::config::Quota { visitor_per_day: 30, network_per_day: 100 };
    })
    .await;
    let now = Utc::now();

    let answer = track_from(&app, "198.51.100.7", visitor_events("visitor-one", "add_to_cart", 50, now)).await;
    assert_eq!((&answer["accepted"], &answer["dropped"]), (&json!(30), &json!(20)), "{answer}");
    let funnel = scalar(&app, "select count(*) from funnel_sessions").await;
    assert_eq!(funnel, 1, "the visitor's session reached the step once");

    // Sent twice without ids: kept once.
    let once = visitor_events("visitor-two", "page_view", 1, now);
    let twice = vec![once[0].clone(), once[0].clone()];
    let answer = track_from(&app, "198.51.100.7", twice).await;
    assert_eq!((&answer["accepted"], &answer["duplicates"]), (&json!(1), &json!(1)), "{answer}");

    // Invented visitors from the same network: the network's quota (100) holds.
    for n in 0..5 {
        track_from(&app, "198.51.100.7", visitor_events(&format!("invented-{n}"), "page_view", 40, now)).await;
    }
    assert_eq!(
        scalar(&app, "select count(*) from tracking_events").await,
        30 + 1 + 68,
        "the network's 100 (the dupe counted)"
    );
    assert!(
        scalar(&app, "select count(*) from tracking_quotas where key like 'v:%'").await
            <= scalar(&app, "select count(*) from tracking_events").await,
        "invented visitors add no more quota rows than events kept"
    );
    let answer = track_from(&app, "198.51.100.7", visitor_events("visitor-late", "add_to_cart", 5, now)).await;
    assert_eq!((&answer["accepted"], &answer["dropped"]), (&json!(0), &json!(5)));
    assert_eq!(scalar(&app, "select count(*) from funnel_sessions").await, 1, "dropped events reach no rollup");
    // Another network (an IPv6 /64) has its own.
    let answer = track_from(&app, "2001:db8:1:2::9", visitor_events("visitor-six", "page_view", 10, now)).await;
    assert_eq!(answer["accepted"], 10);

    // The largest event the caps allow stays under the sizing's bound, and nothing personal.
    let mut big = event("page_view", &"s".repeat(64), now);
    big["visitor_id"] = "v".repeat(64).into();
    big["path"] = format!("/{}?email=ann@example.com#top", "p".repeat(255)).into();
    let mut search = event("search", &"t".repeat(64), now);
    search["query"] = "ann@example.com".into();
    search["visitor_id"] = "w".repeat(64).into();
    let mut email_path = event("page_view", "session-email", now);
    email_path["path"] = "/account/ann@example.com/orders".into();
    let answer = track_from(&app, "203.0.113.5", vec![big, search, email_path]).await;
    assert_eq!(answer["accepted"], 3, "{answer}");
    let largest: i64 = scalar(&app, "select max(pg_column_size(t.*))::bigint from tracking_events t").await;
    assert!(largest + 64 <= analytics::domain::MAX_EVENT_BYTES, "a row of {largest} bytes with its index entry");
    let kept: Vec<String> = sqlx::query_scalar(
        "select coalesce(path, query) from tracking_events where user_id is null and (path like '/account%' or path like '/ppp%' or type = 'search')",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(kept.iter().all(|v| !v.contains('@') && !v.contains('?')), "{kept:?}");
    assert!(kept.contains(&"/account/~/orders".to_owned()), "{kept:?}");
    let (status, problem) =
        app.public.post_json("/analytics/events", json!({"events": [{"type": "page_view", "visitor_id": "visitor-x1", "session_id": "session-x1", "occurred_at": now, "path": format!("/{}", "p".repeat(300))}]})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("events[0].path")));
}
