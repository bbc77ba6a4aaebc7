//! A short-lived cache of the public map's answers. They are public data that
//! many citizens ask for in the same form (a municipality's list, a kind, the
//! map's markers) and that change seldom, while each answer costs several
//! queries. An answer is kept for a few seconds (`Settings::public_cache`);
//! every write of registry data on this instance empties the cache at once,
//! and other instances see the write when their copy expires — so a change is
//! public everywhere within that time. Nothing about patients or accounts
//! ever enters it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Answers kept at most; when full, the cache starts again empty (simpler
/// than an eviction order, and the hot answers come straight back).
const CAPACITY: usize = 4_096;

pub(crate) struct PublicCache<V> {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<V>)>>,
}

impl<V> PublicCache<V> {
    /// A cache keeping answers for `ttl` (zero: keeps nothing).
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The answer kept for `key`, if it is fresh.
    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| Arc::clone(v))
    }

    pub fn put(&self, key: String, value: Arc<V>) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), value));
        }
    }

    /// Forgets everything (registry data changed).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_for_a_while_and_forgotten_on_a_change() {
        let cache = PublicCache::new(Duration::from_secs(60));
        assert!(cache.get("122173|kind=clinic").is_none());
        cache.put("122173|kind=clinic".into(), Arc::new(7));
        assert_eq!(cache.get("122173|kind=clinic").as_deref(), Some(&7));
        assert!(cache.get("122173|kind=hospital").is_none(), "another question, another answer");
        cache.clear();
        assert!(cache.get("122173|kind=clinic").is_none());
    }

    #[test]
    fn stale_answers_are_not_given_and_zero_keeps_nothing() {
        let short = PublicCache::new(Duration::from_millis(1));
        short.put("k".into(), Arc::new(1));
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get("k").is_none());
        let off = PublicCache::new(Duration::ZERO);
        off.put("k".into(), Arc::new(1));
        assert!(off.get("k").is_none());
    }

    #[test]
    fn a_full_cache_starts_again() {
        let cache = PublicCache::new(Duration::from_secs(60));
        for i in 0..CAPACITY {
            cache.put(i.to_string(), Arc::new(i));
        }
        cache.put("one more".into(), Arc::new(0));
        assert!(cache.get("0").is_none());
        assert_eq!(cache.get("one more").as_deref(), Some(&0));
    }
}
