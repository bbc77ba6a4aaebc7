//! The care-team information-sharing system: patients, consent, care teams,
//! the timeline, read receipts. Every read and write of patient data checks
//! the patient policy once and appends its audit event in the same transaction.

use crate::cache::timelines::KeptTimeline;
use crate::municipalities::enforce;
pub(crate) use crate::refusals::Decided;
use crate::sessions::Session;
use crate::{App, AppError, AuditActor, RequestMeta, audit_record};
use serde_json::json;
use std::sync::Arc;
use time::{Date, OffsetDateTime};
use tsunagu_domain::ValidationError;
use tsunagu_domain::account::{AccountStatus, LoginId, Profession};
use tsunagu_domain::audit::{AuditAction, AuditRecord};
use tsunagu_domain::care::{Audience, EntryDraft, EntryKind, TeamRole, VitalSigns, VitalsForm, visible_audiences};
use tsunagu_domain::clock::JST;
use tsunagu_domain::ids::{AccountId, EntryId, FacilityId, MunicipalityId, PatientId};
use tsunagu_domain::patient::{
    AdvanceCarePlan, AdvanceCarePlanForm, CareLevel, ConsentDetails, PatientDetails, PatientForm, PatientStatus, Place,
    Sex, SpecialCare, StatusChange, TreatmentWish, age,
};
use tsunagu_domain::policy::{self, Actor, ConsentState, PatientScope, TeamChange, TeamSeat};
use tsunagu_domain::text::search_key;
use tsunagu_store::{
    AcpRow, BreakGlassRow, ConsentRow, EntryRead, MemberPatientRow, NewEntry, NewEntryVersion, NewNotification,
    NewTeamMember, PatientRead, PatientRow, ReadTrace, StoreTx, TeamMemberRow, TimelineFilter, TimelineRow,
};
use uuid::Uuid;

mod acp;
mod caseload;
mod consent;
mod emergency;
mod team;
mod timeline;
mod views;

pub(crate) use acp::*;
pub(crate) use caseload::*;
pub use consent::*;
pub use emergency::*;
pub(crate) use team::*;
pub use timeline::*;
pub use views::*;

fn corrupt(what: &str, value: &str) -> AppError {
    AppError::Store(tsunagu_store::StoreError::Corrupt(format!("{what} {value:?}")))
}

pub(crate) fn patient_view(r: &PatientRow, today: Date) -> Result<PatientView, AppError> {
    Ok(PatientView {
        id: r.id,
        name: format!("{} {}", r.family_name, r.given_name),
        name_kana: format!("{} {}", r.family_name_kana, r.given_name_kana),
        birth_date: r.birth_date,
        age: age(r.birth_date, today),
        sex: Sex::parse(&r.sex).map_err(|_| corrupt("sex", &r.sex))?,
        address: r.address.clone(),
        daily_living_area: r.daily_living_area.clone(),
        phone: r.phone.clone(),
        key_person: r.key_person.clone(),
        key_person_phone: r.key_person_phone.clone(),
        care_level: CareLevel::parse(&r.care_level).map_err(|_| corrupt("care level", &r.care_level))?,
        main_diagnoses: r.main_diagnoses.clone(),
        allergies: r.allergies.clone(),
        special_care: r.special_care.split(',').filter_map(|c| SpecialCare::parse(c).ok()).collect(),
        status: PatientStatus::parse(&r.status).map_err(|_| corrupt("status", &r.status))?,
    })
}

/// A patient's row, consents, team and the policy's view of them.
pub(crate) struct Loaded {
    pub(crate) grants: Vec<BreakGlassRow>,
    pub(crate) row: PatientRow,
    pub(crate) consents: Vec<ConsentRow>,
    pub(crate) team: Vec<TeamMemberRow>,
    pub(crate) scope: PatientScope,
}

impl Loaded {
    /// The account's role in the team, if it is an active member.
    pub(crate) fn role_of(&self, account: Uuid) -> Option<TeamRole> {
        self.team.iter().find(|m| m.account_id == account && m.left_at.is_none()).map(|m| seat(m).role)
    }

    pub(crate) fn is_family(&self, account: Uuid) -> bool {
        self.role_of(account) == Some(TeamRole::Family)
    }
}

/// A member as the policy sees them. A role or profession this build does not
/// know (a newer row) counts as "other": never a physician, never family.
/// A role that does not fit the member's profession (a row from before roles
/// were checked) counts as "other", or "family" for a family account: it never
/// opens the physicians' entries.
fn seat(m: &TeamMemberRow) -> TeamSeat {
    let profession = Profession::parse(&m.profession).unwrap_or(Profession::Other);
    let role = TeamRole::parse(&m.team_role).unwrap_or(TeamRole::Other);
    let role = match role {
        r if r.fits(profession) => r,
        _ if profession == Profession::Family => TeamRole::Family,
        _ => TeamRole::Other,
    };
    TeamSeat { account_id: AccountId(m.account_id), role, profession }
}

pub(crate) async fn load(tx: &mut dyn StoreTx, patient: Uuid, now: OffsetDateTime) -> Result<Loaded, AppError> {
    let tsunagu_store::PatientScopeRows { patient: row, consents, team, grants } =
        tx.patient_scope(patient, now).await?.ok_or(AppError::NotFound)?;
    let scope = PatientScope {
        patient_id: PatientId(row.id),
        municipality_id: MunicipalityId(row.municipality_id),
        created_by: AccountId(row.created_by),
        consent: consent_state(&consents),
        team: team.iter().filter(|m| m.left_at.is_none()).map(seat).collect(),
        emergency_access: grants.iter().map(|g| AccountId(g.account_id)).collect(),
    };
    Ok(Loaded { row, consents, team, scope, grants })
}

/// An in-app notification, and (for those who opted in) a queued "something
/// new" mail, in the caller's transaction: neither is lost if the other is kept.
pub(crate) async fn notify(tx: &mut dyn StoreTx, n: &NewNotification) -> Result<(), AppError> {
    notify_all(tx, std::slice::from_ref(n), n.created_at).await
}

/// [`notify`] for several at once: two statements whatever the team's size
/// (a post's writer time is mostly round trips).
pub(crate) async fn notify_all(
    tx: &mut dyn StoreTx,
    notifications: &[NewNotification],
    at: OffsetDateTime,
) -> Result<(), AppError> {
    tx.insert_notifications(notifications).await?;
    tx.enqueue_mails(&mail_notices(notifications), at).await?;
    Ok(())
}

/// An audit event about one patient's data.
pub(crate) struct PatientEvent {
    pub(crate) at: OffsetDateTime,
    pub(crate) action: AuditAction,
    pub(crate) target_kind: &'static str,
    pub(crate) target: Option<Uuid>,
    pub(crate) details: serde_json::Value,
}

impl App {
    /// Who may read a patient's record, as kept from a recent read or loaded
    /// now (see `cache/records.rs`): policy is applied to it by the caller.
    pub(crate) async fn kept_scope(&self, patient: Uuid) -> Result<Arc<Loaded>, AppError> {
        let now = self.now();
        if let Some(loaded) = self.records.get(patient, now) {
            return Ok(loaded);
        }
        let generation = self.records.generation();
        let mut tx = self.store.begin_read().await?;
        let loaded = Arc::new(load(tx.as_mut(), patient, now).await?);
        drop(tx);
        self.records.keep(patient, Arc::clone(&loaded), generation);
        Ok(loaded)
    }

    /// The patients of whom `account` is an active member, with their consent
    /// state, in kana order: as kept (`Settings::session_cache`) or read.
    pub(crate) async fn kept_caseload(&self, account: Uuid) -> Result<Arc<Vec<MemberPatientRow>>, AppError> {
        if let Some(caseload) = self.records.caseload(account) {
            return Ok(caseload);
        }
        let generation = self.records.caseload_generation();
        let mut tx = self.store.begin_read().await?;
        let caseload = Arc::new(tx.patients_of_member(account).await?);
        drop(tx);
        self.records.keep_caseload(account, Arc::clone(&caseload), generation);
        Ok(caseload)
    }

    pub(crate) fn today(&self) -> Date {
        self.now().to_offset(JST).date()
    }

    fn audit_patient<'a>(session: &'a Session, meta: &'a RequestMeta) -> AuditActor<'a> {
        AuditActor { account_id: Some(session.account.id), label: &session.audit_label, meta }
    }

    /// Records a read of patient data: its audit event, durable before the
    /// data is returned (written with other readers' in the writer's next
    /// batch: `Store::record_read`). Only a decided record can be audited.
    pub(crate) async fn record_read(&self, decided: &Decided<'_>, e: PatientEvent) -> Result<(), AppError> {
        self.record_audited_read(decided.audit_record(e)).await
    }

    /// Records a read (of patient data, or of a list of patients) by its
    /// audit event alone, durable before the data is returned.
    pub(crate) async fn record_audited_read(&self, audit: AuditRecord) -> Result<(), AppError> {
        self.store.record_read(ReadTrace { audit, receipts: Vec::new(), opened: None }).await?;
        Ok(())
    }

    /// Appends a patient-data audit event to the patient's municipality chain, in `tx`.
    pub(crate) async fn audit(
        &self,
        tx: &mut dyn StoreTx,
        decided: &Decided<'_>,
        e: PatientEvent,
    ) -> Result<(), AppError> {
        tx.append_audit(&decided.audit_record(e)).await?;
        Ok(())
    }
}
