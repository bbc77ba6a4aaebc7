//! The HL7 FHIR R4 (4.0.1) API under `/fhir`, following JP Core where it
//! applies. JSON only (`application/fhir+json`); every error is an
//! OperationOutcome. Callers send an API token (`Authorization: Bearer`);
//! the use cases are the app layer's (`tsunagu_app::fhir`), so the policy,
//! the audit trail and "not found" for outsiders are the web pages' own.

mod caller;
mod handlers;
mod outcome;
mod posted;
mod registry;
mod resources;
mod search;

pub(crate) use caller::{Base, Lang, fhir_base};
pub(crate) use handlers::*;
pub(crate) use registry::{
    read_healthcare_service, read_location, read_organization, search_healthcare_services, search_locations,
    search_organizations,
};
pub(crate) use resources::everything;
