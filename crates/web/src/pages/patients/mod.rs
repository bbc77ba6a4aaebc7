//! The care team's pages: the patient list (home), registering a patient,
//! the patient page with its timeline and compose form, entries.

use super::{Chrome, Id, NoticeQuery, parse_id};
use crate::AppState;
use crate::context::{Ctx, NoFields, Verified, VerifiedUpload};
use crate::error::WebError;
use crate::i18n::Tr;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_app::patients::{
    Colleague, ConsentForm, EntryDetail, PatientPage, PatientSummary, TimelineQuery, parse_entry,
};
use tsunagu_app::views::AccountView;
use tsunagu_domain::account::Role;
use tsunagu_domain::care::{EntryKind, TeamRole, VitalsForm};
use tsunagu_domain::clock::JST;
use tsunagu_domain::ids::{EntryId, PatientId};
use tsunagu_domain::patient::{
    AdvanceCarePlanForm, CareLevel, ConsentMethod, Outcome, PatientStatus, Place, Sex, SpecialCare, TreatmentWish,
};
use tsunagu_domain::policy::ConsentState;
use uuid::Uuid;

mod acp;
mod consent;
mod emergency;
mod home_page;
mod register;
mod team;
mod timeline;

pub(crate) use acp::*;
pub(crate) use consent::*;
pub(crate) use emergency::*;
pub(crate) use home_page::*;
pub(crate) use register::*;
pub(crate) use team::*;
pub(crate) use timeline::*;
