//! The analytics service's use case that writes: storing a batch of tracking events within the
//! day's quotas of each visitor and of the client's network, in one transaction with the funnel
//! steps the batch's sessions reached. Its reports are single reads, from the routes to the
//! store; the event rollups run in the consumer's transaction (`events.rs`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::TrackingEvent;
use crate::store::{self, Stored};

type QuotaKey = (NaiveDate, String);

/// Keeps the events of `batch` that fit the day's quotas (in batch order) and charges them, in
/// `tx`. The network's quota rows are locked first (so batches from one network go one at a
/// time), then a visitor's row when one of its events still fits the network's room: no row
/// is made for a visitor whose events the network has no room for, so invented visitor ids add
/// no more rows than events kept. Without a known network the visitors' rows are locked in key
/// order up front, so concurrent batches never wait on each other in a circle.
async fn within_quotas(
    tx: &mut sqlx::PgConnection,
    batch: Vec<(Uuid, TrackingEvent)>,
    network: Option<&str>,
    quota: &crate::config::Quota,
) -> sqlx::Result<Vec<(Uuid, TrackingEvent)>> {
    let keys_of = |event: &TrackingEvent| {
        let day = event.occurred_at.date_naive();
        let network_key = network.map(|n| (day, format!("n:{n}")));
        (network_key, (day, format!("v:{}", event.visitor_id)))
    };
    let mut upfront: Vec<(QuotaKey, i64)> = batch
        .iter()
        .map(|(_, event)| match keys_of(event) {
            (Some(network_key), _) => (network_key, quota.network_per_day),
            (None, visitor_key) => (visitor_key, quota.visitor_per_day),
        })
        .collect();
    upfront.sort();
    upfront.dedup();
    let mut room: BTreeMap<QuotaKey, i64> = BTreeMap::new();
    for ((day, key), limit) in upfront {
        let used = store::quota_used(&mut *tx, day, &key).await?;
        room.insert((day, key), limit - used);
    }
    let mut kept_batch = Vec::with_capacity(batch.len());
    let mut kept: BTreeMap<QuotaKey, i64> = BTreeMap::new();
    for (id, event) in batch {
        let (network_key, visitor_key) = keys_of(&event);
        if network_key.as_ref().is_some_and(|key| room.get(key).is_none_or(|left| *left <= 0)) {
            continue;
        }
        if !room.contains_key(&visitor_key) {
            let used = store::quota_used(&mut *tx, visitor_key.0, &visitor_key.1).await?;
            room.insert(visitor_key.clone(), quota.visitor_per_day - used);
        }
        if room.get(&visitor_key).is_none_or(|left| *left <= 0) {
            continue;
        }
        for key in std::iter::once(visitor_key).chain(network_key) {
            *room.entry(key.clone()).or_default() -= 1;
            *kept.entry(key).or_default() += 1;
        }
        kept_batch.push((id, event));
    }
    for ((day, key), count) in kept {
        store::charge(&mut *tx, day, &key, count).await?;
    }
    Ok(kept_batch)
}

/// Stores a batch of tracking events (each once, however often it is sent) and the funnel
/// steps their sessions reached, in one transaction, within the day's quotas of each visitor
/// and of the client's `network` (events beyond them, in batch order, are dropped: neither
/// stored nor rolled up).
#[tracing::instrument(skip_all, fields(events = batch.len()))]
pub(crate) async fn track(
    pool: &PgPool,
    batch: Vec<(Uuid, TrackingEvent)>,
    user_id: Option<&str>,
    network: Option<&str>,
    quota: &crate::config::Quota,
) -> sqlx::Result<Stored> {
    let mut tx = pool.begin().await?;
    let total = batch.len() as u64;
    let batch = within_quotas(&mut tx, batch, network, quota).await?;
    let dropped = total - batch.len() as u64;
    if batch.is_empty() {
        tx.commit().await?;
        return Ok(Stored { accepted: 0, duplicates: 0, dropped });
    }
    let mut days: Vec<NaiveDate> = batch.iter().map(|(_, e)| e.occurred_at.date_naive()).collect();
    days.sort();
    days.dedup();
    for day in days {
        store::ensure_partition(&mut tx, day).await?;
    }
    let inserted = store::insert_events(&mut tx, &batch, user_id).await?;
    let steps: Vec<(NaiveDate, &str, &str)> = batch
        .iter()
        .filter_map(|(_, e)| e.kind.funnel_step().map(|step| (e.occurred_at.date_naive(), step, e.session_id.as_str())))
        .collect();
    if !steps.is_empty() {
        store::insert_funnel_steps(&mut tx, &steps).await?;
    }
    tx.commit().await?;
    let kept = total - dropped;
    Ok(Stored { accepted: inserted, duplicates: kept - inserted, dropped })
}
