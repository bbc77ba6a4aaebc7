//! A use case's write transaction. Reads keep who may read a patient's
//! record (`cache/records.rs`) and the timelines of recent patient pages
//! (`cache/timelines.rs`) for a moment; any committed write might change
//! them, so committing forgets them all on this instance (and tells the
//! installation's other instances to do the same), unless the use case says
//! what it changes:
//! - [`App::begin_keeping_records`]: nothing a record's scope is made of (an
//!   entry, a receipt, an ACP revision); it still forgets every kept
//!   timeline, unless it names the patients whose timeline it changes
//!   ([`WriteTx::changes_timeline_of`]);
//! - [`App::begin_keeping_all`]: nothing any kept answer is made of (a
//!   session's last use, a rate limit's count).
//!
//! Forgetting is the default: a use case that forgets to opt out costs a few
//! look-ups, never a stale access decision or a stale timeline.

use crate::App;
use std::ops::{Deref, DerefMut};
use tsunagu_store::{Change, StoreError, StoreTx};
use uuid::Uuid;

pub(crate) struct WriteTx {
    tx: Box<dyn StoreTx>,
    /// What to forget once this commits.
    forgets: Forgets,
}

enum Forgets {
    /// Every kept record and timeline.
    Records(App),
    /// These patients' timelines; `None`: every timeline (none named yet).
    Timelines(App, Option<Vec<Uuid>>),
    Nothing,
}

impl WriteTx {
    /// A read transaction in a write's clothes, for a preview that runs a
    /// write's steps and is never committed.
    pub fn preview(tx: Box<dyn StoreTx>) -> Self {
        Self { tx, forgets: Forgets::Nothing }
    }

    /// Only `patient`'s timeline (and those of other patients named so)
    /// changes, not every timeline. No effect on a write that forgets records.
    pub fn changes_timeline_of(&mut self, patient: Uuid) {
        if let Forgets::Timelines(_, named) = &mut self.forgets {
            named.get_or_insert_with(Vec::new).push(patient);
        }
    }

    /// Commits; the change is durable, and visible to this instance's next
    /// read, when this returns.
    pub async fn commit(self) -> Result<(), StoreError> {
        let result = self.tx.commit().await;
        // Even after an error: the commit may have landed.
        match self.forgets {
            Forgets::Records(app) => app.changed(Change::Records).await,
            Forgets::Timelines(app, None) => app.changed(Change::Timelines).await,
            Forgets::Timelines(app, Some(patients)) => app.timelines_changed(&patients).await,
            Forgets::Nothing => {}
        }
        result
    }

    pub fn as_mut(&mut self) -> &mut dyn StoreTx {
        self.tx.as_mut()
    }
}

impl Deref for WriteTx {
    type Target = dyn StoreTx;

    fn deref(&self) -> &Self::Target {
        self.tx.as_ref()
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.tx.as_mut()
    }
}

impl App {
    /// Starts a use case's write transaction (see [`WriteTx`]).
    pub(crate) async fn begin(&self) -> Result<WriteTx, crate::AppError> {
        Ok(WriteTx { tx: self.store.begin().await?, forgets: Forgets::Records(self.clone()) })
    }

    /// Starts a write that changes no patient's profile, consent, team,
    /// emergency access, nor any name or phone a team shows: kept records
    /// stay valid after it; kept timelines do not (see [`WriteTx::changes_timeline_of`]).
    pub(crate) async fn begin_keeping_records(&self) -> Result<WriteTx, crate::AppError> {
        Ok(WriteTx { tx: self.store.begin().await?, forgets: Forgets::Timelines(self.clone(), None) })
    }

    /// Starts a write of nothing any kept answer is made of (a session's last
    /// use, a rate limit's count).
    pub(crate) async fn begin_keeping_all(&self) -> Result<WriteTx, crate::AppError> {
        Ok(WriteTx { tx: self.store.begin().await?, forgets: Forgets::Nothing })
    }
}
