//! The coordination centre's storage: cases, their tasks and log, and the
//! requests to candidate facilities. A trait of its own (a supertrait of
//! [`crate::StoreTx`]). What is read or written of a case's contents goes
//! through a [`CaseGrant`] (the case it names), and the desk's lists through a
//! [`DeskGrant`] (its municipality): only the domain's policy makes either.
//! What is read before a decision is the decision's input only
//! ([`CoordinationTx::case_scope`], [`CoordinationTx::candidate_request_case`]).

use crate::StoreError;
use async_trait::async_trait;
use time::{Date, OffsetDateTime};
pub use tsunagu_domain::case_access::{CaseGrant, DeskGrant};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseRow {
    pub id: Uuid,
    pub municipality_id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: tsunagu_domain::coordination::CaseKind,
    #[sqlx(try_from = "String")]
    pub state: tsunagu_domain::coordination::CaseState,
    #[sqlx(try_from = "String")]
    pub channel: tsunagu_domain::coordination::Channel,
    #[sqlx(try_from = "String")]
    pub requester_kind: tsunagu_domain::coordination::RequesterKind,
    pub requester_name: String,
    pub requester_contact: Option<String>,
    pub requester_account_id: Option<Uuid>,
    pub requester_facility_id: Option<Uuid>,
    pub subject_name: Option<String>,
    pub subject_area: Option<String>,
    /// Topic codes, comma-separated.
    pub topics: String,
    #[sqlx(try_from = "String")]
    pub urgency: tsunagu_domain::coordination::Urgency,
    pub summary: String,
    /// The handover as JSON (a discharge request's).
    pub handover: Option<String>,
    pub planned_discharge_on: Option<Date>,
    pub assignee_id: Option<Uuid>,
    pub outcome: Option<String>,
    pub closing_note: Option<String>,
    pub patient_id: Option<Uuid>,
    pub source_key: Option<String>,
    pub created_at: OffsetDateTime,
    pub first_response_at: Option<OffsetDateTime>,
    pub team_completed_at: Option<OffsetDateTime>,
    pub closed_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
}

/// A case in a list: the row, with its assignee's name and open tasks.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseLineRow {
    #[sqlx(flatten)]
    pub case: CaseRow,
    pub assignee_name: Option<String>,
    pub open_tasks: i64,
    /// The earliest due date of its open tasks.
    pub next_due_on: Option<Date>,
}

/// What the policy needs to decide on a case.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseScopeRow {
    pub id: Uuid,
    pub municipality_id: Uuid,
    pub requester_account_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseTaskRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub title: String,
    pub due_on: Option<Date>,
    pub created_by: Uuid,
    pub created_at: OffsetDateTime,
    pub done_at: Option<OffsetDateTime>,
    pub done_by: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseLogRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: String,
    pub note: String,
    pub written_by: Option<Uuid>,
    pub written_at: OffsetDateTime,
}

/// A log line with its writer's name.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseLogLineRow {
    #[sqlx(flatten)]
    pub line: CaseLogRow,
    pub writer_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CandidateRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub municipality_id: Uuid,
    pub facility_id: Uuid,
    #[sqlx(try_from = "String")]
    pub seat: tsunagu_domain::coordination::Seat,
    pub requested_by: Uuid,
    pub requested_at: OffsetDateTime,
    pub due_at: OffsetDateTime,
    pub accepted: Option<bool>,
    pub decline_reason: Option<String>,
    pub note: Option<String>,
    pub answered_by: Option<Uuid>,
    pub answered_at: Option<OffsetDateTime>,
}

/// A candidate request with the facility's and the answerer's names.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CandidateLineRow {
    #[sqlx(flatten)]
    pub request: CandidateRow,
    pub facility_name: String,
    pub facility_phone: Option<String>,
    pub answerer_name: Option<String>,
    pub answerer_login: Option<String>,
}

/// A facility that could fill a seat, with what the ranking reads.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SeatCandidateRow {
    pub id: Uuid,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: tsunagu_domain::facility::FacilityKind,
    pub address: String,
    pub phone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Service codes, comma-separated (empty without a profile).
    pub services: Option<String>,
    pub accepting: Option<String>,
    /// Patients at home whose active team has someone of this facility.
    pub active_patients: i64,
}

/// A facility's open request, as its staff's home lists it (no patient data).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InboxRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub facility_id: Uuid,
    pub facility_name: String,
    #[sqlx(try_from = "String")]
    pub seat: tsunagu_domain::coordination::Seat,
    pub requested_at: OffsetDateTime,
    pub due_at: OffsetDateTime,
}

/// One adopted version of a municipality's discharge rules.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RuleSetRow {
    pub id: Uuid,
    pub municipality_id: Uuid,
    pub version: i64,
    /// The rules as JSON.
    pub rules: String,
    pub note: Option<String>,
    pub adopted_by: Uuid,
    pub adopted_at: OffsetDateTime,
}

/// A version of the rules with the name of who adopted it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RuleSetLineRow {
    #[sqlx(flatten)]
    pub set: RuleSetRow,
    pub adopted_by_name: String,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConferenceRow {
    pub case_id: Uuid,
    pub starts_at: OffsetDateTime,
    pub place: Option<String>,
    pub online: bool,
    pub participants: String,
    pub minutes: Option<String>,
    pub decisions: Option<String>,
    pub updated_by: Uuid,
    pub updated_at: OffsetDateTime,
}

/// A topic of a municipality's consultation list.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConsultationTopicRow {
    pub municipality_id: Uuid,
    pub code: String,
    pub label: String,
    pub position: i64,
    pub retired: bool,
}

/// A file of a case.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseAttachmentRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: Vec<u8>,
    pub uploaded_by: Uuid,
    pub uploaded_at: OffsetDateTime,
}

#[async_trait]
pub trait CoordinationTx: Send {
    async fn insert_case(&mut self, c: &CaseRow) -> Result<(), StoreError>;
    /// The decision's input: where the case belongs and who sent it.
    async fn case_scope(&mut self, id: Uuid) -> Result<Option<CaseScopeRow>, StoreError>;
    /// The facilities asked to join the case's team (the decision's input too).
    async fn case_candidate_facilities(&mut self, case_id: Uuid) -> Result<Vec<Uuid>, StoreError>;
    /// The case a candidate request belongs to, and the facility asked.
    async fn candidate_request_case(&mut self, request_id: Uuid) -> Result<Option<(Uuid, Uuid)>, StoreError>;

    async fn case(&mut self, grant: &CaseGrant) -> Result<Option<CaseRow>, StoreError>;
    /// State, assignee, outcome and closing note, patient, and the times.
    async fn update_case(&mut self, grant: &CaseGrant, c: &CaseRow) -> Result<(), StoreError>;
    async fn insert_case_task(&mut self, grant: &CaseGrant, t: &CaseTaskRow) -> Result<(), StoreError>;
    async fn case_tasks(&mut self, grant: &CaseGrant) -> Result<Vec<CaseTaskRow>, StoreError>;
    /// Marks an open task done; false if it was not an open task of the case.
    async fn complete_case_task(
        &mut self,
        grant: &CaseGrant,
        task_id: Uuid,
        by: Uuid,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    async fn insert_case_log(&mut self, grant: &CaseGrant, l: &CaseLogRow) -> Result<(), StoreError>;
    /// Oldest first.
    async fn case_log(&mut self, grant: &CaseGrant) -> Result<Vec<CaseLogLineRow>, StoreError>;
    /// Inserts a request; false if the facility was already asked for that seat.
    async fn insert_candidate(&mut self, grant: &CaseGrant, r: &CandidateRow) -> Result<bool, StoreError>;
    async fn case_candidates(&mut self, grant: &CaseGrant) -> Result<Vec<CandidateLineRow>, StoreError>;
    /// Records an answer on an unanswered request; false if it was answered already.
    #[allow(clippy::too_many_arguments)]
    async fn answer_candidate(
        &mut self,
        grant: &CaseGrant,
        request_id: Uuid,
        accepted: bool,
        decline_reason: Option<&str>,
        note: Option<&str>,
        by: Uuid,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// The desk's open cases, oldest first.
    async fn open_cases(&mut self, desk: &DeskGrant) -> Result<Vec<CaseLineRow>, StoreError>;
    /// Cases closed since `since`, latest first.
    async fn closed_cases(&mut self, desk: &DeskGrant, since: OffsetDateTime) -> Result<Vec<CaseLineRow>, StoreError>;
    /// Every case created in `[from, to)` (for the reports).
    async fn cases_created_between(
        &mut self,
        desk: &DeskGrant,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<CaseRow>, StoreError>;
    /// Every candidate request of the municipality made in `[from, to)`.
    async fn candidates_between(
        &mut self,
        desk: &DeskGrant,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<CandidateLineRow>, StoreError>;
    /// The open facilities of these kinds in the municipality, with their
    /// profile's services and "accepting", and their current load.
    async fn seat_candidates(&mut self, desk: &DeskGrant, kinds: &[&str]) -> Result<Vec<SeatCandidateRow>, StoreError>;

    /// The discharge requests an account sent, newest first (its own data).
    async fn cases_sent_by(&mut self, account_id: Uuid, limit: i64) -> Result<Vec<CaseLineRow>, StoreError>;
    /// The unanswered requests to these facilities, soonest deadline first.
    async fn open_requests_to(&mut self, facility_ids: &[Uuid]) -> Result<Vec<InboxRow>, StoreError>;
    /// How many public-form cases came from `source_key` since `since`.
    async fn public_cases_since(
        &mut self,
        municipality_id: Uuid,
        source_key: &str,
        since: OffsetDateTime,
    ) -> Result<i64, StoreError>;

    /// Adopts a version of the rules; false if that version number is taken (adopted meanwhile).
    async fn insert_rule_set(&mut self, r: &RuleSetRow) -> Result<bool, StoreError>;
    /// Every version of a municipality's rules, newest first (the rules are public to its members).
    async fn rule_sets(&mut self, municipality_id: Uuid) -> Result<Vec<RuleSetLineRow>, StoreError>;
    /// Schedules or rewrites a case's pre-discharge conference.
    async fn upsert_conference(&mut self, grant: &CaseGrant, c: &ConferenceRow) -> Result<(), StoreError>;
    async fn conference(&mut self, grant: &CaseGrant) -> Result<Option<ConferenceRow>, StoreError>;

    /// Unanswered requests of open cases, due after `now` and before
    /// `before`, not reminded yet: (request, case, facility), soonest first.
    async fn candidates_to_remind(
        &mut self,
        now: OffsetDateTime,
        before: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<(Uuid, Uuid, Uuid)>, StoreError>;
    /// Marks a request reminded; false if another instance did it first.
    async fn mark_reminded(&mut self, request_id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError>;
    /// The active accounts working at a facility.
    async fn facility_accounts(&mut self, facility_id: Uuid) -> Result<Vec<Uuid>, StoreError>;

    /// A municipality's consultation topics in order (empty: it has not made its own list).
    async fn consultation_topics(&mut self, municipality_id: Uuid) -> Result<Vec<ConsultationTopicRow>, StoreError>;
    /// Replaces a municipality's list.
    async fn replace_consultation_topics(
        &mut self,
        municipality_id: Uuid,
        rows: &[ConsultationTopicRow],
    ) -> Result<(), StoreError>;

    async fn insert_case_attachment(&mut self, grant: &CaseGrant, a: &CaseAttachmentRow) -> Result<(), StoreError>;
    /// A case's files, oldest first.
    async fn case_attachments(&mut self, grant: &CaseGrant) -> Result<Vec<CaseAttachmentRow>, StoreError>;
    /// The case a file belongs to (the decision's input).
    async fn case_attachment_case(&mut self, id: Uuid) -> Result<Option<Uuid>, StoreError>;
    async fn case_attachment(&mut self, grant: &CaseGrant, id: Uuid) -> Result<Option<CaseAttachmentRow>, StoreError>;
}

pub(crate) fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
}

/// The columns of a case line (`c` the case).
macro_rules! case_line_sql {
    ($where:literal, $order:literal) => {
        concat!(
            "SELECT c.*, a.display_name AS assignee_name, \
             (SELECT COUNT(*) FROM case_tasks t WHERE t.case_id = c.id AND t.done_at IS NULL) AS open_tasks, \
             (SELECT MIN(t.due_on) FROM case_tasks t WHERE t.case_id = c.id AND t.done_at IS NULL) AS next_due_on \
             FROM coordination_cases c LEFT JOIN accounts a ON a.id = c.assignee_id WHERE ",
            $where,
            " ORDER BY ",
            $order
        )
    };
}
pub(crate) use case_line_sql;

/// A candidate line (`r` the request) filtered by `$where`.
macro_rules! candidate_line_sql {
    ($where:literal) => {
        concat!(
            "SELECT r.*, f.name AS facility_name, f.phone AS facility_phone, \
             a.display_name AS answerer_name, a.login_id AS answerer_login \
             FROM case_candidates r JOIN facilities f ON f.id = r.facility_id \
             LEFT JOIN accounts a ON a.id = r.answered_by WHERE ",
            $where,
            " ORDER BY r.requested_at, r.id"
        )
    };
}
pub(crate) use candidate_line_sql;

/// Stamps out [`CoordinationTx`] for a backend (see `sql.rs`): the same text on both.
macro_rules! impl_coordination_tx {
    ($tx:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::coordination::CoordinationTx for $tx {
            async fn insert_case(&mut self, c: &$crate::CaseRow) -> Result<(), $crate::StoreError> {
                use $crate::coordination::utc;
                sqlx::query(
                    "INSERT INTO coordination_cases (id, municipality_id, kind, state, channel, requester_kind, \
                     requester_name, requester_contact, requester_account_id, requester_facility_id, subject_name, \
                     subject_area, topics, urgency, summary, handover, planned_discharge_on, assignee_id, outcome, \
                     closing_note, patient_id, source_key, created_at, first_response_at, team_completed_at, closed_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
                     $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)",
                )
                .bind(c.id).bind(c.municipality_id).bind(c.kind.code()).bind(c.state.code()).bind(c.channel.code())
                .bind(c.requester_kind.code()).bind(&c.requester_name).bind(&c.requester_contact)
                .bind(c.requester_account_id).bind(c.requester_facility_id).bind(&c.subject_name).bind(&c.subject_area)
                .bind(&c.topics).bind(c.urgency.code()).bind(&c.summary).bind(&c.handover).bind(c.planned_discharge_on)
                .bind(c.assignee_id).bind(&c.outcome).bind(&c.closing_note).bind(c.patient_id).bind(&c.source_key)
                .bind(utc(c.created_at)).bind(c.first_response_at.map(utc)).bind(c.team_completed_at.map(utc))
                .bind(c.closed_at.map(utc)).bind(utc(c.updated_at))
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn case_scope(&mut self, id: uuid::Uuid) -> Result<Option<$crate::CaseScopeRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT id, municipality_id, requester_account_id FROM coordination_cases WHERE id = $1")
                    .bind(id).fetch_optional(self.conn()).await?)
            }

            async fn case_candidate_facilities(&mut self, case_id: uuid::Uuid) -> Result<Vec<uuid::Uuid>, $crate::StoreError> {
                let rows: Vec<(uuid::Uuid,)> = sqlx::query_as("SELECT DISTINCT facility_id FROM case_candidates WHERE case_id = $1")
                    .bind(case_id).fetch_all(self.conn()).await?;
                Ok(rows.into_iter().map(|(f,)| f).collect())
            }

            async fn candidate_request_case(&mut self, request_id: uuid::Uuid) -> Result<Option<(uuid::Uuid, uuid::Uuid)>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT case_id, facility_id FROM case_candidates WHERE id = $1")
                    .bind(request_id).fetch_optional(self.conn()).await?)
            }

            async fn case(&mut self, grant: &$crate::CaseGrant) -> Result<Option<$crate::CaseRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM coordination_cases WHERE id = $1")
                    .bind(grant.case().0).fetch_optional(self.conn()).await?)
            }

            async fn update_case(&mut self, grant: &$crate::CaseGrant, c: &$crate::CaseRow) -> Result<(), $crate::StoreError> {
                use $crate::coordination::utc;
                sqlx::query(
                    "UPDATE coordination_cases SET state = $2, assignee_id = $3, outcome = $4, closing_note = $5, \
                     patient_id = $6, first_response_at = $7, team_completed_at = $8, closed_at = $9, updated_at = $10 \
                     WHERE id = $1",
                )
                .bind(grant.case().0).bind(c.state.code()).bind(c.assignee_id).bind(&c.outcome).bind(&c.closing_note)
                .bind(c.patient_id).bind(c.first_response_at.map(utc)).bind(c.team_completed_at.map(utc))
                .bind(c.closed_at.map(utc)).bind(utc(c.updated_at))
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn insert_case_task(&mut self, grant: &$crate::CaseGrant, t: &$crate::CaseTaskRow) -> Result<(), $crate::StoreError> {
                use $crate::coordination::utc;
                sqlx::query(
                    "INSERT INTO case_tasks (id, case_id, title, due_on, created_by, created_at, done_at, done_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)",
                )
                .bind(t.id).bind(grant.case().0).bind(&t.title).bind(t.due_on).bind(t.created_by).bind(utc(t.created_at))
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn case_tasks(&mut self, grant: &$crate::CaseGrant) -> Result<Vec<$crate::CaseTaskRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM case_tasks WHERE case_id = $1 ORDER BY created_at, id")
                    .bind(grant.case().0).fetch_all(self.conn()).await?)
            }

            async fn complete_case_task(&mut self, grant: &$crate::CaseGrant, task_id: uuid::Uuid, by: uuid::Uuid, at: time::OffsetDateTime) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query("UPDATE case_tasks SET done_at = $3, done_by = $4 WHERE id = $1 AND case_id = $2 AND done_at IS NULL")
                    .bind(task_id).bind(grant.case().0).bind($crate::coordination::utc(at)).bind(by)
                    .execute(self.conn()).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_case_log(&mut self, grant: &$crate::CaseGrant, l: &$crate::CaseLogRow) -> Result<(), $crate::StoreError> {
                sqlx::query("INSERT INTO case_log (id, case_id, kind, note, written_by, written_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(l.id).bind(grant.case().0).bind(&l.kind).bind(&l.note).bind(l.written_by)
                    .bind($crate::coordination::utc(l.written_at))
                    .execute(self.conn()).await?;
                Ok(())
            }

            async fn case_log(&mut self, grant: &$crate::CaseGrant) -> Result<Vec<$crate::CaseLogLineRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT l.*, a.display_name AS writer_name FROM case_log l LEFT JOIN accounts a ON a.id = l.written_by \
                     WHERE l.case_id = $1 ORDER BY l.written_at, l.id",
                )
                .bind(grant.case().0).fetch_all(self.conn()).await?)
            }

            async fn insert_candidate(&mut self, grant: &$crate::CaseGrant, r: &$crate::CandidateRow) -> Result<bool, $crate::StoreError> {
                use $crate::coordination::utc;
                let done = sqlx::query(
                    "INSERT INTO case_candidates (id, case_id, municipality_id, facility_id, seat, requested_by, requested_at, \
                     due_at, accepted, decline_reason, note, answered_by, answered_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, NULL, NULL, NULL) \
                     ON CONFLICT (case_id, facility_id, seat) DO NOTHING",
                )
                .bind(r.id).bind(grant.case().0).bind(r.municipality_id).bind(r.facility_id).bind(r.seat.code())
                .bind(r.requested_by).bind(utc(r.requested_at)).bind(utc(r.due_at))
                .execute(self.conn()).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn case_candidates(&mut self, grant: &$crate::CaseGrant) -> Result<Vec<$crate::CandidateLineRow>, $crate::StoreError> {
                Ok(sqlx::query_as($crate::coordination::candidate_line_sql!("r.case_id = $1"))
                    .bind(grant.case().0).fetch_all(self.conn()).await?)
            }

            async fn answer_candidate(&mut self, grant: &$crate::CaseGrant, request_id: uuid::Uuid, accepted: bool, decline_reason: Option<&str>, note: Option<&str>, by: uuid::Uuid, at: time::OffsetDateTime) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE case_candidates SET accepted = $3, decline_reason = $4, note = $5, answered_by = $6, answered_at = $7 \
                     WHERE id = $1 AND case_id = $2 AND accepted IS NULL",
                )
                .bind(request_id).bind(grant.case().0).bind(accepted).bind(decline_reason).bind(note).bind(by)
                .bind($crate::coordination::utc(at))
                .execute(self.conn()).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn open_cases(&mut self, desk: &$crate::DeskGrant) -> Result<Vec<$crate::CaseLineRow>, $crate::StoreError> {
                Ok(sqlx::query_as($crate::coordination::case_line_sql!("c.municipality_id = $1 AND c.closed_at IS NULL", "c.created_at, c.id"))
                    .bind(desk.municipality().0).fetch_all(self.conn()).await?)
            }

            async fn closed_cases(&mut self, desk: &$crate::DeskGrant, since: time::OffsetDateTime) -> Result<Vec<$crate::CaseLineRow>, $crate::StoreError> {
                Ok(sqlx::query_as($crate::coordination::case_line_sql!("c.municipality_id = $1 AND c.closed_at >= $2", "c.closed_at DESC, c.id"))
                    .bind(desk.municipality().0).bind($crate::coordination::utc(since)).fetch_all(self.conn()).await?)
            }

            async fn cases_created_between(&mut self, desk: &$crate::DeskGrant, from: time::OffsetDateTime, to: time::OffsetDateTime) -> Result<Vec<$crate::CaseRow>, $crate::StoreError> {
                use $crate::coordination::utc;
                Ok(sqlx::query_as(
                    "SELECT * FROM coordination_cases WHERE municipality_id = $1 AND created_at >= $2 AND created_at < $3 \
                     ORDER BY created_at, id",
                )
                .bind(desk.municipality().0).bind(utc(from)).bind(utc(to)).fetch_all(self.conn()).await?)
            }

            async fn candidates_between(&mut self, desk: &$crate::DeskGrant, from: time::OffsetDateTime, to: time::OffsetDateTime) -> Result<Vec<$crate::CandidateLineRow>, $crate::StoreError> {
                use $crate::coordination::utc;
                Ok(sqlx::query_as($crate::coordination::candidate_line_sql!(
                    "r.municipality_id = $1 AND r.requested_at >= $2 AND r.requested_at < $3"
                ))
                .bind(desk.municipality().0).bind(utc(from)).bind(utc(to)).fetch_all(self.conn()).await?)
            }

            async fn seat_candidates(&mut self, desk: &$crate::DeskGrant, kinds: &[&str]) -> Result<Vec<$crate::SeatCandidateRow>, $crate::StoreError> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT f.id, f.name, f.kind, f.address, f.phone, f.latitude, f.longitude, p.services, p.accepting, \
                     (SELECT COUNT(DISTINCT tm.patient_id) FROM facility_memberships fm \
                      JOIN team_members tm ON tm.account_id = fm.account_id AND tm.left_at IS NULL \
                      JOIN patients pt ON pt.id = tm.patient_id AND pt.status = 'at_home' \
                      WHERE fm.facility_id = f.id) AS active_patients \
                     FROM facilities f LEFT JOIN facility_profiles p ON p.facility_id = f.id \
                     WHERE f.closed_at IS NULL AND f.municipality_id = ",
                );
                q.push_bind(desk.municipality().0).push(" AND f.kind IN (");
                let mut kinds_list = q.separated(", ");
                for kind in kinds {
                    kinds_list.push_bind(kind.to_string());
                }
                q.push(") ORDER BY f.name, f.id");
                Ok(q.build_query_as().fetch_all(self.conn()).await?)
            }

            async fn cases_sent_by(&mut self, account_id: uuid::Uuid, limit: i64) -> Result<Vec<$crate::CaseLineRow>, $crate::StoreError> {
                Ok(sqlx::query_as($crate::coordination::case_line_sql!("c.requester_account_id = $1", "c.created_at DESC, c.id LIMIT $2"))
                    .bind(account_id).bind(limit).fetch_all(self.conn()).await?)
            }

            async fn open_requests_to(&mut self, facility_ids: &[uuid::Uuid]) -> Result<Vec<$crate::InboxRow>, $crate::StoreError> {
                if facility_ids.is_empty() {
                    return Ok(vec![]);
                }
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT r.id, r.case_id, r.facility_id, f.name AS facility_name, r.seat, r.requested_at, r.due_at \
                     FROM case_candidates r JOIN facilities f ON f.id = r.facility_id \
                     JOIN coordination_cases c ON c.id = r.case_id \
                     WHERE r.accepted IS NULL AND c.closed_at IS NULL AND c.team_completed_at IS NULL AND r.facility_id IN (",
                );
                let mut ids = q.separated(", ");
                for id in facility_ids {
                    ids.push_bind(*id);
                }
                q.push(") ORDER BY r.due_at, r.id");
                Ok(q.build_query_as().fetch_all(self.conn()).await?)
            }

            async fn public_cases_since(&mut self, municipality_id: uuid::Uuid, source_key: &str, since: time::OffsetDateTime) -> Result<i64, $crate::StoreError> {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM coordination_cases WHERE municipality_id = $1 AND source_key = $2 AND created_at >= $3",
                )
                .bind(municipality_id).bind(source_key).bind($crate::coordination::utc(since)).fetch_one(self.conn()).await?;
                Ok(n)
            }

            async fn insert_rule_set(&mut self, r: &$crate::RuleSetRow) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "INSERT INTO discharge_rule_sets (id, municipality_id, version, rules, note, adopted_by, adopted_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (municipality_id, version) DO NOTHING",
                )
                .bind(r.id).bind(r.municipality_id).bind(r.version).bind(&r.rules).bind(&r.note).bind(r.adopted_by)
                .bind($crate::coordination::utc(r.adopted_at))
                .execute(self.conn()).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn rule_sets(&mut self, municipality_id: uuid::Uuid) -> Result<Vec<$crate::RuleSetLineRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT r.*, a.display_name AS adopted_by_name FROM discharge_rule_sets r JOIN accounts a ON a.id = r.adopted_by \
                     WHERE r.municipality_id = $1 ORDER BY r.version DESC",
                )
                .bind(municipality_id).fetch_all(self.conn()).await?)
            }

            async fn upsert_conference(&mut self, grant: &$crate::CaseGrant, c: &$crate::ConferenceRow) -> Result<(), $crate::StoreError> {
                use $crate::coordination::utc;
                sqlx::query(
                    "INSERT INTO discharge_conferences (case_id, starts_at, place, online, participants, minutes, decisions, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (case_id) DO UPDATE SET starts_at = excluded.starts_at, \
                     place = excluded.place, online = excluded.online, participants = excluded.participants, minutes = excluded.minutes, \
                     decisions = excluded.decisions, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(grant.case().0).bind(utc(c.starts_at)).bind(&c.place).bind(c.online).bind(&c.participants)
                .bind(&c.minutes).bind(&c.decisions).bind(c.updated_by).bind(utc(c.updated_at))
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn conference(&mut self, grant: &$crate::CaseGrant) -> Result<Option<$crate::ConferenceRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM discharge_conferences WHERE case_id = $1")
                    .bind(grant.case().0).fetch_optional(self.conn()).await?)
            }

            async fn candidates_to_remind(&mut self, now: time::OffsetDateTime, before: time::OffsetDateTime, limit: i64) -> Result<Vec<(uuid::Uuid, uuid::Uuid, uuid::Uuid)>, $crate::StoreError> {
                use $crate::coordination::utc;
                Ok(sqlx::query_as(
                    "SELECT r.id, r.case_id, r.facility_id FROM case_candidates r JOIN coordination_cases c ON c.id = r.case_id \
                     WHERE r.accepted IS NULL AND r.reminded_at IS NULL AND r.due_at > $1 AND r.due_at <= $2 \
                     AND c.closed_at IS NULL AND c.team_completed_at IS NULL ORDER BY r.due_at, r.id LIMIT $3",
                )
                .bind(utc(now)).bind(utc(before)).bind(limit).fetch_all(self.conn()).await?)
            }

            async fn mark_reminded(&mut self, request_id: uuid::Uuid, at: time::OffsetDateTime) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query("UPDATE case_candidates SET reminded_at = $2 WHERE id = $1 AND reminded_at IS NULL")
                    .bind(request_id).bind($crate::coordination::utc(at)).execute(self.conn()).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn consultation_topics(&mut self, municipality_id: uuid::Uuid) -> Result<Vec<$crate::ConsultationTopicRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM consultation_topics WHERE municipality_id = $1 ORDER BY position, code")
                    .bind(municipality_id).fetch_all(self.conn()).await?)
            }

            async fn replace_consultation_topics(&mut self, municipality_id: uuid::Uuid, rows: &[$crate::ConsultationTopicRow]) -> Result<(), $crate::StoreError> {
                sqlx::query("DELETE FROM consultation_topics WHERE municipality_id = $1").bind(municipality_id).execute(self.conn()).await?;
                for r in rows {
                    sqlx::query("INSERT INTO consultation_topics (municipality_id, code, label, position, retired) VALUES ($1, $2, $3, $4, $5)")
                        .bind(municipality_id).bind(&r.code).bind(&r.label).bind(r.position).bind(r.retired)
                        .execute(self.conn()).await?;
                }
                Ok(())
            }

            async fn insert_case_attachment(&mut self, grant: &$crate::CaseGrant, a: &$crate::CaseAttachmentRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO case_attachments (id, case_id, file_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(a.id).bind(grant.case().0).bind(&a.file_name).bind(&a.content_type).bind(a.size_bytes).bind(&a.sha256)
                .bind(a.uploaded_by).bind($crate::coordination::utc(a.uploaded_at))
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn case_attachments(&mut self, grant: &$crate::CaseGrant) -> Result<Vec<$crate::CaseAttachmentRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM case_attachments WHERE case_id = $1 ORDER BY uploaded_at, id")
                    .bind(grant.case().0).fetch_all(self.conn()).await?)
            }

            async fn case_attachment_case(&mut self, id: uuid::Uuid) -> Result<Option<uuid::Uuid>, $crate::StoreError> {
                let row: Option<(uuid::Uuid,)> = sqlx::query_as("SELECT case_id FROM case_attachments WHERE id = $1")
                    .bind(id).fetch_optional(self.conn()).await?;
                Ok(row.map(|(c,)| c))
            }

            async fn case_attachment(&mut self, grant: &$crate::CaseGrant, id: uuid::Uuid) -> Result<Option<$crate::CaseAttachmentRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM case_attachments WHERE id = $1 AND case_id = $2")
                    .bind(id).bind(grant.case().0).fetch_optional(self.conn()).await?)
            }

            async fn facility_accounts(&mut self, facility_id: uuid::Uuid) -> Result<Vec<uuid::Uuid>, $crate::StoreError> {
                let rows: Vec<(uuid::Uuid,)> = sqlx::query_as(
                    "SELECT a.id FROM facility_memberships m JOIN accounts a ON a.id = m.account_id \
                     WHERE m.facility_id = $1 AND a.status = 'active' ORDER BY a.id",
                )
                .bind(facility_id).fetch_all(self.conn()).await?;
                Ok(rows.into_iter().map(|(a,)| a).collect())
            }
        }
    };
}
pub(crate) use impl_coordination_tx;
