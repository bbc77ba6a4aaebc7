//! What one instance tells the others of a PostgreSQL installation, so that
//! what they keep in memory for a moment (who a session is, who may read a
//! record, public answers) is forgotten there too as soon as it changes, not
//! when their copy expires. SQLite has one instance: nothing to tell.

use crate::StoreError;
use async_trait::async_trait;

/// The PostgreSQL channel the instances announce on.
pub(crate) const CHANNEL: &str = "tsunagu_changes";

/// What changed (each names what an instance keeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Sessions, tokens, accounts, memberships or facilities.
    Sessions,
    /// A patient's profile, consents, team or emergency access.
    Records,
    /// The public registry.
    PublicData,
    /// What a patient's timeline shows (entries, versions, receipts,
    /// acknowledgements, attachments, the ACP).
    Timelines,
}

impl Change {
    pub const ALL: [Change; 4] = [Change::Sessions, Change::Records, Change::PublicData, Change::Timelines];

    pub(crate) fn code(self) -> &'static str {
        match self {
            Change::Sessions => "sessions",
            Change::Records => "records",
            Change::PublicData => "public",
            Change::Timelines => "timelines",
        }
    }

    pub(crate) fn parse(code: &str) -> Option<Change> {
        Change::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// What the other instances announce, as it comes.
#[async_trait]
pub trait ChangeFeed: Send {
    /// The next change; `Ok(None)` when announcements may have been missed
    /// (the connection was lost and is being made again): forget everything.
    async fn next(&mut self) -> Result<Option<Change>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_reads_back_from_its_code() {
        for change in Change::ALL {
            assert_eq!(Change::parse(change.code()), Some(change));
        }
        assert_eq!(Change::parse("everything"), None);
    }
}
