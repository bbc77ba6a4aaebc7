//! Finding the home-care team (多職種コーディネート): the candidates for
//! each seat, ranked; the requests to several at once; each candidate's
//! answer; and, once the seats are filled, the patient, the consent and the
//! care team created in the sharing system from what the hospital sent.

use super::*;
use crate::patients::new_patient_row;
use crate::record::notify_all;
use tsunagu_domain::ValidationError;
use tsunagu_domain::account::{AccountStatus, Profession};
use tsunagu_domain::care::{Audience, EntryKind, TeamRole};
use tsunagu_domain::coordination::{Answer, CandidateAnswer, CandidateFacts, Seat, estimate_home, rank_candidates};
use tsunagu_domain::facility::Location;
use tsunagu_domain::ids::{AccountId, CandidateRequestId, PatientId};
use tsunagu_domain::patient::{CareLevel, ConsentDetails, PatientDetails, Place, Sex, SpecialCare, age};
use tsunagu_domain::registry::{Accepting, FacilityService};
use tsunagu_store::{CandidateLineRow, CandidateRow, CaseLogRow, ConsentRow, NewEntry, NewNotification, NewTeamMember};
use uuid::Uuid;

/// How long a candidate has to answer before the request counts as declined.
pub const ANSWER_WITHIN: time::Duration = time::Duration::hours(48);
/// A facility that has not answered is reminded this long before the deadline.
pub const REMIND_BEFORE: time::Duration = time::Duration::hours(12);
/// Candidates suggested per seat.
const SUGGESTED: usize = 8;

/// A request to a candidate, as the desk sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateView {
    pub id: CandidateRequestId,
    pub facility: FacilityId,
    pub facility_name: String,
    pub facility_phone: Option<String>,
    pub answer: Answer,
    pub note: Option<String>,
    pub answerer: Option<String>,
    pub requested_at: OffsetDateTime,
    pub due_at: OffsetDateTime,
    pub answered_at: Option<OffsetDateTime>,
}

/// A facility the desk could ask.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub facility: FacilityId,
    pub name: String,
    pub address: String,
    pub phone: Option<String>,
    pub distance_m: Option<f64>,
    pub missing: Vec<FacilityService>,
    pub accepting: Option<Accepting>,
    pub active_patients: i64,
}

/// One seat of the future team.
#[derive(Debug, Clone, PartialEq)]
pub struct SeatFinding {
    pub seat: Seat,
    pub required: bool,
    pub requests: Vec<CandidateView>,
    /// The request that was accepted, if one was.
    pub filled_by: Option<CandidateView>,
    /// Facilities not yet asked for this seat, best first (while not filled).
    pub suggestions: Vec<Suggestion>,
}

/// The team being found for a discharge case.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamFinding {
    pub seats: Vec<SeatFinding>,
    /// The town the home's position was estimated from, if it could be.
    pub located_by: Option<String>,
    pub needs: Vec<FacilityService>,
    /// Physicians of the accepting home doctor's groups (the backup).
    pub backup_options: Vec<(AccountId, String)>,
    /// Every required seat is filled and the team is not created yet.
    pub ready: bool,
    /// The patient created from the case.
    pub patient: Option<PatientId>,
    /// A patient of the same name and birth date is already registered.
    pub duplicate: bool,
}

fn candidate_view(r: &CandidateLineRow, now: OffsetDateTime) -> CandidateView {
    let q = &r.request;
    CandidateView {
        id: CandidateRequestId(q.id),
        facility: FacilityId(q.facility_id),
        facility_name: r.facility_name.clone(),
        facility_phone: r.facility_phone.clone(),
        answer: super::answer_of(q, now),
        note: q.note.clone(),
        answerer: r.answerer_name.clone(),
        requested_at: q.requested_at,
        due_at: q.due_at,
        answered_at: q.answered_at,
    }
}

/// The summary a candidate answers on: enough to decide, nothing that names
/// or finds the patient (no name, no street address, no phone).
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateSummary {
    pub age: Option<i32>,
    pub sex: Option<Sex>,
    /// The town (the address up to its first number).
    pub area: Option<String>,
    pub care_level: Option<CareLevel>,
    pub diagnoses: Option<String>,
    pub special_care: Vec<SpecialCare>,
    pub needed_services: Vec<FacilityService>,
    pub adl: Option<String>,
    pub planned_discharge_on: Option<Date>,
    pub hospital_name: Option<String>,
    pub place_of_care: Option<Place>,
    pub place_of_death: Option<Place>,
}

/// A request to a facility, as its staff answer it.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateRequestPage {
    pub id: CandidateRequestId,
    pub seat: Seat,
    pub facility_name: String,
    pub requested_at: OffsetDateTime,
    pub due_at: OffsetDateTime,
    pub answer: Answer,
    pub note: Option<String>,
    pub summary: CandidateSummary,
    /// The person reading may accept (their profession fits the seat).
    pub may_accept: bool,
    /// The patient, once the team is created and the reader is on it.
    pub patient: Option<PatientId>,
    /// The pre-discharge conference, for a candidate who accepted.
    pub conference: Option<super::ConferenceView>,
}

/// A facility's open request on its staff's home.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxItem {
    pub id: CandidateRequestId,
    pub seat: Seat,
    pub facility_name: String,
    pub requested_at: OffsetDateTime,
    pub due_at: OffsetDateTime,
    /// Less than 12 hours left.
    pub due_soon: bool,
}

/// The consent the desk records when it creates the team.
#[derive(Debug, Clone, Default)]
pub struct TeamCreationForm<'a> {
    pub given_on: &'a str,
    pub method: &'a str,
    pub proxy_name: &'a str,
    pub proxy_relation: &'a str,
    pub scope: &'a str,
    /// An account id of the backup physician (one of `backup_options`), or empty.
    pub backup_physician: &'a str,
}

fn accepted_by(requests: &[CandidateLineRow], seat: Seat) -> Option<&CandidateLineRow> {
    requests.iter().find(|r| r.request.seat == seat && r.request.accepted == Some(true))
}

impl App {
    /// The seats of a discharge case: requests and answers, and for each
    /// open seat the registry's facilities ranked for this patient.
    pub(crate) async fn team_finding(
        &self,
        tx: &mut dyn StoreTx,
        decided: &CaseDecided<'_>,
        row: &CaseRow,
        handover: &Handover,
    ) -> Result<TeamFinding, AppError> {
        let now = self.now();
        let requests = tx.case_candidates(decided.grant()).await?;
        let needs = handover.needed_services();
        let facilities = tx.facilities(row.municipality_id).await?;
        let located = facilities
            .iter()
            .filter_map(|f| Some((f.address.as_str(), Location { latitude: f.latitude?, longitude: f.longitude? })));
        let estimate = estimate_home(&handover.patient.address, located);
        let creating = row.patient_id.is_none();
        let desk = case_access::enter_desk(&decided.session.actor()?, decided.municipality)?;
        let mut seats = Vec::new();
        for seat in Seat::ALL.iter().copied() {
            let mine: Vec<&CandidateLineRow> = requests.iter().filter(|r| r.request.seat == seat).collect();
            let filled_by = accepted_by(&requests, seat).map(|r| candidate_view(r, now));
            let suggestions = if filled_by.is_none() && creating {
                let kinds: Vec<&str> = seat.facility_kinds().iter().map(|k| k.code()).collect();
                let rows = tx.seat_candidates(&desk, &kinds).await?;
                let facts: Vec<CandidateFacts<usize>> = rows
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| !mine.iter().any(|r| r.request.facility_id == f.id))
                    .map(|(i, f)| CandidateFacts {
                        key: i,
                        location: f
                            .latitude
                            .zip(f.longitude)
                            .map(|(latitude, longitude)| Location { latitude, longitude }),
                        services: f
                            .services
                            .as_deref()
                            .unwrap_or("")
                            .split(',')
                            .filter_map(|c| FacilityService::parse(c).ok())
                            .collect(),
                        accepting: f.accepting.as_deref().and_then(|a| Accepting::parse(a).ok()),
                        active_patients: f.active_patients,
                    })
                    .collect();
                let relevant: Vec<FacilityService> =
                    needs.iter().copied().filter(|n| seat_needs(seat).contains(n)).collect();
                rank_candidates(estimate.as_ref().map(|(l, _)| *l), &relevant, &facts)
                    .into_iter()
                    .take(SUGGESTED)
                    .filter_map(|r| {
                        let f = rows.get(r.key)?;
                        Some(Suggestion {
                            facility: FacilityId(f.id),
                            name: f.name.clone(),
                            address: f.address.clone(),
                            phone: f.phone.clone(),
                            distance_m: r.distance_m,
                            missing: r.missing,
                            accepting: r.accepting,
                            active_patients: r.active_patients,
                        })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            seats.push(SeatFinding {
                seat,
                required: Seat::REQUIRED.contains(&seat),
                requests: mine.iter().map(|r| candidate_view(r, now)).collect(),
                filled_by,
                suggestions,
            });
        }
        let backup_options = match accepted_by(&requests, Seat::PrimaryPhysician).and_then(|r| r.request.answered_by) {
            Some(doctor) => {
                let mut mates: Vec<(AccountId, String)> = tx
                    .members_of_groups_with(Some(doctor), None)
                    .await?
                    .into_iter()
                    .filter(|m| m.account_id != doctor)
                    .map(|m| (AccountId(m.account_id), m.display_name))
                    .collect();
                mates.sort();
                mates.dedup();
                mates
            }
            None => Vec::new(),
        };
        let duplicate = match PatientDetails::parse(&handover.patient.form(), self.today()) {
            Ok(details) => tx
                .patients_born_on(row.municipality_id, details.birth_date)
                .await?
                .iter()
                .any(|p| p.search_key == details.search_key()),
            Err(_) => false,
        };
        Ok(TeamFinding {
            ready: creating && Seat::REQUIRED.iter().all(|s| accepted_by(&requests, *s).is_some()),
            seats,
            located_by: estimate.map(|(_, town)| town),
            needs,
            backup_options,
            patient: row.patient_id.map(PatientId),
            duplicate,
        })
    }

    /// Sends the request for `seat` to each of `facilities` at once; each
    /// must be a facility of that kind in the municipality's registry.
    pub async fn ask_candidates(
        &self,
        session: &Session,
        case: CaseId,
        seat: &str,
        facilities: &[FacilityId],
        meta: &RequestMeta,
    ) -> Result<usize, AppError> {
        let seat = Seat::parse(seat).map_err(|_| ValidationError::new("seat", "unknown"))?;
        if facilities.is_empty() {
            return Err(ValidationError::new("facilities", "required").into());
        }
        let now = self.now();
        let mut tx = self.begin_keeping_all().await?;
        let decided = self.decide_case(tx.as_mut(), case, CaseIntent::Work, session, meta).await?;
        let mut row = tx.case(decided.grant()).await?.ok_or(AppError::NotFound)?;
        if row.kind != CaseKind::Discharge || row.patient_id.is_some() || row.state == CaseState::Closed {
            return Err(ValidationError::new("seat", "not_allowed").into());
        }
        let desk = case_access::enter_desk(&session.actor()?, decided.municipality)?;
        let kinds: Vec<&str> = seat.facility_kinds().iter().map(|k| k.code()).collect();
        let registry = tx.seat_candidates(&desk, &kinds).await?;
        let mut asked = Vec::new();
        for facility in facilities {
            let Some(f) = registry.iter().find(|f| f.id == facility.0) else {
                return Err(ValidationError::new("facilities", "outside_registry").into());
            };
            if f.accepting.as_deref() == Some(Accepting::No.code()) {
                return Err(ValidationError::new("facilities", "not_accepting").into());
            }
            let inserted = tx
                .insert_candidate(
                    decided.grant(),
                    &CandidateRow {
                        id: Uuid::now_v7(),
                        case_id: case.0,
                        municipality_id: row.municipality_id,
                        facility_id: f.id,
                        seat,
                        requested_by: session.account.id.0,
                        requested_at: now,
                        due_at: now + ANSWER_WITHIN,
                        accepted: None,
                        decline_reason: None,
                        note: None,
                        answered_by: None,
                        answered_at: None,
                    },
                )
                .await?;
            if inserted {
                asked.push(f.name.clone());
            }
        }
        super::desk::answered(&mut row, now);
        row.state = CaseState::Coordinating;
        tx.update_case(decided.grant(), &row).await?;
        tx.insert_case_log(
            decided.grant(),
            &CaseLogRow {
                id: Uuid::now_v7(),
                case_id: case.0,
                kind: "state".to_owned(),
                note: format!("{}の依頼: {}", seat.label_ja(), asked.join("、")),
                written_by: Some(session.account.id.0),
                written_at: now,
            },
        )
        .await?;
        tx.append_audit(&decided.event(
            now,
            AuditAction::CandidatesAsked,
            json!({ "seat": seat.code(), "facilities": facilities.iter().map(|f| f.0).collect::<Vec<_>>() }),
        ))
        .await?;
        tx.commit().await?;
        Ok(asked.len())
    }

    /// The open requests to the facilities the session works at (its home's list).
    pub async fn coordination_inbox(&self, session: &Session) -> Result<Vec<InboxItem>, AppError> {
        session.actor()?;
        let facilities: Vec<Uuid> = session.account.memberships.iter().map(|m| m.facility_id.0).collect();
        if facilities.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let mut tx = self.store.begin_read().await?;
        let rows = tx.open_requests_to(&facilities).await?;
        Ok(rows
            .into_iter()
            .filter(|r| r.due_at > now)
            .map(|r| InboxItem {
                id: CandidateRequestId(r.id),
                seat: r.seat,
                facility_name: r.facility_name,
                requested_at: r.requested_at,
                due_at: r.due_at,
                due_soon: r.due_at - now < time::Duration::hours(12),
            })
            .collect())
    }

    /// Reminds each facility whose answer is due within [`REMIND_BEFORE`]
    /// (once): its staff who asked for e-mail get the "something new" mail
    /// (no patient data), and the request shows as due soon on their home.
    /// Run by the server's timer; returns how many requests were reminded.
    pub async fn remind_candidates(&self, limit: i64) -> Result<usize, AppError> {
        let now = self.now();
        let mut tx = self.begin_keeping_all().await?;
        let due = tx.candidates_to_remind(now, now + REMIND_BEFORE, limit).await?;
        let mut reminded = 0;
        for (request, case, facility) in due {
            if !tx.mark_reminded(request, now).await? {
                continue;
            }
            let accounts = tx.facility_accounts(facility).await?;
            let mails: Vec<(Uuid, Uuid)> = accounts.iter().map(|a| (Uuid::now_v7(), *a)).collect();
            tx.enqueue_mails(&mails, now).await?;
            let municipality = tx.case_scope(case).await?.map(|s| MunicipalityId(s.municipality_id));
            let meta = RequestMeta::default();
            let actor = crate::AuditActor { account_id: None, label: "system", meta: &meta };
            tx.append_audit(&audit_record(
                now,
                municipality,
                &actor,
                AuditAction::CandidateReminded,
                "case",
                Some(case),
                json!({ "request": request, "facility": facility, "accounts": accounts.len() }),
            ))
            .await?;
            reminded += 1;
        }
        tx.commit().await?;
        Ok(reminded)
    }

    async fn decide_request<'a>(
        &self,
        tx: &mut dyn StoreTx,
        request: CandidateRequestId,
        session: &'a Session,
        meta: &'a RequestMeta,
    ) -> Result<CaseDecided<'a>, AppError> {
        let (case, facility) = tx.candidate_request_case(request.0).await?.ok_or(AppError::NotFound)?;
        self.decide_case(tx, CaseId(case), CaseIntent::Answer(FacilityId(facility)), session, meta).await
    }

    /// The request as the candidate facility's staff read it.
    pub async fn candidate_request(
        &self,
        session: &Session,
        request: CandidateRequestId,
        meta: &RequestMeta,
    ) -> Result<CandidateRequestPage, AppError> {
        let now = self.now();
        let mut tx = self.store.begin_read().await?;
        let decided = self.decide_request(tx.as_mut(), request, session, meta).await?;
        let row = tx.case(decided.grant()).await?.ok_or(AppError::NotFound)?;
        let requests = tx.case_candidates(decided.grant()).await?;
        let line = requests.iter().find(|r| r.request.id == request.0).ok_or(AppError::NotFound)?;
        let hospital_name = match row.requester_facility_id {
            Some(f) => tx.facility(f).await?.map(|f| f.name),
            None => None,
        };
        // The patient is shown only to whom the team includes (the policy decides on the record).
        let patient = match row.patient_id {
            Some(p) if line.request.answered_by == Some(session.account.id.0) => Some(PatientId(p)),
            _ => None,
        };
        let conference = match line.request.accepted {
            Some(true) => tx.conference(decided.grant()).await?.map(super::rules::conference_view),
            _ => None,
        };
        drop(tx);
        let handover = handover_of(&row)?.ok_or(AppError::NotFound)?;
        let details = PatientDetails::parse(&handover.patient.form(), self.today()).ok();
        let summary = CandidateSummary {
            age: details.as_ref().map(|d| age(d.birth_date, self.today())),
            sex: details.as_ref().map(|d| d.sex),
            area: tsunagu_domain::coordination::town_of(&handover.patient.address),
            care_level: details.as_ref().map(|d| d.care_level),
            diagnoses: details.as_ref().and_then(|d| d.main_diagnoses.clone()),
            special_care: details.as_ref().map(|d| d.special_care.clone()).unwrap_or_default(),
            needed_services: handover.needed_services(),
            adl: handover.adl.clone(),
            planned_discharge_on: Some(handover.planned_discharge_on),
            hospital_name,
            place_of_care: handover.place_of_care(),
            place_of_death: handover.place_of_death(),
        };
        let view = candidate_view(line, now);
        self.case_read(decided.event(now, AuditAction::CandidateRequestViewed, json!({ "request": request.0 })))
            .await?;
        Ok(CandidateRequestPage {
            id: request,
            seat: line.request.seat,
            facility_name: line.facility_name.clone(),
            requested_at: line.request.requested_at,
            due_at: line.request.due_at,
            answer: view.answer,
            note: view.note,
            summary,
            may_accept: line.request.seat.team_role().fits(session.account.profession),
            patient,
            conference,
        })
    }

    /// A candidate's answer: accept (the person who accepts takes the seat,
    /// so their profession must fit it) or decline with a reason. Once the
    /// deadline has passed the request counts as declined.
    pub async fn answer_candidate_request(
        &self,
        session: &Session,
        request: CandidateRequestId,
        answer: &str,
        reason: &str,
        note: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let answer = CandidateAnswer::parse(answer, reason, note)?;
        let now = self.now();
        let mut tx = self.begin_keeping_all().await?;
        let decided = self.decide_request(tx.as_mut(), request, session, meta).await?;
        let requests = tx.case_candidates(decided.grant()).await?;
        let line = requests.iter().find(|r| r.request.id == request.0).ok_or(AppError::NotFound)?;
        let row = tx.case(decided.grant()).await?.ok_or(AppError::NotFound)?;
        if row.patient_id.is_some() || row.state == CaseState::Closed {
            return Err(ValidationError::new("answer", "closed").into());
        }
        if line.request.accepted.is_some() {
            return Err(ValidationError::new("answer", "already_answered").into());
        }
        if now > line.request.due_at {
            return Err(ValidationError::new("answer", "past_deadline").into());
        }
        let seat = line.request.seat;
        if answer.accepted {
            if !seat.team_role().fits(session.account.profession) {
                return Err(ValidationError::new("answer", "profession_does_not_fit").into());
            }
            if accepted_by(&requests, seat).is_some() {
                return Err(ValidationError::new("answer", "seat_filled").into());
            }
        }
        let reason_code = answer.reason.map(|r| r.code());
        if !tx
            .answer_candidate(
                decided.grant(),
                request.0,
                answer.accepted,
                reason_code,
                answer.note.as_deref(),
                session.account.id.0,
                now,
            )
            .await?
        {
            return Err(ValidationError::new("answer", "already_answered").into());
        }
        let text = if answer.accepted {
            format!("{}: {}（{}）が受諾", seat.label_ja(), line.facility_name, session.account.display_name)
        } else {
            format!(
                "{}: {}が辞退（{}）",
                seat.label_ja(),
                line.facility_name,
                answer.reason.map(|r| r.label_ja()).unwrap_or_default()
            )
        };
        tx.insert_case_log(
            decided.grant(),
            &CaseLogRow {
                id: Uuid::now_v7(),
                case_id: row.id,
                kind: "state".to_owned(),
                note: text,
                written_by: Some(session.account.id.0),
                written_at: now,
            },
        )
        .await?;
        tx.append_audit(&decided.event(
            now,
            AuditAction::CandidateAnswered,
            json!({ "request": request.0, "seat": seat.code(), "accepted": answer.accepted, "reason": reason_code }),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The desk creates the patient, records the consent and creates the
    /// care team from the accepted candidates, with the hospital's handover
    /// as the timeline's first entry: nothing is typed again. Refused while a
    /// required seat is open, or when a patient of the same name and birth
    /// date is registered (the desk links by hand then: no duplicate).
    pub async fn create_team_from_case(
        &self,
        session: &Session,
        case: CaseId,
        form: &TeamCreationForm<'_>,
        meta: &RequestMeta,
    ) -> Result<PatientId, AppError> {
        let today = self.today();
        let consent = ConsentDetails::parse(
            form.given_on,
            form.method,
            form.proxy_name,
            form.proxy_relation,
            if form.scope.trim().is_empty() {
                "在宅医療・介護チーム内での情報共有"
            } else {
                form.scope
            },
            today,
        )?;
        let backup: Option<AccountId> = match form.backup_physician.trim() {
            "" => None,
            raw => Some(raw.parse().map_err(|_| ValidationError::new("backup_physician", "unknown"))?),
        };
        let now = self.now();
        // The team changes whom records are kept for: forget kept records on commit.
        let mut tx = self.begin().await?;
        let decided = self.decide_case(tx.as_mut(), case, CaseIntent::Work, session, meta).await?;
        let mut row = tx.case(decided.grant()).await?.ok_or(AppError::NotFound)?;
        if row.patient_id.is_some() {
            return Err(ValidationError::new("team", "already_created").into());
        }
        if row.state == CaseState::Closed {
            return Err(ValidationError::new("team", "case_closed").into());
        }
        let handover = handover_of(&row)?.ok_or(ValidationError::new("team", "no_handover"))?;
        let details = PatientDetails::parse(&handover.patient.form(), today)?;
        let municipality = MunicipalityId(row.municipality_id);
        if tx
            .patients_born_on(municipality.0, details.birth_date)
            .await?
            .iter()
            .any(|p| p.search_key == details.search_key())
        {
            return Err(ValidationError::new("team", "duplicate_patient").into());
        }
        let requests = tx.case_candidates(decided.grant()).await?;
        let mut members: Vec<(Uuid, TeamRole)> = Vec::new();
        for seat in Seat::ALL.iter().copied() {
            match accepted_by(&requests, seat).and_then(|r| r.request.answered_by) {
                Some(account) => members.push((account, seat.team_role())),
                None if Seat::REQUIRED.contains(&seat) => return Err(ValidationError::new("team", "incomplete").into()),
                None => {}
            }
        }
        if let Some(backup) = backup {
            let doctor = members.iter().find(|(_, r)| *r == TeamRole::PrimaryPhysician).map(|(a, _)| *a);
            let mates = tx.members_of_groups_with(doctor, None).await?;
            if !mates.iter().any(|m| m.account_id == backup.0) || doctor == Some(backup.0) {
                return Err(ValidationError::new("backup_physician", "unknown").into());
            }
            members.push((backup.0, TeamRole::BackupPhysician));
        }
        // Every member must still be an active account of the municipality whose profession fits the seat.
        for (account, role) in &members {
            let a = tx.account(*account).await?.ok_or(ValidationError::new("team", "member_gone"))?;
            if a.status != AccountStatus::Active
                || a.municipality_id != Some(municipality.0)
                || !role.fits(a.profession)
                || a.profession == Profession::Family
            {
                return Err(ValidationError::new("team", "member_gone").into());
            }
        }
        let patient = new_patient_row(details, municipality, session.account.id, now);
        let patient_id = patient.id;
        tx.insert_patient(&patient).await?;
        tx.insert_consent(&ConsentRow {
            id: Uuid::now_v7(),
            patient_id,
            given_on: consent.given_on,
            method: consent.method.code().to_owned(),
            proxy_name: consent.proxy_name.clone(),
            proxy_relation: consent.proxy_relation.clone(),
            scope: consent.scope.clone(),
            recorded_by: session.account.id.0,
            recorded_at: now,
            withdrawn_at: None,
            withdrawn_by: None,
            withdrawal_reason: None,
            document_entry_id: None,
        })
        .await?;
        for (account, role) in &members {
            tx.insert_team_member(&NewTeamMember {
                id: Uuid::now_v7(),
                patient_id,
                account_id: *account,
                team_role: role.code().to_owned(),
                added_by: session.account.id.0,
                joined_at: now,
            })
            .await?;
        }
        let hospital = match row.requester_facility_id {
            Some(f) => tx.facility(f).await?.map(|f| f.name).unwrap_or_default(),
            None => String::new(),
        };
        let entry_id = Uuid::now_v7();
        tx.insert_entry(&NewEntry {
            id: entry_id,
            patient_id,
            kind: EntryKind::Message.code().to_owned(),
            author_id: session.account.id.0,
            reply_to: None,
            needs_reply: false,
            created_at: now,
            body: handover.as_entry_text(&format!("{hospital}（{}）", row.requester_name)),
            vitals: "{}".to_owned(),
            audience: Audience::Team.code().to_owned(),
        })
        .await?;
        let notices: Vec<NewNotification> = members
            .iter()
            .map(|(account, _)| NewNotification {
                id: Uuid::now_v7(),
                account_id: *account,
                patient_id,
                entry_id: None,
                kind: "team_added".to_owned(),
                actor_id: session.account.id.0,
                created_at: now,
            })
            .collect();
        notify_all(tx.as_mut(), &notices, now).await?;
        let about_patient = |action: AuditAction, kind: &'static str, target: Uuid, details: serde_json::Value| {
            audit_record(now, Some(municipality), &session.audit_actor(meta), action, kind, Some(target), details)
        };
        let from_case = json!({ "case": case.0 });
        tx.append_audit(&about_patient(AuditAction::PatientRegistered, "patient", patient_id, from_case.clone()))
            .await?;
        tx.append_audit(&about_patient(
            AuditAction::ConsentRecorded,
            "patient",
            patient_id,
            json!({ "given_on": consent.given_on.to_string(), "method": consent.method.code(), "by_proxy": consent.proxy_name.is_some(), "case": case.0 }),
        ))
        .await?;
        for (account, role) in &members {
            tx.append_audit(&about_patient(
                AuditAction::TeamMemberAdded,
                "patient",
                patient_id,
                json!({ "member": account, "team_role": role.code(), "case": case.0 }),
            ))
            .await?;
        }
        tx.append_audit(&about_patient(
            AuditAction::EntryPosted,
            "entry",
            entry_id,
            json!({ "patient": patient_id, "kind": "message", "handover": true }),
        ))
        .await?;
        row.patient_id = Some(patient_id);
        row.team_completed_at = Some(now);
        row.updated_at = now;
        tx.update_case(decided.grant(), &row).await?;
        tx.insert_case_log(
            decided.grant(),
            &CaseLogRow {
                id: Uuid::now_v7(),
                case_id: case.0,
                kind: "state".to_owned(),
                note: format!("在宅チームを作成（{}名）", members.len()),
                written_by: Some(session.account.id.0),
                written_at: now,
            },
        )
        .await?;
        tx.append_audit(&decided.event(
            now,
            AuditAction::TeamCreatedFromCase,
            json!({ "patient": patient_id, "members": members.len() }),
        ))
        .await?;
        tx.commit().await?;
        Ok(PatientId(patient_id))
    }
}

/// The needed services a seat's facilities are judged on (a pharmacy is not
/// asked about ventilators).
fn seat_needs(seat: Seat) -> &'static [FacilityService] {
    use FacilityService as S;
    match seat {
        Seat::PrimaryPhysician => &[
            S::ScheduledHomeVisit,
            S::UrgentVisit,
            S::AroundTheClock,
            S::HomeDeath,
            S::PalliativeOpioids,
            S::HomeOxygen,
            S::Ventilator,
            S::TubeFeeding,
            S::Dementia,
            S::Paediatric,
        ],
        Seat::VisitingNurse => &[
            S::AroundTheClock,
            S::HomeDeath,
            S::PalliativeOpioids,
            S::HomeOxygen,
            S::Ventilator,
            S::TubeFeeding,
            S::PressureUlcer,
            S::Paediatric,
            S::Rehabilitation,
        ],
        Seat::CareManager => &[S::Dementia],
        Seat::Pharmacist => &[S::PharmacyVisit, S::PalliativeOpioids, S::AroundTheClock],
    }
}
