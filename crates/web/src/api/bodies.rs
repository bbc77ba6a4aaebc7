//! The JSON request bodies of the API, public so that the fuzz target
//! (`fuzz/fuzz_targets/api_json.rs`) reads the very types the handlers take.

pub use super::backup::{
    Beds, HospitalAnswer, NewAbsence, NewGroup, NewGroupMember, NewUrgentRequest, RosterChange, UrgentOutcome,
};
pub use super::care::{AdvanceCarePlan, Correction, NewConsent, NewPatient, NewTeamMember, StatusChange, Withdrawal};
pub use super::{NewEntry, Vitals};
