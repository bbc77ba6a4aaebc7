//! Answers kept in memory for a look-up time and forgotten on change (the
//! machinery is described in docs/internals.md): public answers, who may read
//! a record, unfiltered timelines, session and token look-ups.

pub(crate) mod answers;
pub(crate) mod records;
pub(crate) mod sessions;
pub(crate) mod timelines;
