//! The HL7 FHIR R4 (4.0.1) API under `/fhir`, following JP Core where it
//! applies. JSON only (`application/fhir+json`); every error is an
//! OperationOutcome. Callers send an API token (`Authorization: Bearer`);
//! the use cases are the app layer's (`tsunagu_app::fhir`), so the policy,
//! the audit trail and "not found" for outsiders are the web pages' own.

mod handlers;
mod outcome;
mod resources;
mod search;

pub(crate) use handlers::*;
pub(crate) use resources::everything;
