//! The coordination centre's desk (items オ and ウ): consultations from
//! citizens, families and professionals, discharge requests from hospitals,
//! finding the home-care team, and creating it in the sharing system without
//! retyping. A case is reached only through a decision (`App::decide_case`,
//! the case's counterpart of `App::decide`): its personal data is the
//! centre's; the hospital follows what it sent; a candidate facility reads
//! the summary it answers on. Every read is audited before it is shown, every
//! change in its transaction.

mod desk;
mod intake;
mod reports;
mod rules;
mod team_finding;
mod topics;

pub use desk::*;
pub use intake::*;
pub use reports::*;
pub use rules::*;
pub use team_finding::*;
pub(crate) use topics::topics_in;

use crate::session::Session;
use crate::{App, AppError, RequestMeta, audit_record};
use serde_json::json;
use time::{Date, OffsetDateTime};
use tsunagu_domain::audit::{AuditAction, AuditRecord};
use tsunagu_domain::case_access::{self, CaseGrant, CaseIntent, DeskGrant};
use tsunagu_domain::coordination::{
    CaseKind, CaseOutcome, CaseState, Channel, Handover, RequesterKind, TopicDef, Urgency,
};
use tsunagu_domain::ids::{CaseId, FacilityId, MunicipalityId};
use tsunagu_domain::record_access::Refusal;
use tsunagu_store::{CaseLineRow, CaseRow, ReadTrace, StoreTx};

/// A case in a list.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseLine {
    pub id: CaseId,
    pub kind: CaseKind,
    pub state: CaseState,
    pub channel: Channel,
    pub requester_kind: RequesterKind,
    pub requester_name: String,
    /// Whom it is about: the patient of a discharge request, or the named person.
    pub subject: Option<String>,
    pub urgency: Urgency,
    pub topics: Vec<TopicDef>,
    pub created_at: OffsetDateTime,
    pub first_response_at: Option<OffsetDateTime>,
    pub assignee_name: Option<String>,
    pub open_tasks: i64,
    pub next_due_on: Option<Date>,
    /// An open task is past its due date.
    pub overdue: bool,
    pub planned_discharge_on: Option<Date>,
    pub team_completed_at: Option<OffsetDateTime>,
    pub outcome: Option<CaseOutcome>,
    pub closed_at: Option<OffsetDateTime>,
}

/// A case's topics as the municipality names them (a code no longer listed shows as itself).
pub(crate) fn topics_of(codes: &str, defs: &[TopicDef]) -> Vec<TopicDef> {
    codes
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|c| {
            defs.iter().find(|d| d.code == c).cloned().unwrap_or_else(|| TopicDef {
                code: c.to_owned(),
                label: c.to_owned(),
                retired: true,
            })
        })
        .collect()
}

pub(crate) fn handover_of(row: &CaseRow) -> Result<Option<Handover>, AppError> {
    row.handover
        .as_deref()
        .map(|json| serde_json::from_str(json).map_err(|e| AppError::Internal(format!("a stored handover: {e}"))))
        .transpose()
}

/// "流山 一郎": the patient of a handover.
pub(crate) fn handover_name(h: &Handover) -> String {
    format!("{} {}", h.patient.family_name, h.patient.given_name)
}

pub(crate) fn case_line(row: CaseLineRow, today: Date, topics: &[TopicDef]) -> Result<CaseLine, AppError> {
    let c = row.case;
    let subject = match handover_of(&c)? {
        Some(h) => Some(handover_name(&h)),
        None => c.subject_name.clone(),
    };
    Ok(CaseLine {
        id: CaseId(c.id),
        kind: c.kind,
        state: c.state,
        channel: c.channel,
        requester_kind: c.requester_kind,
        requester_name: c.requester_name,
        subject,
        urgency: c.urgency,
        topics: topics_of(&c.topics, topics),
        created_at: c.created_at,
        first_response_at: c.first_response_at,
        assignee_name: row.assignee_name,
        open_tasks: row.open_tasks,
        next_due_on: row.next_due_on,
        overdue: row.next_due_on.is_some_and(|d| d < today),
        planned_discharge_on: c.planned_discharge_on,
        team_completed_at: c.team_completed_at,
        outcome: c.outcome.as_deref().and_then(|o| CaseOutcome::parse(o).ok()),
        closed_at: c.closed_at,
    })
}

/// Where a request to a candidate stands at `now` (past its deadline unanswered: no answer).
pub(crate) fn answer_of(q: &tsunagu_store::CandidateRow, now: OffsetDateTime) -> tsunagu_domain::coordination::Answer {
    let reason = q.decline_reason.as_deref().and_then(|c| tsunagu_domain::coordination::DeclineReason::parse(c).ok());
    tsunagu_domain::coordination::Answer::of(q.accepted, reason, now > q.due_at)
}

/// A case the policy has let a session act on: the grant the store's reads
/// take, and the only way to the case's audit events.
pub(crate) struct CaseDecided<'a> {
    grant: CaseGrant,
    municipality: MunicipalityId,
    session: &'a Session,
    meta: &'a RequestMeta,
}

impl CaseDecided<'_> {
    pub(crate) fn grant(&self) -> &CaseGrant {
        &self.grant
    }

    /// An audit event about the decided case.
    pub(crate) fn event(&self, at: OffsetDateTime, action: AuditAction, details: serde_json::Value) -> AuditRecord {
        audit_record(
            at,
            Some(self.municipality),
            &self.session.audit_actor(self.meta),
            action,
            "case",
            Some(self.grant.case().0),
            details,
        )
    }
}

/// The desk of the session's municipality, decided.
pub(crate) struct DeskDecided<'a> {
    grant: DeskGrant,
    session: &'a Session,
    meta: &'a RequestMeta,
}

impl DeskDecided<'_> {
    pub(crate) fn grant(&self) -> &DeskGrant {
        &self.grant
    }

    pub(crate) fn municipality(&self) -> MunicipalityId {
        self.grant.municipality()
    }

    pub(crate) fn event(
        &self,
        at: OffsetDateTime,
        action: AuditAction,
        case: Option<CaseId>,
        details: serde_json::Value,
    ) -> AuditRecord {
        audit_record(
            at,
            Some(self.grant.municipality()),
            &self.session.audit_actor(self.meta),
            action,
            "case",
            case.map(|c| c.0),
            details,
        )
    }
}

impl App {
    /// Asks the policy whether the session may do `intent` with `case`. A
    /// refusal answers as the policy said and is audited like a refusal on a
    /// patient's record.
    pub(crate) async fn decide_case<'a>(
        &self,
        tx: &mut dyn StoreTx,
        case: CaseId,
        intent: CaseIntent,
        session: &'a Session,
        meta: &'a RequestMeta,
    ) -> Result<CaseDecided<'a>, AppError> {
        let actor = session.actor()?;
        let row = tx.case_scope(case.0).await?.ok_or(AppError::NotFound)?;
        let scope = case_access::CaseScope {
            case_id: case,
            municipality_id: MunicipalityId(row.municipality_id),
            requester_account: row.requester_account_id.map(tsunagu_domain::ids::AccountId),
            candidate_facilities: tx.case_candidate_facilities(case.0).await?.into_iter().map(FacilityId).collect(),
        };
        match case_access::decide(&actor, &scope, intent) {
            Ok(grant) => Ok(CaseDecided { grant, municipality: scope.municipality_id, session, meta }),
            Err(refusal) => {
                Err(self.case_refused(refusal, intent.attempt(), scope.municipality_id, case, session, meta))
            }
        }
    }

    /// Whether the session works the desk of its municipality.
    pub(crate) fn decide_desk<'a>(
        &self,
        session: &'a Session,
        meta: &'a RequestMeta,
    ) -> Result<DeskDecided<'a>, AppError> {
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::Forbidden)?;
        let grant = case_access::enter_desk(&actor, municipality)?;
        Ok(DeskDecided { grant, session, meta })
    }

    /// Whether the session works the desk (for menus; each use case decides again).
    pub fn may_work_desk(&self, session: &Session) -> bool {
        self.require_desk(session).is_ok()
    }

    /// Refuses a session that is not the desk (for pages that only show a form).
    pub fn require_desk(&self, session: &Session) -> Result<(), AppError> {
        self.decide_desk(session, &RequestMeta::default()).map(|_| ())
    }

    fn case_refused(
        &self,
        refusal: Refusal,
        attempt: &'static str,
        municipality: MunicipalityId,
        case: CaseId,
        session: &Session,
        meta: &RequestMeta,
    ) -> AppError {
        let now = self.now();
        if self.refusals.take(session.account.id.0, now) {
            let audit = audit_record(
                now,
                Some(municipality),
                &session.audit_actor(meta),
                AuditAction::AccessRefused,
                "case",
                Some(case.0),
                json!({ "attempt": attempt, "refusal": refusal.code() }),
            );
            let store = std::sync::Arc::clone(&self.store);
            tokio::spawn(async move {
                let trace = ReadTrace { audit, receipts: Vec::new(), opened: None };
                if let Err(e) = store.record_read(trace).await {
                    tracing::warn!(error = %e, "a refused attempt's audit event was not written");
                }
            });
        }
        refusal.into()
    }

    /// Makes a read of a case durable in the audit log before it is shown.
    pub(crate) async fn case_read(&self, audit: AuditRecord) -> Result<(), AppError> {
        self.store.record_read(ReadTrace { audit, receipts: Vec::new(), opened: None }).await?;
        Ok(())
    }
}
