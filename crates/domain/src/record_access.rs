//! The way into a patient's record. A use case says what it intends
//! ([`RecordIntent`]); [`decide`] asks the policy and, if it allows, hands back
//! a [`RecordGrant`]. The store's reads of a record's contents (timeline,
//! entries, versions, receipts, care plans, attachments) take a grant and read
//! only the patient and the audiences it names, so a read that skipped the
//! policy does not compile: a grant cannot be built outside this module.
//!
//! ```compile_fail
//! use tsunagu_domain::record_access::RecordGrant;
//! use tsunagu_domain::ids::{AccountId, PatientId};
//! // The fields are private: no grant without `decide`.
//! let forged = RecordGrant { patient: PatientId::new(), reader: AccountId::new(), audiences: &[] };
//! ```

use crate::account::Profession;
use crate::care::{Audience, visible_audiences};
use crate::ids::{AccountId, PatientId};
use crate::policy::{self, Actor, Decision, PatientScope, RequestScope, TeamChange};

/// What a use case wants to do with a patient's record.
#[derive(Debug, Clone, Copy)]
pub enum RecordIntent<'a> {
    /// Read the record (timeline, care plan, entries).
    Read,
    /// Post to the timeline or correct one's entry.
    Write,
    /// Read what is for the professionals only (who answers, urgent requests).
    ReadTeamOnly,
    /// Act for the team: consent withdrawal, care plan, status, backup hospital.
    ActForTeam,
    /// Record (or record again) the patient's consent.
    RecordConsent,
    /// Change the care team.
    ChangeTeam(&'a TeamChange),
    /// Say "I will respond" on an urgent entry, being of this profession.
    AcknowledgeUrgentEntry(Profession),
    /// Raise an urgent request.
    RaiseUrgentRequest,
    /// Read an urgent request with the patient summary it carries.
    ReadUrgentRequest(&'a RequestScope),
    /// "I'll take it" on an urgent request.
    AcknowledgeUrgentRequest(&'a RequestScope),
    /// Accept or decline as a hospital the request called.
    AnswerAsHospital(&'a RequestScope),
    /// Record the request's outcome, or ask the hospitals at once.
    ActOnUrgentRequest(&'a RequestScope),
}

impl RecordIntent<'_> {
    /// The intent's name in an audit event of a refusal.
    pub fn attempt(&self) -> &'static str {
        match self {
            RecordIntent::Read => "read",
            RecordIntent::Write => "write",
            RecordIntent::ReadTeamOnly => "read_team_only",
            RecordIntent::ActForTeam => "act_for_team",
            RecordIntent::RecordConsent => "record_consent",
            RecordIntent::ChangeTeam(_) => "change_team",
            RecordIntent::AcknowledgeUrgentEntry(_) => "acknowledge_urgent_entry",
            RecordIntent::RaiseUrgentRequest => "raise_urgent_request",
            RecordIntent::ReadUrgentRequest(_) => "read_urgent_request",
            RecordIntent::AcknowledgeUrgentRequest(_) => "acknowledge_urgent_request",
            RecordIntent::AnswerAsHospital(_) => "answer_as_hospital",
            RecordIntent::ActOnUrgentRequest(_) => "act_on_urgent_request",
        }
    }

    fn decision(&self, actor: &Actor, patient: &PatientScope) -> Decision {
        match self {
            RecordIntent::Read => policy::read_patient(actor, patient),
            RecordIntent::Write => policy::write_patient(actor, patient),
            RecordIntent::ReadTeamOnly => policy::read_team_only(actor, patient),
            RecordIntent::ActForTeam => policy::act_for_team(actor, patient),
            RecordIntent::RecordConsent => policy::record_consent(actor, patient),
            RecordIntent::ChangeTeam(change) => policy::change_team(actor, patient, change),
            RecordIntent::AcknowledgeUrgentEntry(profession) => {
                policy::acknowledge_urgent_entry(actor, *profession, patient)
            }
            RecordIntent::RaiseUrgentRequest => policy::raise_urgent_request(actor, patient),
            RecordIntent::ReadUrgentRequest(request) => policy::read_urgent_request(actor, request),
            RecordIntent::AcknowledgeUrgentRequest(request) => policy::acknowledge_urgent_request(actor, request),
            RecordIntent::AnswerAsHospital(request) => policy::answer_as_hospital(actor, request),
            RecordIntent::ActOnUrgentRequest(request) => policy::act_on_urgent_request(actor, request),
        }
    }

    /// The request an intent on an urgent request is about.
    fn request(&self) -> Option<&RequestScope> {
        match self {
            RecordIntent::ReadUrgentRequest(r)
            | RecordIntent::AcknowledgeUrgentRequest(r)
            | RecordIntent::AnswerAsHospital(r)
            | RecordIntent::ActOnUrgentRequest(r) => Some(r),
            _ => None,
        }
    }
}

/// Why the policy said no. `Hidden` answers "not found": the existence of a
/// patient (or of an entry for others) is itself patient data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Denied,
    Hidden,
}

impl Refusal {
    /// The refusal's name in its audit event.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Denied => "denied",
            Refusal::Hidden => "hidden",
        }
    }
}

/// The policy's yes to one reader on one patient's record, with the
/// audiences of entries that reader sees (besides their own). Only
/// [`decide`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordGrant {
    patient: PatientId,
    reader: AccountId,
    audiences: &'static [Audience],
}

impl RecordGrant {
    pub fn patient(&self) -> PatientId {
        self.patient
    }

    pub fn reader(&self) -> AccountId {
        self.reader
    }

    /// The audiences the reader sees besides their own entries.
    pub fn audiences(&self) -> &'static [Audience] {
        self.audiences
    }

    /// Whether the reader sees an entry by `author` for `audience`.
    pub fn shows(&self, author: AccountId, audience: Audience) -> bool {
        author == self.reader || self.audiences.contains(&audience)
    }

    /// Whether the reader sees entries for `audience` (their own aside).
    pub fn shows_audience(&self, audience: Audience) -> bool {
        self.audiences.contains(&audience)
    }
}

/// Asks the policy whether `actor` may do `intent` with the record of
/// `patient`. The grant's audiences are those of the actor's seat on the
/// team (or of an emergency grant); someone reading only as a called hospital
/// or physician sees no entry.
pub fn decide(actor: &Actor, patient: &PatientScope, intent: RecordIntent<'_>) -> Result<RecordGrant, Refusal> {
    // An intent on a request decides on the request's patient: the same one.
    if intent.request().is_some_and(|r| r.patient.patient_id != patient.patient_id) {
        return Err(Refusal::Hidden);
    }
    match intent.decision(actor, patient) {
        Decision::Allow => {}
        Decision::Deny => return Err(Refusal::Denied),
        Decision::Hidden => return Err(Refusal::Hidden),
    }
    let audiences = match patient.seat_of(actor.account_id) {
        Some(seat) => visible_audiences(Some(seat.role)),
        None if patient.emergency_access.contains(&actor.account_id) => visible_audiences(None),
        None => &[],
    };
    Ok(RecordGrant { patient: patient.patient_id, reader: actor.account_id, audiences })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Role;
    use crate::care::TeamRole;
    use crate::ids::{FacilityId, MunicipalityId};
    use crate::policy::{ConsentState, TeamSeat};

    fn actor(account: AccountId, municipality: MunicipalityId) -> Actor {
        Actor {
            account_id: account,
            municipality_id: Some(municipality),
            roles: vec![Role::Professional],
            admin_of: vec![],
            member_of: vec![],
        }
    }

    fn scope(municipality: MunicipalityId, team: Vec<TeamSeat>) -> PatientScope {
        PatientScope {
            patient_id: PatientId::new(),
            municipality_id: municipality,
            created_by: team.first().map(|s| s.account_id).unwrap_or_default(),
            consent: ConsentState::Active,
            team,
            emergency_access: vec![],
        }
    }

    #[test]
    fn a_grant_names_the_patient_decided_on_and_the_readers_audiences() {
        let city = MunicipalityId::new();
        let (doctor, nurse, daughter) = (AccountId::new(), AccountId::new(), AccountId::new());
        let p = scope(
            city,
            vec![
                TeamSeat { account_id: doctor, role: TeamRole::PrimaryPhysician, profession: Profession::Physician },
                TeamSeat { account_id: nurse, role: TeamRole::VisitingNurse, profession: Profession::Nurse },
                TeamSeat { account_id: daughter, role: TeamRole::Family, profession: Profession::Family },
            ],
        );
        for (who, role) in
            [(doctor, TeamRole::PrimaryPhysician), (nurse, TeamRole::VisitingNurse), (daughter, TeamRole::Family)]
        {
            let grant = decide(&actor(who, city), &p, RecordIntent::Read).expect("a member reads");
            assert_eq!(grant.patient(), p.patient_id);
            assert_eq!(grant.reader(), who);
            assert_eq!(grant.audiences(), visible_audiences(Some(role)));
        }
        let nurse_grant = decide(&actor(nurse, city), &p, RecordIntent::Read).unwrap();
        assert!(!nurse_grant.shows(doctor, Audience::Physicians), "the physicians' notes are not the nurse's");
        assert!(nurse_grant.shows(nurse, Audience::Physicians), "her own entry always shows");
    }

    #[test]
    fn a_refusal_gives_no_grant_and_says_how_to_answer() {
        let city = MunicipalityId::new();
        let nurse = AccountId::new();
        let p = scope(
            city,
            vec![TeamSeat { account_id: nurse, role: TeamRole::VisitingNurse, profession: Profession::Nurse }],
        );
        assert_eq!(decide(&actor(AccountId::new(), city), &p, RecordIntent::Read), Err(Refusal::Hidden));
        assert_eq!(decide(&actor(nurse, MunicipalityId::new()), &p, RecordIntent::Read), Err(Refusal::Hidden));
        assert_eq!(decide(&actor(nurse, city), &p, RecordIntent::RecordConsent), Err(Refusal::Denied));
        let withdrawn = PatientScope { consent: ConsentState::Withdrawn, ..p };
        assert_eq!(decide(&actor(nurse, city), &withdrawn, RecordIntent::Write), Err(Refusal::Denied));
    }

    #[test]
    fn an_emergency_grant_reads_the_team_entries_and_a_called_hospital_none() {
        let city = MunicipalityId::new();
        let (nurse, covering, hospital_doctor) = (AccountId::new(), AccountId::new(), AccountId::new());
        let hospital = FacilityId::new();
        let mut p = scope(
            city,
            vec![TeamSeat { account_id: nurse, role: TeamRole::VisitingNurse, profession: Profession::Nurse }],
        );
        p.emergency_access.push(covering);
        let grant = decide(&actor(covering, city), &p, RecordIntent::Read).unwrap();
        assert_eq!(grant.audiences(), visible_audiences(None));
        let request = RequestScope {
            patient: p.clone(),
            called_physicians: vec![],
            called_hospitals: vec![hospital],
            active: true,
        };
        let staff = Actor { member_of: vec![hospital], ..actor(hospital_doctor, city) };
        let grant = decide(&staff, &p, RecordIntent::ReadUrgentRequest(&request))
            .expect("the called hospital reads the request");
        assert!(grant.audiences().is_empty(), "but no entry of the timeline");
        let other_patient = scope(city, vec![]);
        assert_eq!(
            decide(&staff, &other_patient, RecordIntent::ReadUrgentRequest(&request)),
            Err(Refusal::Hidden),
            "a request decides on its own patient only"
        );
    }
}
