//! A short-lived cache of the public map's answers. They are public data that
//! many citizens ask for in the same form (a municipality's list, a kind, the
//! map's markers) and that change seldom, while each answer costs several
//! queries. An answer is kept for a few seconds (`Settings::public_cache`);
//! every write of registry data on this instance empties the cache at once,
//! and other instances see the write when their copy expires — so a change is
//! public everywhere within that time. Nothing about patients or accounts
//! ever enters it. An answer read before a write and kept after it would
//! outlive the write: answers carry the generation they were read under, and
//! a write moves the generation on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Answers kept at most; when full, the cache starts again empty (simpler
/// than an eviction order, and the hot answers come straight back).
const CAPACITY: usize = 4_096;

pub(crate) struct PublicCache<V> {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Kept<V>>>,
}

/// An answer, when it was kept and the generation it was read under.
type Kept<V> = (Instant, u64, Arc<V>);

impl<V> PublicCache<V> {
    /// A cache keeping answers for `ttl` (zero: keeps nothing).
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, generation: AtomicU64::new(0), entries: Mutex::new(HashMap::new()) }
    }

    /// To be read before reading an answer that will be kept with [`Self::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The answer kept for `key`, if it is fresh.
    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        if self.ttl.is_zero() {
            return None;
        }
        let current = self.generation();
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, generation, _)| at.elapsed() < self.ttl && *generation == current)
            .map(|(_, _, v)| Arc::clone(v))
    }

    /// Keeps an answer read under `generation` (unless a write came since).
    pub fn put(&self, key: String, value: Arc<V>, generation: u64) {
        if self.ttl.is_zero() || generation != self.generation() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), generation, value));
        }
    }

    /// Forgets everything (registry data changed).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
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
        cache.put("122173|kind=clinic".into(), Arc::new(7), cache.generation());
        assert_eq!(cache.get("122173|kind=clinic").as_deref(), Some(&7));
        assert!(cache.get("122173|kind=hospital").is_none(), "another question, another answer");
        cache.clear();
        assert!(cache.get("122173|kind=clinic").is_none());
    }

    #[test]
    fn stale_answers_are_not_given_and_zero_keeps_nothing() {
        let short = PublicCache::new(Duration::from_millis(1));
        short.put("k".into(), Arc::new(1), short.generation());
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get("k").is_none());
        let off = PublicCache::new(Duration::ZERO);
        off.put("k".into(), Arc::new(1), off.generation());
        assert!(off.get("k").is_none());
    }

    #[test]
    fn a_full_cache_starts_again() {
        let cache = PublicCache::new(Duration::from_secs(60));
        for i in 0..CAPACITY {
            cache.put(i.to_string(), Arc::new(i), cache.generation());
        }
        cache.put("one more".into(), Arc::new(0), cache.generation());
        assert!(cache.get("0").is_none());
        assert_eq!(cache.get("one more").as_deref(), Some(&0));
    }

    #[test]
    fn an_answer_read_before_a_write_is_not_kept_after_it() {
        let cache = PublicCache::new(Duration::from_secs(60));
        let before = cache.generation();
        cache.clear();
        cache.put("k".into(), Arc::new(1), before);
        assert!(cache.get("k").is_none());
    }
}
