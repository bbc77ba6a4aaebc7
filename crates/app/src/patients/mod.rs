//! The care-team information-sharing system: patients, consent, care teams,
//! the timeline, read receipts. Every read and write of patient data checks
//! the patient policy once and appends its audit event in the same transaction.

use crate::cache::timelines::KeptTimeline;
use crate::municipalities::enforce;
pub(crate) use crate::record::{Decided, Loaded, PatientEvent, acp_view, load, mail_notices, notify, patient_view};
use crate::session::Session;
use crate::{App, AppError, AuditActor, RequestMeta, audit_record};
use serde_json::json;
use std::sync::Arc;
use time::{Date, OffsetDateTime};
use tsunagu_domain::ValidationError;
use tsunagu_domain::account::{AccountStatus, LoginId, Profession};
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::care::{Audience, EntryDraft, EntryKind, TeamRole, VitalSigns, VitalsForm, visible_audiences};
use tsunagu_domain::clock::JST;
use tsunagu_domain::ids::{AccountId, EntryId, FacilityId, MunicipalityId, PatientId};
use tsunagu_domain::patient::{
    AdvanceCarePlan, AdvanceCarePlanForm, ConsentDetails, PatientDetails, PatientForm, PatientStatus, StatusChange,
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
mod page;
mod team;
mod timeline;

pub use crate::record::views::*;
pub(crate) use caseload::*;
pub use consent::*;
pub use emergency::*;
pub use page::*;
pub(crate) use team::*;
pub use timeline::*;

impl App {
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
}
