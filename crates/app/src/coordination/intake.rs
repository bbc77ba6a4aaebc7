//! How cases reach the desk: recorded by the centre's staff, sent through
//! the municipality's public form (no account), or sent by a hospital as a
//! discharge request with its handover.

use super::*;
use crate::AuditActor;
use sha2::{Digest, Sha256};
use tsunagu_domain::coordination::{Consultation, ConsultationForm, HandoverForm, Seat};
use tsunagu_domain::facility::FacilityKind;
use tsunagu_domain::patient::PatientForm;
use uuid::Uuid;

/// Public-form cases accepted from one address per hour.
pub const PUBLIC_PER_HOUR: i64 = 3;

/// A discharge request as its sender follows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SentRequest {
    pub case: CaseLine,
    pub hospital_name: Option<String>,
    pub handover: Option<Handover>,
    /// Which seats of the future team are filled (by which facility).
    pub seats: Vec<(Seat, Option<String>)>,
    /// What the rules still ask of the hospital.
    pub rule_checks: Vec<tsunagu_domain::discharge_rules::RuleCheck>,
    pub conference: Option<super::ConferenceView>,
}

/// What a hospital's staff may send from: the hospitals they work at.
#[derive(Debug, Clone, PartialEq)]
pub struct DischargeDesk {
    pub hospitals: Vec<(FacilityId, String)>,
    pub sent: Vec<CaseLine>,
}

fn new_case(
    municipality: MunicipalityId,
    c: &Consultation,
    now: OffsetDateTime,
    source_key: Option<String>,
) -> CaseRow {
    CaseRow {
        id: Uuid::now_v7(),
        municipality_id: municipality.0,
        kind: CaseKind::Consultation,
        state: CaseState::New,
        channel: c.channel,
        requester_kind: c.requester_kind,
        requester_name: c.requester_name.clone(),
        requester_contact: c.requester_contact.clone(),
        requester_account_id: None,
        requester_facility_id: None,
        subject_name: c.subject_name.clone(),
        subject_area: c.subject_area.clone(),
        topics: c.topics.join(","),
        urgency: c.urgency,
        summary: c.summary.clone(),
        handover: None,
        planned_discharge_on: None,
        assignee_id: None,
        outcome: None,
        closing_note: None,
        patient_id: None,
        source_key,
        created_at: now,
        first_response_at: None,
        team_completed_at: None,
        closed_at: None,
        updated_at: now,
    }
}

impl App {
    /// The desk records a consultation taken by phone, in person or by
    /// e-mail; whoever records it is its assignee and has answered it.
    pub async fn record_consultation(
        &self,
        session: &Session,
        form: &ConsultationForm<'_>,
        meta: &RequestMeta,
    ) -> Result<CaseId, AppError> {
        let desk = self.decide_desk(session, meta)?;
        let mut tx = self.begin_keeping_all().await?;
        let offered = topics_in(tx.as_mut(), desk.municipality().0).await?;
        let consultation = Consultation::parse(form, &offered)?;
        let now = self.now();
        let mut row = new_case(desk.municipality(), &consultation, now, None);
        // Taken on the phone or at the desk: answered as it was recorded.
        row.state = CaseState::InProgress;
        row.first_response_at = Some(now);
        row.assignee_id = Some(session.account.id.0);
        tx.insert_case(&row).await?;
        let details = json!({ "kind": "consultation", "channel": consultation.channel.code(), "topics": row.topics });
        tx.append_audit(&desk.event(now, AuditAction::CaseOpened, Some(CaseId(row.id)), details)).await?;
        tx.commit().await?;
        Ok(CaseId(row.id))
    }

    /// A citizen's consultation through the municipality's public form: no
    /// account; at most [`PUBLIC_PER_HOUR`] an hour from one address.
    /// Returns the receipt number the person can quote when calling.
    pub async fn submit_public_consultation(
        &self,
        code: &str,
        form: &ConsultationForm<'_>,
        meta: &RequestMeta,
    ) -> Result<String, AppError> {
        let now = self.now();
        let mut tx = self.begin_keeping_all().await?;
        let (municipality, _) = self.public_municipality_of(tx.as_mut(), code).await?;
        let consultation = Consultation::parse_public(form, &topics_in(tx.as_mut(), municipality).await?)?;
        let source = source_key(municipality, meta.source_ip.as_deref());
        if tx.public_cases_since(municipality, &source, now - time::Duration::HOUR).await? >= PUBLIC_PER_HOUR {
            return Err(AppError::Throttled);
        }
        let row = new_case(MunicipalityId(municipality), &consultation, now, Some(source));
        tx.insert_case(&row).await?;
        let actor = AuditActor { account_id: None, label: "public_form", meta };
        tx.append_audit(&audit_record(
            now,
            Some(MunicipalityId(municipality)),
            &actor,
            AuditAction::CaseOpened,
            "case",
            Some(row.id),
            json!({ "kind": "consultation", "channel": "web_form", "topics": row.topics }),
        ))
        .await?;
        tx.commit().await?;
        Ok(receipt_number(CaseId(row.id)))
    }

    /// The hospitals of its municipality the session works at (from which it may send).
    pub async fn discharge_hospitals(&self, session: &Session) -> Result<Vec<(FacilityId, String)>, AppError> {
        let actor = session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let mut hospitals = Vec::new();
        for m in &session.account.memberships {
            if let Some(f) = tx.facility(m.facility_id.0).await?
                && f.kind == FacilityKind::Hospital
                && Some(MunicipalityId(f.municipality_id)) == actor.municipality_id
            {
                hospitals.push((FacilityId(f.id), f.name));
            }
        }
        if hospitals.is_empty() {
            return Err(AppError::Forbidden);
        }
        Ok(hospitals)
    }

    /// The hospitals the session works at, and the discharge requests it sent (audited: they name patients).
    pub async fn discharge_desk(&self, session: &Session, meta: &RequestMeta) -> Result<DischargeDesk, AppError> {
        let actor = session.actor()?;
        let hospitals = self.discharge_hospitals(session).await?;
        let mut tx = self.store.begin_read().await?;
        let today = self.today();
        let topics = match actor.municipality_id {
            Some(m) => topics_in(tx.as_mut(), m.0).await?,
            None => Vec::new(),
        };
        let sent = tx
            .cases_sent_by(session.account.id.0, 100)
            .await?
            .into_iter()
            .map(|r| case_line(r, today, &topics))
            .collect::<Result<Vec<_>, _>>()?;
        drop(tx);
        // The list names the patients the sender wrote about: a read like any other.
        if !sent.is_empty() {
            self.case_read(audit_record(
                self.now(),
                actor.municipality_id,
                &session.audit_actor(meta),
                AuditAction::CaseViewed,
                "case",
                None,
                json!({ "view": "sent_requests", "cases": sent.iter().map(|c| c.id.0).collect::<Vec<_>>() }),
            ))
            .await?;
        }
        Ok(DischargeDesk { hospitals, sent })
    }

    /// A hospital's staff send a discharge request: the patient's details
    /// and the handover, checked as a patient's registration would be, land
    /// at the centre as a new case.
    pub async fn send_discharge_request(
        &self,
        session: &Session,
        hospital: FacilityId,
        patient: &PatientForm<'_>,
        handover: &HandoverForm<'_>,
        meta: &RequestMeta,
    ) -> Result<CaseId, AppError> {
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::Forbidden)?;
        let mut tx = self.begin_keeping_all().await?;
        let facility = tx.facility(hospital.0).await?;
        let is_hospital =
            facility.as_ref().is_some_and(|f| f.kind == FacilityKind::Hospital && f.municipality_id == municipality.0);
        case_access::send_discharge_request(&actor, municipality, hospital, is_hospital)?;
        let hospital_name = facility.map(|f| f.name).unwrap_or_default();
        let handover = Handover::parse(patient, handover, self.today())?;
        let now = self.now();
        let row = CaseRow {
            id: Uuid::now_v7(),
            municipality_id: municipality.0,
            kind: CaseKind::Discharge,
            state: CaseState::New,
            channel: Channel::DischargeRequest,
            requester_kind: RequesterKind::Hospital,
            requester_name: format!("{hospital_name} {}", session.account.display_name),
            requester_contact: None,
            requester_account_id: Some(session.account.id.0),
            requester_facility_id: Some(hospital.0),
            subject_name: None,
            subject_area: Some(handover.patient.daily_living_area.clone()).filter(|a| !a.is_empty()),
            topics: tsunagu_domain::coordination::Topic::AfterDischarge.code().to_owned(),
            urgency: Urgency::Soon,
            summary: handover.note.clone().unwrap_or_default(),
            handover: Some(serde_json::to_string(&handover).map_err(|e| AppError::Internal(e.to_string()))?),
            planned_discharge_on: Some(handover.planned_discharge_on),
            assignee_id: None,
            outcome: None,
            closing_note: None,
            patient_id: None,
            source_key: None,
            created_at: now,
            first_response_at: None,
            team_completed_at: None,
            closed_at: None,
            updated_at: now,
        };
        tx.insert_case(&row).await?;
        tx.append_audit(&audit_record(
            now,
            Some(municipality),
            &session.audit_actor(meta),
            AuditAction::DischargeRequested,
            "case",
            Some(row.id),
            json!({ "hospital": hospital.0, "planned_discharge_on": handover.planned_discharge_on.to_string() }),
        ))
        .await?;
        tx.commit().await?;
        Ok(CaseId(row.id))
    }

    /// The sender's view of its discharge request: what it sent and where the team stands.
    pub async fn sent_request(
        &self,
        session: &Session,
        case: CaseId,
        meta: &RequestMeta,
    ) -> Result<SentRequest, AppError> {
        let mut tx = self.store.begin_read().await?;
        let decided = self.decide_case(tx.as_mut(), case, CaseIntent::Follow, session, meta).await?;
        let row = tx.case(decided.grant()).await?.ok_or(AppError::NotFound)?;
        let hospital_name = match row.requester_facility_id {
            Some(f) => tx.facility(f).await?.map(|f| f.name),
            None => None,
        };
        let candidates = tx.case_candidates(decided.grant()).await?;
        let rules = super::rules::rules_in_force(tx.as_mut(), row.municipality_id).await?;
        let conference = tx.conference(decided.grant()).await?.map(super::rules::conference_view);
        let topics = topics_in(tx.as_mut(), row.municipality_id).await?;
        drop(tx);
        let handover = handover_of(&row)?;
        let rule_checks = handover
            .as_ref()
            .map(|h| tsunagu_domain::discharge_rules::check(&rules, h, self.today()))
            .unwrap_or_default();
        let seats = Seat::ALL
            .iter()
            .map(|seat| {
                let filled = candidates
                    .iter()
                    .find(|c| c.request.seat == *seat && c.request.accepted == Some(true))
                    .map(|c| c.facility_name.clone());
                (*seat, filled)
            })
            .collect();
        self.case_read(decided.event(self.now(), AuditAction::CaseViewed, json!({ "view": "requester" }))).await?;
        let line = CaseLineRow { case: row, assignee_name: None, open_tasks: 0, next_due_on: None };
        Ok(SentRequest {
            case: case_line(line, self.today(), &topics)?,
            hospital_name,
            handover,
            seats,
            rule_checks,
            conference,
        })
    }
}

/// The public form's sender, kept only as a hash with the municipality (for
/// the hourly limit): the address itself is not stored with the case.
fn source_key(municipality: Uuid, ip: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(municipality.as_bytes());
    h.update(ip.unwrap_or("unknown").as_bytes());
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The number a citizen quotes on the phone: the case id's last eight
/// characters, upper case (random bits of the UUIDv7, not a sequence).
pub fn receipt_number(case: CaseId) -> String {
    let s = case.0.simple().to_string().to_uppercase();
    s.chars().skip(s.len().saturating_sub(8)).collect()
}
