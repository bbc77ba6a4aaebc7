//! The analysts' export (issue 6): the municipality's home-care patients with
//! consent in force, de-identified by the domain (`tsunagu_domain::analysis`),
//! for those who run the programme. One audit event per export, in the
//! municipality's chain, with how many rows went out.

use crate::municipalities::enforce;
use crate::{App, AppError, RequestMeta, Session, audit_record};
use std::collections::HashMap;
use tsunagu_domain::analysis::{AnalysisPatient, DeidentifiedRow, deidentify};
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::care::{EntryKind, TeamRole};
use tsunagu_domain::patient::{Outcome, Place, SpecialCare};
use tsunagu_domain::policy;
use tsunagu_store::AnalysisPatientRow;
use uuid::Uuid;

/// The export, ready to be written out.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisExport {
    pub municipality_code: String,
    pub rows: Vec<DeidentifiedRow>,
}

fn corrupt(what: &str, value: &str) -> AppError {
    AppError::Internal(format!("stored {what} {value:?} is not valid"))
}

fn patient_of(r: &AnalysisPatientRow) -> Result<AnalysisPatient, AppError> {
    let special_care = r
        .special_care
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|c| SpecialCare::parse(c).map_err(|_| corrupt("special care", c)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AnalysisPatient {
        birth_date: r.birth_date,
        sex: r.sex,
        care_level: r.care_level,
        daily_living_area: r.daily_living_area.clone().filter(|a| !a.trim().is_empty()),
        special_care,
        status: r.status,
        outcome: r.outcome.as_deref().map(|o| Outcome::parse(o).map_err(|_| corrupt("outcome", o))).transpose()?,
        outcome_date: r.outcome_date,
        registered_on: r.created_at.to_offset(tsunagu_domain::clock::JST).date(),
        consent_on: r.consent_on,
        team_roles: Vec::new(),
        entries: HashMap::new(),
        urgent_requests: 0,
        admissions: 0,
        wished_place_of_death: None,
    })
}

impl App {
    /// The name of the municipality whose export the caller may make (for the
    /// page that explains it); reads no patient data.
    pub async fn analysis_export_page(&self, session: &Session) -> Result<String, AppError> {
        let actor = session.actor()?;
        let m = actor.municipality_id.ok_or(AppError::Forbidden)?;
        enforce(policy::export_for_analysis(&actor, m))?;
        let mut tx = self.store.begin_read().await?;
        Ok(tx.municipality(m.0).await?.ok_or(AppError::NotFound)?.name)
    }

    /// The de-identified export of the caller's municipality (see the module).
    pub async fn export_for_analysis(&self, session: &Session, meta: &RequestMeta) -> Result<AnalysisExport, AppError> {
        let actor = session.actor()?;
        // Installation operators belong to no municipality and see no patient data.
        let m = actor.municipality_id.ok_or(AppError::Forbidden)?;
        enforce(policy::export_for_analysis(&actor, m))?;
        let mut tx = self.store.begin_read().await?;
        let municipality = tx.municipality(m.0).await?.ok_or(AppError::NotFound)?;
        let rows = tx.analysis_patients(m.0).await?;
        let mut patients: HashMap<Uuid, AnalysisPatient> =
            rows.iter().map(|r| Ok((r.id, patient_of(r)?))).collect::<Result<_, AppError>>()?;
        for (id, role) in tx.analysis_team_roles(m.0).await? {
            if let (Some(p), Ok(role)) = (patients.get_mut(&id), TeamRole::parse(&role)) {
                p.team_roles.push(role);
            }
        }
        for (id, kind, count) in tx.analysis_entry_counts(m.0).await? {
            if let (Some(p), Ok(kind)) = (patients.get_mut(&id), EntryKind::parse(&kind)) {
                p.entries.insert(kind, count);
            }
        }
        for (id, requests, admissions) in tx.analysis_urgent_requests(m.0).await? {
            if let Some(p) = patients.get_mut(&id) {
                (p.urgent_requests, p.admissions) = (requests, admissions);
            }
        }
        for (id, place) in tx.analysis_wishes(m.0).await? {
            if let Some(p) = patients.get_mut(&id) {
                p.wished_place_of_death = Place::parse(&place).ok();
            }
        }
        drop(tx);
        // A fresh random order every time: the row order tells nothing (not
        // when someone was registered, nor their id).
        let mut keyed: Vec<(u64, AnalysisPatient)> = Vec::with_capacity(patients.len());
        for p in patients.into_values() {
            let mut key = [0u8; 8];
            getrandom::fill(&mut key).map_err(|e| AppError::Internal(e.to_string()))?;
            keyed.push((u64::from_le_bytes(key), p));
        }
        keyed.sort_by_key(|(key, _)| *key);
        let ordered: Vec<AnalysisPatient> = keyed.into_iter().map(|(_, p)| p).collect();
        let rows = deidentify(&ordered, self.today());
        let areas_hidden = rows.iter().filter(|r| r.area_hidden).count();
        let bands_widened = rows.iter().filter(|r| r.age_widened).count();

        // How much the small-group rule changed, for whoever reviews the exports.
        let details =
            serde_json::json!({ "rows": rows.len(), "areas_hidden": areas_hidden, "bands_widened": bands_widened });
        let record = audit_record(
            self.now(),
            Some(m),
            &session.audit_actor(meta),
            AuditAction::AnalysisExported,
            "municipality",
            Some(m.0),
            details,
        );
        let mut tx = self.begin().await?;
        tx.append_audit(&record).await?;
        tx.commit().await?;
        Ok(AnalysisExport { municipality_code: municipality.code, rows })
    }
}
