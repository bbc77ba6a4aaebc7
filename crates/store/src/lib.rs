//! tsunagu's storage: one database-neutral trait ([`Store`], [`StoreTx`]) and
//! its two implementations, SQLite ([`sqlite`]) and PostgreSQL ([`postgres`]).
//! Only this crate knows SQL. Both implementations share their query text
//! (see [`sql`]); their schemas live in `migrations/<backend>/` and move in lockstep.
// No indexing that can panic: .get(), iterators and patterns instead (tests may index).
#![deny(clippy::indexing_slicing)]

pub mod analysis;
mod audience_sql;
mod audit_chain;
pub mod backup_system;
mod bulk;
mod changes;
pub mod coordination;
mod error;
mod group_commit;
pub mod interop;
pub mod public_map;
pub mod public_pages;
pub mod rate_usage;
pub mod records;
pub mod registry;
mod sql;

pub mod postgres;
pub mod sqlite;

pub use analysis::{AnalysisPatientRow, AnalysisTx};
pub use backup_system::*;
pub use changes::{Change, ChangeFeed};
pub use coordination::*;
pub use error::StoreError;
pub use interop::{ApiTokenRow, InteropTx};
pub use public_map::*;
pub use public_pages::{ArticleRow, FacilitySpanRow, FlagSpanRow, PublicEventRow, PublicFigureRow, PublicPagesTx};
pub use rate_usage::RateUsageTx;
pub use records::*;
pub use registry::*;
pub use tsunagu_domain::record_access::RecordGrant;

/// How many of a patient's newest entries a patient list looks at for its
/// unread count, so that the list costs the same after years of history; a
/// count of this many reads as "this many or more".
pub const UNREAD_WINDOW: i64 = 100;

use async_trait::async_trait;
use std::sync::Arc;
use time::OffsetDateTime;
use tsunagu_domain::audit::{AuditRecord, ChainedEvent};
use uuid::Uuid;

/// Opens the store named by a URL: `postgres://...` or `sqlite://...`
/// (or a bare file path). Runs the embedded migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::connect(url).await?))
    } else {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    }
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Starts a read-write transaction: a savepoint in the writer's open batch
    /// (group commit), so writes never fail half-way on a lock, and
    /// [`StoreTx::commit`] returns only once the batch is durable. Writes are
    /// serialised: never call `begin` while holding another write transaction
    /// of the same store, it would wait for itself.
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError>;
    /// Starts a transaction for reading: it does not hold the SQLite write
    /// lock, so readers never queue behind writers. Writing in it is allowed but
    /// may fail under contention on SQLite; use [`Store::begin`] to write.
    async fn begin_read(&self) -> Result<Box<dyn StoreTx>, StoreError>;
    /// A connection for reads that need not agree to the instant (the parts
    /// of one page: its entries, vital signs, ACP): each statement sees the
    /// latest commit, with no transaction around them, which saves the
    /// BEGIN and ROLLBACK round trips. Never where one statement's answer
    /// decides what another may read (access is decided before, in the app);
    /// never to write.
    async fn reader(&self) -> Result<Box<dyn StoreTx>, StoreError>;
    /// Refreshes the planner's statistics (and, on PostgreSQL, vacuums) after
    /// a bulk import into `tables` (empty: every table), so that the first
    /// queries after it are planned well and no background vacuum of the
    /// whole import competes with them.
    async fn optimize_after_import(&self, tables: &[&'static str]) -> Result<(), StoreError>;
    /// Writes a consistent copy of the whole database to the file `path` while
    /// it is in use (SQLite: `VACUUM INTO`, which reads one snapshot). On
    /// PostgreSQL use `pg_dump`: this answers [`StoreError::Unsupported`].
    async fn backup_to(&self, path: &str) -> Result<(), StoreError>;
    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Writes what a read leaves behind (audit event, receipts, notifications
    /// read) with the writer's next batch, and returns once that batch is
    /// durable: no patient datum is shown before its audit event is on disk.
    /// A read never waits for the writer's lock; every read waiting at the
    /// moment a batch is written shares its statements and its fsync. If the
    /// batch fails, so does the read (show nothing).
    async fn record_read(&self, trace: ReadTrace) -> Result<(), StoreError>;
    /// Write batches committed since start (each one durable commit, shared
    /// by every use case in it).
    fn write_batches(&self) -> u64;
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Tells the other instances of the installation that `change` was
    /// committed (call it after the commit). One instance (SQLite): nothing.
    async fn announce(&self, _change: Change) -> Result<(), StoreError> {
        Ok(())
    }
    /// What the other instances announce; `None` when there can be none (SQLite).
    async fn change_feed(&self) -> Result<Option<Box<dyn ChangeFeed>>, StoreError> {
        Ok(None)
    }
}

/// Everything the app layer does to the database, inside one transaction.
/// Dropping a transaction without [`StoreTx::commit`] rolls it back.
#[async_trait]
pub trait StoreTx:
    AnalysisTx + BackupSystemTx + CoordinationTx + InteropTx + PublicMapTx + PublicPagesTx + RateUsageTx + RegistryTx + Send
{
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;

    // Municipalities
    async fn insert_municipality(&mut self, m: &MunicipalityRow) -> Result<(), StoreError>;
    async fn municipality(&mut self, id: Uuid) -> Result<Option<MunicipalityRow>, StoreError>;
    async fn municipality_by_code(&mut self, code: &str) -> Result<Option<MunicipalityRow>, StoreError>;
    async fn municipalities(&mut self) -> Result<Vec<MunicipalityRow>, StoreError>;

    // Facilities
    async fn insert_facility(&mut self, f: &FacilityRow) -> Result<(), StoreError>;
    async fn update_facility(&mut self, f: &FacilityRow) -> Result<(), StoreError>;
    async fn facility(&mut self, id: Uuid) -> Result<Option<FacilityRow>, StoreError>;
    async fn facilities(&mut self, municipality_id: Uuid) -> Result<Vec<FacilityRow>, StoreError>;

    // Accounts
    async fn insert_account(&mut self, a: &AccountRow) -> Result<(), StoreError>;
    async fn account(&mut self, id: Uuid) -> Result<Option<AccountRow>, StoreError>;
    async fn account_by_login(&mut self, login_id: &str) -> Result<Option<AccountRow>, StoreError>;
    /// Accounts of a municipality (`None`: the installation's operators).
    async fn accounts(&mut self, municipality_id: Option<Uuid>) -> Result<Vec<AccountRow>, StoreError>;
    /// Active professionals of a municipality whose login id or name contains
    /// `text` (lower-case) or whose furigana contains `kana` (katakana), at most `limit`.
    async fn search_colleagues(
        &mut self,
        municipality_id: Uuid,
        text: &str,
        kana: &str,
        limit: i64,
    ) -> Result<Vec<AccountRow>, StoreError>;
    async fn set_account_status(&mut self, id: Uuid, status: &str, at: OffsetDateTime) -> Result<(), StoreError>;
    async fn set_password_hash(&mut self, id: Uuid, hash: Option<&str>, at: OffsetDateTime) -> Result<(), StoreError>;
    async fn set_totp(&mut self, id: Uuid, secret: Option<&[u8]>, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Every (account, stored second-factor secret).
    async fn totp_secrets(&mut self) -> Result<Vec<(Uuid, Vec<u8>)>, StoreError>;
    /// Stores the same secret in another form (sealed), keeping the replay guard.
    async fn replace_totp_secret(&mut self, id: Uuid, stored: &[u8]) -> Result<(), StoreError>;
    /// Records the accepted TOTP step only if it is later than the last one
    /// (the replay guard). Returns false if the step was already used.
    async fn advance_totp_step(&mut self, id: Uuid, step: i64) -> Result<bool, StoreError>;
    async fn set_language(&mut self, id: Uuid, language: &str) -> Result<(), StoreError>;

    // Facility memberships
    async fn upsert_membership(&mut self, m: &MembershipRow) -> Result<(), StoreError>;
    async fn remove_membership(&mut self, account_id: Uuid, facility_id: Uuid) -> Result<bool, StoreError>;
    async fn memberships_of_account(&mut self, account_id: Uuid) -> Result<Vec<MembershipRow>, StoreError>;
    /// An account's facilities with their names, in the order joined (one query per sign-in check).
    async fn facilities_of_account(&mut self, account_id: Uuid) -> Result<Vec<AccountFacilityRow>, StoreError>;
    /// All memberships in a municipality's facilities, for account lists.
    async fn memberships_in_municipality(&mut self, municipality_id: Uuid) -> Result<Vec<MembershipRow>, StoreError>;

    // Invitations (ID issuing and reset codes)
    async fn insert_invitation(&mut self, i: &InvitationRow) -> Result<(), StoreError>;
    async fn invitation_by_code_hash(&mut self, code_hash: &[u8]) -> Result<Option<InvitationRow>, StoreError>;
    /// Marks every open invitation of an account used (a newer one replaces them).
    async fn close_invitations(&mut self, account_id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;

    // Recovery codes
    async fn replace_recovery_codes(&mut self, account_id: Uuid, code_hashes: &[Vec<u8>]) -> Result<(), StoreError>;
    /// Uses an unused code; false if there is none with that hash.
    async fn use_recovery_code(
        &mut self,
        account_id: Uuid,
        code_hash: &[u8],
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    async fn unused_recovery_codes(&mut self, account_id: Uuid) -> Result<i64, StoreError>;

    // Sessions
    async fn insert_session(&mut self, s: &SessionRow) -> Result<(), StoreError>;
    async fn session(&mut self, token_hash: &[u8]) -> Result<Option<SessionRow>, StoreError>;
    async fn update_session(&mut self, s: &SessionRow) -> Result<(), StoreError>;
    async fn delete_session(&mut self, token_hash: &[u8]) -> Result<(), StoreError>;
    async fn delete_sessions_of_account(&mut self, account_id: Uuid) -> Result<u64, StoreError>;
    async fn count_sessions_of_account(&mut self, account_id: Uuid, now: OffsetDateTime) -> Result<i64, StoreError>;
    async fn delete_expired_sessions(&mut self, now: OffsetDateTime) -> Result<u64, StoreError>;

    // Sign-in throttling
    async fn record_sign_in_failure(&mut self, throttle_key: &str, at: OffsetDateTime) -> Result<(), StoreError>;
    async fn sign_in_failures_since(&mut self, throttle_key: &str, since: OffsetDateTime) -> Result<i64, StoreError>;
    async fn clear_sign_in_failures(&mut self, throttle_key: &str) -> Result<(), StoreError>;

    // Patients
    async fn insert_patient(&mut self, p: &PatientRow) -> Result<(), StoreError>;
    async fn update_patient(&mut self, p: &PatientRow) -> Result<(), StoreError>;
    async fn patient(&mut self, id: Uuid) -> Result<Option<PatientRow>, StoreError>;
    /// The patient and what access to the record is decided on: consents,
    /// team and the break-glass grants in force at `now` (`None`: no such
    /// patient). One round trip where the backend can send several
    /// statements together (SQLite), four queries otherwise.
    async fn patient_scope(&mut self, id: Uuid, now: OffsetDateTime) -> Result<Option<PatientScopeRows>, StoreError>;
    /// Patients of whom the account is an active team member.
    async fn patients_of_member(&mut self, account_id: Uuid) -> Result<Vec<MemberPatientRow>, StoreError>;
    /// For each of the account's patients, its unread (among the patient's
    /// newest [`UNREAD_WINDOW`] entries), unacknowledged-urgent and needs-reply
    /// counts.
    async fn patient_counts(&mut self, account_id: Uuid) -> Result<Vec<PatientCountsRow>, StoreError>;

    // Consent
    async fn insert_consent(&mut self, c: &ConsentRow) -> Result<(), StoreError>;
    /// Every consent record of a patient, newest first.
    async fn consents(&mut self, patient_id: Uuid) -> Result<Vec<ConsentRow>, StoreError>;
    async fn withdraw_consent(
        &mut self,
        id: Uuid,
        by: Uuid,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError>;

    // Care team
    async fn insert_team_member(&mut self, m: &NewTeamMember) -> Result<(), StoreError>;
    /// Every membership of a patient's team, past and present, oldest first.
    async fn team(&mut self, patient_id: Uuid) -> Result<Vec<TeamMemberRow>, StoreError>;
    async fn end_team_membership(&mut self, id: Uuid, by: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;

    // Timeline
    async fn insert_entry(&mut self, e: &NewEntry) -> Result<(), StoreError>;
    /// A posted entry (its first version), its notifications and the e-mail
    /// notices `mails` (outbox id, account: queued at the entry's time as
    /// `enqueue_mails` does): one round trip where the backend can send several statements together.
    async fn insert_posted_entry(
        &mut self,
        e: &NewEntry,
        notifications: &[NewNotification],
        mails: &[(Uuid, Uuid)],
    ) -> Result<(), StoreError>;
    /// Many entries at once (imports and generated data), in multi-row statements.
    async fn insert_entries(&mut self, entries: &[NewEntry]) -> Result<(), StoreError>;
    /// Adds a version to an entry (a correction) and makes it the current one.
    async fn insert_entry_version(&mut self, v: &NewEntryVersion) -> Result<(), StoreError>;
    /// The patient an entry belongs to (to decide on; `None`: no such entry).
    async fn entry_patient(&mut self, id: Uuid) -> Result<Option<Uuid>, StoreError>;
    /// An entry of the granted patient as the grant's reader sees it (`None`:
    /// no such entry of that patient). Its audience is for the caller to check
    /// against the grant (an entry refused that way is audited as hidden).
    async fn entry(&mut self, grant: &RecordGrant, id: Uuid) -> Result<Option<TimelineRow>, StoreError>;
    /// The newest `limit` entries of a patient that pass `filter`, newest first, as `reader` sees them.
    /// The newest `limit` vital-sign entries `reader` may see (their own, and
    /// those of the audiences `filter` shows): when, and what was measured.
    async fn vitals_points(&mut self, grant: &RecordGrant, limit: i64) -> Result<Vec<VitalsPointRow>, StoreError>;
    async fn timeline(
        &mut self,
        grant: &RecordGrant,
        filter: &TimelineFilter,
        limit: i64,
    ) -> Result<Vec<TimelineRow>, StoreError>;
    /// Every version of an entry of the granted patient, newest first.
    async fn entry_versions(&mut self, grant: &RecordGrant, entry_id: Uuid)
    -> Result<Vec<EntryVersionRow>, StoreError>;
    /// Adds these read receipts (a receipt already there is kept as it is), in one statement per few hundred.
    async fn mark_read(&mut self, reads: &[EntryRead]) -> Result<(), StoreError>;
    async fn read_receipts(&mut self, grant: &RecordGrant, entry_id: Uuid) -> Result<Vec<ReceiptRow>, StoreError>;
    async fn acknowledge(&mut self, entry_id: Uuid, account_id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError>;
    async fn acknowledgements(&mut self, grant: &RecordGrant, entry_id: Uuid) -> Result<Vec<ReceiptRow>, StoreError>;

    // Advance care plans
    async fn insert_acp(&mut self, a: &AcpRow) -> Result<(), StoreError>;
    /// Every revision, newest first.
    async fn acp_revisions(&mut self, grant: &RecordGrant) -> Result<Vec<AcpRow>, StoreError>;
    /// Entries of a patient created in `[from, to)` that the grant's reader
    /// sees, oldest first (for printing), at most `limit`.
    async fn timeline_between(
        &mut self,
        grant: &RecordGrant,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<TimelineRow>, StoreError>;

    // Attachments (their bytes are files; see the app's attachment store)
    async fn insert_attachment(&mut self, a: &AttachmentRow) -> Result<(), StoreError>;
    async fn attachment(&mut self, id: Uuid) -> Result<Option<AttachmentRow>, StoreError>;
    async fn attachments_of_patient(&mut self, grant: &RecordGrant) -> Result<Vec<AttachmentRow>, StoreError>;
    /// A patient's attachments made at or after `since` (those of the entries
    /// a page shows: an attachment is made with its entry).
    async fn attachments_since(
        &mut self,
        grant: &RecordGrant,
        since: OffsetDateTime,
    ) -> Result<Vec<AttachmentRow>, StoreError>;

    // Break-glass
    async fn insert_break_glass(&mut self, g: &BreakGlassRow) -> Result<(), StoreError>;
    /// Grants of a patient that have not expired at `now`.
    async fn active_break_glass(
        &mut self,
        patient_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<Vec<BreakGlassRow>, StoreError>;
    /// Patients of a municipality born on `birth_date` (break-glass lookup narrows by name after).
    async fn patients_born_on(
        &mut self,
        municipality_id: Uuid,
        birth_date: time::Date,
    ) -> Result<Vec<PatientRow>, StoreError>;

    // Notifications
    /// Notifications, in one statement.
    async fn insert_notifications(&mut self, ns: &[NewNotification]) -> Result<(), StoreError>;
    /// Unread notifications of an account whose patient it is still an active member of, newest first.
    async fn unread_notifications(&mut self, account_id: Uuid, limit: i64) -> Result<Vec<NotificationRow>, StoreError>;

    // E-mail notifications
    async fn set_email_notifications(&mut self, account_id: Uuid, on: bool) -> Result<(), StoreError>;
    async fn email_notifications(&mut self, account_id: Uuid) -> Result<bool, StoreError>;
    /// Queues "you have new notifications" for an account that opted in and
    /// has an address, unless one is already waiting. Returns whether it queued.
    async fn enqueue_mail(&mut self, id: Uuid, account_id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError> {
        Ok(self.enqueue_mails(&[(id, account_id)], at).await? > 0)
    }
    /// [`Self::enqueue_mail`] for several (mail id, account) pairs in one
    /// statement, the accounts distinct; returns how many it queued.
    async fn enqueue_mails(&mut self, mails: &[(Uuid, Uuid)], at: OffsetDateTime) -> Result<u64, StoreError>;
    /// Mails waiting to go (to accounts still opted in, active, with an address), oldest first.
    async fn pending_mails(&mut self, max_attempts: i64, limit: i64) -> Result<Vec<PendingMail>, StoreError>;
    async fn mark_mail_sent(&mut self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;
    async fn mark_mail_failed(&mut self, id: Uuid, error: &str) -> Result<(), StoreError>;

    // Audit
    /// Appends an event to its municipality's chain, in this transaction.
    async fn append_audit(&mut self, record: &AuditRecord) -> Result<(), StoreError>;
    /// Appends several events (each to its municipality's chain, in the given
    /// order) with a few statements per chain, in this transaction. In the
    /// writer's batch they are appended with the batch's others just before its
    /// COMMIT, and dropped if this use case is undone.
    async fn append_audits(&mut self, records: &[&AuditRecord]) -> Result<(), StoreError>;
    async fn audit_heads(&mut self) -> Result<Vec<ChainHead>, StoreError>;
    /// Up to `limit` events of a chain after `after_seq`, in order.
    async fn audit_events_after(
        &mut self,
        chain: Uuid,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<ChainedEvent>, StoreError>;
    /// The newest events about one target (e.g. a patient), newest first.
    async fn audit_events_for_target(
        &mut self,
        chain: Uuid,
        target_id: Uuid,
        limit: i64,
    ) -> Result<Vec<ChainedEvent>, StoreError>;
    /// The newest events of a chain, newest first.
    async fn recent_audit_events(&mut self, chain: Uuid, limit: i64) -> Result<Vec<ChainedEvent>, StoreError>;
}
