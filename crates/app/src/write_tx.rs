//! A use case's write transaction. Reads keep who may read a patient's
//! record (`kept_records.rs`) for a moment; any committed write might change
//! that, so committing forgets them all on this instance (and tells the
//! installation's other instances to do the same), unless the use case
//! was opened with [`App::begin_keeping_records`] because it writes nothing a
//! record's scope is made of (an entry, a receipt, a session's last use).
//! Forgetting is the default: a use case that forgets to opt out costs a few
//! look-ups, never a stale access decision.

use crate::App;
use std::ops::{Deref, DerefMut};
use tsunagu_store::{Change, StoreError, StoreTx};

pub(crate) struct WriteTx {
    tx: Box<dyn StoreTx>,
    /// Whose kept records to forget once this commits (None: it changes none).
    forgets: Option<App>,
}

impl WriteTx {
    /// A read transaction in a write's clothes, for a preview that runs a
    /// write's steps and is never committed.
    pub fn preview(tx: Box<dyn StoreTx>) -> Self {
        Self { tx, forgets: None }
    }

    /// Commits; the change is durable, and visible to this instance's next
    /// read, when this returns.
    pub async fn commit(self) -> Result<(), StoreError> {
        let result = self.tx.commit().await;
        // Even after an error: the commit may have landed.
        if let Some(app) = self.forgets {
            app.changed(Change::Records).await;
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
        Ok(WriteTx { tx: self.store.begin().await?, forgets: Some(self.clone()) })
    }

    /// Starts a write that changes no patient's profile, consent, team,
    /// emergency access, nor any name or phone a team shows: kept records
    /// stay valid after it.
    pub(crate) async fn begin_keeping_records(&self) -> Result<WriteTx, crate::AppError> {
        Ok(WriteTx { tx: self.store.begin().await?, forgets: None })
    }
}
