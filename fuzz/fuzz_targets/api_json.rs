//! JSON request bodies of the HTTP API: the bytes are read into the web crate's own request
//! types (`tsunagu_web::api::bodies`), as axum's `Json` reads them, and what deserialises is fed
//! to the domain parsers the handlers' use cases call. Checks: no panic; any JSON value read is
//! written and read again; the vitals the API accepts are stored exactly as sent (the API turns
//! numbers into form text and back); the beds count survives the same trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::date;
use tsunagu_domain::account::LoginId;
use tsunagu_domain::care::{EntryDraft, TeamRole, VitalSigns};
use tsunagu_domain::escalation::{RequestKind, RequestOutcome};
use tsunagu_domain::facility::PhoneNumber;
use tsunagu_domain::on_call::{AbsenceReason, Span, parse_local_datetime, parse_month};
use tsunagu_domain::coordination::{self as coordination, Consultation, ConsultationForm, Handover, HandoverForm};
use tsunagu_domain::patient::{ConsentDetails, PatientDetails};
use tsunagu_domain::{patient, text};
use tsunagu_web::api::bodies::{
    AdvanceCarePlan, Beds, CandidateAnswer, CaseChange, Correction, HospitalAnswer, NewAbsence, NewConsent,
    NewConsultation, NewDischargeRequest, NewEntry, NewGroup, NewGroupMember, NewPatient, NewTeamMember,
    NewUrgentRequest, RosterChange, StatusChange, TeamCreation, UrgentOutcome, Vitals, Withdrawal,
};
use uuid::Uuid;

/// A body as its handler receives it (axum's `Json` uses `serde_json::from_slice`).
fn body<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
    serde_json::from_slice(data).ok()
}

/// An entry's kind, text and vitals, as `post_entry` and `correct_entry` parse them.
fn entry(kind: &str, text: &str, vitals: &Vitals, needs_reply: bool, sent: &serde_json::Value) -> Option<EntryDraft> {
    let t = vitals.texts();
    let form = Vitals::form(&t);
    let accepted = VitalSigns::parse(&form).ok();
    if let Some(v) = &accepted {
        let read = (v.temperature_c, v.systolic, v.diastolic, v.pulse, v.spo2);
        let expected = (vitals.temperature_c, vitals.systolic, vitals.diastolic, vitals.pulse, vitals.spo2);
        assert_eq!(read, expected, "{sent}");
        let read = (v.respiratory_rate, v.weight_kg, v.blood_glucose, v.pain, v.bowel_movements);
        let expected =
            (vitals.respiratory_rate, vitals.weight_kg, vitals.blood_glucose, vitals.pain, vitals.bowel_movements);
        assert_eq!(read, expected, "{sent}");
    }
    let draft = EntryDraft::parse(kind, text, &form, needs_reply).ok()?;
    if let Some(v) = accepted {
        assert_eq!(draft.vitals, v, "{sent}");
    }
    Some(draft)
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    // What is read can be written and read again. (Not always to the same value: without its
    // `float_roundtrip` feature serde_json may read a long decimal 1 ULP off; harmless here.)
    let again = serde_json::to_vec(&value).unwrap_or_else(|e| panic!("{e}"));
    assert!(serde_json::from_slice::<serde_json::Value>(&again).is_ok(), "{value}");

    let today = date!(2026 - 11 - 25);
    if let Some(e) = body::<NewEntry>(data)
        && let Some(draft) = entry(&e.kind, &e.body, &e.vitals, e.needs_reply, &value)
    {
        let _ = draft.for_audience(&e.audience, None);
    }
    if let Some(c) = body::<Correction>(data) {
        let _ = entry(&c.kind, &c.body, &c.vitals, c.needs_reply, &value);
        let _ = text::required("reason", &c.reason, 200);
    }
    if let Some(p) = body::<NewPatient>(data) {
        let form = p.details.form();
        let _ = PatientDetails::parse(&form, today);
        let _ = TeamRole::parse(&p.team_role);
    }
    // The coordination centre's bodies: consultations, discharge requests, answers, the team's consent.
    if let Some(c) = body::<NewConsultation>(data) {
        let form = ConsultationForm {
            channel: &c.channel,
            requester_kind: &c.requester_kind,
            requester_name: &c.requester_name,
            requester_contact: &c.requester_contact,
            subject_name: &c.subject_name,
            subject_area: &c.subject_area,
            topics: c.topics.iter().map(String::as_str).collect(),
            urgency: &c.urgency,
            summary: &c.summary,
        };
        let _ = Consultation::parse(&form);
        let _ = Consultation::parse_public(&form);
    }
    if let Some(r) = body::<NewDischargeRequest>(data) {
        let handover = HandoverForm {
            planned_discharge_on: &r.planned_discharge_on,
            medications: &r.medications,
            adl: &r.adl,
            family_situation: &r.family_situation,
            family_care_skills: &r.family_care_skills,
            place_of_care: &r.place_of_care,
            place_of_death: &r.place_of_death,
            needed_services: r.needed_services.iter().map(String::as_str).collect(),
            note: &r.note,
        };
        if let Ok(h) = Handover::parse(&r.patient.form(), &handover, today) {
            // What is kept parses again into the same patient (the team is created from it).
            assert_eq!(
                PatientDetails::parse(&h.patient.form(), today).ok(),
                PatientDetails::parse(&r.patient.form(), today).ok()
            );
            let _ = h.as_entry_text("fuzz");
        }
    }
    if let Some(a) = body::<CandidateAnswer>(data) {
        let _ = coordination::CandidateAnswer::parse(&a.answer, &a.reason, &a.note);
    }
    if let Some(c) = body::<CaseChange>(data) {
        let _ = coordination::TaskDraft::parse(c.task.as_deref().unwrap_or_default(), c.task_due_on.as_deref().unwrap_or_default());
        let _ = coordination::ContactDraft::parse(c.log_kind.as_deref().unwrap_or_default(), c.log_note.as_deref().unwrap_or_default());
        let _ = coordination::Closing::parse(c.outcome.as_deref().unwrap_or_default(), c.closing_note.as_deref().unwrap_or_default(), 1);
    }
    if let Some(t) = body::<TeamCreation>(data) {
        let _ = ConsentDetails::parse(&t.given_on, &t.method, &t.proxy_name, &t.proxy_relation, &t.scope, today);
    }
    if let Some(c) = body::<NewConsent>(data) {
        let _ = ConsentDetails::parse(&c.given_on, &c.method, &c.proxy_name, &c.proxy_relation, &c.scope, today);
    }
    if let Some(w) = body::<Withdrawal>(data) {
        let _ = text::required("reason", &w.reason, 500);
    }
    if let Some(m) = body::<NewTeamMember>(data) {
        let _ = LoginId::parse(&m.login_id);
        let _ = TeamRole::parse(&m.team_role);
    }
    if let Some(s) = body::<StatusChange>(data) {
        let _ = patient::StatusChange::parse(&s.status, &s.outcome, &s.outcome_date, today);
    }
    if let Some(a) = body::<AdvanceCarePlan>(data) {
        let _ = patient::AdvanceCarePlan::parse(&a.form(), today);
    }
    if let Some(a) = body::<NewAbsence>(data) {
        if let (Ok(start), Ok(end)) =
            (parse_local_datetime("starts_at", &a.starts_at), parse_local_datetime("ends_at", &a.ends_at))
        {
            let _ = Span::parse(start, end);
        }
        let _ = AbsenceReason::parse(a.reason.trim());
        let _ = text::optional("note", &a.note, 200);
        let _ = Uuid::parse_str(a.physician.trim());
    }
    if let Some(r) = body::<RosterChange>(data) {
        let _ = parse_month(&r.month);
        for (start, _) in &r.assignments {
            if let Ok(at) = OffsetDateTime::parse(start, &Rfc3339) {
                let _ = at.unix_timestamp();
            }
        }
    }
    if let Some(r) = body::<NewUrgentRequest>(data) {
        let _ = RequestKind::parse(r.kind.trim());
        let _ = text::required("situation", &r.note, 1000);
    }
    if let Some(a) = body::<HospitalAnswer>(data) {
        let _ = text::optional("decline_reason", &a.reason, 500);
    }
    if let Some(o) = body::<UrgentOutcome>(data) {
        let _ = RequestOutcome::parse(o.outcome.trim());
        let _ = text::optional("note", &o.note, 1000);
    }
    if let Some(b) = body::<Beds>(data) {
        // The handler passes the count on as text; the use case reads it back.
        assert_eq!(b.beds_available.to_string().trim().parse::<i64>().ok(), Some(b.beds_available), "{value}");
        let _ = text::optional("note", &b.note, 200);
    }
    if let Some(g) = body::<NewGroup>(data) {
        let _ = text::required("name", &g.name, 60);
        let _ = text::optional("area", &g.area, 60);
        let _ = LoginId::parse(&g.coordinator);
    }
    if let Some(m) = body::<NewGroupMember>(data) {
        let _ = LoginId::parse(&m.login_id);
        let _ = PhoneNumber::parse(&m.phone);
    }
    // GET /patients/{id}/who-answers?at= (a query, not a body; fuzzed here as a JSON string).
    if let Some(at) = value.get("at").and_then(serde_json::Value::as_str) {
        let _ = OffsetDateTime::parse(at, &Rfc3339).map(OffsetDateTime::unix_timestamp);
    }
});
