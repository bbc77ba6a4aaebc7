//! Rows as stored. The app layer turns them into domain values.

use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MunicipalityRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FacilityRow {
    pub id: Uuid,
    pub municipality_id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: tsunagu_domain::facility::FacilityKind,
    pub name: String,
    pub name_kana: Option<String>,
    pub medical_institution_code: Option<String>,
    pub care_provider_number: Option<String>,
    pub postal_code: Option<String>,
    pub address: String,
    pub phone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, PartialEq, sqlx::FromRow)]
pub struct AccountRow {
    pub id: Uuid,
    pub municipality_id: Option<Uuid>,
    pub login_id: String,
    pub display_name: String,
    pub display_name_kana: Option<String>,
    pub email: Option<String>,
    #[sqlx(try_from = "String")]
    pub profession: tsunagu_domain::account::Profession,
    /// Role codes separated by commas.
    pub roles: String,
    #[sqlx(try_from = "String")]
    pub status: tsunagu_domain::account::AccountStatus,
    pub password_hash: Option<String>,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
    pub language: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Secrets never reach a log line.
impl std::fmt::Debug for AccountRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRow")
            .field("id", &self.id)
            .field("login_id", &self.login_id)
            .field("status", &self.status)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MembershipRow {
    pub account_id: Uuid,
    pub facility_id: Uuid,
    pub is_admin: bool,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub code_hash: Vec<u8>,
    pub created_by: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

#[derive(Clone, PartialEq, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: Vec<u8>,
    pub account_id: Uuid,
    /// "second_factor" (password accepted, code pending), "enrol" (must enrol a
    /// second factor first) or "full".
    pub stage: String,
    pub csrf_token: String,
    pub pending_totp_secret: Option<Vec<u8>>,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRow")
            .field("account_id", &self.account_id)
            .field("stage", &self.stage)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChainHead {
    pub chain: Uuid,
    pub seq: i64,
    pub hash: Vec<u8>,
}

/// The stored shape of an audit event (the domain's `ChainedEvent`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct AuditEventRow {
    pub id: Uuid,
    pub chain: Uuid,
    pub seq: i64,
    pub occurred_at: OffsetDateTime,
    pub actor_account_id: Option<Uuid>,
    pub actor_label: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<Uuid>,
    pub source_ip: Option<String>,
    pub details: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl From<AuditEventRow> for tsunagu_domain::audit::ChainedEvent {
    fn from(r: AuditEventRow) -> Self {
        Self {
            id: r.id,
            chain: r.chain,
            seq: r.seq,
            occurred_at: r.occurred_at,
            actor_account_id: r.actor_account_id,
            actor_label: r.actor_label,
            action: r.action,
            target_kind: r.target_kind,
            target_id: r.target_id,
            source_ip: r.source_ip,
            details: r.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PatientRow {
    pub id: Uuid,
    pub municipality_id: Uuid,
    pub created_by: Uuid,
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub search_key: String,
    pub birth_date: time::Date,
    #[sqlx(try_from = "String")]
    pub sex: tsunagu_domain::patient::Sex,
    pub address: String,
    pub daily_living_area: Option<String>,
    pub phone: Option<String>,
    pub key_person: Option<String>,
    pub key_person_phone: Option<String>,
    #[sqlx(try_from = "String")]
    pub care_level: tsunagu_domain::patient::CareLevel,
    pub main_diagnoses: Option<String>,
    pub allergies: Option<String>,
    /// Special-care codes separated by commas.
    pub special_care: String,
    #[sqlx(try_from = "String")]
    pub status: tsunagu_domain::patient::PatientStatus,
    pub outcome: Option<String>,
    pub outcome_date: Option<time::Date>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A patient on someone's list, with where consent stands
/// (`None`: not yet recorded; `Some(true)`: in force; `Some(false)`: withdrawn).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MemberPatientRow {
    #[sqlx(flatten)]
    pub patient: PatientRow,
    pub consent_in_force: Option<bool>,
    /// Whether an active member of the team is its primary physician (主治医).
    pub has_primary_physician: bool,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConsentRow {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub given_on: time::Date,
    pub method: String,
    pub proxy_name: Option<String>,
    pub proxy_relation: Option<String>,
    pub scope: String,
    pub recorded_by: Uuid,
    pub recorded_at: OffsetDateTime,
    pub withdrawn_at: Option<OffsetDateTime>,
    pub withdrawn_by: Option<Uuid>,
    pub withdrawal_reason: Option<String>,
    /// The timeline entry carrying the scanned consent form, if one was attached.
    pub document_entry_id: Option<Uuid>,
}

/// A team membership, with who the member is.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TeamMemberRow {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub account_id: Uuid,
    pub team_role: String,
    pub added_by: Uuid,
    pub joined_at: OffsetDateTime,
    pub left_at: Option<OffsetDateTime>,
    pub left_by: Option<Uuid>,
    pub display_name: String,
    pub login_id: String,
    pub profession: String,
    /// Where the member works (their first facility by name), to call them.
    pub facility_name: Option<String>,
    pub facility_phone: Option<String>,
}

/// What creates a team membership.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTeamMember {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub account_id: Uuid,
    pub team_role: String,
    pub added_by: Uuid,
    pub joined_at: OffsetDateTime,
}

/// What creates an entry: its fixed part and its first version.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: String,
    pub author_id: Uuid,
    pub reply_to: Option<Uuid>,
    pub needs_reply: bool,
    pub created_at: OffsetDateTime,
    pub body: String,
    /// Vital signs as JSON (`{}` when none).
    pub vitals: String,
    /// "team", "family" or "physicians".
    pub audience: String,
}

/// Which entries a timeline shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimelineFilter {
    /// Only entries of this kind.
    pub kind: Option<String>,
    /// Only entries whose current text contains this (any length, including one
    /// or two Japanese characters such as 褥瘡).
    pub text: Option<String>,
    /// Only entries by authors of this profession.
    pub profession: Option<String>,
    /// Only entries by this author.
    pub author: Option<Uuid>,
    /// Only entries written in `[since, until)`.
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// Only entries whose current version was written in `[edited_since,
    /// edited_until)`: what changed since an EHR last looked, corrections of
    /// old entries included (FHIR `_lastUpdated`).
    pub edited_since: Option<OffsetDateTime>,
    pub edited_until: Option<OffsetDateTime>,
    /// Only entries that carry vital signs (of any kind).
    pub with_vitals: bool,
    /// Oldest first (an EHR catching up from a date) instead of newest first.
    pub oldest_first: bool,
}

impl TimelineFilter {
    /// The LIKE pattern for `text`, with LIKE's wildcards escaped; empty when none.
    pub fn like_pattern(&self) -> String {
        match self.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => String::new(),
            Some(t) => {
                let escaped = t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                format!("%{}%", escaped.to_lowercase())
            }
        }
    }
}

/// A correction: the next version of an entry.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntryVersion {
    pub entry_id: Uuid,
    pub version: i64,
    pub body: String,
    pub vitals: String,
    pub edited_by: Uuid,
    pub edited_at: OffsetDateTime,
    pub reason: String,
}

/// An entry as the timeline shows it: its latest version, its author, and
/// how it stands for the reader.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TimelineRow {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: String,
    pub author_id: Uuid,
    pub reply_to: Option<Uuid>,
    pub needs_reply: bool,
    pub latest_version: i64,
    pub created_at: OffsetDateTime,
    pub audience: String,
    pub body: String,
    pub vitals: String,
    pub edited_at: OffsetDateTime,
    pub author_name: String,
    pub author_profession: String,
    pub read_by_me: bool,
    pub read_count: i64,
    pub acknowledged_by_me: bool,
    pub acknowledgement_count: i64,
    /// Entries that answer this one.
    pub reply_count: i64,
    pub has_attachments: bool,
}

/// A vital-signs entry for the trend chart: no more than the chart draws.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct VitalsPointRow {
    pub id: Uuid,
    pub created_at: OffsetDateTime,
    /// JSON, as in `entry_versions.vitals`.
    pub vitals: String,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EntryVersionRow {
    pub entry_id: Uuid,
    pub version: i64,
    pub body: String,
    pub vitals: String,
    pub edited_by: Uuid,
    pub edited_at: OffsetDateTime,
    pub reason: Option<String>,
    pub editor_name: String,
}

/// That `reader` has read an entry at `at` (a read receipt to add).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntryRead {
    pub entry_id: Uuid,
    pub reader: Uuid,
    pub at: OffsetDateTime,
}

/// That `reader` has opened a patient's record at `at`: their notifications about it are read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatientRead {
    pub reader: Uuid,
    pub patient_id: Uuid,
    pub at: OffsetDateTime,
}

/// What one read of patient data leaves behind: its audit event, the reader's
/// new read receipts and the notifications it reads (see [`crate::Store::record_read`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadTrace {
    pub audit: tsunagu_domain::audit::AuditRecord,
    pub receipts: Vec<EntryRead>,
    pub opened: Option<PatientRead>,
}

/// Who read (or acknowledged) an entry, and when.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReceiptRow {
    pub account_id: Uuid,
    pub display_name: String,
    pub at: OffsetDateTime,
}

/// Per patient, what waits for one reader.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PatientCountsRow {
    pub patient_id: Uuid,
    pub unread: i64,
    pub urgent_unacknowledged: i64,
    pub needs_reply: i64,
}

/// One revision of an advance care plan, with who recorded it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AcpRow {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub discussed_on: time::Date,
    pub participants: String,
    pub place_of_care: String,
    pub place_of_death: String,
    pub treatment: String,
    pub proxy_name: Option<String>,
    pub proxy_relation: Option<String>,
    pub wishes: Option<String>,
    pub recorded_by: Uuid,
    pub recorded_at: OffsetDateTime,
    #[sqlx(default)]
    pub recorder_name: String,
}

/// What creates a notification.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub id: Uuid,
    pub account_id: Uuid,
    pub patient_id: Uuid,
    pub entry_id: Option<Uuid>,
    pub kind: String,
    pub actor_id: Uuid,
    pub created_at: OffsetDateTime,
}

/// An unread notification with what the recipient needs to find it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub entry_id: Option<Uuid>,
    pub kind: String,
    pub created_at: OffsetDateTime,
    pub actor_name: String,
    pub patient_family_name: String,
    pub patient_given_name: String,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BreakGlassRow {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub account_id: Uuid,
    pub reason_kind: String,
    pub reason: String,
    pub granted_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A patient with everything access to the record is decided on, read
/// together (`StoreTx::patient_scope`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatientScopeRows {
    pub patient: PatientRow,
    /// Every consent record, newest first.
    pub consents: Vec<ConsentRow>,
    /// Every membership, past and present, oldest first.
    pub team: Vec<TeamMemberRow>,
    /// Break-glass grants in force at the time asked about.
    pub grants: Vec<BreakGlassRow>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: Uuid,
    pub entry_id: Uuid,
    pub patient_id: Uuid,
    pub content_type: String,
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: Vec<u8>,
    pub created_at: OffsetDateTime,
}

/// A mail waiting in the outbox, with where it goes.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PendingMail {
    pub id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub language: String,
    pub attempts: i64,
}

/// A facility an account belongs to, with its name.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AccountFacilityRow {
    pub facility_id: Uuid,
    pub facility_name: String,
    #[sqlx(try_from = "String")]
    pub facility_kind: tsunagu_domain::facility::FacilityKind,
    pub is_admin: bool,
}
