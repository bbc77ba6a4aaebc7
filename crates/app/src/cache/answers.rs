//! Answers kept for a moment: a question asked again within a few seconds is
//! answered from memory. Two uses: the public map's answers (public data that
//! many citizens ask for in the same form: `Settings::public_cache`, emptied by
//! every registry write on this instance) and who a session or API token
//! stands for (`cache/sessions.rs`). Other instances are told of a change
//! (`App::follow_other_instances`); even an untold one sees it when its copy
//! expires, so a change reaches every instance within the time to live.
//! An answer read before a change and kept after it would outlive the change:
//! answers carry the generation they were read under, and a change
//! ([`KeptAnswers::clear`]) moves the generation on.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tsunagu_domain::clock::monotonic_now;

pub(crate) struct KeptAnswers<K, V> {
    ttl: Duration,
    /// Answers kept at most; when full, it starts again empty (simpler than
    /// an eviction order, and the hot answers come straight back).
    capacity: usize,
    generation: AtomicU64,
    entries: Mutex<HashMap<K, Kept<V>>>,
}

/// An answer, when it was kept and the generation it was read under.
type Kept<V> = (Instant, u64, Arc<V>);

impl<K: Hash + Eq, V> KeptAnswers<K, V> {
    /// Keeps up to `capacity` answers for `ttl` each (zero: keeps nothing).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity, generation: AtomicU64::new(0), entries: Mutex::new(HashMap::new()) }
    }

    /// To be read before reading an answer that will be kept with [`Self::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The answer kept for `key`, if it is fresh.
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
    {
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
    pub fn put(&self, key: K, value: Arc<V>, generation: u64) {
        if self.ttl.is_zero() || generation != self.generation() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(key, (monotonic_now(), generation, value));
        }
    }

    /// Forgets everything: something the answers depend on changed.
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the tests let answers grow old on the real clock
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_for_a_while_and_forgotten_on_a_change() {
        let cache = KeptAnswers::<String, _>::new(Duration::from_secs(60), 4);
        assert!(cache.get("122173|kind=clinic").is_none());
        cache.put("122173|kind=clinic".into(), Arc::new(7), cache.generation());
        assert_eq!(cache.get("122173|kind=clinic").as_deref(), Some(&7));
        assert!(cache.get("122173|kind=hospital").is_none(), "another question, another answer");
        cache.clear();
        assert!(cache.get("122173|kind=clinic").is_none());
    }

    #[test]
    fn stale_answers_are_not_given_and_zero_keeps_nothing() {
        let short = KeptAnswers::<String, _>::new(Duration::from_millis(1), 4);
        short.put("k".into(), Arc::new(1), short.generation());
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get("k").is_none());
        let off = KeptAnswers::<String, i32>::new(Duration::ZERO, 4);
        off.put("k".into(), Arc::new(1), off.generation());
        assert!(off.get("k").is_none());
    }

    #[test]
    fn a_full_cache_starts_again() {
        let cache = KeptAnswers::<String, _>::new(Duration::from_secs(60), 4);
        for i in 0..4 {
            cache.put(i.to_string(), Arc::new(i), cache.generation());
        }
        cache.put("one more".into(), Arc::new(0), cache.generation());
        assert!(cache.get("0").is_none());
        assert_eq!(cache.get("one more").as_deref(), Some(&0));
    }

    #[test]
    fn an_answer_read_before_a_write_is_not_kept_after_it() {
        let cache = KeptAnswers::<String, _>::new(Duration::from_secs(60), 4);
        let before = cache.generation();
        cache.clear();
        cache.put("k".into(), Arc::new(1), before);
        assert!(cache.get("k").is_none());
    }
}
