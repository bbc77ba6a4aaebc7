//! The access policy: pure functions from who is asking and what they ask
//! about to a decision. The app layer calls these once per use case; nothing
//! else decides access.

use crate::account::{Profession, Role};
use crate::care::TeamRole;
use crate::ids::{AccountId, FacilityId, MunicipalityId, PatientId};

/// Who is asking, as established by a fully signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: AccountId,
    /// `None` only for installation operators.
    pub municipality_id: Option<MunicipalityId>,
    pub roles: Vec<Role>,
    /// Facilities where the actor is a facility admin.
    pub admin_of: Vec<FacilityId>,
    /// Facilities where the actor works.
    pub member_of: Vec<FacilityId>,
}

/// The outcome of a policy check. `Hidden` is for things outside the actor's
/// municipality: they are answered as "not found" so that nothing leaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
    Hidden,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// An account as the policy sees it when someone wants to manage it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountScope {
    pub account_id: AccountId,
    pub municipality_id: Option<MunicipalityId>,
    pub roles: Vec<Role>,
    /// Every facility where the account works.
    pub facilities: Vec<FacilityId>,
    /// The facilities the account answers to: its main practice (its first
    /// membership) and every facility it administers. Whoever manages the
    /// account's credentials must run all of them, so that a second, plain
    /// membership elsewhere gives that facility's admin no hold on it.
    pub anchors: Vec<FacilityId>,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    fn is_operator(&self) -> bool {
        self.has(Role::Operator)
    }

    fn in_municipality(&self, municipality: MunicipalityId) -> bool {
        self.municipality_id == Some(municipality)
    }

    /// Municipality admins and coordinators run a municipality's network.
    fn runs(&self, municipality: MunicipalityId) -> bool {
        self.in_municipality(municipality) && (self.has(Role::MunicipalityAdmin) || self.has(Role::Coordinator))
    }
}

/// Roles that a coordinator or facility admin may hand out: never an admin role above their own.
const STAFF_ROLES: &[Role] = &[Role::Professional, Role::FacilityAdmin];

fn only_staff_roles(roles: &[Role]) -> bool {
    roles.iter().all(|r| STAFF_ROLES.contains(r))
}

fn scoped(actor: &Actor, municipality: MunicipalityId, allowed: bool) -> Decision {
    if !actor.is_operator() && !actor.in_municipality(municipality) {
        Decision::Hidden
    } else if allowed {
        Decision::Allow
    } else {
        Decision::Deny
    }
}

/// The admin pages' entrance (`/admin`, and the menu's link to it): whoever
/// holds a role besides professional; each admin page decides again.
pub fn enter_admin(actor: &Actor) -> Decision {
    if actor.roles.iter().any(|r| *r != Role::Professional) { Decision::Allow } else { Decision::Deny }
}

/// Registering and listing municipalities is the operator's job.
pub fn manage_municipalities(actor: &Actor) -> Decision {
    if actor.is_operator() { Decision::Allow } else { Decision::Deny }
}

/// Anyone in a municipality may see its facility directory.
pub fn view_facilities(actor: &Actor, municipality: MunicipalityId) -> Decision {
    scoped(actor, municipality, true)
}

/// Writing the municipality's public pages (articles, events, figures): its
/// admins and the coordination centre, not installation operators.
pub fn manage_public_pages(actor: &Actor, municipality: MunicipalityId) -> Decision {
    scoped(actor, municipality, actor.runs(municipality))
}

/// Adopting a new version of the discharge rules (退院支援ルール): those who
/// run the municipality's network. Everyone of the municipality reads them.
pub fn manage_discharge_rules(actor: &Actor, municipality: MunicipalityId) -> Decision {
    scoped(actor, municipality, actor.runs(municipality))
}

/// The analysts' de-identified export of the municipality's home-care
/// patients (no names, no addresses, ages in bands): those who run the
/// municipality's programme. Installation operators, who see no patient
/// data at all, do not; nor does anyone of another municipality.
pub fn export_for_analysis(actor: &Actor, municipality: MunicipalityId) -> Decision {
    scoped(actor, municipality, actor.runs(municipality))
}

/// Adding a facility to a municipality's network.
pub fn create_facility(actor: &Actor, municipality: MunicipalityId) -> Decision {
    scoped(actor, municipality, actor.is_operator() || actor.runs(municipality))
}

/// Changing a facility's details: the network's runners, or its own admins (self-service).
pub fn edit_facility(actor: &Actor, municipality: MunicipalityId, facility: FacilityId) -> Decision {
    scoped(actor, municipality, actor.is_operator() || actor.runs(municipality) || actor.admin_of.contains(&facility))
}

/// Issuing an ID (inviting a person) with `roles`, attached to `facility`.
pub fn issue_account(
    actor: &Actor,
    municipality: MunicipalityId,
    facility: Option<FacilityId>,
    roles: &[Role],
) -> Decision {
    let allowed = if actor.is_operator() {
        true
    } else if actor.in_municipality(municipality) && actor.has(Role::MunicipalityAdmin) {
        !roles.contains(&Role::Operator)
    } else if actor.in_municipality(municipality) && actor.has(Role::Coordinator) {
        only_staff_roles(roles)
    } else {
        facility.is_some_and(|f| actor.admin_of.contains(&f)) && only_staff_roles(roles)
    };
    scoped(actor, municipality, allowed)
}

/// Seeing, disabling, resetting or attaching an existing account.
pub fn manage_account(actor: &Actor, target: &AccountScope) -> Decision {
    if actor.account_id == target.account_id {
        // One's own account is changed from the settings page, not the admin pages,
        // so that nobody disables or demotes themselves by accident.
        return Decision::Deny;
    }
    if actor.is_operator() {
        return Decision::Allow;
    }
    let Some(municipality) = target.municipality_id else {
        return Decision::Hidden;
    };
    let allowed = if actor.has(Role::MunicipalityAdmin) {
        !target.roles.contains(&Role::Operator)
    } else if actor.has(Role::Coordinator) {
        only_staff_roles(&target.roles)
    } else {
        only_staff_roles(&target.roles) && admin_of_all(actor, &target.anchors)
    };
    scoped(actor, municipality, allowed)
}

/// A facility admin holds an account only through every facility it answers to.
fn admin_of_all(actor: &Actor, anchors: &[FacilityId]) -> bool {
    !anchors.is_empty() && anchors.iter().all(|f| actor.admin_of.contains(f))
}

/// Seeing an account in the admin pages (name, memberships): whoever manages
/// it, and the admins of any facility where it works.
pub fn view_account(actor: &Actor, target: &AccountScope) -> Decision {
    match manage_account(actor, target) {
        Decision::Deny
            if actor.account_id != target.account_id
                && only_staff_roles(&target.roles)
                && target.facilities.iter().any(|f| actor.admin_of.contains(f)) =>
        {
            Decision::Allow
        }
        other => other,
    }
}

/// Ending an account's membership of `facility`: the municipality's runners,
/// or an admin of that facility, who must also hold the account
/// ([`manage_account`]) when the membership is one it answers to.
pub fn remove_membership(actor: &Actor, target: &AccountScope, facility: FacilityId) -> Decision {
    let decision = view_account(actor, target);
    if decision != Decision::Allow {
        return decision;
    }
    let runner = actor.is_operator() || target.municipality_id.is_some_and(|m| actor.runs(m));
    let allowed = runner
        || (actor.admin_of.contains(&facility)
            && (!target.anchors.contains(&facility) || manage_account(actor, target).is_allowed()));
    if allowed { Decision::Allow } else { Decision::Deny }
}

/// Seeing the list of accounts of a municipality (or of one's own facilities).
pub fn list_accounts(actor: &Actor, municipality: MunicipalityId) -> Decision {
    scoped(actor, municipality, actor.is_operator() || actor.runs(municipality) || !actor.admin_of.is_empty())
}

/// Reading a municipality's audit events (the coordination centre answers for them).
pub fn read_audit_log(actor: &Actor, municipality: MunicipalityId) -> Decision {
    scoped(actor, municipality, actor.is_operator() || actor.has(Role::MunicipalityAdmin))
}

/// Where sharing stands for one patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentState {
    /// No consent recorded yet: only the person who registered the patient sees the record.
    Pending,
    /// Consent recorded: the active team shares.
    Active,
    /// Consent withdrawn: sharing stopped; the team keeps read-only access (legal retention).
    Withdrawn,
}

impl ConsentState {
    pub fn is_pending(self) -> bool {
        self == ConsentState::Pending
    }
}

/// An active member of a care team, as the policy sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamSeat {
    pub account_id: AccountId,
    pub role: TeamRole,
    pub profession: Profession,
}

impl TeamSeat {
    /// Family accounts and family roles never act for the team.
    pub fn is_family(&self) -> bool {
        self.role == TeamRole::Family || self.profession == Profession::Family
    }
}

/// What the policy needs to know about a patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientScope {
    pub patient_id: PatientId,
    pub municipality_id: MunicipalityId,
    pub created_by: AccountId,
    pub consent: ConsentState,
    /// The active members of the care team now, with their roles.
    pub team: Vec<TeamSeat>,
    /// Clinicians outside the team holding an unexpired break-glass grant.
    pub emergency_access: Vec<AccountId>,
}

impl PatientScope {
    pub fn seat_of(&self, account: AccountId) -> Option<&TeamSeat> {
        self.team.iter().find(|s| s.account_id == account)
    }

    pub fn is_member(&self, account: AccountId) -> bool {
        self.seat_of(account).is_some()
    }

    /// A member in a physician role (which only physicians hold: [`TeamRole::fits`]).
    pub fn is_team_physician(&self, account: AccountId) -> bool {
        self.seat_of(account).is_some_and(|s| s.role.is_physician())
    }

    fn is_family(&self, account: AccountId) -> bool {
        self.seat_of(account).is_some_and(TeamSeat::is_family)
    }
}

/// Registering a patient: any professional of the municipality (not an installation operator).
pub fn create_patient(actor: &Actor, municipality: MunicipalityId) -> Decision {
    if actor.in_municipality(municipality) { Decision::Allow } else { Decision::Hidden }
}

/// Looking up a colleague (name, profession, where they work): professionals
/// of the same municipality see each other, as when adding someone to a team.
/// Family accounts neither see nor are seen; other municipalities are hidden.
pub fn see_colleague(
    actor: &Actor,
    actor_profession: crate::account::Profession,
    colleague_municipality: Option<MunicipalityId>,
    colleague_profession: crate::account::Profession,
) -> Decision {
    use crate::account::Profession;
    match colleague_municipality {
        Some(m) if actor.in_municipality(m) => {
            if actor_profession == Profession::Family || colleague_profession == Profession::Family {
                Decision::Hidden
            } else {
                Decision::Allow
            }
        }
        _ => Decision::Hidden,
    }
}

/// Making an API token that acts for oneself: a professional of a
/// municipality. Family accounts and installation operators make none (the
/// first read only what is shared with them in the browser; the second have
/// no patient data to reach).
pub fn create_api_token(actor: &Actor, profession: crate::account::Profession) -> Decision {
    match actor.municipality_id {
        Some(_) if profession != crate::account::Profession::Family => Decision::Allow,
        _ => Decision::Deny,
    }
}

/// Seeing a patient's record. Anyone outside the active team is told "not found":
/// the existence of a patient is itself patient data.
pub fn read_patient(actor: &Actor, patient: &PatientScope) -> Decision {
    if !actor.in_municipality(patient.municipality_id) {
        return Decision::Hidden;
    }
    let member = patient.is_member(actor.account_id);
    let allowed = (member
        && match patient.consent {
            ConsentState::Pending => patient.created_by == actor.account_id,
            ConsentState::Active | ConsentState::Withdrawn => true,
        })
        || patient.emergency_access.contains(&actor.account_id);
    if allowed { Decision::Allow } else { Decision::Hidden }
}

/// Acting for the team (withdrawing consent, the care plan, the patient's
/// status, the backup hospital, raising an urgent request): active members
/// who are not family, while consent is in force. An emergency grant reads
/// and posts, nothing more (invariant 1).
pub fn act_for_team(actor: &Actor, patient: &PatientScope) -> Decision {
    match write_patient(actor, patient) {
        Decision::Allow if !patient.is_member(actor.account_id) || patient.is_family(actor.account_id) => {
            Decision::Deny
        }
        other => other,
    }
}

/// "I will respond" on an urgent entry: a physician — one in a physician role
/// on the team, or a physician reading by an emergency grant (the one covering).
/// Everyone else on the team reads it (their read receipt says so); they do not
/// answer for the doctor.
pub fn acknowledge_urgent_entry(actor: &Actor, profession: Profession, patient: &PatientScope) -> Decision {
    match write_patient(actor, patient) {
        Decision::Allow
            if patient.is_team_physician(actor.account_id)
                || (!patient.is_member(actor.account_id) && profession == Profession::Physician) =>
        {
            Decision::Allow
        }
        Decision::Allow => Decision::Deny,
        other => other,
    }
}

/// Reading what is for the professionals only (urgent requests with the
/// physicians' numbers, who answers now): whoever reads the record, except family.
pub fn read_team_only(actor: &Actor, patient: &PatientScope) -> Decision {
    match read_patient(actor, patient) {
        Decision::Allow if patient.is_family(actor.account_id) => Decision::Deny,
        other => other,
    }
}

/// A change to a care team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeamChange {
    /// Adding a colleague of `profession` in `role`.
    Add { role: TeamRole, profession: Profession },
    /// Giving a member (working at `facilities`) another role.
    ChangeRole { member: AccountId, facilities: Vec<FacilityId>, role: TeamRole, profession: Profession },
    /// Ending another member's membership (they work at `facilities`).
    Remove { member: AccountId, facilities: Vec<FacilityId> },
    /// Ending one's own membership.
    Leave,
    /// Inviting a family member.
    InviteFamily,
}

/// Who may change a care team (docs/security.md, "Care teams"): active
/// professional members while consent is in force — never family, never an
/// emergency grant. Anyone of them adds a colleague in a role that fits the
/// colleague's profession, and leaves. Removing or re-roling someone else, and
/// inviting family, is for the primary physician, the care manager, the
/// coordination centre, or (for a member) an admin of the member's facility.
pub fn change_team(actor: &Actor, patient: &PatientScope, change: &TeamChange) -> Decision {
    match write_patient(actor, patient) {
        Decision::Allow => {}
        other => return other,
    }
    let Some(seat) = patient.seat_of(actor.account_id) else {
        return Decision::Deny;
    };
    if seat.is_family() {
        return Decision::Deny;
    }
    let leads = |facilities: &[FacilityId]| {
        matches!(seat.role, TeamRole::PrimaryPhysician | TeamRole::CareManager)
            || actor.has(Role::Coordinator)
            || facilities.iter().any(|f| actor.admin_of.contains(f))
    };
    let allowed = match change {
        TeamChange::Add { role, profession } => *role != TeamRole::Family && role.fits(*profession),
        TeamChange::ChangeRole { member, facilities, role, profession } => {
            *role != TeamRole::Family
                && role.fits(*profession)
                && patient.seat_of(*member).is_some_and(|m| !m.is_family())
                && leads(facilities)
        }
        TeamChange::Remove { member, facilities } => {
            *member == actor.account_id || (patient.is_member(*member) && leads(facilities))
        }
        TeamChange::Leave => true,
        TeamChange::InviteFamily => leads(&[]),
    };
    if allowed { Decision::Allow } else { Decision::Deny }
}

/// Professions that may open a record by break-glass: those who treat.
pub fn may_break_glass(actor: &Actor, profession: crate::account::Profession) -> bool {
    use crate::account::Profession as P;
    actor.municipality_id.is_some()
        && matches!(
            profession,
            P::Physician | P::Dentist | P::Nurse | P::AssistantNurse | P::PublicHealthNurse | P::MedicalSocialWorker
        )
}

/// Posting to the timeline or changing the team: members, while consent is in force.
pub fn write_patient(actor: &Actor, patient: &PatientScope) -> Decision {
    match read_patient(actor, patient) {
        Decision::Allow if patient.consent == ConsentState::Active => Decision::Allow,
        Decision::Allow => Decision::Deny,
        other => other,
    }
}

/// Recording consent (or recording it again after a withdrawal): a member who can see the record.
pub fn record_consent(actor: &Actor, patient: &PatientScope) -> Decision {
    match read_patient(actor, patient) {
        Decision::Allow
            if patient.consent != ConsentState::Active
                && patient.is_member(actor.account_id)
                && !patient.is_family(actor.account_id) =>
        {
            Decision::Allow
        }
        Decision::Allow => Decision::Deny,
        other => other,
    }
}

/// The backup system's pages (groups, rosters, coverage, backup beds): the
/// municipality's professionals and those who run it.
pub fn view_backup_system(actor: &Actor, municipality: MunicipalityId) -> Decision {
    scoped(actor, municipality, actor.in_municipality(municipality))
}

/// Creating a physician group: whoever runs the municipality's network.
pub fn create_physician_group(actor: &Actor, municipality: MunicipalityId) -> Decision {
    scoped(actor, municipality, actor.runs(municipality))
}

/// Changing a group's members or its roster: the group's coordinator, or
/// whoever runs the municipality's network.
pub fn manage_physician_group(actor: &Actor, municipality: MunicipalityId, coordinator: Option<AccountId>) -> Decision {
    scoped(actor, municipality, actor.runs(municipality) || coordinator == Some(actor.account_id))
}

/// Recording or cancelling a physician's absence: the physician, the
/// coordinator of one of their groups, or whoever runs the network.
pub fn record_absence(
    actor: &Actor,
    municipality: MunicipalityId,
    physician: AccountId,
    coordinators: &[AccountId],
) -> Decision {
    let allowed = physician == actor.account_id || coordinators.contains(&actor.account_id) || actor.runs(municipality);
    scoped(actor, municipality, actor.in_municipality(municipality) && allowed)
}

/// Keeping a hospital's backup beds current: its staff, or whoever runs the network.
pub fn update_backup_beds(actor: &Actor, municipality: MunicipalityId, hospital: FacilityId) -> Decision {
    scoped(actor, municipality, actor.member_of.contains(&hospital) || actor.runs(municipality))
}

/// What the policy needs to know about an urgent request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestScope {
    pub patient: PatientScope,
    /// Physicians the escalation has called so far.
    pub called_physicians: Vec<AccountId>,
    /// Hospitals the escalation has called so far.
    pub called_hospitals: Vec<FacilityId>,
    /// False once an outcome is recorded: then only the team reads it.
    pub active: bool,
}

impl RequestScope {
    fn called_hospital_of(&self, actor: &Actor) -> bool {
        self.called_hospitals.iter().any(|h| actor.member_of.contains(h))
    }

    fn called(&self, actor: &Actor) -> bool {
        self.active && (self.called_physicians.contains(&actor.account_id) || self.called_hospital_of(actor))
    }
}

/// Reading an urgent request (with the patient summary it carries): the team
/// but its family members, and — while it is active — the physicians and
/// hospital staff it called (invariant 1: the backup hospital on an
/// escalation; every read is audited).
pub fn read_urgent_request(actor: &Actor, request: &RequestScope) -> Decision {
    match read_team_only(actor, &request.patient) {
        Decision::Allow => Decision::Allow,
        _ if actor.in_municipality(request.patient.municipality_id) && request.called(actor) => Decision::Allow,
        other => other,
    }
}

/// Raising an urgent request: members who are not family, while consent is in force.
pub fn raise_urgent_request(actor: &Actor, patient: &PatientScope) -> Decision {
    act_for_team(actor, patient)
}

/// "I'll take it": a physician the escalation called, or a physician of the team.
pub fn acknowledge_urgent_request(actor: &Actor, request: &RequestScope) -> Decision {
    match read_urgent_request(actor, request) {
        Decision::Allow
            if request.active
                && (request.called_physicians.contains(&actor.account_id)
                    || request.patient.is_team_physician(actor.account_id)) =>
        {
            Decision::Allow
        }
        Decision::Allow => Decision::Deny,
        other => other,
    }
}

/// Accepting or declining admission: staff of a hospital the escalation called.
pub fn answer_as_hospital(actor: &Actor, request: &RequestScope) -> Decision {
    match read_urgent_request(actor, request) {
        Decision::Allow if request.active && request.called_hospital_of(actor) => Decision::Allow,
        Decision::Allow => Decision::Deny,
        other => other,
    }
}

/// Recording the outcome, or asking the hospitals at once: members of the team
/// who are not family, and the physicians the escalation called.
pub fn act_on_urgent_request(actor: &Actor, request: &RequestScope) -> Decision {
    if !request.active {
        return match read_urgent_request(actor, request) {
            Decision::Allow => Decision::Deny,
            other => other,
        };
    }
    match act_for_team(actor, &request.patient) {
        Decision::Allow => Decision::Allow,
        _ if request.called_physicians.contains(&actor.account_id)
            && actor.in_municipality(request.patient.municipality_id) =>
        {
            Decision::Allow
        }
        _ => match read_urgent_request(actor, request) {
            Decision::Allow => Decision::Deny,
            other => other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn actor(municipality: MunicipalityId, roles: &[Role]) -> Actor {
        Actor {
            account_id: AccountId::new(),
            municipality_id: Some(municipality),
            roles: roles.to_vec(),
            admin_of: vec![],
            member_of: vec![],
        }
    }

    fn target(municipality: MunicipalityId, roles: &[Role], facilities: &[FacilityId]) -> AccountScope {
        AccountScope {
            account_id: AccountId::new(),
            municipality_id: Some(municipality),
            roles: roles.to_vec(),
            facilities: facilities.to_vec(),
            anchors: facilities.iter().take(1).copied().collect(),
        }
    }

    #[test]
    fn the_admin_pages_are_for_those_with_a_role_besides_professional() {
        let kashiwa = MunicipalityId::new();
        assert_eq!(enter_admin(&actor(kashiwa, &[Role::Professional])), Decision::Deny);
        for role in [Role::FacilityAdmin, Role::Coordinator, Role::MunicipalityAdmin, Role::Operator] {
            assert_eq!(enter_admin(&actor(kashiwa, &[Role::Professional, role])), Decision::Allow, "{role:?}");
        }
    }

    #[test]
    fn other_municipalities_are_hidden_not_denied() {
        let (kashiwa, nagareyama) = (MunicipalityId::new(), MunicipalityId::new());
        let admin = actor(kashiwa, &[Role::MunicipalityAdmin]);
        assert_eq!(create_facility(&admin, nagareyama), Decision::Hidden);
        assert_eq!(view_facilities(&admin, nagareyama), Decision::Hidden);
        assert_eq!(manage_account(&admin, &target(nagareyama, &[Role::Professional], &[])), Decision::Hidden);
        assert_eq!(create_facility(&admin, kashiwa), Decision::Allow);
    }

    #[test]
    fn colleagues_see_each_other_within_their_municipality_only() {
        use crate::account::Profession;
        let (kashiwa, nagareyama) = (MunicipalityId::new(), MunicipalityId::new());
        let nurse = actor(kashiwa, &[Role::Professional]);
        assert_eq!(see_colleague(&nurse, Profession::Nurse, Some(kashiwa), Profession::Physician), Decision::Allow);
        assert_eq!(see_colleague(&nurse, Profession::Nurse, Some(nagareyama), Profession::Physician), Decision::Hidden);
        assert_eq!(see_colleague(&nurse, Profession::Nurse, None, Profession::Other), Decision::Hidden);
        assert_eq!(see_colleague(&nurse, Profession::Nurse, Some(kashiwa), Profession::Family), Decision::Hidden);
        assert_eq!(see_colleague(&nurse, Profession::Family, Some(kashiwa), Profession::Physician), Decision::Hidden);
    }

    #[test]
    fn api_tokens_are_for_professionals_of_a_municipality() {
        use crate::account::Profession;
        let kashiwa = MunicipalityId::new();
        let nurse = actor(kashiwa, &[Role::Professional]);
        assert_eq!(create_api_token(&nurse, Profession::Nurse), Decision::Allow);
        assert_eq!(create_api_token(&nurse, Profession::Family), Decision::Deny);
        let operator = Actor { municipality_id: None, ..actor(kashiwa, &[Role::Operator]) };
        assert_eq!(create_api_token(&operator, Profession::Other), Decision::Deny);
    }

    #[test]
    fn only_those_who_run_the_programme_export_for_analysis() {
        let (kashiwa, nagareyama) = (MunicipalityId::new(), MunicipalityId::new());
        for role in [Role::MunicipalityAdmin, Role::Coordinator] {
            assert_eq!(export_for_analysis(&actor(kashiwa, &[role]), kashiwa), Decision::Allow);
            assert_eq!(export_for_analysis(&actor(kashiwa, &[role]), nagareyama), Decision::Hidden);
        }
        for role in [Role::Professional, Role::FacilityAdmin] {
            assert_eq!(export_for_analysis(&actor(kashiwa, &[role]), kashiwa), Decision::Deny);
        }
        let operator = Actor { municipality_id: None, ..actor(kashiwa, &[Role::Operator]) };
        assert_eq!(export_for_analysis(&operator, kashiwa), Decision::Deny, "operators see no patient data");
    }

    #[test]
    fn the_municipality_writes_its_own_public_pages() {
        let (kashiwa, nagareyama) = (MunicipalityId::new(), MunicipalityId::new());
        for role in [Role::MunicipalityAdmin, Role::Coordinator] {
            assert_eq!(manage_public_pages(&actor(kashiwa, &[role]), kashiwa), Decision::Allow);
            assert_eq!(manage_public_pages(&actor(kashiwa, &[role]), nagareyama), Decision::Hidden);
        }
        for role in [Role::Professional, Role::FacilityAdmin] {
            assert_eq!(manage_public_pages(&actor(kashiwa, &[role]), kashiwa), Decision::Deny);
        }
        let operator = Actor { municipality_id: None, ..actor(kashiwa, &[Role::Operator]) };
        assert_eq!(manage_public_pages(&operator, kashiwa), Decision::Deny);
    }

    #[test]
    fn the_municipality_adopts_its_own_discharge_rules() {
        let (kashiwa, nagareyama) = (MunicipalityId::new(), MunicipalityId::new());
        for role in [Role::MunicipalityAdmin, Role::Coordinator] {
            assert_eq!(manage_discharge_rules(&actor(kashiwa, &[role]), kashiwa), Decision::Allow);
            assert_eq!(manage_discharge_rules(&actor(kashiwa, &[role]), nagareyama), Decision::Hidden);
        }
        for role in [Role::Professional, Role::FacilityAdmin] {
            assert_eq!(manage_discharge_rules(&actor(kashiwa, &[role]), kashiwa), Decision::Deny);
        }
    }

    #[test]
    fn facility_admins_manage_only_their_own_staff() {
        let kashiwa = MunicipalityId::new();
        let (mine, theirs) = (FacilityId::new(), FacilityId::new());
        let mut admin = actor(kashiwa, &[Role::Professional, Role::FacilityAdmin]);
        admin.admin_of = vec![mine];
        assert_eq!(issue_account(&admin, kashiwa, Some(mine), &[Role::Professional]), Decision::Allow);
        assert_eq!(issue_account(&admin, kashiwa, Some(theirs), &[Role::Professional]), Decision::Deny);
        assert_eq!(issue_account(&admin, kashiwa, Some(mine), &[Role::Coordinator]), Decision::Deny);
        assert_eq!(manage_account(&admin, &target(kashiwa, &[Role::Professional], &[mine])), Decision::Allow);
        assert_eq!(manage_account(&admin, &target(kashiwa, &[Role::Professional], &[theirs])), Decision::Deny);
        assert_eq!(edit_facility(&admin, kashiwa, mine), Decision::Allow);
        assert_eq!(edit_facility(&admin, kashiwa, theirs), Decision::Deny);
    }

    #[test]
    fn coordinators_issue_staff_ids_but_not_admin_roles() {
        let kashiwa = MunicipalityId::new();
        let coordinator = actor(kashiwa, &[Role::Professional, Role::Coordinator]);
        assert_eq!(
            issue_account(&coordinator, kashiwa, None, &[Role::Professional, Role::FacilityAdmin]),
            Decision::Allow
        );
        assert_eq!(issue_account(&coordinator, kashiwa, None, &[Role::MunicipalityAdmin]), Decision::Deny);
        assert_eq!(manage_municipalities(&coordinator), Decision::Deny);
    }

    #[test]
    fn nobody_manages_their_own_account_from_the_admin_pages() {
        let kashiwa = MunicipalityId::new();
        let admin = actor(kashiwa, &[Role::MunicipalityAdmin]);
        let me = AccountScope {
            account_id: admin.account_id,
            municipality_id: Some(kashiwa),
            roles: admin.roles.clone(),
            facilities: vec![],
            anchors: vec![],
        };
        assert_eq!(manage_account(&admin, &me), Decision::Deny);
    }

    #[test]
    fn only_operators_touch_operators() {
        let kashiwa = MunicipalityId::new();
        let admin = actor(kashiwa, &[Role::MunicipalityAdmin]);
        assert_eq!(issue_account(&admin, kashiwa, None, &[Role::Operator]), Decision::Deny);
        assert_eq!(manage_account(&admin, &target(kashiwa, &[Role::Operator], &[])), Decision::Deny);
        let operator = Actor { municipality_id: None, ..actor(kashiwa, &[Role::Operator]) };
        assert_eq!(manage_account(&operator, &target(kashiwa, &[Role::Operator], &[])), Decision::Allow);
    }

    fn patient(
        municipality: MunicipalityId,
        creator: AccountId,
        consent: ConsentState,
        members: Vec<AccountId>,
    ) -> PatientScope {
        PatientScope {
            patient_id: PatientId::new(),
            municipality_id: municipality,
            created_by: creator,
            consent,
            team: members.into_iter().map(|a| seat(a, TeamRole::VisitingNurse, Profession::Nurse)).collect(),
            emergency_access: vec![],
        }
    }

    fn seat(account_id: AccountId, role: TeamRole, profession: Profession) -> TeamSeat {
        TeamSeat { account_id, role, profession }
    }

    #[test]
    fn before_consent_only_the_creator_sees_the_patient() {
        let kashiwa = MunicipalityId::new();
        let creator = actor(kashiwa, &[Role::Professional]);
        let colleague = actor(kashiwa, &[Role::Professional]);
        let p =
            patient(kashiwa, creator.account_id, ConsentState::Pending, vec![creator.account_id, colleague.account_id]);
        assert_eq!(read_patient(&creator, &p), Decision::Allow);
        assert_eq!(read_patient(&colleague, &p), Decision::Hidden);
        assert_eq!(write_patient(&creator, &p), Decision::Deny, "nothing is shared before consent");
        assert_eq!(record_consent(&creator, &p), Decision::Allow);
        let p = PatientScope { consent: ConsentState::Active, ..p };
        assert_eq!(read_patient(&colleague, &p), Decision::Allow);
        assert_eq!(write_patient(&colleague, &p), Decision::Allow);
        let p = PatientScope { consent: ConsentState::Withdrawn, ..p };
        assert_eq!(read_patient(&colleague, &p), Decision::Allow, "read-only after withdrawal");
        assert_eq!(write_patient(&colleague, &p), Decision::Deny);
    }

    #[test]
    fn break_glass_opens_the_record_but_not_the_consent() {
        let kashiwa = MunicipalityId::new();
        let nurse = actor(kashiwa, &[Role::Professional]);
        let covering = actor(kashiwa, &[Role::Professional]);
        let mut p = patient(kashiwa, nurse.account_id, ConsentState::Active, vec![nurse.account_id]);
        assert_eq!(read_patient(&covering, &p), Decision::Hidden);
        p.emergency_access = vec![covering.account_id];
        assert_eq!(read_patient(&covering, &p), Decision::Allow);
        assert_eq!(write_patient(&covering, &p), Decision::Allow, "a covering physician records the visit");
        let p = PatientScope { consent: ConsentState::Withdrawn, ..p };
        assert_eq!(record_consent(&covering, &p), Decision::Deny, "consent is the team's to record");
        let elsewhere = actor(MunicipalityId::new(), &[Role::Professional]);
        let p = PatientScope { emergency_access: vec![elsewhere.account_id], ..p };
        assert_eq!(read_patient(&elsewhere, &p), Decision::Hidden, "never across municipalities");
    }

    #[test]
    fn admins_and_operators_do_not_see_patients_they_do_not_care_for() {
        let kashiwa = MunicipalityId::new();
        let nurse = actor(kashiwa, &[Role::Professional]);
        let p = patient(kashiwa, nurse.account_id, ConsentState::Active, vec![nurse.account_id]);
        let admin = actor(kashiwa, &[Role::MunicipalityAdmin, Role::Coordinator]);
        let operator = Actor { municipality_id: None, ..actor(kashiwa, &[Role::Operator]) };
        assert_eq!(read_patient(&admin, &p), Decision::Hidden);
        assert_eq!(read_patient(&operator, &p), Decision::Hidden);
        assert_eq!(create_patient(&operator, kashiwa), Decision::Hidden);
    }

    #[test]
    fn a_called_hospital_reads_and_answers_only_while_the_request_is_active() {
        let kashiwa = MunicipalityId::new();
        let nurse = actor(kashiwa, &[Role::Professional]);
        let hospital = FacilityId::new();
        let ward = Actor { member_of: vec![hospital], ..actor(kashiwa, &[Role::Professional]) };
        let other_ward = Actor { member_of: vec![FacilityId::new()], ..actor(kashiwa, &[Role::Professional]) };
        let p = patient(kashiwa, nurse.account_id, ConsentState::Active, vec![nurse.account_id]);
        let mut request =
            RequestScope { patient: p, called_physicians: vec![], called_hospitals: vec![], active: true };
        assert_eq!(read_urgent_request(&ward, &request), Decision::Hidden, "not called yet");
        request.called_hospitals = vec![hospital];
        assert_eq!(read_urgent_request(&ward, &request), Decision::Allow);
        assert_eq!(answer_as_hospital(&ward, &request), Decision::Allow);
        assert_eq!(read_urgent_request(&other_ward, &request), Decision::Hidden);
        assert_eq!(answer_as_hospital(&nurse, &request), Decision::Deny, "the team does not answer for a hospital");
        assert_eq!(act_on_urgent_request(&nurse, &request), Decision::Allow);
        let family = actor(kashiwa, &[Role::Professional]);
        request.patient.team.push(seat(family.account_id, TeamRole::Family, Profession::Family));
        assert_eq!(act_on_urgent_request(&family, &request), Decision::Deny, "family do not close requests");
        assert_eq!(read_urgent_request(&family, &request), Decision::Deny, "urgent requests are the professionals'");
        request.active = false;
        assert_eq!(read_urgent_request(&ward, &request), Decision::Hidden, "access ends with the request");
        assert_eq!(read_urgent_request(&nurse, &request), Decision::Allow);
        assert_eq!(act_on_urgent_request(&nurse, &request), Decision::Deny);
    }

    #[test]
    fn called_physicians_acknowledge_strangers_do_not() {
        let kashiwa = MunicipalityId::new();
        let nurse = actor(kashiwa, &[Role::Professional]);
        let on_call = actor(kashiwa, &[Role::Professional]);
        let stranger = actor(kashiwa, &[Role::Professional]);
        let p = patient(kashiwa, nurse.account_id, ConsentState::Active, vec![nurse.account_id]);
        let request = RequestScope {
            patient: p,
            called_physicians: vec![on_call.account_id],
            called_hospitals: vec![],
            active: true,
        };
        assert_eq!(acknowledge_urgent_request(&on_call, &request), Decision::Allow);
        assert_eq!(acknowledge_urgent_request(&nurse, &request), Decision::Deny, "a nurse does not take it");
        assert_eq!(acknowledge_urgent_request(&stranger, &request), Decision::Hidden);
        assert_eq!(act_on_urgent_request(&stranger, &request), Decision::Hidden);
        let elsewhere = Actor { account_id: on_call.account_id, ..actor(MunicipalityId::new(), &[Role::Professional]) };
        assert_eq!(read_urgent_request(&elsewhere, &request), Decision::Hidden);
    }

    #[test]
    fn groups_are_run_by_their_coordinator_and_absences_by_the_physician() {
        let kashiwa = MunicipalityId::new();
        let admin = actor(kashiwa, &[Role::MunicipalityAdmin]);
        let coordinator = actor(kashiwa, &[Role::Professional]);
        let doctor = actor(kashiwa, &[Role::Professional]);
        assert_eq!(create_physician_group(&admin, kashiwa), Decision::Allow);
        assert_eq!(create_physician_group(&doctor, kashiwa), Decision::Deny);
        assert_eq!(manage_physician_group(&coordinator, kashiwa, Some(coordinator.account_id)), Decision::Allow);
        assert_eq!(manage_physician_group(&doctor, kashiwa, Some(coordinator.account_id)), Decision::Deny);
        assert_eq!(record_absence(&doctor, kashiwa, doctor.account_id, &[]), Decision::Allow);
        assert_eq!(record_absence(&doctor, kashiwa, coordinator.account_id, &[]), Decision::Deny);
        assert_eq!(
            record_absence(&coordinator, kashiwa, doctor.account_id, &[coordinator.account_id]),
            Decision::Allow
        );
        let elsewhere = MunicipalityId::new();
        assert_eq!(manage_physician_group(&admin, elsewhere, None), Decision::Hidden);
        assert_eq!(view_backup_system(&doctor, elsewhere), Decision::Hidden);
        let hospital = FacilityId::new();
        let ward = Actor { member_of: vec![hospital], ..actor(kashiwa, &[Role::Professional]) };
        assert_eq!(update_backup_beds(&ward, kashiwa, hospital), Decision::Allow);
        assert_eq!(update_backup_beds(&doctor, kashiwa, hospital), Decision::Deny);
    }

    #[test]
    fn an_emergency_grant_reads_and_posts_and_does_nothing_else() {
        let kashiwa = MunicipalityId::new();
        let doctor = actor(kashiwa, &[Role::Professional]);
        let covering = actor(kashiwa, &[Role::Professional, Role::Coordinator]);
        let mut p = patient(kashiwa, doctor.account_id, ConsentState::Active, vec![]);
        p.team.push(seat(doctor.account_id, TeamRole::PrimaryPhysician, Profession::Physician));
        p.emergency_access = vec![covering.account_id];
        assert_eq!(read_patient(&covering, &p), Decision::Allow);
        assert_eq!(write_patient(&covering, &p), Decision::Allow);
        assert_eq!(act_for_team(&covering, &p), Decision::Deny);
        for change in [
            TeamChange::Add { role: TeamRole::PrimaryPhysician, profession: Profession::Physician },
            TeamChange::Add { role: TeamRole::VisitingNurse, profession: Profession::Nurse },
            TeamChange::Remove { member: doctor.account_id, facilities: vec![] },
            TeamChange::InviteFamily,
            TeamChange::Leave,
        ] {
            assert_eq!(change_team(&covering, &p, &change), Decision::Deny, "{change:?}");
        }
        let p = PatientScope { consent: ConsentState::Withdrawn, ..p };
        assert_eq!(record_consent(&covering, &p), Decision::Deny);
    }

    #[test]
    fn team_roles_fit_the_person_and_only_the_leads_remove_or_invite() {
        let kashiwa = MunicipalityId::new();
        let (doctor, nurse, pharmacist, care_manager, relative) = (
            actor(kashiwa, &[Role::Professional]),
            actor(kashiwa, &[Role::Professional]),
            actor(kashiwa, &[Role::Professional]),
            actor(kashiwa, &[Role::Professional]),
            actor(kashiwa, &[Role::Professional]),
        );
        let mut p = patient(kashiwa, nurse.account_id, ConsentState::Active, vec![]);
        p.team = vec![
            seat(doctor.account_id, TeamRole::PrimaryPhysician, Profession::Physician),
            seat(nurse.account_id, TeamRole::VisitingNurse, Profession::Nurse),
            seat(pharmacist.account_id, TeamRole::Pharmacist, Profession::Pharmacist),
            seat(care_manager.account_id, TeamRole::CareManager, Profession::CareManager),
            seat(relative.account_id, TeamRole::Family, Profession::Family),
        ];
        let as_physician = |profession| TeamChange::Add { role: TeamRole::BackupPhysician, profession };
        assert_eq!(change_team(&pharmacist, &p, &as_physician(Profession::CareManager)), Decision::Deny);
        assert_eq!(change_team(&nurse, &p, &as_physician(Profession::Nurse)), Decision::Deny);
        assert_eq!(change_team(&nurse, &p, &as_physician(Profession::Physician)), Decision::Allow);
        let nurse_as_family = TeamChange::Add { role: TeamRole::Family, profession: Profession::Family };
        assert_eq!(change_team(&doctor, &p, &nurse_as_family), Decision::Deny, "family come by invitation");
        let family_as_nurse = TeamChange::Add { role: TeamRole::VisitingNurse, profession: Profession::Family };
        assert_eq!(change_team(&doctor, &p, &family_as_nurse), Decision::Deny);
        let any_add = TeamChange::Add { role: TeamRole::VisitingNurse, profession: Profession::Nurse };
        assert_eq!(change_team(&relative, &p, &any_add), Decision::Deny, "family never change the team");
        assert_eq!(change_team(&relative, &p, &TeamChange::Leave), Decision::Deny);
        let remove_pharmacist = TeamChange::Remove { member: pharmacist.account_id, facilities: vec![] };
        assert_eq!(change_team(&nurse, &p, &remove_pharmacist), Decision::Deny);
        assert_eq!(change_team(&doctor, &p, &remove_pharmacist), Decision::Allow);
        assert_eq!(change_team(&care_manager, &p, &remove_pharmacist), Decision::Allow);
        let leave = TeamChange::Remove { member: pharmacist.account_id, facilities: vec![] };
        assert_eq!(change_team(&pharmacist, &p, &leave), Decision::Allow, "anyone leaves");
        assert_eq!(change_team(&nurse, &p, &TeamChange::InviteFamily), Decision::Deny);
        assert_eq!(change_team(&doctor, &p, &TeamChange::InviteFamily), Decision::Allow);
        // The member's own facility admin, and the coordination centre, on the team.
        let pharmacy = FacilityId::new();
        let mut owner = actor(kashiwa, &[Role::Professional, Role::FacilityAdmin]);
        owner.admin_of = vec![pharmacy];
        let coordinator = actor(kashiwa, &[Role::Professional, Role::Coordinator]);
        p.team.push(seat(owner.account_id, TeamRole::Pharmacist, Profession::Pharmacist));
        p.team.push(seat(coordinator.account_id, TeamRole::Other, Profession::SocialWorker));
        let remove_at = |facilities| TeamChange::Remove { member: pharmacist.account_id, facilities };
        assert_eq!(change_team(&owner, &p, &remove_at(vec![pharmacy])), Decision::Allow);
        assert_eq!(change_team(&owner, &p, &remove_at(vec![FacilityId::new()])), Decision::Deny);
        assert_eq!(change_team(&coordinator, &p, &remove_at(vec![])), Decision::Allow);
        let promote = |role, profession| TeamChange::ChangeRole {
            member: nurse.account_id,
            facilities: vec![],
            role,
            profession,
        };
        assert_eq!(change_team(&doctor, &p, &promote(TeamRole::PrimaryPhysician, Profession::Nurse)), Decision::Deny);
        assert_eq!(change_team(&nurse, &p, &promote(TeamRole::CommunitySupport, Profession::Nurse)), Decision::Deny);
        assert_eq!(change_team(&doctor, &p, &promote(TeamRole::CommunitySupport, Profession::Nurse)), Decision::Allow);
        // Someone who is not on the team, coordinator or not, changes nothing.
        let outsider = actor(kashiwa, &[Role::Professional, Role::Coordinator]);
        assert_eq!(change_team(&outsider, &p, &TeamChange::InviteFamily), Decision::Hidden);
    }

    #[test]
    fn only_physicians_say_they_will_respond_to_an_urgent_entry() {
        let kashiwa = MunicipalityId::new();
        let (doctor, nurse, covering, pharmacist_covering) = (
            actor(kashiwa, &[Role::Professional]),
            actor(kashiwa, &[Role::Professional]),
            actor(kashiwa, &[Role::Professional]),
            actor(kashiwa, &[Role::Professional]),
        );
        let mut p = patient(kashiwa, nurse.account_id, ConsentState::Active, vec![nurse.account_id]);
        p.team.push(seat(doctor.account_id, TeamRole::PrimaryPhysician, Profession::Physician));
        p.emergency_access = vec![covering.account_id, pharmacist_covering.account_id];
        assert_eq!(acknowledge_urgent_entry(&doctor, Profession::Physician, &p), Decision::Allow);
        assert_eq!(acknowledge_urgent_entry(&nurse, Profession::Nurse, &p), Decision::Deny);
        assert_eq!(acknowledge_urgent_entry(&covering, Profession::Physician, &p), Decision::Allow);
        assert_eq!(acknowledge_urgent_entry(&pharmacist_covering, Profession::Pharmacist, &p), Decision::Deny);
        let stranger = actor(kashiwa, &[Role::Professional]);
        assert_eq!(acknowledge_urgent_entry(&stranger, Profession::Physician, &p), Decision::Hidden);
    }

    #[test]
    fn a_second_membership_gives_its_facility_no_hold_on_the_account() {
        let kashiwa = MunicipalityId::new();
        let (main, second) = (FacilityId::new(), FacilityId::new());
        let mut second_admin = actor(kashiwa, &[Role::Professional, Role::FacilityAdmin]);
        second_admin.admin_of = vec![second];
        let mut main_admin = actor(kashiwa, &[Role::Professional, Role::FacilityAdmin]);
        main_admin.admin_of = vec![main];
        let nurse = AccountScope {
            account_id: AccountId::new(),
            municipality_id: Some(kashiwa),
            roles: vec![Role::Professional],
            facilities: vec![main, second],
            anchors: vec![main],
        };
        assert_eq!(manage_account(&second_admin, &nurse), Decision::Deny, "no reissue or disabling");
        assert_eq!(view_account(&second_admin, &nurse), Decision::Allow);
        assert_eq!(remove_membership(&second_admin, &nurse, second), Decision::Allow, "their own membership");
        assert_eq!(remove_membership(&second_admin, &nurse, main), Decision::Deny);
        assert_eq!(manage_account(&main_admin, &nurse), Decision::Allow);
        assert_eq!(remove_membership(&main_admin, &nurse, second), Decision::Deny, "not their facility");
        assert_eq!(remove_membership(&main_admin, &nurse, main), Decision::Allow);
        // An admin of two facilities answers to both.
        let owner =
            AccountScope { roles: vec![Role::Professional, Role::FacilityAdmin], anchors: vec![main, second], ..nurse };
        assert_eq!(manage_account(&main_admin, &owner), Decision::Deny);
        let coordinator = actor(kashiwa, &[Role::Professional, Role::Coordinator]);
        assert_eq!(manage_account(&coordinator, &owner), Decision::Allow);
        assert_eq!(remove_membership(&coordinator, &owner, second), Decision::Allow);
    }

    fn any_role() -> impl Strategy<Value = Role> {
        prop::sample::select(Role::ALL.to_vec())
    }

    proptest! {
        /// Whatever roles someone has in one municipality, nothing in another
        /// municipality is ever allowed unless they are an operator.
        #[test]
        fn no_decision_crosses_municipalities(roles in prop::collection::vec(any_role(), 0..4)) {
            let (home, other) = (MunicipalityId::new(), MunicipalityId::new());
            let facility = FacilityId::new();
            let mut someone = actor(home, &roles);
            someone.admin_of = vec![facility];
            prop_assume!(!someone.has(Role::Operator));
            let t = target(other, &[Role::Professional], &[facility]);
            prop_assert_eq!(create_facility(&someone, other), Decision::Hidden);
            prop_assert_eq!(edit_facility(&someone, other, facility), Decision::Hidden);
            prop_assert_eq!(view_facilities(&someone, other), Decision::Hidden);
            prop_assert_eq!(issue_account(&someone, other, Some(facility), &[Role::Professional]), Decision::Hidden);
            prop_assert_eq!(manage_account(&someone, &t), Decision::Hidden);
            prop_assert_eq!(list_accounts(&someone, other), Decision::Hidden);
            prop_assert_eq!(read_audit_log(&someone, other), Decision::Hidden);
        }

        /// For any team and any consent state, only an active member ever reads or
        /// writes, and nobody from another municipality does, whatever their roles.
        #[test]
        fn only_active_members_reach_a_patient(
            team_size in 0usize..6,
            outsider_roles in prop::collection::vec(any_role(), 0..5),
            consent in prop::sample::select(vec![ConsentState::Pending, ConsentState::Active, ConsentState::Withdrawn]),
            same_municipality in any::<bool>(),
        ) {
            let (home, other) = (MunicipalityId::new(), MunicipalityId::new());
            let members: Vec<AccountId> = (0..team_size).map(|_| AccountId::new()).collect();
            let creator = members.first().copied().unwrap_or_default();
            let p = patient(home, creator, consent, members.clone());
            let outsider = actor(if same_municipality { home } else { other }, &outsider_roles);
            prop_assert_eq!(read_patient(&outsider, &p), Decision::Hidden);
            prop_assert_eq!(write_patient(&outsider, &p), Decision::Hidden);
            prop_assert_eq!(record_consent(&outsider, &p), Decision::Hidden);
            for m in &members {
                let member = Actor { account_id: *m, ..actor(home, &[Role::Professional]) };
                let reads = read_patient(&member, &p).is_allowed();
                prop_assert_eq!(reads, consent != ConsentState::Pending || *m == creator);
                prop_assert_eq!(write_patient(&member, &p).is_allowed(), reads && consent == ConsentState::Active);
            }
        }

        /// Nobody but an operator can hand out a role that outranks the ones they hold.
        #[test]
        fn no_escalation_of_roles(roles in prop::collection::vec(any_role(), 0..4), wanted in prop::collection::vec(any_role(), 1..3)) {
            let home = MunicipalityId::new();
            let someone = actor(home, &roles);
            prop_assume!(!someone.has(Role::Operator));
            if issue_account(&someone, home, None, &wanted).is_allowed() {
                prop_assert!(!wanted.contains(&Role::Operator));
                if wanted.contains(&Role::MunicipalityAdmin) || wanted.contains(&Role::Coordinator) {
                    prop_assert!(someone.has(Role::MunicipalityAdmin));
                }
            }
        }
    }
}
