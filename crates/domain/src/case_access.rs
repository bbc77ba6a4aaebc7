//! The way into the coordination centre's cases, built as the way into a
//! patient's record ([`crate::record_access`]): a use case names its intent,
//! [`decide`] asks the policy, and only a yes gives a [`CaseGrant`], which
//! the store's reads of a case's contents take. A consultation's personal
//! data is the centre's alone; the hospital that sent a discharge request
//! follows its own request; a candidate facility reads the summary it is
//! asked to answer on, without the patient's name or address.
//!
//! ```compile_fail
//! use tsunagu_domain::case_access::{CaseGrant, CaseView};
//! use tsunagu_domain::ids::{AccountId, CaseId};
//! // The fields are private: no grant without `decide`.
//! let forged = CaseGrant { case: CaseId::new(), reader: AccountId::new(), view: CaseView::Desk };
//! ```

use crate::account::Role;
use crate::ids::{AccountId, CaseId, FacilityId, MunicipalityId};
use crate::policy::Actor;
use crate::record_access::Refusal;

/// What the policy knows of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseScope {
    pub case_id: CaseId,
    pub municipality_id: MunicipalityId,
    /// The hospital account that sent the discharge request, if one did.
    pub requester_account: Option<AccountId>,
    /// The facilities asked to join the future team.
    pub candidate_facilities: Vec<FacilityId>,
}

/// What a use case wants to do with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseIntent {
    /// The desk's work: read everything, change anything.
    Work,
    /// The sender follows its discharge request (what it sent, where it stands).
    Follow,
    /// A candidate facility's staff read the summary and answer.
    Answer(FacilityId),
}

impl CaseIntent {
    /// The intent's name in an audit event of a refusal.
    pub fn attempt(&self) -> &'static str {
        match self {
            CaseIntent::Work => "work_on_case",
            CaseIntent::Follow => "follow_case",
            CaseIntent::Answer(_) => "answer_as_candidate",
        }
    }
}

/// How much of a case a grant shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseView {
    /// Everything: the centre.
    Desk,
    /// What the sender sent and where it stands.
    Requester,
    /// The summary a candidate facility needs to answer (no name, no address).
    Candidate(FacilityId),
}

/// The policy's yes to one reader on one case. Only [`decide`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseGrant {
    case: CaseId,
    reader: AccountId,
    view: CaseView,
}

impl CaseGrant {
    pub fn case(&self) -> CaseId {
        self.case
    }

    pub fn reader(&self) -> AccountId {
        self.reader
    }

    pub fn view(&self) -> CaseView {
        self.view
    }
}

/// The policy's yes to one reader on a municipality's desk (its queue,
/// its reports). Only [`enter_desk`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskGrant {
    municipality: MunicipalityId,
    reader: AccountId,
}

impl DeskGrant {
    pub fn municipality(&self) -> MunicipalityId {
        self.municipality
    }

    pub fn reader(&self) -> AccountId {
        self.reader
    }
}

/// The centre's staff of the municipality: its coordinators. Municipality
/// admins run the network but do not read consultations; operators never do.
fn is_desk(actor: &Actor, municipality: MunicipalityId) -> bool {
    actor.municipality_id == Some(municipality) && actor.has(Role::Coordinator)
}

/// Whether `actor` works the desk of `municipality`; anyone of another
/// municipality is told "not found".
pub fn enter_desk(actor: &Actor, municipality: MunicipalityId) -> Result<DeskGrant, Refusal> {
    if actor.municipality_id != Some(municipality) {
        Err(Refusal::Hidden)
    } else if is_desk(actor, municipality) {
        Ok(DeskGrant { municipality, reader: actor.account_id })
    } else {
        Err(Refusal::Denied)
    }
}

/// Asks the policy whether `actor` may do `intent` with `case`. Outside the
/// case's municipality, and for anyone with no part in it, the case does not
/// exist ("not found"): that a consultation exists is itself personal data.
pub fn decide(actor: &Actor, case: &CaseScope, intent: CaseIntent) -> Result<CaseGrant, Refusal> {
    if actor.municipality_id != Some(case.municipality_id) {
        return Err(Refusal::Hidden);
    }
    let view = match intent {
        CaseIntent::Work if is_desk(actor, case.municipality_id) => CaseView::Desk,
        CaseIntent::Follow if case.requester_account == Some(actor.account_id) => CaseView::Requester,
        CaseIntent::Answer(facility)
            if case.candidate_facilities.contains(&facility)
                && (actor.member_of.contains(&facility) || actor.admin_of.contains(&facility)) =>
        {
            CaseView::Candidate(facility)
        }
        _ => return Err(Refusal::Hidden),
    };
    Ok(CaseGrant { case: case.case_id, reader: actor.account_id, view })
}

/// Whether `actor` may send a discharge request from `facility`: someone
/// working at that hospital of the municipality.
pub fn send_discharge_request(
    actor: &Actor,
    municipality: MunicipalityId,
    facility: FacilityId,
    is_hospital: bool,
) -> Result<(), Refusal> {
    if actor.municipality_id != Some(municipality) {
        Err(Refusal::Hidden)
    } else if is_hospital && (actor.member_of.contains(&facility) || actor.admin_of.contains(&facility)) {
        Ok(())
    } else {
        Err(Refusal::Denied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(municipality: MunicipalityId, roles: &[Role], member_of: &[FacilityId]) -> Actor {
        Actor {
            account_id: AccountId::new(),
            municipality_id: Some(municipality),
            roles: roles.to_vec(),
            admin_of: vec![],
            member_of: member_of.to_vec(),
        }
    }

    #[test]
    fn only_the_centre_works_a_case_and_others_do_not_learn_it_exists() {
        let city = MunicipalityId::new();
        let case = CaseScope {
            case_id: CaseId::new(),
            municipality_id: city,
            requester_account: None,
            candidate_facilities: vec![],
        };
        let coordinator = actor(city, &[Role::Professional, Role::Coordinator], &[]);
        let grant = decide(&coordinator, &case, CaseIntent::Work).expect("the centre works its cases");
        assert_eq!((grant.case(), grant.view()), (case.case_id, CaseView::Desk));
        let admin = actor(city, &[Role::Professional, Role::MunicipalityAdmin], &[]);
        assert_eq!(
            decide(&admin, &case, CaseIntent::Work),
            Err(Refusal::Hidden),
            "a municipality admin is not the desk"
        );
        let elsewhere = actor(MunicipalityId::new(), &[Role::Coordinator], &[]);
        assert_eq!(decide(&elsewhere, &case, CaseIntent::Work), Err(Refusal::Hidden));
        assert!(enter_desk(&coordinator, city).is_ok());
        assert_eq!(enter_desk(&admin, city), Err(Refusal::Denied));
        assert_eq!(enter_desk(&elsewhere, city), Err(Refusal::Hidden));
    }

    #[test]
    fn the_sender_follows_its_request_and_a_candidate_answers_only_for_its_facility() {
        let city = MunicipalityId::new();
        let (station, other_station) = (FacilityId::new(), FacilityId::new());
        let msw = actor(city, &[Role::Professional], &[]);
        let case = CaseScope {
            case_id: CaseId::new(),
            municipality_id: city,
            requester_account: Some(msw.account_id),
            candidate_facilities: vec![station],
        };
        assert_eq!(decide(&msw, &case, CaseIntent::Follow).map(|g| g.view()), Ok(CaseView::Requester));
        assert_eq!(decide(&msw, &case, CaseIntent::Work), Err(Refusal::Hidden), "the sender reads no desk notes");
        let nurse = actor(city, &[Role::Professional], &[station]);
        assert_eq!(
            decide(&nurse, &case, CaseIntent::Answer(station)).map(|g| g.view()),
            Ok(CaseView::Candidate(station))
        );
        assert_eq!(decide(&nurse, &case, CaseIntent::Follow), Err(Refusal::Hidden));
        let stranger = actor(city, &[Role::Professional], &[other_station]);
        assert_eq!(decide(&stranger, &case, CaseIntent::Answer(other_station)), Err(Refusal::Hidden));
        assert_eq!(decide(&stranger, &case, CaseIntent::Answer(station)), Err(Refusal::Hidden), "not their facility");
    }

    #[test]
    fn a_discharge_request_comes_from_someone_at_a_hospital() {
        let city = MunicipalityId::new();
        let hospital = FacilityId::new();
        let msw = actor(city, &[Role::Professional], &[hospital]);
        assert_eq!(send_discharge_request(&msw, city, hospital, true), Ok(()));
        assert_eq!(
            send_discharge_request(&msw, city, hospital, false),
            Err(Refusal::Denied),
            "a clinic is no hospital"
        );
        assert_eq!(send_discharge_request(&msw, city, FacilityId::new(), true), Err(Refusal::Denied));
        assert_eq!(send_discharge_request(&msw, MunicipalityId::new(), hospital, true), Err(Refusal::Hidden));
    }
}
