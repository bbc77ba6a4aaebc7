//! Acute exacerbation requests and their escalation (item ウ-4). Raising a
//! request plans its steps along "who answers now"; each step's `due_at` is a
//! timer kept in the database. [`App::fire_due_steps`] runs in every server
//! instance: a step fires in exactly one of them (the store's conditional
//! claim), in the same transaction as its notifications and audit event, so a
//! restart loses no step and none fires twice.

use crate::municipalities::enforce;
use crate::on_call::{ResponderView, chain_data};
use crate::record::{Loaded, PatientEvent, load, notify, patient_view};
use crate::session::Session;
use crate::{App, AppError, AuditActor, RequestMeta, audit_record};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use tsunagu_domain::ValidationError;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::care::{EntryKind, TeamRole};
use tsunagu_domain::escalation::{self, RequestKind, RequestOutcome, RequestState, StepAnswer};
use tsunagu_domain::ids::PatientId;
use tsunagu_domain::ids::{AccountId, FacilityId, MunicipalityId};
use tsunagu_domain::on_call::{ChainRole, Responder};
use tsunagu_domain::policy::{self, RequestScope};
use tsunagu_domain::record_access::RecordIntent;
use tsunagu_store::{
    BreakGlassRow, EscalationStepRow, NewEntry, NewNotification, StoreTx, TeamMemberRow, UrgentRequestRow, WebhookRow,
};
use uuid::Uuid;

/// The role stored for the closing step: nobody is called, the request is
/// marked unanswered if it is still open.
const END_OF_CHAIN: &str = "end";
/// How long a physician called on an escalation may open the record without being in the team.
const CALLED_ACCESS: Duration = Duration::hours(4);

/// One step as shown: who, when called, what they said.
#[derive(Debug, Clone, PartialEq)]
pub struct StepView {
    pub id: Uuid,
    pub seq: i64,
    /// `None` for the end of the chain.
    pub responder: Option<ResponderView>,
    pub due_at: OffsetDateTime,
    pub fired_at: Option<OffsetDateTime>,
    pub answer: Option<StepAnswer>,
    pub answered_at: Option<OffsetDateTime>,
    pub answered_by: Option<String>,
    pub reason: Option<String>,
}

/// An urgent request with what those it called need to act.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestView {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: RequestKind,
    pub state: RequestState,
    pub note: String,
    pub raised_by: String,
    pub raised_at: OffsetDateTime,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<OffsetDateTime>,
    pub accepted_by_hospital: Option<String>,
    pub accepted_at: Option<OffsetDateTime>,
    pub outcome: Option<RequestOutcome>,
    pub outcome_note: Option<String>,
    pub outcome_at: Option<OffsetDateTime>,
}

/// The request page.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestPage {
    pub request: RequestView,
    pub patient: crate::record::views::PatientView,
    /// The patient's latest advance care plan (人生会議): what the called need before they go.
    pub acp: Option<crate::record::views::AcpView>,
    /// Where the one who raised it works, and its number, to call back.
    pub requester_facility: Option<String>,
    pub requester_phone: Option<String>,
    pub steps: Vec<StepView>,
    /// The viewer is in the care team (and can open the whole record).
    pub viewer_in_team: bool,
    pub can_acknowledge: bool,
    pub can_answer_as_hospital: bool,
    pub can_act: bool,
}

/// A request waiting for me or my hospital (the home page's list).
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingView {
    pub request_id: Uuid,
    /// Whom it is about (the called may read the request's patient summary).
    pub patient_name: String,
    pub kind: RequestKind,
    pub raised_at: OffsetDateTime,
    pub called_as: ChainRole,
}

/// A request of one of the member's patients, as their home shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamRequestView {
    pub request_id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub kind: RequestKind,
    pub state: RequestState,
    pub raised_by_me: bool,
    pub raised_at: OffsetDateTime,
    /// The physician who took it, and when.
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<OffsetDateTime>,
}

impl TeamRequestView {
    /// The chain ran out: an alarm, not a notice.
    pub fn nobody_answered(&self) -> bool {
        self.state == RequestState::Unanswered
    }
}

/// One webhook event and how its delivery went.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryView {
    pub event: String,
    pub created_at: OffsetDateTime,
    pub delivered_at: Option<OffsetDateTime>,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

/// What one run of the timers did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FiredSteps {
    pub fired: usize,
    /// Steps another instance fired first, or no longer needed.
    pub skipped: usize,
}

fn state_of(row: &UrgentRequestRow) -> Result<RequestState, AppError> {
    RequestState::parse(&row.state).map_err(|_| AppError::Internal(format!("request state {:?}", row.state)))
}

/// Where the one who raised a request works and its telephone (the first of
/// their facilities that has one), to call them back.
async fn requester_contact(tx: &mut dyn StoreTx, account: Uuid) -> Result<(Option<String>, Option<String>), AppError> {
    let mut first_name = None;
    for membership in tx.memberships_of_account(account).await? {
        if let Some(facility) = tx.facility(membership.facility_id).await? {
            if facility.phone.is_some() {
                return Ok((Some(facility.name), facility.phone));
            }
            first_name.get_or_insert(facility.name);
        }
    }
    Ok((first_name, None))
}

fn scope_of(loaded: &Loaded, row: &UrgentRequestRow, steps: &[EscalationStepRow]) -> RequestScope {
    let fired = steps.iter().filter(|s| s.fired_at.is_some());
    RequestScope {
        patient: loaded.scope.clone(),
        called_physicians: fired.clone().filter_map(|s| s.account_id).map(AccountId).collect(),
        called_hospitals: fired.filter_map(|s| s.facility_id).map(FacilityId).collect(),
        active: row.state != RequestState::Closed.code(),
    }
}

impl App {
    /// A nurse or physician of the team raises a request: the chain of now is
    /// planned, its first link is called at once, and the team sees an urgent
    /// entry on the timeline.
    pub async fn raise_urgent_request(
        &self,
        session: &Session,
        patient: PatientId,
        kind: &str,
        note: &str,
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        let patient = patient.0;
        let actor = session.actor()?;
        let kind = RequestKind::parse(kind.trim()).map_err(|_| ValidationError::new("request_kind", "unknown"))?;
        let note = tsunagu_domain::text::required("situation", note, 1000)?;
        let mut tx = self.begin().await?;
        let now = self.now();
        let loaded = load(tx.as_mut(), patient, now).await?;
        let decided = self.decide(RecordIntent::RaiseUrgentRequest, &loaded, session, meta)?;
        let data = chain_data(tx.as_mut(), &loaded, now - Duration::days(1), now + Duration::days(1)).await?;
        let chain = tsunagu_domain::on_call::who_answers(&data.input, now);
        let plan = escalation::plan(&chain, self.settings.escalation);
        let id = Uuid::now_v7();
        let row = UrgentRequestRow {
            id,
            municipality_id: loaded.row.municipality_id,
            patient_id: patient,
            kind: kind.code().to_owned(),
            note: note.clone(),
            raised_by: actor.account_id.0,
            raised_at: now,
            state: RequestState::Open.code().to_owned(),
            acknowledged_by: None,
            acknowledged_at: None,
            accepted_facility_id: None,
            accepted_at: None,
            outcome: None,
            outcome_note: None,
            outcome_by: None,
            outcome_at: None,
        };
        tx.insert_urgent_request(&row).await?;
        let last = plan.last().map(|s| s.after + self.settings.escalation.step).unwrap_or(Duration::ZERO);
        for (seq, step) in plan.iter().enumerate() {
            tx.insert_escalation_step(&step_row(id, seq as i64, Some(step.link), now + step.after)).await?;
        }
        tx.insert_escalation_step(&step_row(id, plan.len() as i64, None, now + last)).await?;
        // The team reads it on the timeline, as an urgent entry everyone is told about.
        let entry = Uuid::now_v7();
        tx.insert_entry(&NewEntry {
            id: entry,
            patient_id: patient,
            kind: EntryKind::Urgent.code().to_owned(),
            author_id: actor.account_id.0,
            reply_to: None,
            needs_reply: false,
            created_at: now,
            body: format!("【{}】{}", kind.label_ja(), note),
            vitals: "{}".to_owned(),
            audience: tsunagu_domain::care::Audience::Team.code().to_owned(),
        })
        .await?;
        for m in professionals(&loaded.team).filter(|m| m.account_id != actor.account_id.0) {
            let n = NewNotification {
                id: Uuid::now_v7(),
                account_id: m.account_id,
                patient_id: patient,
                entry_id: Some(entry),
                kind: "urgent".to_owned(),
                actor_id: actor.account_id.0,
                created_at: now,
            };
            notify(tx.as_mut(), &n).await?;
        }
        let event = PatientEvent {
            at: now,
            action: AuditAction::UrgentRequestRaised,
            target_kind: "urgent_request",
            target: Some(id),
            details: json!({ "patient": patient, "kind": kind.code(), "steps": plan.len() }),
        };
        self.audit(tx.as_mut(), &decided, event).await?;
        // The first link is called now, in this same transaction.
        let steps = tx.escalation_steps(id).await?;
        if let Some(first) = steps.first().filter(|s| s.due_at <= now)
            && tx.claim_step(first.id, now, "request").await?
        {
            self.call(tx.as_mut(), &loaded, &row, first, now).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Fires every step whose timer has run out. Safe to run in every instance
    /// at once: each step is claimed by exactly one.
    pub async fn fire_due_steps(&self, instance: &str, limit: i64) -> Result<FiredSteps, AppError> {
        let now = self.now();
        let due = {
            let mut tx = self.store.begin_read().await?;
            tx.due_steps(now, limit).await?
        };
        let mut done = FiredSteps::default();
        for step in due {
            let mut tx = self.begin().await?;
            if !tx.claim_step(step.id, now, instance).await? {
                done.skipped += 1;
                continue;
            }
            let request = tx.urgent_request(step.request_id).await?.ok_or(AppError::NotFound)?;
            let loaded = load(tx.as_mut(), request.patient_id, now).await?;
            // Whoever was called before and said nothing has timed out.
            for earlier in tx.escalation_steps(request.id).await? {
                if earlier.seq < step.seq && earlier.fired_at.is_some() && earlier.answer.is_none() {
                    tx.answer_step(earlier.id, StepAnswer::TimedOut.code(), now, None, None).await?;
                }
            }
            if state_of(&request)?.is_escalating() {
                self.call(tx.as_mut(), &loaded, &request, &step, now).await?;
                done.fired += 1;
            } else {
                tx.answer_step(step.id, StepAnswer::Cancelled.code(), now, None, None).await?;
                done.skipped += 1;
            }
            tx.commit().await?;
        }
        Ok(done)
    }

    /// Calls one step's responder (in-app, e-mail, webhook) and audits it; the
    /// end of the chain marks the request unanswered and tells the team.
    async fn call(
        &self,
        tx: &mut dyn StoreTx,
        loaded: &Loaded,
        request: &UrgentRequestRow,
        step: &EscalationStepRow,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let municipality = MunicipalityId(request.municipality_id);
        let system = AuditActor { account_id: None, label: "system", meta: &RequestMeta::default() };
        if step.role == END_OF_CHAIN {
            let mut row = request.clone();
            row.state = RequestState::Unanswered.code().to_owned();
            tx.update_urgent_request(&row).await?;
            tx.answer_step(step.id, StepAnswer::TimedOut.code(), now, None, None).await?;
            for m in professionals(&loaded.team) {
                let n = notification(m.account_id, request, "urgent_unanswered", now);
                notify(tx, &n).await?;
            }
            self.webhook(tx, request, step, "urgent_request.unanswered", None, now).await?;
            let details = json!({ "patient": request.patient_id });
            let record = audit_record(
                now,
                Some(municipality),
                &system,
                AuditAction::UrgentRequestUnanswered,
                "urgent_request",
                Some(request.id),
                details,
            );
            tx.append_audit(&record).await?;
            return Ok(());
        }
        let data = chain_data(tx, loaded, now - Duration::days(1), now + Duration::days(1)).await?;
        let (role, responder) = responder_of(step)?;
        let view = data.describe(loaded, role, responder);
        match responder {
            Responder::Physician(p) => {
                let in_team = loaded.scope.is_member(p);
                if in_team {
                    notify(tx, &notification(p.0, request, "urgent_request", now)).await?;
                } else {
                    // The on-call physician covering gets time-limited access (invariant 1).
                    grant_access(tx, loaded, request, p.0, "on_call", "急変時の依頼（当番医）", now).await?;
                    tx.enqueue_mail(Uuid::now_v7(), p.0, now).await?;
                }
            }
            Responder::Hospital(h) => {
                for m in tx.memberships_in_municipality(municipality.0).await?.iter().filter(|m| m.facility_id == h.0) {
                    tx.enqueue_mail(Uuid::now_v7(), m.account_id, now).await?;
                }
            }
        }
        self.webhook(tx, request, step, "urgent_request.called", Some(&view), now).await?;
        let details = json!({ "patient": request.patient_id, "seq": step.seq, "role": role.code(),
            "account": step.account_id, "facility": step.facility_id });
        let record = audit_record(
            now,
            Some(municipality),
            &system,
            AuditAction::EscalationStepFired,
            "urgent_request",
            Some(request.id),
            details,
        );
        tx.append_audit(&record).await?;
        Ok(())
    }

    /// Queues the webhook event (when a webhook is configured). It carries no
    /// patient data: the request's id and link, who is called and their number.
    async fn webhook(
        &self,
        tx: &mut dyn StoreTx,
        request: &UrgentRequestRow,
        step: &EscalationStepRow,
        event: &str,
        called: Option<&ResponderView>,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let Some(hook) = &self.settings.webhook else { return Ok(()) };
        let payload = json!({
            "event": event,
            "request": request.id,
            "kind": request.kind,
            "step": step.seq,
            "called": called.map(|c| json!({ "role": c.role.code(), "name": c.name, "phone": c.phone })),
            "at": now.unix_timestamp(),
            "link": format!("{}/urgent/{}", hook.public_url.trim_end_matches('/'), request.id),
        });
        tx.enqueue_webhook(&WebhookRow {
            id: Uuid::now_v7(),
            municipality_id: request.municipality_id,
            event: event.to_owned(),
            payload: payload.to_string(),
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            delivered_at: None,
            last_status: None,
            last_error: None,
        })
        .await?;
        Ok(())
    }

    /// Loads a request with what the policy needs to decide on it; each use case
    /// then decides its own intent (every one of which includes reading it).
    async fn request_and_scope(
        &self,
        tx: &mut dyn StoreTx,
        id: Uuid,
    ) -> Result<(UrgentRequestRow, Vec<EscalationStepRow>, Loaded, RequestScope), AppError> {
        let row = tx.urgent_request(id).await?.ok_or(AppError::NotFound)?;
        let steps = tx.escalation_steps(id).await?;
        let loaded = load(tx, row.patient_id, self.now()).await?;
        let scope = scope_of(&loaded, &row, &steps);
        Ok((row, steps, loaded, scope))
    }

    /// The request page (with the patient summary the called need); audited.
    pub async fn urgent_request_page(
        &self,
        session: &Session,
        id: Uuid,
        meta: &RequestMeta,
    ) -> Result<RequestPage, AppError> {
        let actor = session.actor()?;
        let me = actor.account_id;
        let mut tx = self.store.begin_read().await?;
        let (row, steps, loaded, scope) = self.request_and_scope(tx.as_mut(), id).await?;
        let decided = self.decide(RecordIntent::ReadUrgentRequest(&scope), &loaded, session, meta)?;
        let data =
            chain_data(tx.as_mut(), &loaded, row.raised_at - Duration::days(1), self.now() + Duration::days(1)).await?;
        let accounts = tx.accounts(Some(row.municipality_id)).await?;
        let acp = tx.acp_revisions(decided.grant()).await?.into_iter().next().map(crate::record::acp_view);
        let (requester_facility, requester_phone) = requester_contact(tx.as_mut(), row.raised_by).await?;
        drop(tx);
        let name_of =
            |id: Option<Uuid>| id.and_then(|id| accounts.iter().find(|a| a.id == id)).map(|a| a.display_name.clone());
        let hospital_name = row
            .accepted_facility_id
            .and_then(|f| data.describe(&loaded, ChainRole::Hospital, Responder::Hospital(FacilityId(f))).name.into());
        let view = RequestPage {
            acp,
            requester_facility,
            requester_phone,
            request: RequestView {
                id: row.id,
                patient_id: row.patient_id,
                kind: RequestKind::parse(&row.kind).unwrap_or(RequestKind::UrgentVisit),
                state: state_of(&row)?,
                note: row.note.clone(),
                raised_by: name_of(Some(row.raised_by)).unwrap_or_default(),
                raised_at: row.raised_at,
                acknowledged_by: name_of(row.acknowledged_by),
                acknowledged_at: row.acknowledged_at,
                accepted_by_hospital: hospital_name,
                accepted_at: row.accepted_at,
                outcome: row.outcome.as_deref().and_then(|o| RequestOutcome::parse(o).ok()),
                outcome_note: row.outcome_note.clone(),
                outcome_at: row.outcome_at,
            },
            patient: patient_view(&loaded.row, self.now().to_offset(tsunagu_domain::clock::JST).date())?,
            steps: steps
                .iter()
                .map(|s| StepView {
                    id: s.id,
                    seq: s.seq,
                    responder: responder_of(s).ok().map(|(role, r)| data.describe(&loaded, role, r)),
                    due_at: s.due_at,
                    fired_at: s.fired_at,
                    answer: s.answer.as_deref().and_then(|a| StepAnswer::parse(a).ok()),
                    answered_at: s.answered_at,
                    answered_by: name_of(s.answered_by),
                    reason: s.answer_reason.clone(),
                })
                .collect(),
            viewer_in_team: loaded.scope.is_member(me),
            can_acknowledge: policy::acknowledge_urgent_request(&actor, &scope).is_allowed()
                && state_of(&row)?.awaits_answer(),
            can_answer_as_hospital: policy::answer_as_hospital(&actor, &scope).is_allowed()
                && hospital_step_waiting(&steps, &actor).is_some()
                && state_of(&row)?.awaits_answer(),
            can_act: policy::act_on_urgent_request(&actor, &scope).is_allowed(),
        };
        let mut tx = self.begin().await?;
        let event = PatientEvent {
            at: self.now(),
            action: AuditAction::UrgentRequestViewed,
            target_kind: "urgent_request",
            target: Some(id),
            details: json!({ "patient": row.patient_id, "in_team": view.viewer_in_team }),
        };
        self.audit(tx.as_mut(), &decided, event).await?;
        tx.commit().await?;
        Ok(view)
    }
}

/// A patient's recent requests, newest first (for the patient page).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestLine {
    pub id: Uuid,
    pub kind: RequestKind,
    pub state: RequestState,
    pub raised_at: OffsetDateTime,
}

impl RequestLine {
    /// A patient's requests, newest first (for the patient page).
    pub(crate) async fn requests_of_patient(tx: &mut dyn StoreTx, patient: Uuid) -> Result<Vec<RequestLine>, AppError> {
        let rows = tx.urgent_requests_of_patient(patient, 5).await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(RequestLine {
                    id: r.id,
                    kind: RequestKind::parse(&r.kind).ok()?,
                    state: RequestState::parse(&r.state).ok()?,
                    raised_at: r.raised_at,
                })
            })
            .collect())
    }
}

impl App {
    /// A physician takes the request: the escalation stops.
    pub async fn acknowledge_urgent_request(
        &self,
        session: &Session,
        id: Uuid,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let mut tx = self.begin().await?;
        let (mut row, steps, loaded, scope) = self.request_and_scope(tx.as_mut(), id).await?;
        let decided = self.decide(RecordIntent::AcknowledgeUrgentRequest(&scope), &loaded, session, meta)?;
        if !state_of(&row)?.awaits_answer() {
            return Err(ValidationError::new("request", "not_open").into());
        }
        let now = self.now();
        for s in &steps {
            let mine = s.account_id == Some(actor.account_id.0) && s.fired_at.is_some();
            let timed_out = s.answer.as_deref() == Some(StepAnswer::TimedOut.code());
            if mine && (s.answer.is_none() || timed_out) {
                // Late or not, the physician who was called answers their own step.
                let by = Some(actor.account_id.0);
                tx.answer_step(s.id, StepAnswer::Acknowledged.code(), now, by, None).await?;
            } else if s.answer.is_none() {
                tx.answer_step(s.id, StepAnswer::Cancelled.code(), now, None, None).await?;
            }
        }
        row.state = RequestState::Acknowledged.code().to_owned();
        row.acknowledged_by = Some(actor.account_id.0);
        row.acknowledged_at = Some(now);
        tx.update_urgent_request(&row).await?;
        notify(tx.as_mut(), &notification(row.raised_by, &row, "urgent_acknowledged", now)).await?;
        let event = PatientEvent {
            at: now,
            action: AuditAction::UrgentRequestAcknowledged,
            target_kind: "urgent_request",
            target: Some(id),
            details: json!({ "patient": row.patient_id }),
        };
        self.audit(tx.as_mut(), &decided, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The team (or the physician who took it) asks the backup hospitals now:
    /// new hospital steps start at once, one step apart.
    pub async fn ask_hospitals(&self, session: &Session, id: Uuid, meta: &RequestMeta) -> Result<(), AppError> {
        let mut tx = self.begin().await?;
        let (mut row, steps, loaded, scope) = self.request_and_scope(tx.as_mut(), id).await?;
        let decided = self.decide(RecordIntent::ActOnUrgentRequest(&scope), &loaded, session, meta)?;
        if !matches!(state_of(&row)?, RequestState::Open | RequestState::Acknowledged | RequestState::Unanswered) {
            return Err(ValidationError::new("request", "not_open").into());
        }
        let now = self.now();
        for s in steps.iter().filter(|s| s.answer.is_none()) {
            tx.answer_step(s.id, StepAnswer::Cancelled.code(), now, None, None).await?;
        }
        let data = chain_data(tx.as_mut(), &loaded, now - Duration::days(1), now + Duration::days(1)).await?;
        let chain = tsunagu_domain::on_call::who_answers(&data.input, now);
        let plan = escalation::hospitals_only(&escalation::plan(&chain, self.settings.escalation));
        if plan.is_empty() {
            return Err(ValidationError::new("hospital", "none_taking_part").into());
        }
        let base = steps.iter().map(|s| s.seq + 1).max().unwrap_or(0);
        for (i, step) in plan.iter().enumerate() {
            tx.insert_escalation_step(&step_row(id, base + i as i64, Some(step.link), now + step.after)).await?;
        }
        let end = plan.last().map(|s| s.after + self.settings.escalation.step).unwrap_or(Duration::ZERO);
        tx.insert_escalation_step(&step_row(id, base + plan.len() as i64, None, now + end)).await?;
        row.state = RequestState::Open.code().to_owned();
        tx.update_urgent_request(&row).await?;
        let event = PatientEvent {
            at: now,
            action: AuditAction::HospitalsAsked,
            target_kind: "urgent_request",
            target: Some(id),
            details: json!({ "patient": row.patient_id, "hospitals": plan.len() }),
        };
        self.audit(tx.as_mut(), &decided, event).await?;
        // The first hospital is called now.
        let first = tx.escalation_steps(id).await?.into_iter().find(|s| s.seq == base);
        if let Some(first) = first
            && tx.claim_step(first.id, now, "request").await?
        {
            self.call(tx.as_mut(), &loaded, &row, &first, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A called hospital accepts (admits) or declines with a reason; a decline
    /// calls the next link at once.
    pub async fn answer_as_hospital(
        &self,
        session: &Session,
        id: Uuid,
        accept: bool,
        reason: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let reason = tsunagu_domain::text::optional("decline_reason", reason, 500)?;
        if !accept && reason.is_none() {
            return Err(ValidationError::new("decline_reason", "required").into());
        }
        let mut tx = self.begin().await?;
        let (mut row, steps, loaded, scope) = self.request_and_scope(tx.as_mut(), id).await?;
        let decided = self.decide(RecordIntent::AnswerAsHospital(&scope), &loaded, session, meta)?;
        if !state_of(&row)?.awaits_answer() {
            return Err(ValidationError::new("request", "not_open").into());
        }
        let step = hospital_step_waiting(&steps, &actor).ok_or(ValidationError::new("request", "not_waiting"))?.clone();
        let now = self.now();
        let me = Some(actor.account_id.0);
        if accept {
            tx.answer_step(step.id, StepAnswer::Accepted.code(), now, me, reason.as_deref()).await?;
            for s in steps.iter().filter(|s| s.answer.is_none() && s.id != step.id) {
                tx.answer_step(s.id, StepAnswer::Cancelled.code(), now, None, None).await?;
            }
            row.state = RequestState::Accepted.code().to_owned();
            row.accepted_facility_id = step.facility_id;
            row.accepted_at = Some(now);
            tx.update_urgent_request(&row).await?;
            // The admitting staff read the record for the next hours (invariant 1).
            let reason = "病院バックアップ（入院受け入れ）";
            grant_access(tx.as_mut(), &loaded, &row, actor.account_id.0, "hospital_backup", reason, now).await?;
        } else {
            tx.answer_step(step.id, StepAnswer::Declined.code(), now, me, reason.as_deref()).await?;
            // The next link is called now, in this transaction (no waiting for a timer run).
            let next = steps
                .iter()
                .filter(|s| s.seq > step.seq && s.fired_at.is_none() && s.answer.is_none())
                .min_by_key(|s| s.seq);
            if let Some(next) = next {
                tx.bring_step_forward(next.id, now).await?;
                if tx.claim_step(next.id, now, "decline").await? {
                    self.call(tx.as_mut(), &loaded, &row, next, now).await?;
                }
            }
        }
        for m in professionals(&loaded.team) {
            let kind = if accept { "urgent_accepted" } else { "urgent_declined" };
            notify(tx.as_mut(), &notification(m.account_id, &row, kind, now)).await?;
        }
        let action = if accept { AuditAction::UrgentRequestAccepted } else { AuditAction::UrgentRequestDeclined };
        let event = PatientEvent {
            at: now,
            action,
            target_kind: "urgent_request",
            target: Some(id),
            details: json!({ "patient": row.patient_id, "hospital": step.facility_id, "reason": reason }),
        };
        self.audit(tx.as_mut(), &decided, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records how it ended; the request closes and any pending step is cancelled.
    pub async fn record_urgent_outcome(
        &self,
        session: &Session,
        id: Uuid,
        outcome: &str,
        note: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let outcome = RequestOutcome::parse(outcome.trim()).map_err(|_| ValidationError::new("outcome", "unknown"))?;
        let note = tsunagu_domain::text::optional("note", note, 1000)?;
        let mut tx = self.begin().await?;
        let (mut row, steps, loaded, scope) = self.request_and_scope(tx.as_mut(), id).await?;
        let decided = self.decide(RecordIntent::ActOnUrgentRequest(&scope), &loaded, session, meta)?;
        let now = self.now();
        for s in steps.iter().filter(|s| s.answer.is_none()) {
            tx.answer_step(s.id, StepAnswer::Cancelled.code(), now, None, None).await?;
        }
        row.state = RequestState::Closed.code().to_owned();
        row.outcome = Some(outcome.code().to_owned());
        row.outcome_note = note;
        row.outcome_by = Some(actor.account_id.0);
        row.outcome_at = Some(now);
        tx.update_urgent_request(&row).await?;
        let event = PatientEvent {
            at: now,
            action: AuditAction::UrgentRequestClosed,
            target_kind: "urgent_request",
            target: Some(id),
            details: json!({ "patient": row.patient_id, "outcome": outcome.code() }),
        };
        self.audit(tx.as_mut(), &decided, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Requests that have called me or my hospital and still wait for an answer.
    pub async fn requests_waiting_for_me(&self, session: &Session) -> Result<Vec<WaitingView>, AppError> {
        let actor = session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let rows = tx
            .requests_waiting_for(actor.account_id.0, &actor.member_of.iter().map(|f| f.0).collect::<Vec<_>>())
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(WaitingView {
                    request_id: r.request_id,
                    patient_name: format!("{} {}", r.family_name, r.given_name),
                    kind: RequestKind::parse(&r.kind).ok()?,
                    raised_at: r.raised_at,
                    called_as: ChainRole::parse(&r.role).ok()?,
                })
            })
            .collect())
    }

    /// The requests not yet closed of the patients whose team the signed-in
    /// professional is on (family never: urgent requests are the professionals'),
    /// those nobody answered first. Listing them is audited as a look at the
    /// patients named.
    pub async fn my_team_requests(
        &self,
        session: &Session,
        meta: &RequestMeta,
    ) -> Result<Vec<TeamRequestView>, AppError> {
        let actor = session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let rows = tx.open_requests_of_member(actor.account_id.0, 20).await?;
        drop(tx);
        let requests: Vec<TeamRequestView> = rows
            .into_iter()
            .filter_map(|r| {
                Some(TeamRequestView {
                    request_id: r.request_id,
                    patient_id: r.patient_id,
                    patient_name: format!("{} {}", r.family_name, r.given_name),
                    kind: RequestKind::parse(&r.kind).ok()?,
                    state: RequestState::parse(&r.state).ok()?,
                    raised_by_me: r.raised_by == actor.account_id.0,
                    raised_at: r.raised_at,
                    acknowledged_by: r.acknowledged_by_name,
                    acknowledged_at: r.acknowledged_at,
                })
            })
            .collect();
        if !requests.is_empty() {
            self.record_audited_read(audit_record(
                self.now(),
                actor.municipality_id,
                &session.audit_actor(meta),
                AuditAction::PatientListViewed,
                "urgent_requests",
                None,
                json!({ "urgent_requests": requests.iter().map(|r| r.request_id).collect::<Vec<_>>() }),
            ))
            .await?;
        }
        Ok(requests)
    }

    /// A municipality's webhook deliveries (for whoever runs the network).
    pub async fn webhook_deliveries(&self, session: &Session) -> Result<Vec<DeliveryView>, AppError> {
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::NotFound)?;
        enforce(policy::read_audit_log(&actor, municipality))?;
        let mut tx = self.store.begin_read().await?;
        let rows = tx.webhook_deliveries(municipality.0, 50).await?;
        Ok(rows
            .into_iter()
            .map(|r| DeliveryView {
                event: r.event,
                created_at: r.created_at,
                delivered_at: r.delivered_at,
                attempts: r.attempts,
                last_status: r.last_status,
                last_error: r.last_error,
            })
            .collect())
    }
}

/// The called step of one of the actor's hospitals that still takes an answer:
/// unanswered, or timed out (a late "we have a bed" is still welcome).
fn hospital_step_waiting<'a>(steps: &'a [EscalationStepRow], actor: &policy::Actor) -> Option<&'a EscalationStepRow> {
    steps.iter().find(|s| {
        s.fired_at.is_some()
            && s.answer.as_deref().is_none_or(|a| a == StepAnswer::TimedOut.code())
            && s.facility_id.is_some_and(|f| actor.member_of.contains(&FacilityId(f)))
    })
}

fn responder_of(step: &EscalationStepRow) -> Result<(ChainRole, Responder), AppError> {
    let role = ChainRole::parse(&step.role).map_err(|_| AppError::Internal(format!("step role {:?}", step.role)))?;
    match (step.account_id, step.facility_id) {
        (Some(a), _) => Ok((role, Responder::Physician(AccountId(a)))),
        (None, Some(f)) => Ok((role, Responder::Hospital(FacilityId(f)))),
        (None, None) => Err(AppError::Internal("a step without a responder".into())),
    }
}

fn step_row(
    request: Uuid,
    seq: i64,
    link: Option<tsunagu_domain::on_call::Link>,
    due_at: OffsetDateTime,
) -> EscalationStepRow {
    let (role, account_id, facility_id) = match link {
        None => (END_OF_CHAIN.to_owned(), None, None),
        Some(l) => match l.responder {
            Responder::Physician(p) => (l.role.code().to_owned(), Some(p.0), None),
            Responder::Hospital(h) => (l.role.code().to_owned(), None, Some(h.0)),
        },
    };
    EscalationStepRow {
        id: Uuid::now_v7(),
        request_id: request,
        seq,
        role,
        account_id,
        facility_id,
        due_at,
        fired_at: None,
        fired_by: None,
        answer: None,
        answered_at: None,
        answered_by: None,
        answer_reason: None,
    }
}

/// A time-limited grant to the whole record for someone outside the team the
/// escalation called (invariant 1): audited as a break-glass, and the team's
/// physicians are told.
async fn grant_access(
    tx: &mut dyn StoreTx,
    loaded: &Loaded,
    request: &UrgentRequestRow,
    account: Uuid,
    reason_kind: &str,
    reason: &str,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let expires_at = now + CALLED_ACCESS;
    tx.insert_break_glass(&BreakGlassRow {
        id: Uuid::now_v7(),
        patient_id: request.patient_id,
        account_id: account,
        reason_kind: reason_kind.to_owned(),
        reason: reason.to_owned(),
        granted_at: now,
        expires_at,
    })
    .await?;
    let system = AuditActor { account_id: Some(AccountId(account)), label: "system", meta: &RequestMeta::default() };
    let details = json!({ "reason_kind": reason_kind, "reason": reason, "request": request.id,
        "expires_at": expires_at.unix_timestamp() });
    let record = audit_record(
        now,
        Some(MunicipalityId(request.municipality_id)),
        &system,
        AuditAction::BreakGlassGranted,
        "patient",
        Some(request.patient_id),
        details,
    );
    tx.append_audit(&record).await?;
    let physicians = loaded.team.iter().filter(|m| {
        m.left_at.is_none() && TeamRole::parse(&m.team_role).is_ok_and(|r| r.is_physician()) && m.account_id != account
    });
    for m in physicians {
        let n = NewNotification {
            id: Uuid::now_v7(),
            account_id: m.account_id,
            patient_id: request.patient_id,
            entry_id: None,
            kind: "break_glass".to_owned(),
            actor_id: account,
            created_at: now,
        };
        notify(tx, &n).await?;
    }
    Ok(())
}

fn notification(account: Uuid, request: &UrgentRequestRow, kind: &str, now: OffsetDateTime) -> NewNotification {
    NewNotification {
        id: Uuid::now_v7(),
        account_id: account,
        patient_id: request.patient_id,
        entry_id: None,
        kind: kind.to_owned(),
        actor_id: request.raised_by,
        created_at: now,
    }
}

/// After this many failed attempts a webhook event is left alone (it stays listed).
pub const WEBHOOK_MAX_ATTEMPTS: i64 = 10;

/// Posts one event's JSON body; answers the HTTP status. The web client lives
/// at the edge (the binary); this crate knows no HTTP.
pub trait WebhookSender: Send + Sync {
    fn post<'a>(
        &'a self,
        body: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u16, String>> + Send + 'a>>;
}

/// What one delivery run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    pub delivered: usize,
    pub failed: usize,
}

impl App {
    /// Posts queued webhook events; a failure is retried later, waiting
    /// twice as long each time (1, 2, 4 ... minutes, at most an hour).
    pub async fn deliver_webhooks(&self, sender: &dyn WebhookSender, limit: i64) -> Result<Delivered, AppError> {
        let pending = {
            let mut tx = self.store.begin_read().await?;
            tx.pending_webhooks(self.now(), WEBHOOK_MAX_ATTEMPTS, limit).await?
        };
        let mut done = Delivered::default();
        for event in pending {
            let result = sender.post(&event.payload).await;
            let now = self.now();
            let backoff = Duration::minutes(1i64 << event.attempts.clamp(0, 6)).min(Duration::hours(1));
            let mut tx = self.begin().await?;
            match result {
                Ok(status) if (200..300).contains(&status) => {
                    tx.record_webhook_attempt(event.id, Some(now), Some(i64::from(status)), None, now).await?;
                    done.delivered += 1;
                }
                Ok(status) => {
                    let error = format!("HTTP {status}");
                    tx.record_webhook_attempt(event.id, None, Some(i64::from(status)), Some(&error), now + backoff)
                        .await?;
                    done.failed += 1;
                }
                Err(error) => {
                    tx.record_webhook_attempt(event.id, None, None, Some(&error), now + backoff).await?;
                    done.failed += 1;
                }
            }
            tx.commit().await?;
        }
        Ok(done)
    }
}

/// The team's active members who are not family: urgent requests (the nurse's
/// note, the physicians' numbers) are theirs only, and so is any notice of one.
fn professionals(team: &[TeamMemberRow]) -> impl Iterator<Item = &TeamMemberRow> {
    team.iter().filter(|m| m.left_at.is_none() && m.team_role != TeamRole::Family.code())
}
