//! tsunagu's domain: the types a user's input is parsed into, the rules they
//! obey, the access policy and the audit chain. No I/O, no async, no SQL, no HTTP.

pub mod account;
pub mod analysis;
pub mod audit;
pub mod care;
pub mod case_access;
pub mod clock;
pub mod coordination;
pub mod discharge_rules;
pub mod error;
pub mod escalation;
pub mod facility;
pub mod fhir_input;
pub mod fhir_search;
pub mod holiday;
pub mod ids;
pub mod interop;
pub mod mail;
pub mod municipality;
pub mod on_call;
pub mod patient;
pub mod policy;
pub mod public_pages;
pub mod public_query;
pub mod record_access;
pub mod registry;
pub mod text;

pub use error::ValidationError;
