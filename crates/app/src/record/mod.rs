//! A patient's record as every area sees it: its scope (what the policy
//! decides on), the one way in (`App::decide`, which gives the grant the
//! store's reads take), its audit events and notifications, and the views of
//! its parts. No use case lives here; the areas (patients, escalation,
//! on_call, fhir) build on it, and it builds on none of them.

mod access;
mod event;
mod scope;
pub mod views;

pub(crate) use access::*;
pub(crate) use event::*;
pub(crate) use scope::*;
pub(crate) use views::{acp_view, patient_view};
