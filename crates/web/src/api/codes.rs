//! The OpenAPI schemas of the codes a body may carry, built from the domain's
//! own lists (`ALL`), so that the document can never offer a code the server
//! refuses or miss one it takes. Used with `#[schema(schema_with = ...)]`.

use tsunagu_domain::care::{Audience, EntryKind, TeamRole};
use tsunagu_domain::escalation::{RequestKind, RequestOutcome};
use tsunagu_domain::on_call::AbsenceReason;
use tsunagu_domain::patient::{
    CareLevel, ConsentMethod, Outcome, PatientStatus, Place, Sex, SpecialCare, TreatmentWish,
};
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, Type};

fn codes(description: &str, codes: impl IntoIterator<Item = &'static str>) -> Object {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description)).enum_values(Some(codes)).build()
}

pub(crate) fn team_role() -> Object {
    // Family join by invitation only: never a role given through the API.
    let roles = TeamRole::ALL.iter().filter(|r| **r != TeamRole::Family).map(|r| r.code());
    codes("The member's part in the team; it must fit their profession (physician roles for physicians).", roles)
}

pub(crate) fn entry_kind() -> Object {
    codes("The kind of entry.", EntryKind::ALL.iter().map(|k| k.code()))
}

pub(crate) fn audience() -> Object {
    codes("Who reads it (team when absent).", Audience::ALL.iter().map(|a| a.code()))
}

pub(crate) fn sex() -> Object {
    codes("Sex.", Sex::ALL.iter().map(|s| s.code()))
}

pub(crate) fn care_level() -> Object {
    codes("Care level (要介護度), or none / applying.", CareLevel::ALL.iter().map(|c| c.code()))
}

pub(crate) fn special_care() -> Array {
    ArrayBuilder::new()
        .items(codes("Special care at home.", SpecialCare::ALL.iter().map(|c| c.code())))
        .description(Some("Special care at home (在宅酸素, 胃ろう, ...)."))
        .build()
}

pub(crate) fn consent_method() -> Object {
    codes("How consent was given.", ConsentMethod::ALL.iter().map(|m| m.code()))
}

pub(crate) fn patient_status() -> Object {
    codes("Where the patient is.", PatientStatus::ALL.iter().map(|s| s.code()))
}

pub(crate) fn outcome() -> Object {
    codes("How care ended (required when the status is ended).", Outcome::ALL.iter().map(|o| o.code()))
}

pub(crate) fn place() -> Object {
    codes("A place of care or of death.", Place::ALL.iter().map(|p| p.code()))
}

pub(crate) fn treatment() -> Object {
    codes("The wish about treatment.", TreatmentWish::ALL.iter().map(|t| t.code()))
}

pub(crate) fn request_kind() -> Object {
    codes("What is asked for.", RequestKind::ALL.iter().map(|k| k.code()))
}

pub(crate) fn request_outcome() -> Object {
    codes("How the request ended.", RequestOutcome::ALL.iter().map(|o| o.code()))
}

pub(crate) fn absence_reason() -> Object {
    codes("Why the physician is away.", AbsenceReason::ALL.iter().map(|r| r.code()))
}
