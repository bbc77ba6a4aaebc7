//! A patient page's timeline as one reader last read it, kept for a moment.
//! Reading the newest 50 entries with their versions, receipts,
//! acknowledgements, replies and attachments costs about a millisecond of
//! SQLite's time (its page cache is emptied by every commit), most of an
//! unfiltered page read. A reader who opens the same page again within the
//! look-up time (`Settings::session_cache`) gets it from here; the access
//! decision and the read's audit event are made afresh every time.
//!
//! Kept per (patient, reader) because a row says whether *this* reader has
//! read or acknowledged it, and which entries a reader sees depends on them.
//! Any committed change to what a timeline shows forgets the patient's pages:
//! a post, correction, reply, acknowledgement, attachment, ACP revision or
//! read receipt names its patient (`WriteTx::changes_timeline_of`); any other
//! write, or one that names none, forgets every page (`write_tx.rs`).
//! A page read before a change and kept after it would outlive the change:
//! pages carry the generation they were read under, and every forgetting
//! moves it on.

use crate::record::views::{AcpView, EntryView};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tsunagu_domain::care::VitalSigns;
use tsunagu_domain::clock::monotonic_now;
use tsunagu_domain::record_access::RecordGrant;
use uuid::Uuid;

/// Pages kept at most: about 50 entries each, ~30 KB with notes of a few
/// lines (so ~30 MB when full); more readers at once than this share it.
pub(crate) const CAPACITY: usize = 1_000;

/// The timeline's part of an unfiltered patient page, as shown to one reader.
#[derive(Debug)]
pub(crate) struct KeptTimeline {
    /// The newest 50 entries the reader may see, newest first, with their attachments.
    pub timeline: Arc<Vec<EntryView>>,
    /// The recent vital signs, oldest first.
    pub vitals_trend: Vec<(OffsetDateTime, VitalSigns)>,
    /// The current advance care plan.
    pub acp: Option<AcpView>,
}

/// A patient's kept pages, by reader, with when each was kept.
type PagesOf = HashMap<Uuid, (Instant, Arc<KeptTimeline>)>;

pub(crate) struct KeptTimelines {
    ttl: Duration,
    capacity: usize,
    generation: AtomicU64,
    patients: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    pages: HashMap<Uuid, PagesOf>,
    count: usize,
}

impl KeptTimelines {
    /// Keeps up to `capacity` pages for `ttl` each (zero: keeps nothing).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity, generation: AtomicU64::new(0), patients: Mutex::default() }
    }

    /// To be read before reading a page that will be kept with [`Self::keep`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The granted patient's page as the grant's reader last read it, if it is
    /// fresh (a page is the record's contents: it takes a grant like the store's reads).
    pub fn get(&self, grant: &RecordGrant) -> Option<Arc<KeptTimeline>> {
        if self.ttl.is_zero() {
            return None;
        }
        let kept = self.patients.lock().ok()?;
        let (at, page) = kept.pages.get(&grant.patient().0)?.get(&grant.reader().0)?;
        (at.elapsed() < self.ttl).then(|| Arc::clone(page))
    }

    /// Keeps a page read under `generation`, unless anything was forgotten since.
    pub fn keep(&self, grant: &RecordGrant, page: Arc<KeptTimeline>, generation: u64) {
        let (patient, reader) = (grant.patient().0, grant.reader().0);
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut kept) = self.patients.lock() else { return };
        // Checked under the lock that forgetting also takes: a forgetting
        // either came before (and is seen here) or comes after (and removes this).
        if generation != self.generation() {
            return;
        }
        if kept.count >= self.capacity {
            // Expired pages go first; if none had, everything (simpler than an
            // eviction order, and the pages in use come straight back).
            let ttl = self.ttl;
            kept.pages.retain(|_, pages| {
                pages.retain(|_, (at, _)| at.elapsed() < ttl);
                !pages.is_empty()
            });
            kept.count = kept.pages.values().map(HashMap::len).sum();
            if kept.count >= self.capacity {
                *kept = Kept::default();
            }
        }
        if kept.pages.entry(patient).or_default().insert(reader, (monotonic_now(), page)).is_none() {
            kept.count += 1;
        }
    }

    /// Forgets the pages of one patient: their timeline changed.
    pub fn forget(&self, patient: Uuid) {
        if let Ok(mut kept) = self.patients.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            if let Some(pages) = kept.pages.remove(&patient) {
                kept.count -= pages.len();
            }
        }
    }

    /// Forgets every page.
    pub fn forget_all(&self) {
        if let Ok(mut kept) = self.patients.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            *kept = Kept::default();
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the tests let pages grow old on the real clock
mod tests {
    use super::*;

    /// The grant of a member of `patient`'s team reading it.
    fn grant(patient: Uuid, reader: Uuid) -> RecordGrant {
        use tsunagu_domain::ids::{AccountId, MunicipalityId, PatientId};
        use tsunagu_domain::policy::{Actor, ConsentState, PatientScope, TeamSeat};
        let city = MunicipalityId::new();
        let seat = TeamSeat {
            account_id: AccountId(reader),
            role: tsunagu_domain::care::TeamRole::VisitingNurse,
            profession: tsunagu_domain::account::Profession::Nurse,
        };
        let scope = PatientScope {
            patient_id: PatientId(patient),
            municipality_id: city,
            created_by: AccountId(reader),
            consent: ConsentState::Active,
            team: vec![seat],
            emergency_access: vec![],
        };
        let actor = Actor {
            account_id: AccountId(reader),
            municipality_id: Some(city),
            roles: vec![tsunagu_domain::account::Role::Professional],
            admin_of: vec![],
            member_of: vec![],
        };
        tsunagu_domain::record_access::decide(&actor, &scope, tsunagu_domain::record_access::RecordIntent::Read)
            .expect("a member reads")
    }

    fn page() -> Arc<KeptTimeline> {
        Arc::new(KeptTimeline { timeline: Arc::default(), vitals_trend: Vec::new(), acp: None })
    }

    #[test]
    fn a_page_is_kept_per_reader_and_forgotten_with_its_patient() {
        let kept = KeptTimelines::new(Duration::from_secs(60), 10);
        let (patient, other_patient, nurse, doctor) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        kept.keep(&grant(patient, nurse), page(), kept.generation());
        kept.keep(&grant(other_patient, nurse), page(), kept.generation());
        assert!(kept.get(&grant(patient, nurse)).is_some());
        assert!(kept.get(&grant(patient, doctor)).is_none(), "another reader's page is not the nurse's");
        kept.forget(patient);
        assert!(kept.get(&grant(patient, nurse)).is_none());
        assert!(kept.get(&grant(other_patient, nurse)).is_some(), "another patient's page stays");
        kept.forget_all();
        assert!(kept.get(&grant(other_patient, nurse)).is_none());
    }

    #[test]
    fn a_page_read_before_a_change_is_not_kept_after_it() {
        let kept = KeptTimelines::new(Duration::from_secs(60), 10);
        let (patient, nurse) = (Uuid::now_v7(), Uuid::now_v7());
        let before = kept.generation();
        kept.forget(Uuid::now_v7());
        kept.keep(&grant(patient, nurse), page(), before);
        assert!(kept.get(&grant(patient, nurse)).is_none(), "any forgetting in between: not kept");
        kept.keep(&grant(patient, nurse), page(), kept.generation());
        assert!(kept.get(&grant(patient, nurse)).is_some());
    }

    #[test]
    fn stale_pages_are_not_given_zero_keeps_nothing_and_a_full_store_starts_again() {
        let short = KeptTimelines::new(Duration::from_millis(1), 10);
        let (patient, nurse) = (Uuid::now_v7(), Uuid::now_v7());
        short.keep(&grant(patient, nurse), page(), short.generation());
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get(&grant(patient, nurse)).is_none());
        let off = KeptTimelines::new(Duration::ZERO, 10);
        off.keep(&grant(patient, nurse), page(), off.generation());
        assert!(off.get(&grant(patient, nurse)).is_none());

        let full = KeptTimelines::new(Duration::from_secs(60), 2);
        let (old, fresh, newest) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        full.keep(&grant(patient, fresh), page(), full.generation());
        if let (Ok(mut kept), Some(long_ago)) =
            (full.patients.lock(), Instant::now().checked_sub(Duration::from_secs(120)))
        {
            kept.pages.entry(patient).or_default().insert(old, (long_ago, page()));
            kept.count += 1;
        }
        full.keep(&grant(patient, newest), page(), full.generation());
        assert!(full.get(&grant(patient, fresh)).is_some(), "full: the expired page made room, the fresh one stays");
        assert!(full.get(&grant(patient, newest)).is_some());

        let small = KeptTimelines::new(Duration::from_secs(60), 2);
        let readers: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        for reader in &readers {
            small.keep(&grant(patient, *reader), page(), small.generation());
        }
        assert!(small.get(&grant(patient, readers[0])).is_none(), "full: started again");
        assert!(small.get(&grant(patient, readers[2])).is_some());
        small.keep(&grant(patient, readers[2]), page(), small.generation());
        small.keep(&grant(patient, readers[1]), page(), small.generation());
        assert!(small.get(&grant(patient, readers[2])).is_some(), "keeping a page again does not count twice");
    }
}
