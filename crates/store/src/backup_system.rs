//! The backup system's storage (item ウ): physician groups, absences, on-call
//! shifts, backup hospitals, urgent requests with their escalation steps, and
//! the webhook outbox. A trait of its own (a supertrait of [`crate::StoreTx`])
//! so that `sql.rs` does not grow without end; the same query text serves both
//! backends, as there.

use crate::StoreError;
use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PhysicianGroupRow {
    pub id: Uuid,
    pub municipality_id: Uuid,
    pub name: String,
    pub area: String,
    pub coordinator_id: Option<Uuid>,
    pub created_at: OffsetDateTime,
}

/// A group member with what it takes to call them.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct GroupMemberRow {
    pub group_id: Uuid,
    pub account_id: Uuid,
    pub phone: Option<String>,
    pub joined_at: OffsetDateTime,
    pub display_name: String,
    pub login_id: String,
    pub facility_name: Option<String>,
    pub facility_phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AbsenceRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub reason: String,
    pub note: String,
    pub created_by: Uuid,
    pub created_at: OffsetDateTime,
    pub cancelled_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ShiftRow {
    pub group_id: Uuid,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub kind: String,
    pub account_id: Option<Uuid>,
    pub updated_by: Uuid,
    pub updated_at: OffsetDateTime,
}

/// A hospital of the municipality and its part in hospital backup (absent: not taking part).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BackupHospitalRow {
    pub facility_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub participates: Option<bool>,
    pub beds_available: Option<i64>,
    pub note: Option<String>,
    pub updated_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BackupBeds {
    pub facility_id: Uuid,
    pub municipality_id: Uuid,
    pub participates: bool,
    pub beds_available: i64,
    pub note: String,
    pub updated_by: Uuid,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UrgentRequestRow {
    pub id: Uuid,
    pub municipality_id: Uuid,
    pub patient_id: Uuid,
    pub kind: String,
    pub note: String,
    pub raised_by: Uuid,
    pub raised_at: OffsetDateTime,
    pub state: String,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<OffsetDateTime>,
    pub accepted_facility_id: Option<Uuid>,
    pub accepted_at: Option<OffsetDateTime>,
    pub outcome: Option<String>,
    pub outcome_note: Option<String>,
    pub outcome_by: Option<Uuid>,
    pub outcome_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EscalationStepRow {
    pub id: Uuid,
    pub request_id: Uuid,
    pub seq: i64,
    pub role: String,
    pub account_id: Option<Uuid>,
    pub facility_id: Option<Uuid>,
    pub due_at: OffsetDateTime,
    pub fired_at: Option<OffsetDateTime>,
    pub fired_by: Option<String>,
    pub answer: Option<String>,
    pub answered_at: Option<OffsetDateTime>,
    pub answered_by: Option<Uuid>,
    pub answer_reason: Option<String>,
}

/// A request waiting for an answer from someone (or their hospital).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct WaitingRequestRow {
    pub request_id: Uuid,
    pub family_name: String,
    pub given_name: String,
    pub kind: String,
    pub raised_at: OffsetDateTime,
    pub role: String,
    pub fired_at: Option<OffsetDateTime>,
}

/// An open urgent request of a patient in a member's team, for their home.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TeamRequestRow {
    pub request_id: Uuid,
    pub patient_id: Uuid,
    pub family_name: String,
    pub given_name: String,
    pub kind: String,
    pub state: String,
    pub raised_by: Uuid,
    pub raised_at: OffsetDateTime,
    pub acknowledged_at: Option<OffsetDateTime>,
    pub acknowledged_by_name: Option<String>,
}

/// A physician's place in a patient's team (for coverage and load).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PhysicianAssignmentRow {
    pub patient_id: Uuid,
    pub account_id: Uuid,
    pub team_role: String,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: Uuid,
    pub municipality_id: Uuid,
    pub event: String,
    pub payload: String,
    pub created_at: OffsetDateTime,
    pub attempts: i64,
    pub next_attempt_at: OffsetDateTime,
    pub delivered_at: Option<OffsetDateTime>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

#[async_trait]
pub trait BackupSystemTx: Send {
    // Physician groups
    async fn insert_physician_group(&mut self, g: &PhysicianGroupRow) -> Result<(), StoreError>;
    async fn physician_group(&mut self, id: Uuid) -> Result<Option<PhysicianGroupRow>, StoreError>;
    async fn physician_groups(&mut self, municipality_id: Uuid) -> Result<Vec<PhysicianGroupRow>, StoreError>;
    /// Adds a member or updates their phone; false if nothing changed.
    async fn upsert_group_member(
        &mut self,
        group_id: Uuid,
        account_id: Uuid,
        phone: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn remove_group_member(&mut self, group_id: Uuid, account_id: Uuid) -> Result<bool, StoreError>;
    /// Members of every group of a municipality (`group: None`) or of one group, by name.
    async fn group_members(
        &mut self,
        municipality_id: Uuid,
        group: Option<Uuid>,
    ) -> Result<Vec<GroupMemberRow>, StoreError>;

    /// Members of every group that `a` or `b` belongs to (what one patient's
    /// chain needs: their groups' on-call physicians and numbers).
    async fn members_of_groups_with(
        &mut self,
        a: Option<Uuid>,
        b: Option<Uuid>,
    ) -> Result<Vec<GroupMemberRow>, StoreError>;

    // Absences
    async fn insert_absence(&mut self, a: &AbsenceRow) -> Result<(), StoreError>;
    async fn absence(&mut self, id: Uuid) -> Result<Option<AbsenceRow>, StoreError>;
    async fn cancel_absence(&mut self, id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError>;
    /// Absences (not cancelled) of a municipality's accounts overlapping `[from, to)`, by start.
    async fn absences_between(
        &mut self,
        municipality_id: Uuid,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<AbsenceRow>, StoreError>;
    /// The absences of these accounts (not cancelled) overlapping `[from, to)`, by start.
    async fn absences_of_accounts(
        &mut self,
        accounts: &[Uuid],
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<AbsenceRow>, StoreError>;
    /// One account's absences ending after `from`, by start (cancelled ones too).
    async fn absences_of(&mut self, account_id: Uuid, from: OffsetDateTime) -> Result<Vec<AbsenceRow>, StoreError>;

    // On-call shifts
    async fn upsert_shift(&mut self, s: &ShiftRow) -> Result<(), StoreError>;
    /// Shifts of one group (`Some`) or of every group of the municipality, overlapping `[from, to)`.
    async fn shifts_between(
        &mut self,
        municipality_id: Uuid,
        group: Option<Uuid>,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<ShiftRow>, StoreError>;

    // Backup hospitals
    async fn upsert_backup_beds(&mut self, b: &BackupBeds) -> Result<(), StoreError>;
    /// Every hospital of the municipality, with its backup beds if it takes part.
    async fn backup_hospitals(&mut self, municipality_id: Uuid) -> Result<Vec<BackupHospitalRow>, StoreError>;
    async fn set_patient_backup_hospital(
        &mut self,
        patient_id: Uuid,
        facility_id: Option<Uuid>,
        by: Uuid,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn patient_backup_hospital(&mut self, patient_id: Uuid) -> Result<Option<Uuid>, StoreError>;

    // Urgent requests and escalation
    async fn insert_urgent_request(&mut self, r: &UrgentRequestRow) -> Result<(), StoreError>;
    async fn update_urgent_request(&mut self, r: &UrgentRequestRow) -> Result<(), StoreError>;
    async fn urgent_request(&mut self, id: Uuid) -> Result<Option<UrgentRequestRow>, StoreError>;
    /// A patient's requests, newest first.
    async fn urgent_requests_of_patient(
        &mut self,
        patient_id: Uuid,
        limit: i64,
    ) -> Result<Vec<UrgentRequestRow>, StoreError>;
    async fn insert_escalation_step(&mut self, s: &EscalationStepRow) -> Result<(), StoreError>;
    async fn escalation_steps(&mut self, request_id: Uuid) -> Result<Vec<EscalationStepRow>, StoreError>;
    /// Steps whose timer has run out (not fired, not answered), oldest first.
    async fn due_steps(&mut self, now: OffsetDateTime, limit: i64) -> Result<Vec<EscalationStepRow>, StoreError>;
    /// Fires a step if nobody has: true for exactly one caller, whichever
    /// instance it runs in (the row's condition decides, under its lock).
    async fn claim_step(&mut self, id: Uuid, at: OffsetDateTime, instance: &str) -> Result<bool, StoreError>;
    /// Answers a step that has no answer yet, or whose time ran out (a late
    /// answer replaces "timed out"); false if it had another answer.
    async fn answer_step(
        &mut self,
        id: Uuid,
        answer: &str,
        at: OffsetDateTime,
        by: Option<Uuid>,
        reason: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// Brings a step's timer forward (never back).
    async fn bring_step_forward(&mut self, id: Uuid, due_at: OffsetDateTime) -> Result<(), StoreError>;
    /// Requests still looking for an answer (calling, or run out) that have
    /// called this account or one of these facilities, which has not answered.
    async fn requests_waiting_for(
        &mut self,
        account_id: Uuid,
        facilities: &[Uuid],
    ) -> Result<Vec<WaitingRequestRow>, StoreError>;
    /// The requests not yet closed of the patients in whose team `account_id` is an
    /// active professional (not family) member, those nobody answered first, then newest.
    async fn open_requests_of_member(
        &mut self,
        account_id: Uuid,
        limit: i64,
    ) -> Result<Vec<TeamRequestRow>, StoreError>;

    // Coverage
    /// Active primary and backup physicians of the municipality's patients living at home.
    async fn physician_assignments(&mut self, municipality_id: Uuid)
    -> Result<Vec<PhysicianAssignmentRow>, StoreError>;

    // Webhook
    async fn enqueue_webhook(&mut self, w: &WebhookRow) -> Result<(), StoreError>;
    async fn pending_webhooks(
        &mut self,
        now: OffsetDateTime,
        max_attempts: i64,
        limit: i64,
    ) -> Result<Vec<WebhookRow>, StoreError>;
    async fn record_webhook_attempt(
        &mut self,
        id: Uuid,
        delivered_at: Option<OffsetDateTime>,
        status: Option<i64>,
        error: Option<&str>,
        next_attempt_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// A municipality's newest deliveries, delivered or not.
    async fn webhook_deliveries(&mut self, municipality_id: Uuid, limit: i64) -> Result<Vec<WebhookRow>, StoreError>;
}

/// Stamps out [`BackupSystemTx`] for a backend's transaction type (see `sql.rs`).
macro_rules! impl_backup_system_tx {
    ($tx:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::backup_system::BackupSystemTx for $tx {
            async fn insert_physician_group(&mut self, g: &$crate::PhysicianGroupRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO physician_groups (id, municipality_id, name, area, coordinator_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(g.id).bind(g.municipality_id).bind(&g.name).bind(&g.area).bind(g.coordinator_id).bind(g.created_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn physician_group(&mut self, id: uuid::Uuid) -> Result<Option<$crate::PhysicianGroupRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM physician_groups WHERE id = $1").bind(id).fetch_optional(self.conn()).await?)
            }

            async fn physician_groups(&mut self, municipality_id: uuid::Uuid) -> Result<Vec<$crate::PhysicianGroupRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM physician_groups WHERE municipality_id = $1 ORDER BY name, id")
                    .bind(municipality_id).fetch_all(self.conn()).await?)
            }

            async fn upsert_group_member(&mut self, group_id: uuid::Uuid, account_id: uuid::Uuid, phone: Option<&str>, at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO physician_group_members (group_id, account_id, phone, joined_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (group_id, account_id) DO UPDATE SET phone = excluded.phone",
                )
                .bind(group_id).bind(account_id).bind(phone).bind(at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn remove_group_member(&mut self, group_id: uuid::Uuid, account_id: uuid::Uuid) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query("DELETE FROM physician_group_members WHERE group_id = $1 AND account_id = $2")
                    .bind(group_id).bind(account_id).execute(self.conn()).await?;
                Ok(done.rows_affected() > 0)
            }

            async fn group_members(&mut self, municipality_id: uuid::Uuid, group: Option<uuid::Uuid>) -> Result<Vec<$crate::GroupMemberRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT m.group_id, m.account_id, m.phone, m.joined_at, a.display_name, a.login_id, \
                     (SELECT f.name FROM facility_memberships fm JOIN facilities f ON f.id = fm.facility_id \
                      WHERE fm.account_id = m.account_id ORDER BY f.name, f.id LIMIT 1) AS facility_name, \
                     (SELECT f.phone FROM facility_memberships fm JOIN facilities f ON f.id = fm.facility_id \
                      WHERE fm.account_id = m.account_id ORDER BY f.name, f.id LIMIT 1) AS facility_phone \
                     FROM physician_group_members m JOIN physician_groups g ON g.id = m.group_id \
                     JOIN accounts a ON a.id = m.account_id \
                     WHERE g.municipality_id = $1 AND ($2 IS NULL OR m.group_id = $2) \
                     ORDER BY a.display_name_kana, a.display_name, a.id",
                )
                .bind(municipality_id).bind(group).fetch_all(self.conn()).await?)
            }

            async fn members_of_groups_with(&mut self, a: Option<uuid::Uuid>, b: Option<uuid::Uuid>) -> Result<Vec<$crate::GroupMemberRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT m.group_id, m.account_id, m.phone, m.joined_at, a.display_name, a.login_id, \
                     (SELECT f.name FROM facility_memberships fm JOIN facilities f ON f.id = fm.facility_id \
                      WHERE fm.account_id = m.account_id ORDER BY f.name, f.id LIMIT 1) AS facility_name, \
                     (SELECT f.phone FROM facility_memberships fm JOIN facilities f ON f.id = fm.facility_id \
                      WHERE fm.account_id = m.account_id ORDER BY f.name, f.id LIMIT 1) AS facility_phone \
                     FROM physician_group_members m JOIN accounts a ON a.id = m.account_id \
                     WHERE m.group_id IN (SELECT g.group_id FROM physician_group_members g WHERE g.account_id = $1 OR g.account_id = $2) \
                     ORDER BY m.group_id, a.display_name, a.id",
                )
                .bind(a).bind(b).fetch_all(self.conn()).await?)
            }

            async fn insert_absence(&mut self, a: &$crate::AbsenceRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO absences (id, account_id, starts_at, ends_at, reason, note, created_by, created_at, cancelled_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
                )
                .bind(a.id).bind(a.account_id).bind(a.starts_at).bind(a.ends_at).bind(&a.reason).bind(&a.note)
                .bind(a.created_by).bind(a.created_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn absence(&mut self, id: uuid::Uuid) -> Result<Option<$crate::AbsenceRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM absences WHERE id = $1").bind(id).fetch_optional(self.conn()).await?)
            }

            async fn cancel_absence(&mut self, id: uuid::Uuid, at: time::OffsetDateTime) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query("UPDATE absences SET cancelled_at = $2 WHERE id = $1 AND cancelled_at IS NULL")
                    .bind(id).bind(at).execute(self.conn()).await?;
                Ok(done.rows_affected() > 0)
            }

            async fn absences_between(&mut self, municipality_id: uuid::Uuid, from: time::OffsetDateTime, to: time::OffsetDateTime) -> Result<Vec<$crate::AbsenceRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT b.* FROM absences b JOIN accounts a ON a.id = b.account_id \
                     WHERE a.municipality_id = $1 AND b.cancelled_at IS NULL AND b.ends_at > $2 AND b.starts_at < $3 \
                     ORDER BY b.starts_at, b.id",
                )
                .bind(municipality_id).bind(from).bind(to).fetch_all(self.conn()).await?)
            }

            async fn absences_of_accounts(
                &mut self,
                accounts: &[uuid::Uuid],
                from: time::OffsetDateTime,
                to: time::OffsetDateTime,
            ) -> Result<Vec<$crate::AbsenceRow>, $crate::StoreError> {
                if accounts.is_empty() {
                    return Ok(Vec::new());
                }
                // One index range per account (absences_by_account).
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT * FROM absences WHERE account_id IN (");
                let mut list = q.separated(", ");
                for account in accounts {
                    list.push_bind(*account);
                }
                q.push(") AND ends_at > ").push_bind(from).push(" AND cancelled_at IS NULL AND starts_at < ").push_bind(to)
                    .push(" ORDER BY starts_at, id");
                Ok(q.build_query_as().fetch_all(self.conn()).await?)
            }

            async fn absences_of(&mut self, account_id: uuid::Uuid, from: time::OffsetDateTime) -> Result<Vec<$crate::AbsenceRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM absences WHERE account_id = $1 AND ends_at > $2 ORDER BY starts_at, id")
                    .bind(account_id).bind(from).fetch_all(self.conn()).await?)
            }

            async fn upsert_shift(&mut self, s: &$crate::ShiftRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO on_call_shifts (group_id, starts_at, ends_at, kind, account_id, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (group_id, starts_at) DO UPDATE SET \
                     ends_at = excluded.ends_at, kind = excluded.kind, account_id = excluded.account_id, \
                     updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(s.group_id).bind(s.starts_at).bind(s.ends_at).bind(&s.kind).bind(s.account_id).bind(s.updated_by).bind(s.updated_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn shifts_between(&mut self, municipality_id: uuid::Uuid, group: Option<uuid::Uuid>, from: time::OffsetDateTime, to: time::OffsetDateTime) -> Result<Vec<$crate::ShiftRow>, $crate::StoreError> {
                // Two texts, not `($2 IS NULL OR s.group_id = $2)`: a plan made
                // once for both cases read every group's shifts (measured: the
                // "who answers" page scanned 32,000 shifts for one group's few).
                let sql = match group {
                    Some(_) => "SELECT s.* FROM on_call_shifts s JOIN physician_groups g ON g.id = s.group_id \
                         WHERE s.group_id = $2 AND g.municipality_id = $1 AND s.ends_at > $3 AND s.starts_at < $4 \
                         ORDER BY s.starts_at, s.group_id",
                    None => "SELECT s.* FROM on_call_shifts s JOIN physician_groups g ON g.id = s.group_id \
                         WHERE g.municipality_id = $1 AND $2 IS NULL AND s.ends_at > $3 AND s.starts_at < $4 \
                         ORDER BY s.starts_at, s.group_id",
                };
                Ok(sqlx::query_as(sql).bind(municipality_id).bind(group).bind(from).bind(to).fetch_all(self.conn()).await?)
            }

            async fn upsert_backup_beds(&mut self, b: &$crate::BackupBeds) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO backup_hospitals (facility_id, municipality_id, participates, beds_available, note, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (facility_id) DO UPDATE SET \
                     participates = excluded.participates, beds_available = excluded.beds_available, note = excluded.note, \
                     updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(b.facility_id).bind(b.municipality_id).bind(b.participates).bind(b.beds_available).bind(&b.note)
                .bind(b.updated_by).bind(b.updated_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn backup_hospitals(&mut self, municipality_id: uuid::Uuid) -> Result<Vec<$crate::BackupHospitalRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT f.id AS facility_id, f.name, f.phone, b.participates, b.beds_available, b.note, b.updated_at \
                     FROM facilities f LEFT JOIN backup_hospitals b ON b.facility_id = f.id \
                     WHERE f.municipality_id = $1 AND f.kind = 'hospital' ORDER BY f.name, f.id",
                )
                .bind(municipality_id).fetch_all(self.conn()).await?)
            }

            async fn set_patient_backup_hospital(&mut self, patient_id: uuid::Uuid, facility_id: Option<uuid::Uuid>, by: uuid::Uuid, at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                match facility_id {
                    None => {
                        sqlx::query("DELETE FROM patient_backup_hospitals WHERE patient_id = $1")
                            .bind(patient_id).execute(self.conn()).await?;
                    }
                    Some(f) => {
                        sqlx::query(
                            "INSERT INTO patient_backup_hospitals (patient_id, facility_id, set_by, set_at) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (patient_id) DO UPDATE SET facility_id = excluded.facility_id, set_by = excluded.set_by, set_at = excluded.set_at",
                        )
                        .bind(patient_id).bind(f).bind(by).bind(at).execute(self.conn()).await?;
                    }
                }
                Ok(())
            }

            async fn patient_backup_hospital(&mut self, patient_id: uuid::Uuid) -> Result<Option<uuid::Uuid>, $crate::StoreError> {
                Ok(sqlx::query_scalar("SELECT facility_id FROM patient_backup_hospitals WHERE patient_id = $1")
                    .bind(patient_id).fetch_optional(self.conn()).await?)
            }

            async fn insert_urgent_request(&mut self, r: &$crate::UrgentRequestRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO urgent_requests (id, municipality_id, patient_id, kind, note, raised_by, raised_at, state, \
                     acknowledged_by, acknowledged_at, accepted_facility_id, accepted_at, outcome, outcome_note, outcome_by, outcome_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                )
                .bind(r.id).bind(r.municipality_id).bind(r.patient_id).bind(&r.kind).bind(&r.note).bind(r.raised_by).bind(r.raised_at)
                .bind(&r.state).bind(r.acknowledged_by).bind(r.acknowledged_at).bind(r.accepted_facility_id).bind(r.accepted_at)
                .bind(&r.outcome).bind(&r.outcome_note).bind(r.outcome_by).bind(r.outcome_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn update_urgent_request(&mut self, r: &$crate::UrgentRequestRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "UPDATE urgent_requests SET state = $2, acknowledged_by = $3, acknowledged_at = $4, accepted_facility_id = $5, \
                     accepted_at = $6, outcome = $7, outcome_note = $8, outcome_by = $9, outcome_at = $10 WHERE id = $1",
                )
                .bind(r.id).bind(&r.state).bind(r.acknowledged_by).bind(r.acknowledged_at).bind(r.accepted_facility_id)
                .bind(r.accepted_at).bind(&r.outcome).bind(&r.outcome_note).bind(r.outcome_by).bind(r.outcome_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn urgent_request(&mut self, id: uuid::Uuid) -> Result<Option<$crate::UrgentRequestRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM urgent_requests WHERE id = $1").bind(id).fetch_optional(self.conn()).await?)
            }

            async fn urgent_requests_of_patient(&mut self, patient_id: uuid::Uuid, limit: i64) -> Result<Vec<$crate::UrgentRequestRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM urgent_requests WHERE patient_id = $1 ORDER BY raised_at DESC, id DESC LIMIT $2")
                    .bind(patient_id).bind(limit).fetch_all(self.conn()).await?)
            }

            async fn insert_escalation_step(&mut self, s: &$crate::EscalationStepRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO escalation_steps (id, request_id, seq, role, account_id, facility_id, due_at, fired_at, fired_by, \
                     answer, answered_at, answered_by, answer_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(s.id).bind(s.request_id).bind(s.seq).bind(&s.role).bind(s.account_id).bind(s.facility_id).bind(s.due_at)
                .bind(s.fired_at).bind(&s.fired_by).bind(&s.answer).bind(s.answered_at).bind(s.answered_by).bind(&s.answer_reason)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn escalation_steps(&mut self, request_id: uuid::Uuid) -> Result<Vec<$crate::EscalationStepRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM escalation_steps WHERE request_id = $1 ORDER BY seq")
                    .bind(request_id).fetch_all(self.conn()).await?)
            }

            async fn due_steps(&mut self, now: time::OffsetDateTime, limit: i64) -> Result<Vec<$crate::EscalationStepRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT * FROM escalation_steps WHERE fired_at IS NULL AND answer IS NULL AND due_at <= $1 \
                     ORDER BY due_at, seq LIMIT $2",
                )
                .bind(now).bind(limit).fetch_all(self.conn()).await?)
            }

            async fn claim_step(&mut self, id: uuid::Uuid, at: time::OffsetDateTime, instance: &str) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE escalation_steps SET fired_at = $2, fired_by = $3 WHERE id = $1 AND fired_at IS NULL AND answer IS NULL",
                )
                .bind(id).bind(at).bind(instance).execute(self.conn()).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn answer_step(&mut self, id: uuid::Uuid, answer: &str, at: time::OffsetDateTime, by: Option<uuid::Uuid>, reason: Option<&str>) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE escalation_steps SET answer = $2, answered_at = $3, answered_by = $4, answer_reason = $5 \
                     WHERE id = $1 AND (answer IS NULL OR answer = 'timed_out')",
                )
                .bind(id).bind(answer).bind(at).bind(by).bind(reason).execute(self.conn()).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn bring_step_forward(&mut self, id: uuid::Uuid, due_at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE escalation_steps SET due_at = $2 WHERE id = $1 AND fired_at IS NULL AND due_at > $2")
                    .bind(id).bind(due_at).execute(self.conn()).await?;
                Ok(())
            }

            async fn open_requests_of_member(&mut self, account_id: uuid::Uuid, limit: i64) -> Result<Vec<$crate::backup_system::TeamRequestRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT r.id AS request_id, r.patient_id, p.family_name, p.given_name, r.kind, r.state, r.raised_by, \
                     r.raised_at, r.acknowledged_at, a.display_name AS acknowledged_by_name \
                     FROM team_members m JOIN urgent_requests r ON r.patient_id = m.patient_id \
                     JOIN patients p ON p.id = r.patient_id LEFT JOIN accounts a ON a.id = r.acknowledged_by \
                     WHERE m.account_id = $1 AND m.left_at IS NULL AND m.team_role <> 'family' \
                     AND r.state IN ('open', 'acknowledged', 'accepted', 'unanswered') \
                     ORDER BY CASE WHEN r.state = 'unanswered' THEN 0 ELSE 1 END, r.raised_at DESC, r.id DESC LIMIT $2",
                )
                .bind(account_id).bind(limit).fetch_all(self.conn()).await?)
            }

            async fn requests_waiting_for(&mut self, account_id: uuid::Uuid, facilities: &[uuid::Uuid]) -> Result<Vec<$crate::WaitingRequestRow>, $crate::StoreError> {
                // One query per facility keeps the SQL identical on both backends
                // (no array binding); people belong to one or two facilities.
                let mut out: Vec<$crate::WaitingRequestRow> = Vec::new();
                macro_rules! waiting { ($who:literal) => { concat!(
                    "SELECT r.id AS request_id, p.family_name, p.given_name, r.kind, r.raised_at, s.role, s.fired_at \
                     FROM escalation_steps s JOIN urgent_requests r ON r.id = s.request_id \
                     JOIN patients p ON p.id = r.patient_id \
                     WHERE s.fired_at IS NOT NULL AND (s.answer IS NULL OR s.answer = 'timed_out') \
                     AND r.state IN ('open', 'unanswered') AND ", $who) } }
                let mine: Vec<$crate::WaitingRequestRow> = sqlx::query_as(waiting!("s.account_id = $1"))
                    .bind(account_id).fetch_all(self.conn()).await?;
                out.extend(mine);
                for f in facilities {
                    let theirs: Vec<$crate::WaitingRequestRow> = sqlx::query_as(waiting!("s.facility_id = $1"))
                        .bind(*f).fetch_all(self.conn()).await?;
                    out.extend(theirs);
                }
                out.sort_by_key(|r| std::cmp::Reverse(r.raised_at));
                out.dedup_by_key(|r| r.request_id);
                Ok(out)
            }

            async fn physician_assignments(&mut self, municipality_id: uuid::Uuid) -> Result<Vec<$crate::PhysicianAssignmentRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT m.patient_id, m.account_id, m.team_role FROM team_members m JOIN patients p ON p.id = m.patient_id \
                     WHERE p.municipality_id = $1 AND p.status = 'at_home' AND m.left_at IS NULL \
                     AND m.team_role IN ('primary_physician', 'backup_physician') ORDER BY m.patient_id, m.joined_at",
                )
                .bind(municipality_id).fetch_all(self.conn()).await?)
            }

            async fn enqueue_webhook(&mut self, w: &$crate::WebhookRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO webhook_outbox (id, municipality_id, event, payload, created_at, attempts, next_attempt_at, delivered_at, last_status, last_error) \
                     VALUES ($1, $2, $3, $4, $5, 0, $6, NULL, NULL, NULL)",
                )
                .bind(w.id).bind(w.municipality_id).bind(&w.event).bind(&w.payload).bind(w.created_at).bind(w.next_attempt_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn pending_webhooks(&mut self, now: time::OffsetDateTime, max_attempts: i64, limit: i64) -> Result<Vec<$crate::WebhookRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT * FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1 AND attempts < $2 \
                     ORDER BY next_attempt_at, id LIMIT $3",
                )
                .bind(now).bind(max_attempts).bind(limit).fetch_all(self.conn()).await?)
            }

            async fn record_webhook_attempt(&mut self, id: uuid::Uuid, delivered_at: Option<time::OffsetDateTime>, status: Option<i64>, error: Option<&str>, next_attempt_at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "UPDATE webhook_outbox SET attempts = attempts + 1, delivered_at = $2, last_status = $3, last_error = $4, \
                     next_attempt_at = $5 WHERE id = $1 AND delivered_at IS NULL",
                )
                .bind(id).bind(delivered_at).bind(status).bind(error).bind(next_attempt_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn webhook_deliveries(&mut self, municipality_id: uuid::Uuid, limit: i64) -> Result<Vec<$crate::WebhookRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM webhook_outbox WHERE municipality_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")
                    .bind(municipality_id).bind(limit).fetch_all(self.conn()).await?)
            }
        }
    };
}
pub(crate) use impl_backup_system_tx;
