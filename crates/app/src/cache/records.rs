//! Who may read a patient's record, kept for a moment. Every read of a record
//! first loads its scope (the patient, consents, team, emergency grants): four
//! queries, most of a short read's cost. A read within the look-up time
//! (`Settings::session_cache`) takes it from here instead. Any committed write
//! that might change it forgets every kept scope on this instance
//! (`write_tx.rs`) and tells the other instances of a PostgreSQL
//! installation to do the same, as for sessions. An emergency grant that expires
//! while kept ends the keeping: access stops at the grant's end exactly.

use crate::cache::answers::KeptAnswers;
use crate::record::Loaded;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tsunagu_store::MemberPatientRow;
use uuid::Uuid;

/// Records kept at most (a whole municipality's active caseload fits).
pub(crate) const CAPACITY: usize = 50_000;

/// Caseloads kept at most (one per professional signed in at once).
const CASELOADS: usize = 10_000;

pub(crate) struct KeptRecords {
    kept: KeptAnswers<Uuid, Loaded>,
    /// Per account, the patients of whom it is an active member (with their
    /// consent state): what a patient list or a patient search looks through.
    /// Team changes are record changes, so they forget these too.
    caseloads: KeptAnswers<Uuid, Vec<MemberPatientRow>>,
}

impl KeptRecords {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { kept: KeptAnswers::new(ttl, capacity), caseloads: KeptAnswers::new(ttl, CASELOADS.min(capacity)) }
    }

    /// Read before loading a record that will be kept.
    pub fn generation(&self) -> u64 {
        self.kept.generation()
    }

    /// The record's scope as kept, if it is fresh and no grant in it has ended by `now`.
    pub fn get(&self, patient: Uuid, now: OffsetDateTime) -> Option<Arc<Loaded>> {
        self.kept.get(&patient).filter(|loaded| grants_hold(loaded.grants.iter().map(|g| g.expires_at), now))
    }

    pub fn keep(&self, patient: Uuid, loaded: Arc<Loaded>, generation: u64) {
        self.kept.put(patient, loaded, generation);
    }

    /// Read before loading a caseload that will be kept.
    pub fn caseload_generation(&self) -> u64 {
        self.caseloads.generation()
    }

    /// The account's caseload as kept, if it is fresh.
    pub fn caseload(&self, account: Uuid) -> Option<Arc<Vec<MemberPatientRow>>> {
        self.caseloads.get(&account)
    }

    pub fn keep_caseload(&self, account: Uuid, caseload: Arc<Vec<MemberPatientRow>>, generation: u64) {
        self.caseloads.put(account, caseload, generation);
    }

    pub fn forget_all(&self) {
        self.kept.clear();
        self.caseloads.clear();
    }
}

/// Whether every emergency grant kept with a record still holds at `now`.
fn grants_hold(mut expiries: impl Iterator<Item = OffsetDateTime>, now: OffsetDateTime) -> bool {
    expiries.all(|expires_at| expires_at > now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_record_with_an_ended_grant_is_not_given_from_memory() {
        let now = datetime!(2026-11-30 03:00 UTC);
        assert!(grants_hold(std::iter::empty(), now), "no grant: nothing can end");
        assert!(grants_hold([now + time::Duration::seconds(1)].into_iter(), now));
        assert!(!grants_hold([now].into_iter(), now), "a grant ends at its expiry, not a moment later");
        assert!(!grants_hold([now + time::Duration::hours(1), now - time::Duration::seconds(1)].into_iter(), now));
    }
}
