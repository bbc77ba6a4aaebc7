//! The backup system's everyday side (item ウ): physician groups, absences,
//! on-call rosters, backup beds, "who answers now" for a patient, and the
//! coverage of the coming 30 days. The rules are in `domain::on_call`; this
//! loads rows, applies the policy once and audits.

use crate::municipalities::enforce;
use crate::record::{Loaded, load};
use crate::session::Session;
use crate::{App, AppError, RequestMeta, audit_record};
use serde_json::json;
use std::collections::HashMap;
use time::{Date, Duration, Month, OffsetDateTime};
use tsunagu_domain::ValidationError;
use tsunagu_domain::account::Profession;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::care::TeamRole;
use tsunagu_domain::holiday;
use tsunagu_domain::ids::PatientId;
use tsunagu_domain::ids::{AccountId, FacilityId, MunicipalityId};
use tsunagu_domain::on_call::{
    self, Absence, AbsenceReason, ChainInput, ChainRole, Responder, RosterProblem, Shift, SlotKind, Span,
};
use tsunagu_domain::policy::{self, Actor};
use tsunagu_domain::record_access::RecordIntent;
use tsunagu_store::{AbsenceRow, BackupBeds, GroupMemberRow, PhysicianGroupRow, ShiftRow, StoreTx};
use uuid::Uuid;

/// How far ahead the coverage view looks.
pub const COVERAGE_DAYS: i64 = 30;

/// Someone to call, as a nurse sees it at night.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponderView {
    pub role: ChainRole,
    pub account_id: Option<Uuid>,
    pub facility_id: Option<Uuid>,
    pub name: String,
    /// Where they work (physicians).
    pub place: Option<String>,
    pub phone: Option<String>,
    /// Free backup beds (hospitals).
    pub beds: Option<i64>,
}

/// A physician of the team who is away now.
#[derive(Debug, Clone, PartialEq)]
pub struct AwayView {
    pub name: String,
    pub reason: AbsenceReason,
    pub until: OffsetDateTime,
}

/// "Who answers now" for one patient.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainView {
    pub at: OffsetDateTime,
    pub responders: Vec<ResponderView>,
    pub away: Vec<AwayView>,
    /// The patient's designated backup hospital, if one is set.
    pub backup_hospital: Option<Uuid>,
}

impl ChainView {
    /// Whether some physician answers (else only hospitals, or nobody).
    pub fn has_physician(&self) -> bool {
        self.responders.iter().any(|r| r.role != ChainRole::Hospital)
    }
}

/// What the chain is built from: rows of one municipality around one moment.
pub(crate) struct ChainData {
    pub input: ChainInput,
    members: Vec<GroupMemberRow>,
    hospitals: Vec<tsunagu_store::BackupHospitalRow>,
    backup_hospital: Option<Uuid>,
}

/// Loads what "who answers" needs for a patient over `[from, to)`.
pub(crate) async fn chain_data(
    tx: &mut dyn StoreTx,
    loaded: &Loaded,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<ChainData, AppError> {
    let municipality = loaded.row.municipality_id;
    let active = loaded.team.iter().filter(|m| m.left_at.is_none());
    let with_role =
        |role: TeamRole| active.clone().filter(move |m| m.team_role == role.code()).map(|m| AccountId(m.account_id));
    let primary = with_role(TeamRole::PrimaryPhysician).next();
    let backup: Vec<AccountId> = with_role(TeamRole::BackupPhysician).collect();
    let members = tx.members_of_groups_with(primary.map(|p| p.0), backup.first().map(|b| b.0)).await?;
    let groups = groups_for(&members, primary, &backup);
    let mut shifts = Vec::new();
    for g in &groups {
        shifts.extend(tx.shifts_between(municipality, Some(*g), from, to).await?.iter().map(shift_of));
    }
    // Only the absences of those who could answer: the primary, the backups,
    // their groups' members and whoever holds a shift (not the whole municipality's).
    let mut concerned: Vec<Uuid> = primary.iter().chain(&backup).map(|a| a.0).collect();
    concerned.extend(members.iter().map(|m| m.account_id));
    concerned.extend(shifts.iter().filter_map(|s: &Shift| s.physician.map(|p| p.0)));
    concerned.sort();
    concerned.dedup();
    let absences = tx.absences_of_accounts(&concerned, from, to).await?.iter().filter_map(absence_of).collect();
    let backup_hospital = tx.patient_backup_hospital(loaded.row.id).await?;
    let hospitals = tx.backup_hospitals(municipality).await?;
    let input =
        ChainInput { primary, backup, shifts, absences, hospitals: hospital_order(&hospitals, backup_hospital) };
    Ok(ChainData { input, members, hospitals, backup_hospital })
}

/// The groups whose on-call physician covers a patient: the primary's groups,
/// or (a primary outside any group) the backup's.
fn groups_for(members: &[GroupMemberRow], primary: Option<AccountId>, backup: &[AccountId]) -> Vec<Uuid> {
    let of = |a: AccountId| members.iter().filter(move |m| m.account_id == a.0).map(|m| m.group_id);
    let mut groups: Vec<Uuid> = primary.into_iter().flat_map(of).collect();
    if groups.is_empty() {
        groups = backup.iter().flat_map(|b| of(*b)).collect();
    }
    groups.sort();
    groups.dedup();
    groups
}

/// The designated hospital first, then those taking part, most free beds first.
fn hospital_order(hospitals: &[tsunagu_store::BackupHospitalRow], designated: Option<Uuid>) -> Vec<FacilityId> {
    let mut taking_part: Vec<&tsunagu_store::BackupHospitalRow> =
        hospitals.iter().filter(|h| h.participates == Some(true)).collect();
    taking_part.sort_by_key(|h| std::cmp::Reverse(h.beds_available.unwrap_or(0)));
    designated.into_iter().chain(taking_part.iter().map(|h| h.facility_id)).map(FacilityId).collect()
}

pub(crate) fn shift_of(r: &ShiftRow) -> Shift {
    Shift { span: Span { start: r.starts_at, end: r.ends_at }, physician: r.account_id.map(AccountId) }
}

pub(crate) fn absence_of(r: &AbsenceRow) -> Option<Absence> {
    Some(Absence {
        account: AccountId(r.account_id),
        span: Span { start: r.starts_at, end: r.ends_at },
        reason: AbsenceReason::parse(&r.reason).ok()?,
    })
}

impl ChainData {
    /// The chain at `at`, with names and numbers.
    pub(crate) fn view(&self, loaded: &Loaded, at: OffsetDateTime) -> ChainView {
        let responders =
            on_call::who_answers(&self.input, at).iter().map(|l| self.describe(loaded, l.role, l.responder)).collect();
        let team_physicians = self.input.primary.into_iter().chain(self.input.backup.iter().copied());
        let away = team_physicians
            .filter_map(|p| {
                let a = on_call::absence_at(p, &self.input.absences, at)?;
                let name = self.describe(loaded, ChainRole::Primary, Responder::Physician(p)).name;
                Some(AwayView { name, reason: a.reason, until: a.span.end })
            })
            .collect();
        ChainView { at, responders, away, backup_hospital: self.backup_hospital }
    }

    pub(crate) fn describe(&self, loaded: &Loaded, role: ChainRole, responder: Responder) -> ResponderView {
        match responder {
            Responder::Physician(p) => {
                let team = loaded.team.iter().find(|m| m.account_id == p.0);
                // Of the physician's groups, one that holds an on-call number.
                let mut memberships = self.members.iter().filter(|m| m.account_id == p.0);
                let group = memberships.clone().find(|m| m.phone.is_some()).or_else(|| memberships.next());
                let name = team.map(|m| m.display_name.clone()).or_else(|| group.map(|m| m.display_name.clone()));
                let place =
                    team.and_then(|m| m.facility_name.clone()).or_else(|| group.and_then(|m| m.facility_name.clone()));
                // The number given for on-call duty comes first: a clinic's line is not answered at night.
                let phone = group
                    .and_then(|m| m.phone.clone())
                    .or_else(|| team.and_then(|m| m.facility_phone.clone()))
                    .or_else(|| group.and_then(|m| m.facility_phone.clone()));
                ResponderView {
                    role,
                    account_id: Some(p.0),
                    facility_id: None,
                    name: name.unwrap_or_default(),
                    place,
                    phone,
                    beds: None,
                }
            }
            Responder::Hospital(h) => {
                let row = self.hospitals.iter().find(|r| r.facility_id == h.0);
                ResponderView {
                    role,
                    account_id: None,
                    facility_id: Some(h.0),
                    name: row.map(|r| r.name.clone()).unwrap_or_default(),
                    place: None,
                    phone: row.and_then(|r| r.phone.clone()),
                    beds: row.and_then(|r| r.beds_available),
                }
            }
        }
    }
}

/// A physician group, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSummary {
    pub id: Uuid,
    pub name: String,
    pub area: String,
    pub coordinator: Option<String>,
    pub members: usize,
    /// Roster holes in the coming 30 days.
    pub holes: usize,
}

/// A hospital and its backup beds.
#[derive(Debug, Clone, PartialEq)]
pub struct HospitalView {
    pub facility_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub participates: bool,
    pub beds_available: i64,
    pub note: String,
    pub updated_at: Option<OffsetDateTime>,
    pub can_update: bool,
}

/// The backup system's front page.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupOverview {
    pub groups: Vec<GroupSummary>,
    pub hospitals: Vec<HospitalView>,
    pub can_create_group: bool,
    /// Support clinics (distinct facilities of group members), against the programme's goal.
    pub clinics_in_groups: usize,
    pub physicians_in_groups: usize,
}

/// One slot of a month's roster.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotView {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub date: Date,
    pub kind: SlotKind,
    pub holiday: Option<&'static str>,
    pub physician: Option<Uuid>,
    pub physician_name: Option<String>,
    /// What is wrong with it: "hole", "absent" or "not_in_group".
    pub problem: Option<&'static str>,
}

/// A group member and their load.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberView {
    pub account_id: Uuid,
    pub login_id: String,
    pub name: String,
    pub place: Option<String>,
    pub phone: Option<String>,
    pub as_primary: usize,
    pub as_backup: usize,
    pub shifts_this_month: usize,
}

/// A stretch of the coming days in which some patients would have no physician.
#[derive(Debug, Clone, PartialEq)]
pub struct GapView {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    /// How many patients (no names: the coverage view is for the whole group).
    pub patients: usize,
    pub primary: Option<String>,
    pub backup: Option<String>,
}

/// A group's page: members and their load, the month's roster, the coverage gaps.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPage {
    pub id: Uuid,
    pub name: String,
    pub area: String,
    pub coordinator: Option<String>,
    pub members: Vec<MemberView>,
    pub year: i32,
    pub month: Month,
    pub slots: Vec<SlotView>,
    pub holes: usize,
    pub conflicts: usize,
    pub gaps: Vec<GapView>,
    pub can_manage: bool,
    pub upcoming_absences: Vec<AbsenceView>,
}

/// An absence as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct AbsenceView {
    pub id: Uuid,
    pub name: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub reason: AbsenceReason,
    pub note: String,
    pub cancelled: bool,
}

/// The form for a group.
#[derive(Debug, Clone, Default)]
pub struct GroupForm<'a> {
    pub name: &'a str,
    pub area: &'a str,
    pub coordinator_login: &'a str,
}

/// The form for an absence.
#[derive(Debug, Clone, Default)]
pub struct AbsenceForm<'a> {
    /// Empty: oneself.
    pub physician: &'a str,
    pub starts_at: &'a str,
    pub ends_at: &'a str,
    pub reason: &'a str,
    pub note: &'a str,
}

fn municipality_of(actor: &Actor) -> Result<MunicipalityId, AppError> {
    actor.municipality_id.ok_or(AppError::NotFound)
}

fn today_month(now: OffsetDateTime) -> (i32, Month) {
    let d = now.to_offset(tsunagu_domain::clock::JST).date();
    (d.year(), d.month())
}

impl App {
    async fn group_in(&self, tx: &mut dyn StoreTx, actor: &Actor, group: Uuid) -> Result<PhysicianGroupRow, AppError> {
        let row = tx.physician_group(group).await?.ok_or(AppError::NotFound)?;
        enforce(policy::view_backup_system(actor, MunicipalityId(row.municipality_id)))?;
        Ok(row)
    }

    /// Groups, backup hospitals and their beds.
    pub async fn backup_overview(&self, session: &Session) -> Result<BackupOverview, AppError> {
        let actor = session.actor()?;
        let municipality = municipality_of(&actor)?;
        enforce(policy::view_backup_system(&actor, municipality))?;
        let now = self.now();
        let mut tx = self.store.begin_read().await?;
        let groups = tx.physician_groups(municipality.0).await?;
        let members = tx.group_members(municipality.0, None).await?;
        let shifts = tx.shifts_between(municipality.0, None, now, now + Duration::days(COVERAGE_DAYS)).await?;
        let hospitals = tx.backup_hospitals(municipality.0).await?;
        let accounts = tx.accounts(Some(municipality.0)).await?;
        let memberships = tx.memberships_in_municipality(municipality.0).await?;
        drop(tx);
        let name_of = |id: Uuid| accounts.iter().find(|a| a.id == id).map(|a| a.display_name.clone());
        let window = Span { start: now, end: now + Duration::days(COVERAGE_DAYS) };
        let summaries = groups
            .iter()
            .map(|g| {
                let filled = shifts.iter().filter(|s| s.group_id == g.id && s.account_id.is_some()).map(shift_of);
                let holes =
                    coming_slots(window).filter(|slot| !filled.clone().any(|s| s.span.start == slot.start)).count();
                GroupSummary {
                    id: g.id,
                    name: g.name.clone(),
                    area: g.area.clone(),
                    coordinator: g.coordinator_id.and_then(name_of),
                    members: members.iter().filter(|m| m.group_id == g.id).count(),
                    holes,
                }
            })
            .collect();
        let mut physicians: Vec<Uuid> = members.iter().map(|m| m.account_id).collect();
        physicians.sort();
        physicians.dedup();
        let mut clinics: Vec<Uuid> =
            memberships.iter().filter(|m| physicians.contains(&m.account_id)).map(|m| m.facility_id).collect();
        clinics.sort();
        clinics.dedup();
        Ok(BackupOverview {
            groups: summaries,
            hospitals: hospitals
                .into_iter()
                .map(|h| HospitalView {
                    can_update: policy::update_backup_beds(&actor, municipality, FacilityId(h.facility_id))
                        .is_allowed(),
                    facility_id: h.facility_id,
                    name: h.name,
                    phone: h.phone,
                    participates: h.participates.unwrap_or(false),
                    beds_available: h.beds_available.unwrap_or(0),
                    note: h.note.unwrap_or_default(),
                    updated_at: h.updated_at,
                })
                .collect(),
            can_create_group: policy::create_physician_group(&actor, municipality).is_allowed(),
            clinics_in_groups: clinics.len(),
            physicians_in_groups: physicians.len(),
        })
    }

    /// Creates a physician group (by area or by agreement) with its coordinator.
    pub async fn create_physician_group(
        &self,
        session: &Session,
        form: &GroupForm<'_>,
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        let actor = session.actor()?;
        let municipality = municipality_of(&actor)?;
        enforce(policy::create_physician_group(&actor, municipality))?;
        let name = tsunagu_domain::text::required("name", form.name, 60)?;
        let area = tsunagu_domain::text::optional("area", form.area, 60)?.unwrap_or_default();
        let mut tx = self.begin().await?;
        let coordinator = match form.coordinator_login.trim() {
            "" => None,
            login => Some(self.colleague_in(tx.as_mut(), municipality, login, "coordinator").await?.0),
        };
        let now = self.now();
        let row = PhysicianGroupRow {
            id: Uuid::now_v7(),
            municipality_id: municipality.0,
            name,
            area,
            coordinator_id: coordinator,
            created_at: now,
        };
        tx.insert_physician_group(&row).await?;
        let who = session.audit_actor(meta);
        let details = json!({ "name": row.name, "coordinator": coordinator });
        let record = audit_record(
            now,
            Some(municipality),
            &who,
            AuditAction::PhysicianGroupCreated,
            "physician_group",
            Some(row.id),
            details,
        );
        tx.append_audit(&record).await?;
        tx.commit().await?;
        Ok(row.id)
    }

    /// An active account of the municipality by login id (`field` names the form field).
    async fn colleague_in(
        &self,
        tx: &mut dyn StoreTx,
        municipality: MunicipalityId,
        login: &str,
        field: &'static str,
    ) -> Result<(Uuid, Profession), AppError> {
        let login = login.split(" — ").next().unwrap_or_default().trim();
        let row = tx.account_by_login(login).await?.filter(|a| a.municipality_id == Some(municipality.0));
        let row = row
            .filter(|a| a.status == tsunagu_domain::account::AccountStatus::Active)
            .ok_or(ValidationError::new(field, "unknown"))?;
        let profession = row.profession;
        Ok((row.id, profession))
    }

    /// Adds a physician to a group (or changes their on-call number).
    pub async fn add_group_member(
        &self,
        session: &Session,
        group: Uuid,
        login: &str,
        phone: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let phone = match phone.trim() {
            "" => None,
            raw => Some(tsunagu_domain::facility::PhoneNumber::parse(raw)?.as_str().to_owned()),
        };
        let mut tx = self.begin().await?;
        let row = self.group_in(tx.as_mut(), &actor, group).await?;
        let municipality = MunicipalityId(row.municipality_id);
        enforce(policy::manage_physician_group(&actor, municipality, row.coordinator_id.map(AccountId)))?;
        let (account, profession) = self.colleague_in(tx.as_mut(), municipality, login, "login_id").await?;
        if profession != Profession::Physician {
            return Err(ValidationError::new("login_id", "not_a_physician").into());
        }
        let now = self.now();
        tx.upsert_group_member(group, account, phone.as_deref(), now).await?;
        let who = session.audit_actor(meta);
        let details = json!({ "added": account, "phone_given": phone.is_some() });
        let record = audit_record(
            now,
            Some(municipality),
            &who,
            AuditAction::PhysicianGroupChanged,
            "physician_group",
            Some(group),
            details,
        );
        tx.append_audit(&record).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_group_member(
        &self,
        session: &Session,
        group: Uuid,
        account: Uuid,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let mut tx = self.begin().await?;
        let row = self.group_in(tx.as_mut(), &actor, group).await?;
        let municipality = MunicipalityId(row.municipality_id);
        enforce(policy::manage_physician_group(&actor, municipality, row.coordinator_id.map(AccountId)))?;
        if !tx.remove_group_member(group, account).await? {
            return Err(AppError::NotFound);
        }
        let who = session.audit_actor(meta);
        let record = audit_record(
            self.now(),
            Some(municipality),
            &who,
            AuditAction::PhysicianGroupChanged,
            "physician_group",
            Some(group),
            json!({ "removed": account }),
        );
        tx.append_audit(&record).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A group's page for a month (`YYYY-MM`, empty: this month).
    pub async fn group_page(&self, session: &Session, group: Uuid, month: &str) -> Result<GroupPage, AppError> {
        let actor = session.actor()?;
        let now = self.now();
        let (year, month) = match month.trim() {
            "" => today_month(now),
            raw => on_call::parse_month(raw)?,
        };
        let span = on_call::month_span(year, month).ok_or(ValidationError::new("month", "format"))?;
        let mut tx = self.store.begin_read().await?;
        let row = self.group_in(tx.as_mut(), &actor, group).await?;
        let municipality = MunicipalityId(row.municipality_id);
        let all_members = tx.group_members(municipality.0, None).await?;
        let members: Vec<GroupMemberRow> = all_members.iter().filter(|m| m.group_id == group).cloned().collect();
        let horizon = now + Duration::days(COVERAGE_DAYS);
        let (from, to) = (span.start.min(now), span.end.max(horizon));
        let absences = tx.absences_between(municipality.0, from - Duration::days(1), to).await?;
        let shifts = tx.shifts_between(municipality.0, None, from - Duration::days(1), to).await?;
        let assignments = tx.physician_assignments(municipality.0).await?;
        let coordinator = match row.coordinator_id {
            Some(c) => tx.account(c).await?.map(|a| a.display_name),
            None => None,
        };
        drop(tx);
        let member_ids: Vec<AccountId> = members.iter().map(|m| AccountId(m.account_id)).collect();
        let domain_absences: Vec<Absence> = absences.iter().filter_map(absence_of).collect();
        let month_shifts = month_roster(group, year, month, &shifts);
        let problems = on_call::check_roster(&month_shifts, &member_ids, &domain_absences);
        let name_of = |id: Uuid| all_members.iter().find(|m| m.account_id == id).map(|m| m.display_name.clone());
        let slots: Vec<SlotView> = on_call::roster_slots(year, month)
            .iter()
            .zip(&month_shifts)
            .map(|(slot, shift)| SlotView {
                start: slot.span.start,
                end: slot.span.end,
                date: slot.date,
                kind: slot.kind,
                holiday: holiday::holiday(slot.date).map(|h| h.name_ja()),
                physician: shift.physician.map(|p| p.0),
                physician_name: shift.physician.and_then(|p| name_of(p.0)),
                problem: problems.iter().find(|p| problem_slot(p) == slot.span).map(problem_code),
            })
            .collect();
        let holes = problems.iter().filter(|p| matches!(p, RosterProblem::Hole { .. })).count();
        let gaps =
            group_gaps(group, &all_members, &assignments, &shifts, &domain_absences, Span { start: now, end: horizon });
        let member_views = members
            .iter()
            .map(|m| MemberView {
                account_id: m.account_id,
                login_id: m.login_id.clone(),
                name: m.display_name.clone(),
                place: m.facility_name.clone(),
                phone: m.phone.clone().or_else(|| m.facility_phone.clone()),
                as_primary: assignments
                    .iter()
                    .filter(|a| a.account_id == m.account_id && a.team_role == TeamRole::PrimaryPhysician.code())
                    .count(),
                as_backup: assignments
                    .iter()
                    .filter(|a| a.account_id == m.account_id && a.team_role == TeamRole::BackupPhysician.code())
                    .count(),
                shifts_this_month: month_shifts.iter().filter(|s| s.physician == Some(AccountId(m.account_id))).count(),
            })
            .collect();
        let upcoming_absences = absences
            .iter()
            .filter(|a| member_ids.contains(&AccountId(a.account_id)) && a.ends_at > now)
            .filter_map(|a| absence_view(a, name_of(a.account_id).unwrap_or_default()))
            .collect();
        Ok(GroupPage {
            id: row.id,
            name: row.name,
            area: row.area,
            coordinator,
            members: member_views,
            year,
            month,
            holes,
            conflicts: problems.len() - holes,
            slots,
            gaps,
            can_manage: policy::manage_physician_group(&actor, municipality, row.coordinator_id.map(AccountId))
                .is_allowed(),
            upcoming_absences,
        })
    }

    /// Saves a month's roster: `assignments` maps each slot's start (unix
    /// seconds) to a member's account id, or to nothing (a hole). With `fill`,
    /// the remaining holes are then filled in turn among the members.
    pub async fn save_roster(
        &self,
        session: &Session,
        group: Uuid,
        month: &str,
        assignments: &[(i64, Option<Uuid>)],
        fill: bool,
        meta: &RequestMeta,
    ) -> Result<usize, AppError> {
        let actor = session.actor()?;
        let (year, month) = on_call::parse_month(month)?;
        let span = on_call::month_span(year, month).ok_or(ValidationError::new("month", "format"))?;
        let mut tx = self.begin().await?;
        let row = self.group_in(tx.as_mut(), &actor, group).await?;
        let municipality = MunicipalityId(row.municipality_id);
        enforce(policy::manage_physician_group(&actor, municipality, row.coordinator_id.map(AccountId)))?;
        let members: Vec<AccountId> =
            tx.group_members(municipality.0, Some(group)).await?.iter().map(|m| AccountId(m.account_id)).collect();
        let existing = tx.shifts_between(municipality.0, Some(group), span.start, span.end + Duration::days(1)).await?;
        let mut roster = month_roster(group, year, month, &existing);
        for (start, physician) in assignments {
            let at =
                OffsetDateTime::from_unix_timestamp(*start).map_err(|_| ValidationError::new("slot", "unknown"))?;
            let shift =
                roster.iter_mut().find(|s| s.span.start == at).ok_or(ValidationError::new("slot", "unknown"))?;
            let physician = physician.map(AccountId);
            if physician.is_some_and(|p| !members.contains(&p)) {
                return Err(ValidationError::new("physician", "not_in_group").into());
            }
            shift.physician = physician;
        }
        if fill {
            let absences: Vec<Absence> = tx
                .absences_between(municipality.0, span.start, span.end + Duration::days(1))
                .await?
                .iter()
                .filter_map(absence_of)
                .collect();
            roster = on_call::fill_holes(&roster, &members, &absences);
        }
        let now = self.now();
        let slots = on_call::roster_slots(year, month);
        let mut changed = 0;
        for (slot, shift) in slots.iter().zip(&roster) {
            let before = existing.iter().find(|e| e.starts_at == slot.span.start).and_then(|e| e.account_id);
            if before == shift.physician.map(|p| p.0) && existing.iter().any(|e| e.starts_at == slot.span.start) {
                continue;
            }
            if before.is_none() && shift.physician.is_none() {
                continue;
            }
            tx.upsert_shift(&ShiftRow {
                group_id: group,
                starts_at: slot.span.start,
                ends_at: slot.span.end,
                kind: slot.kind.code().to_owned(),
                account_id: shift.physician.map(|p| p.0),
                updated_by: actor.account_id.0,
                updated_at: now,
            })
            .await?;
            changed += 1;
        }
        if changed > 0 {
            let who = session.audit_actor(meta);
            let details = json!({ "month": format!("{year:04}-{:02}", u8::from(month)), "slots_changed": changed, "filled": fill });
            let record = audit_record(
                now,
                Some(municipality),
                &who,
                AuditAction::RosterChanged,
                "physician_group",
                Some(group),
                details,
            );
            tx.append_audit(&record).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// One's own absences (and, for a coordinator, nobody else's here: see the group page).
    pub async fn my_absences(&self, session: &Session) -> Result<Vec<AbsenceView>, AppError> {
        let actor = session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let rows = tx.absences_of(actor.account_id.0, self.now() - Duration::days(1)).await?;
        Ok(rows.iter().filter_map(|r| absence_view(r, session.account.display_name.clone())).collect())
    }

    /// Records an absence of oneself, or (coordinators) of a group member.
    pub async fn record_absence(
        &self,
        session: &Session,
        form: &AbsenceForm<'_>,
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        let actor = session.actor()?;
        let municipality = municipality_of(&actor)?;
        let start = on_call::parse_local_datetime("starts_at", form.starts_at)?;
        let end = on_call::parse_local_datetime("ends_at", form.ends_at)?;
        let span = Span::parse(start, end)?;
        let reason =
            AbsenceReason::parse(form.reason.trim()).map_err(|_| ValidationError::new("absence_reason", "unknown"))?;
        let note = tsunagu_domain::text::optional("note", form.note, 200)?.unwrap_or_default();
        let mut tx = self.begin().await?;
        let physician = match form.physician.trim() {
            "" => actor.account_id.0,
            raw => Uuid::parse_str(raw).map_err(|_| ValidationError::new("physician", "unknown"))?,
        };
        let coordinators = self.coordinators_of(tx.as_mut(), municipality, physician).await?;
        enforce(policy::record_absence(&actor, municipality, AccountId(physician), &coordinators))?;
        let target = tx.account(physician).await?.filter(|a| a.municipality_id == Some(municipality.0));
        target.ok_or(ValidationError::new("physician", "unknown"))?;
        let now = self.now();
        let row = AbsenceRow {
            id: Uuid::now_v7(),
            account_id: physician,
            starts_at: span.start,
            ends_at: span.end,
            reason: reason.code().to_owned(),
            note,
            created_by: actor.account_id.0,
            created_at: now,
            cancelled_at: None,
        };
        tx.insert_absence(&row).await?;
        let who = session.audit_actor(meta);
        let details =
            json!({ "physician": physician, "reason": reason.code(), "starts_at": span.start, "ends_at": span.end });
        let record =
            audit_record(now, Some(municipality), &who, AuditAction::AbsenceRecorded, "absence", Some(row.id), details);
        tx.append_audit(&record).await?;
        tx.commit().await?;
        Ok(row.id)
    }

    pub async fn cancel_absence(&self, session: &Session, absence: Uuid, meta: &RequestMeta) -> Result<(), AppError> {
        let actor = session.actor()?;
        let municipality = municipality_of(&actor)?;
        let mut tx = self.begin().await?;
        let row = tx.absence(absence).await?.ok_or(AppError::NotFound)?;
        let coordinators = self.coordinators_of(tx.as_mut(), municipality, row.account_id).await?;
        let owner = tx.account(row.account_id).await?.and_then(|a| a.municipality_id);
        if owner != Some(municipality.0) {
            return Err(AppError::NotFound);
        }
        enforce(policy::record_absence(&actor, municipality, AccountId(row.account_id), &coordinators))?;
        let now = self.now();
        if tx.cancel_absence(absence, now).await? {
            let who = session.audit_actor(meta);
            let record = audit_record(
                now,
                Some(municipality),
                &who,
                AuditAction::AbsenceCancelled,
                "absence",
                Some(absence),
                json!({ "physician": row.account_id }),
            );
            tx.append_audit(&record).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn coordinators_of(
        &self,
        tx: &mut dyn StoreTx,
        municipality: MunicipalityId,
        physician: Uuid,
    ) -> Result<Vec<AccountId>, AppError> {
        let members = tx.group_members(municipality.0, None).await?;
        let groups: Vec<Uuid> = members.iter().filter(|m| m.account_id == physician).map(|m| m.group_id).collect();
        let mut out = Vec::new();
        for g in groups {
            if let Some(c) = tx.physician_group(g).await?.and_then(|g| g.coordinator_id) {
                out.push(AccountId(c));
            }
        }
        Ok(out)
    }

    /// A hospital's staff keep its backup beds current.
    pub async fn update_backup_beds(
        &self,
        session: &Session,
        hospital: Uuid,
        participates: bool,
        beds: &str,
        note: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let beds: i64 = beds.trim().parse().map_err(|_| ValidationError::new("beds_available", "number"))?;
        if !(0..=500).contains(&beds) {
            return Err(ValidationError::new("beds_available", "range").into());
        }
        let note = tsunagu_domain::text::optional("note", note, 200)?.unwrap_or_default();
        let mut tx = self.begin().await?;
        let facility = tx.facility(hospital).await?.ok_or(AppError::NotFound)?;
        let municipality = MunicipalityId(facility.municipality_id);
        enforce(policy::update_backup_beds(&actor, municipality, FacilityId(hospital)))?;
        if facility.kind != tsunagu_domain::facility::FacilityKind::Hospital {
            return Err(ValidationError::new("facility", "not_a_hospital").into());
        }
        let now = self.now();
        tx.upsert_backup_beds(&BackupBeds {
            facility_id: hospital,
            municipality_id: municipality.0,
            participates,
            beds_available: beds,
            note,
            updated_by: actor.account_id.0,
            updated_at: now,
        })
        .await?;
        let who = session.audit_actor(meta);
        let details = json!({ "participates": participates, "beds_available": beds });
        let record = audit_record(
            now,
            Some(municipality),
            &who,
            AuditAction::BackupBedsUpdated,
            "facility",
            Some(hospital),
            details,
        );
        tx.append_audit(&record).await?;
        tx.commit().await?;
        Ok(())
    }

    /// "Who answers now" (or at `at`) for a patient, with phone numbers; audited.
    pub async fn who_answers(
        &self,
        session: &Session,
        patient: PatientId,
        at: Option<OffsetDateTime>,
        meta: &RequestMeta,
    ) -> Result<ChainView, AppError> {
        let patient = patient.0;
        let at = at.unwrap_or_else(|| self.now());
        let mut tx = self.store.begin_read().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        let decided = self.decide(RecordIntent::ReadTeamOnly, &loaded, session, meta)?;
        // A moment so far off that a day either side is no date at all is bad input, not a panic.
        let (from, until) = at
            .checked_sub(Duration::days(1))
            .zip(at.checked_add(Duration::days(1)))
            .ok_or(tsunagu_domain::ValidationError::new("at", "out_of_range"))?;
        let data = chain_data(tx.as_mut(), &loaded, from, until).await?;
        drop(tx);
        let view = data.view(&loaded, at);
        let mut tx = self.begin().await?;
        let event = decided.patient_event(self.now(), AuditAction::ResponderChainViewed, json!({ "at": at }));
        self.audit(tx.as_mut(), &decided, event).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Sets (or clears) the hospital that takes this patient back first.
    pub async fn set_backup_hospital(
        &self,
        session: &Session,
        patient: PatientId,
        hospital: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let patient = patient.0;
        let actor = session.actor()?;
        let hospital = match hospital.trim() {
            "" => None,
            raw => Some(Uuid::parse_str(raw).map_err(|_| ValidationError::new("hospital", "unknown"))?),
        };
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        let decided = self.decide(RecordIntent::ActForTeam, &loaded, session, meta)?;
        if let Some(h) = hospital {
            let f = tx.facility(h).await?;
            if f.is_none_or(|f| {
                f.kind != tsunagu_domain::facility::FacilityKind::Hospital
                    || f.municipality_id != loaded.row.municipality_id
            }) {
                return Err(ValidationError::new("hospital", "unknown").into());
            }
        }
        let now = self.now();
        tx.set_patient_backup_hospital(patient, hospital, actor.account_id.0, now).await?;
        let event = decided.patient_event(now, AuditAction::BackupHospitalSet, json!({ "hospital": hospital }));
        self.audit(tx.as_mut(), &decided, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Hospitals of the municipality (to pick a patient's backup hospital).
    pub async fn hospitals(&self, session: &Session) -> Result<Vec<(Uuid, String)>, AppError> {
        let actor = session.actor()?;
        let municipality = municipality_of(&actor)?;
        let mut tx = self.store.begin_read().await?;
        Ok(tx.backup_hospitals(municipality.0).await?.into_iter().map(|h| (h.facility_id, h.name)).collect())
    }
}

fn absence_view(r: &AbsenceRow, name: String) -> Option<AbsenceView> {
    Some(AbsenceView {
        id: r.id,
        name,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        reason: AbsenceReason::parse(&r.reason).ok()?,
        note: r.note.clone(),
        cancelled: r.cancelled_at.is_some(),
    })
}

/// The month's slots with their assignments from the stored shifts of `group`.
fn month_roster(group: Uuid, year: i32, month: Month, shifts: &[ShiftRow]) -> Vec<Shift> {
    on_call::roster_slots(year, month)
        .iter()
        .map(|slot| Shift {
            span: slot.span,
            physician: shifts
                .iter()
                .find(|s| s.group_id == group && s.starts_at == slot.span.start)
                .and_then(|s| s.account_id)
                .map(AccountId),
        })
        .collect()
}

/// Roster slots whose start falls in `window`.
fn coming_slots(window: Span) -> impl Iterator<Item = Span> + Clone {
    let (y0, m0) = today_month(window.start);
    let next = if m0 == Month::December { (y0 + 1, Month::January) } else { (y0, m0.next()) };
    let after = if next.1 == Month::December { (next.0 + 1, Month::January) } else { (next.0, next.1.next()) };
    [(y0, m0), next, after]
        .into_iter()
        .flat_map(|(y, m)| on_call::roster_slots(y, m))
        .map(|s| s.span)
        .filter(move |s| window.contains(s.start))
}

fn problem_slot(p: &RosterProblem) -> Span {
    match p {
        RosterProblem::Hole { slot } | RosterProblem::Absent { slot, .. } | RosterProblem::NotInGroup { slot, .. } => {
            *slot
        }
    }
}

fn problem_code(p: &RosterProblem) -> &'static str {
    match p {
        RosterProblem::Hole { .. } => "hole",
        RosterProblem::Absent { .. } => "absent",
        RosterProblem::NotInGroup { .. } => "not_in_group",
    }
}

/// The coverage gaps of the patients a group's members care for, grouped by
/// their primary and backup physicians (no patient is named).
fn group_gaps(
    group: Uuid,
    members: &[GroupMemberRow],
    assignments: &[tsunagu_store::PhysicianAssignmentRow],
    shifts: &[ShiftRow],
    absences: &[Absence],
    window: Span,
) -> Vec<GapView> {
    let in_group: Vec<Uuid> = members.iter().filter(|m| m.group_id == group).map(|m| m.account_id).collect();
    let mut teams: HashMap<Uuid, (Option<AccountId>, Vec<AccountId>)> = HashMap::new();
    for a in assignments {
        let team = teams.entry(a.patient_id).or_default();
        if a.team_role == TeamRole::PrimaryPhysician.code() {
            team.0.get_or_insert(AccountId(a.account_id));
        } else {
            team.1.push(AccountId(a.account_id));
        }
    }
    let mut by_gap: HashMap<(OffsetDateTime, OffsetDateTime, Option<Uuid>, Option<Uuid>), usize> = HashMap::new();
    for (primary, backup) in teams.values() {
        let ours = primary.iter().chain(backup).any(|p| in_group.contains(&p.0));
        if !ours {
            continue;
        }
        let groups = groups_for(members, *primary, backup);
        let input = ChainInput {
            primary: *primary,
            backup: backup.clone(),
            shifts: shifts.iter().filter(|s| groups.contains(&s.group_id)).map(shift_of).collect(),
            absences: absences.to_vec(),
            hospitals: Vec::new(),
        };
        for gap in on_call::coverage_gaps(&input, window) {
            let key = (gap.span.start, gap.span.end, primary.map(|p| p.0), backup.first().map(|b| b.0));
            *by_gap.entry(key).or_default() += 1;
        }
    }
    let name_of = |id: Option<Uuid>| {
        id.and_then(|id| members.iter().find(|m| m.account_id == id)).map(|m| m.display_name.clone())
    };
    let mut gaps: Vec<GapView> = by_gap
        .into_iter()
        .map(|((start, end, p, b), patients)| GapView { start, end, patients, primary: name_of(p), backup: name_of(b) })
        .collect();
    gaps.sort_by_key(|g| (g.start, g.end));
    gaps
}
