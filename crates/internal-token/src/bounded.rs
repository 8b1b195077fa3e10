//! Sweeping a cache map without letting the sweep become the cost of every request (review
//! L11): once the map reaches its capacity it drops what `keep` rejects, and if that leaves it
//! more than half full, everything; so the next sweep is at least half a capacity of inserts
//! away, and each insert costs amortized O(1) whatever the traffic. (The gateway's verified-token
//! cache and local limiter use it too.)

use std::collections::HashMap;
use std::hash::Hash;

/// Call before inserting into `map`.
pub fn sweep<K: Eq + Hash, V>(map: &mut HashMap<K, V>, capacity: usize, keep: impl FnMut(&K, &mut V) -> bool) {
    if map.len() < capacity {
        return;
    }
    map.retain(keep);
    if map.len() > capacity / 2 {
        map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_of_live_entries_is_swept_once_per_half_capacity_not_on_every_insert() {
        let mut map = HashMap::new();
        let mut sweeps = 0;
        for i in 0..10_000u32 {
            let before = map.len();
            sweep(&mut map, 1_000, |_, _| {
                sweeps += 1;
                true
            });
            if map.len() < before {
                assert!(map.is_empty(), "all live: cleared, not kept near the limit");
            }
            map.insert(i, ());
        }
        // Every entry is live, so each sweep visits at most 1 000 entries and the next one
        // comes 1 000 inserts later: about 10 sweeps of 1 000, never 9 000 of 1 000.
        assert!(sweeps <= 10 * 1_000, "{sweeps} visits");
    }

    #[test]
    fn expired_entries_go_and_live_ones_stay_when_few_are_live() {
        let mut map: HashMap<u32, bool> = (0..100).map(|i| (i, i < 10)).collect();
        sweep(&mut map, 100, |_, live| *live);
        assert_eq!(map.len(), 10);
    }
}
