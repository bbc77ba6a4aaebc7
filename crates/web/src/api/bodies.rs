//! The JSON request bodies of the API, public so that the fuzz target
//! (`fuzz/fuzz_targets/api_json.rs`) reads the very types the handlers take.

pub use super::backup::{
    Beds, HospitalAnswer, NewAbsence, NewGroup, NewGroupMember, NewUrgentRequest, RosterChange, UrgentOutcome,
};
pub use super::care::{
    AdvanceCarePlan, Correction, NewConsent, NewPatient, NewTeamMember, PatientDetailsBody, StatusChange, Withdrawal,
};
pub use super::coordination::{
    CandidateAnswer, CandidatesToAsk, CaseChange, NewConsultation, NewDischargeRequest, TeamCreation,
};
pub use super::{NewEntry, Vitals};
