//! Importing government open data into the resource registry (item ア):
//! idempotent (a re-import updates, never duplicates), rows that disappear
//! from a newer file are closed (not deleted), status flags keep their start
//! and end, every change is kept as a snapshot, and a report says what was
//! added, updated, unchanged, closed, rejected (with the reason) or left to
//! another municipality. Parsing is `tsunagu_import`'s; this applies it in
//! one transaction with its audit event.

use crate::municipalities::enforce;
use crate::session::Session;
use crate::write_tx::WriteTx;
use crate::{App, AppError, AuditActor, RequestMeta, audit_record};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::ids::MunicipalityId;
use tsunagu_domain::policy;
use tsunagu_domain::registry::{address_key, same_medical_name};
use tsunagu_import::{Flag, Parsed, Row, Source};
use tsunagu_store::{
    FacilityFlagRow, FacilityHistoryRow, FacilitySourceRow, ImportRunRow, MunicipalityRow, RegistryFacility, StoreTx,
};
use uuid::Uuid;

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedRow {
    pub line: usize,
    pub source_id: Option<String>,
    pub code: &'static str,
    pub message: String,
}

/// What an import did (or, for a preview, would do).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportReport {
    pub file_name: String,
    pub encoding: &'static str,
    /// Set when the whole file was refused: nothing was imported.
    pub refused: Option<String>,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub closed: usize,
    /// Rows of other municipalities, left alone.
    pub elsewhere: usize,
    pub rejected: Vec<RejectedRow>,
    /// False for a preview.
    pub applied: bool,
}

impl ImportReport {
    /// Whether anything could be imported (the CLI's exit status).
    pub fn imported_anything(&self) -> bool {
        self.refused.is_none() && self.added + self.updated + self.unchanged + self.closed > 0
    }
}

/// The stable name of a source, as stored.
pub fn source_code(source: Source) -> &'static str {
    match source {
        Source::CareOffices => "care_offices",
        Source::MedicalInstitutions => "medical_institutions",
        Source::FacilityStandards => "facility_standards",
    }
}

/// Parses `care-offices`, `medical-institutions` or `facility-standards`.
pub fn parse_source(raw: &str) -> Option<Source> {
    match raw.trim() {
        "care-offices" | "care_offices" => Some(Source::CareOffices),
        "medical-institutions" | "medical_institutions" => Some(Source::MedicalInstitutions),
        "facility-standards" | "facility_standards" => Some(Source::FacilityStandards),
        _ => None,
    }
}

/// Whether a row belongs to the municipality: by its code where the file has
/// one, else by the name the file (or the address) gives.
fn belongs_to(row: &Row, municipality: &MunicipalityRow) -> bool {
    if let Some(code) = row.municipality_code.as_deref().filter(|c| c.len() >= 5) {
        return code.get(..5) == municipality.code.get(..5);
    }
    // The parser takes the name from the file, else from the address (keeping
    // the ward of a designated city: 千葉市中央区 belongs to 千葉市).
    row.municipality_name.as_deref().is_none_or(|n| n.starts_with(municipality.name.as_str()))
}

fn scope_of(source: Source, row: &Row) -> String {
    match source {
        Source::CareOffices => row.service.clone().unwrap_or_else(|| row.kind.code().to_owned()),
        Source::MedicalInstitutions => row.kind.code().to_owned(),
        Source::FacilityStandards => "all".to_owned(),
    }
}

/// The facility as a row would make it, on top of what was there.
fn merged(
    existing: Option<&RegistryFacility>,
    source: Source,
    row: &Row,
    municipality: Uuid,
    now: OffsetDateTime,
) -> RegistryFacility {
    let base = existing.cloned().unwrap_or_else(|| RegistryFacility {
        id: Uuid::now_v7(),
        municipality_id: municipality,
        kind: row.kind.code().to_owned(),
        name: row.name.clone(),
        name_kana: None,
        medical_institution_code: None,
        care_provider_number: None,
        postal_code: None,
        address: row.address.clone(),
        phone: None,
        fax: None,
        service: None,
        latitude: None,
        longitude: None,
        closed_at: None,
        created_at: now,
        updated_at: now,
    });
    // The notification list is thin on contact data: it only fills gaps; the
    // two facility lists are the reference for what they publish.
    let fill_only = existing.is_some() && source == Source::FacilityStandards;
    let pick = |new: Option<String>, old: Option<String>| if fill_only { old.or(new) } else { new.or(old) };
    let mut f = RegistryFacility {
        kind: if fill_only { base.kind.clone() } else { row.kind.code().to_owned() },
        name: if fill_only { base.name.clone() } else { row.name.clone() },
        name_kana: pick(row.name_kana.clone(), base.name_kana.clone()),
        postal_code: pick(row.postal_code.clone(), base.postal_code.clone()),
        address: if fill_only { base.address.clone() } else { row.address.clone() },
        phone: pick(row.phone.clone(), base.phone.clone()),
        fax: pick(row.fax.clone(), base.fax.clone()),
        service: pick(row.service.clone(), base.service.clone()),
        latitude: if fill_only { base.latitude.or(row.latitude) } else { row.latitude.or(base.latitude) },
        longitude: if fill_only { base.longitude.or(row.longitude) } else { row.longitude.or(base.longitude) },
        closed_at: None,
        ..base
    };
    match source {
        Source::CareOffices => f.care_provider_number = Some(row.source_id.clone()),
        Source::FacilityStandards => f.medical_institution_code = Some(row.source_id.clone()),
        Source::MedicalInstitutions => {}
    }
    f
}

/// Whether two versions differ in anything a person would see.
fn differs(a: &RegistryFacility, b: &RegistryFacility) -> bool {
    let strip = |f: &RegistryFacility| RegistryFacility {
        created_at: OffsetDateTime::UNIX_EPOCH,
        updated_at: OffsetDateTime::UNIX_EPOCH,
        ..f.clone()
    };
    strip(a) != strip(b)
}

fn snapshot(f: &RegistryFacility, flags: &[String]) -> String {
    json!({
        "kind": f.kind, "name": f.name, "name_kana": f.name_kana, "address": f.address, "postal_code": f.postal_code,
        "phone": f.phone, "fax": f.fax, "service": f.service, "latitude": f.latitude, "longitude": f.longitude,
        "medical_institution_code": f.medical_institution_code, "care_provider_number": f.care_provider_number,
        "closed": f.closed_at.is_some(), "flags": flags,
    })
    .to_string()
}

fn history(f: &RegistryFacility, by: &str, change: &str, flags: &[String], at: OffsetDateTime) -> FacilityHistoryRow {
    FacilityHistoryRow {
        id: Uuid::now_v7(),
        facility_id: f.id,
        changed_at: at,
        changed_by: by.to_owned(),
        change: change.to_owned(),
        snapshot: snapshot(f, flags),
    }
}

/// The tables an import writes (their statistics are refreshed after a large one).
const REGISTRY_TABLES: &[&str] =
    &["facilities", "facility_sources", "facility_flags", "facility_history", "facility_profiles", "import_runs"];

impl App {
    /// An import from the command line, as the installation (no session):
    /// into the municipality `code`, or the only one when `None`.
    pub async fn import_registry_from_shell(
        &self,
        code: Option<&str>,
        source: Source,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<ImportReport, AppError> {
        self.import_registry_from_shell_with(code, source, file_name, bytes, false).await
    }

    /// As [`App::import_registry_from_shell`]; with `all_rows`, every row goes
    /// to the one tenant whatever municipality it names (an installation run
    /// by a prefecture, or a national benchmark).
    pub async fn import_registry_from_shell_with(
        &self,
        code: Option<&str>,
        source: Source,
        file_name: &str,
        bytes: &[u8],
        all_rows: bool,
    ) -> Result<ImportReport, AppError> {
        let mut tx = self.store.begin_read().await?;
        let municipality = match code {
            Some(c) => tx.municipality_by_code(c).await?.ok_or(AppError::NotFound)?,
            None => {
                let all = tx.municipalities().await?;
                match all.as_slice() {
                    [only] => only.clone(),
                    _ => return Err(tsunagu_domain::ValidationError::new("municipality", "choose_one").into()),
                }
            }
        };
        drop(tx);
        let meta = RequestMeta { source_ip: None, user_agent: Some("tsunagu import".into()) };
        let actor = AuditActor { account_id: None, label: "tsunagu import", meta: &meta };
        self.import_into(&municipality, &actor, source, file_name, bytes, true, all_rows).await
    }

    /// An import by whoever runs the municipality's network, from the admin
    /// pages: a preview (`apply: false`) changes nothing.
    pub async fn import_registry(
        &self,
        session: &Session,
        source: Source,
        file_name: &str,
        bytes: &[u8],
        apply: bool,
        meta: &RequestMeta,
    ) -> Result<ImportReport, AppError> {
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::NotFound)?;
        enforce(policy::create_facility(&actor, municipality))?;
        let mut tx = self.store.begin_read().await?;
        let row = tx.municipality(municipality.0).await?.ok_or(AppError::NotFound)?;
        drop(tx);
        let who = session.audit_actor(meta);
        self.import_into(&row, &who, source, file_name, bytes, apply, false).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn import_into(
        &self,
        municipality: &MunicipalityRow,
        who: &AuditActor<'_>,
        source: Source,
        file_name: &str,
        bytes: &[u8],
        apply: bool,
        all_rows: bool,
    ) -> Result<ImportReport, AppError> {
        let mut report = ImportReport { file_name: file_name.to_owned(), applied: apply, ..ImportReport::default() };
        let parsed: Parsed = match tsunagu_import::parse(source, file_name, bytes) {
            Ok(p) => p,
            Err(e) => {
                report.refused = Some(e.message_ja());
                report.applied = false;
                return Ok(report);
            }
        };
        report.encoding = parsed.encoding;
        report.rejected = parsed
            .rejected
            .iter()
            .map(|r| RejectedRow {
                line: r.line,
                source_id: r.source_id.clone(),
                code: r.reason.code(),
                message: r.reason.message_ja(),
            })
            .collect();
        let now = self.now();
        let by =
            if who.account_id.is_some() { who.label.to_owned() } else { format!("import:{}", source_code(source)) };
        let mut tx = if apply { self.begin().await? } else { WriteTx::preview(self.store.begin_read().await?) };
        self.apply_rows(tx.as_mut(), municipality, source, &parsed.rows, &by, now, all_rows, &mut report).await?;
        if apply {
            let rejected = serde_json::to_string(
                &report
                    .rejected
                    .iter()
                    .map(|r| json!({ "line": r.line, "id": r.source_id, "reason": r.code }))
                    .collect::<Vec<_>>(),
            )
            .map_err(|e| AppError::Internal(e.to_string()))?;
            let run = ImportRunRow {
                id: Uuid::now_v7(),
                municipality_id: municipality.id,
                source: source_code(source).to_owned(),
                file_name: file_name.to_owned(),
                imported_at: now,
                imported_by: by.clone(),
                added: report.added as i64,
                updated: report.updated as i64,
                unchanged: report.unchanged as i64,
                closed: report.closed as i64,
                rejected: report.rejected.len() as i64,
                elsewhere: report.elsewhere as i64,
                report: rejected,
            };
            tx.insert_import_run(&run).await?;
            let details = json!({ "source": run.source, "file": file_name, "added": run.added, "updated": run.updated,
                "unchanged": run.unchanged, "closed": run.closed, "rejected": run.rejected, "elsewhere": run.elsewhere });
            let record = audit_record(
                now,
                Some(MunicipalityId(municipality.id)),
                who,
                AuditAction::FacilitiesImported,
                "import_run",
                Some(run.id),
                details,
            );
            tx.append_audit(&record).await?;
            tx.commit().await?;
            self.sessions_changed().await;
            self.public_data_changed().await;
            // After a large import the planner's statistics are stale (the
            // nearest search would scan instead of using its index).
            if report.added + report.updated >= 10_000 {
                self.store.optimize_after_import(REGISTRY_TABLES).await?;
            }
        }
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply_rows(
        &self,
        tx: &mut dyn StoreTx,
        municipality: &MunicipalityRow,
        source: Source,
        rows: &[Row],
        by: &str,
        now: OffsetDateTime,
        all_rows: bool,
        report: &mut ImportReport,
    ) -> Result<(), AppError> {
        let code = source_code(source);
        let facilities = tx.registry_facilities(municipality.id).await?;
        let links = tx.facility_sources(municipality.id).await?;
        let flags = tx.current_flags(municipality.id).await?;
        let by_id: HashMap<Uuid, &RegistryFacility> = facilities.iter().map(|f| (f.id, f)).collect();
        let linked: HashMap<&str, &FacilitySourceRow> =
            links.iter().filter(|l| l.source == code).map(|l| (l.source_id.as_str(), l)).collect();
        let by_medical: HashMap<&str, Uuid> =
            facilities.iter().filter_map(|f| Some((f.medical_institution_code.as_deref()?, f.id))).collect();
        let by_care: HashMap<&str, Uuid> =
            facilities.iter().filter_map(|f| Some((f.care_provider_number.as_deref()?, f.id))).collect();
        let mut flags_of: HashMap<Uuid, Vec<&FacilityFlagRow>> = HashMap::new();
        for g in flags.iter().filter(|g| g.source == code) {
            flags_of.entry(g.facility_id).or_default().push(g);
        }

        let (mut inserts, mut sources, mut new_flags, mut histories) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut seen: HashSet<&str> = HashSet::new();
        let mut scopes: HashSet<String> = HashSet::new();
        let in_this_source: HashSet<Uuid> = links.iter().filter(|l| l.source == code).map(|l| l.facility_id).collect();
        let mut matched: HashSet<Uuid> = HashSet::new();
        // The two medical lists share no code: the same clinic is found by its
        // address and name. Open facilities not yet in this list, by address,
        // so that a row is compared with its neighbours only (never every pair).
        let mut by_address: HashMap<String, Vec<&RegistryFacility>> = HashMap::new();
        if source != Source::CareOffices {
            for f in facilities.iter().filter(|f| f.closed_at.is_none() && !in_this_source.contains(&f.id)) {
                let key = address_key(&f.address);
                if !key.is_empty() {
                    by_address.entry(key).or_default().push(f);
                }
            }
        }
        for row in rows {
            if !all_rows && !belongs_to(row, municipality) {
                report.elsewhere += 1;
                continue;
            }
            seen.insert(row.source_id.as_str());
            let scope = scope_of(source, row);
            scopes.insert(scope.clone());
            let existing_id = linked.get(row.source_id.as_str()).map(|l| l.facility_id).or_else(|| match source {
                Source::CareOffices => by_care.get(row.source_id.as_str()).copied(),
                Source::FacilityStandards => by_medical.get(row.source_id.as_str()).copied(),
                Source::MedicalInstitutions => None,
            });
            // Else the one facility at the same address with the same name.
            let existing_id = existing_id.or_else(|| {
                if by_address.is_empty() {
                    return None;
                }
                let mut candidates = by_address.get(&address_key(&row.address))?.iter().filter(|f| {
                    f.kind == row.kind.code() && !matched.contains(&f.id) && same_medical_name(&f.name, &row.name)
                });
                match (candidates.next(), candidates.next()) {
                    (Some(only), None) => Some(only.id),
                    _ => None,
                }
            });
            if let Some(id) = existing_id {
                matched.insert(id);
            }
            let existing = existing_id.and_then(|id| by_id.get(&id).copied());
            let mut f = merged(existing, source, row, municipality.id, now);
            // Flags: the file says which hold now and since when.
            let wanted: Vec<(String, Option<time::Date>)> =
                row.flags.iter().map(|(g, since)| (g.code(), *since)).collect();
            let held: Vec<&FacilityFlagRow> =
                existing.map(|e| flags_of.get(&e.id).cloned().unwrap_or_default()).unwrap_or_default();
            let mut flags_changed = false;
            for g in &held {
                if !wanted.iter().any(|(code, since)| *code == g.flag && *since == g.since) {
                    tx.end_flag(g.id, now).await?;
                    flags_changed = true;
                }
            }
            for (flag, since) in &wanted {
                if !held.iter().any(|g| g.flag == *flag && g.since == *since) {
                    new_flags.push(FacilityFlagRow {
                        id: Uuid::now_v7(),
                        facility_id: f.id,
                        flag: flag.clone(),
                        since: *since,
                        source: code.to_owned(),
                        recorded_at: now,
                        ended_at: None,
                    });
                    flags_changed = true;
                }
            }
            let flag_names: Vec<String> = wanted.iter().map(|(g, _)| g.clone()).collect();
            match existing {
                None => {
                    histories.push(history(&f, by, "added", &flag_names, now));
                    inserts.push(f.clone());
                    report.added += 1;
                }
                Some(old) if differs(old, &f) || flags_changed => {
                    f.updated_at = now;
                    let change = if old.closed_at.is_some() {
                        "reopened"
                    } else if differs(old, &f) {
                        "updated"
                    } else {
                        "flags"
                    };
                    histories.push(history(&f, by, change, &flag_names, now));
                    tx.update_registry_facility(&f).await?;
                    report.updated += 1;
                }
                Some(_) => report.unchanged += 1,
            }
            let first_seen = linked.get(row.source_id.as_str()).map_or(now, |l| l.first_seen_at);
            sources.push(FacilitySourceRow {
                municipality_id: municipality.id,
                source: code.to_owned(),
                source_id: row.source_id.clone(),
                facility_id: f.id,
                scope,
                first_seen_at: first_seen,
                last_seen_at: now,
            });
        }
        tx.insert_registry_facilities(&inserts).await?;
        // Rows this file adds are inserted; those seen before are upserted.
        let (known, new): (Vec<FacilitySourceRow>, Vec<FacilitySourceRow>) =
            sources.into_iter().partition(|s| linked.contains_key(s.source_id.as_str()));
        tx.insert_facility_sources(&new).await?;
        tx.upsert_facility_sources(&known).await?;
        tx.insert_flags(&new_flags).await?;

        // What the newer file no longer lists: closed (the facility lists),
        // or its flags ended (the notification list: a clinic that gives up
        // 支援診 is still a clinic).
        for link in links.iter().filter(|l| l.source == code && scopes.contains(&l.scope)) {
            if seen.contains(link.source_id.as_str()) {
                continue;
            }
            let Some(old) = by_id.get(&link.facility_id) else { continue };
            match source {
                Source::FacilityStandards => {
                    let held = flags_of.get(&old.id).cloned().unwrap_or_default();
                    if held.is_empty() {
                        continue;
                    }
                    for g in held {
                        tx.end_flag(g.id, now).await?;
                    }
                    histories.push(history(old, by, "flags", &[], now));
                    report.closed += 1;
                }
                Source::CareOffices | Source::MedicalInstitutions => {
                    if old.closed_at.is_some() {
                        continue;
                    }
                    let closed = RegistryFacility { closed_at: Some(now), updated_at: now, ..(*old).clone() };
                    tx.update_registry_facility(&closed).await?;
                    histories.push(history(&closed, by, "closed", &[], now));
                    report.closed += 1;
                }
            }
        }
        tx.insert_facility_history(&histories).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_by_their_cli_names() {
        assert_eq!(parse_source("care-offices"), Some(Source::CareOffices));
        assert_eq!(parse_source("facility-standards"), Some(Source::FacilityStandards));
        assert_eq!(parse_source("pharmacies"), None);
    }
}

/// A facility's status flag, as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagView {
    pub code: String,
    pub label: String,
    pub since: Option<time::Date>,
}

/// One change of a facility.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryView {
    pub at: OffsetDateTime,
    pub by: String,
    pub change: String,
}

/// What the facility says about itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfileView {
    pub services: Vec<tsunagu_domain::registry::FacilityService>,
    pub opening_hours: Option<String>,
    pub accepting: Option<tsunagu_domain::registry::Accepting>,
    pub accepting_confirmed_on: Option<time::Date>,
    pub contact_person: Option<String>,
    pub languages: Option<String>,
    pub note: Option<String>,
    pub updated_at: Option<OffsetDateTime>,
}

impl ProfileView {
    pub fn offers(&self, service: &tsunagu_domain::registry::FacilityService) -> bool {
        self.services.contains(service)
    }
}

/// The registry's part of a facility's page.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryDetail {
    pub profile: ProfileView,
    pub flags: Vec<FlagView>,
    pub history: Vec<HistoryView>,
    pub closed_at: Option<OffsetDateTime>,
    pub can_edit: bool,
}

/// An import as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRunView {
    pub at: OffsetDateTime,
    pub source: String,
    pub file_name: String,
    pub by: String,
    pub added: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub closed: i64,
    pub rejected: i64,
    pub elsewhere: i64,
}

/// An uploaded file waiting for "apply" after its preview.
#[derive(serde::Serialize, serde::Deserialize)]
struct Staged {
    source: String,
    file_name: String,
    municipality: Uuid,
    account: Uuid,
}

/// How long a previewed file waits to be applied.
const STAGED_FOR: std::time::Duration = std::time::Duration::from_secs(3600);

pub(crate) fn profile_view(row: Option<tsunagu_store::FacilityProfileRow>) -> ProfileView {
    use tsunagu_domain::registry::{Accepting, services_from_code};
    row.map(|p| ProfileView {
        services: services_from_code(&p.services),
        opening_hours: p.opening_hours,
        accepting: p.accepting.as_deref().and_then(|a| Accepting::parse(a).ok()),
        accepting_confirmed_on: p.accepting_confirmed_on,
        contact_person: p.contact_person,
        languages: p.languages,
        note: p.note,
        updated_at: Some(p.updated_at),
    })
    .unwrap_or_default()
}

impl App {
    /// The registry's view of a facility: flags, profile, history.
    pub async fn registry_detail(
        &self,
        session: &Session,
        facility: tsunagu_domain::ids::FacilityId,
    ) -> Result<RegistryDetail, AppError> {
        let actor = session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let row = tx.facility(facility.0).await?.ok_or(AppError::NotFound)?;
        let municipality = MunicipalityId(row.municipality_id);
        enforce(policy::view_facilities(&actor, municipality))?;
        let profile = profile_view(tx.facility_profile(facility.0).await?);
        let flags = tx
            .current_flags(municipality.0)
            .await?
            .into_iter()
            .filter(|g| g.facility_id == facility.0)
            .map(|g| FlagView { label: Flag::parse(&g.flag).label_ja(), code: g.flag, since: g.since })
            .collect();
        let history = tx
            .facility_history(facility.0)
            .await?
            .into_iter()
            .rev()
            .map(|h| HistoryView { at: h.changed_at, by: h.changed_by, change: h.change })
            .collect();
        let closed_at = tx
            .registry_facilities(municipality.0)
            .await?
            .into_iter()
            .find(|f| f.id == facility.0)
            .and_then(|f| f.closed_at);
        Ok(RegistryDetail {
            profile,
            flags,
            history,
            closed_at,
            can_edit: policy::edit_facility(&actor, municipality, facility).is_allowed(),
        })
    }

    /// The facility's own staff (or whoever runs the network) keep its profile current.
    pub async fn update_facility_profile(
        &self,
        session: &Session,
        facility: tsunagu_domain::ids::FacilityId,
        form: &tsunagu_domain::registry::FacilityProfileForm<'_>,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let now = self.now();
        let today = now.to_offset(tsunagu_domain::clock::JST).date();
        let profile = tsunagu_domain::registry::FacilityProfile::parse(form, today)?;
        let mut tx = self.begin().await?;
        let row = tx.facility(facility.0).await?.ok_or(AppError::NotFound)?;
        let municipality = MunicipalityId(row.municipality_id);
        enforce(policy::edit_facility(&actor, municipality, facility))?;
        let stored = tsunagu_store::FacilityProfileRow {
            facility_id: facility.0,
            services: profile.services_code(),
            opening_hours: profile.opening_hours.clone(),
            accepting: profile.accepting.map(|a| a.code().to_owned()),
            accepting_confirmed_on: profile.accepting_confirmed_on,
            contact_person: profile.contact_person.clone(),
            languages: profile.languages.clone(),
            note: profile.note.clone(),
            updated_by: actor.account_id.0,
            updated_at: now,
        };
        tx.upsert_facility_profile(&stored).await?;
        let snapshot = json!({ "services": stored.services, "opening_hours": stored.opening_hours,
            "accepting": stored.accepting, "accepting_confirmed_on": stored.accepting_confirmed_on.map(|d| d.to_string()),
            "contact_person": stored.contact_person, "languages": stored.languages, "note": stored.note });
        tx.insert_facility_history(&[FacilityHistoryRow {
            id: Uuid::now_v7(),
            facility_id: facility.0,
            changed_at: now,
            changed_by: session.account.login_id.clone(),
            change: "profile".to_owned(),
            snapshot: snapshot.to_string(),
        }])
        .await?;
        let who = session.audit_actor(meta);
        let record = audit_record(
            now,
            Some(municipality),
            &who,
            AuditAction::FacilityUpdated,
            "facility",
            Some(facility.0),
            json!({ "profile": snapshot }),
        );
        tx.append_audit(&record).await?;
        tx.commit().await?;
        self.public_data_changed().await;
        Ok(())
    }

    /// A municipality's recent imports (for those who may import).
    pub async fn import_runs(&self, session: &Session) -> Result<Vec<ImportRunView>, AppError> {
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::NotFound)?;
        enforce(policy::create_facility(&actor, municipality))?;
        let mut tx = self.store.begin_read().await?;
        Ok(tx
            .import_runs(municipality.0, 20)
            .await?
            .into_iter()
            .map(|r| ImportRunView {
                at: r.imported_at,
                source: r.source,
                file_name: r.file_name,
                by: r.imported_by,
                added: r.added,
                updated: r.updated,
                unchanged: r.unchanged,
                closed: r.closed,
                rejected: r.rejected,
                elsewhere: r.elsewhere,
            })
            .collect())
    }

    /// Previews an uploaded file (nothing changes) and keeps it for an hour,
    /// so that the same bytes can be applied after a look at the report.
    pub async fn stage_import(
        &self,
        session: &Session,
        source: Source,
        file_name: &str,
        bytes: &[u8],
        meta: &RequestMeta,
    ) -> Result<(Option<Uuid>, ImportReport), AppError> {
        let report = self.import_registry(session, source, file_name, bytes, false, meta).await?;
        if report.refused.is_some() {
            return Ok((None, report));
        }
        let actor = session.actor()?;
        let id = Uuid::now_v7();
        let dir = self.settings.attachments_dir.join("imports");
        let staged = Staged {
            source: source_code(source).to_owned(),
            file_name: file_name.to_owned(),
            municipality: actor.municipality_id.map(|m| m.0).unwrap_or_default(),
            account: actor.account_id.0,
        };
        let meta_json = serde_json::to_vec(&staged).map_err(|e| AppError::Internal(e.to_string()))?;
        let data = bytes.to_vec();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join(format!("{id}.data")), data)?;
            std::fs::write(dir.join(format!("{id}.json")), meta_json)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(format!("cannot keep the uploaded file: {e}")))?;
        Ok((Some(id), report))
    }

    /// Applies a previewed file (by the person who uploaded it, within the hour).
    pub async fn apply_staged_import(
        &self,
        session: &Session,
        id: Uuid,
        meta: &RequestMeta,
    ) -> Result<ImportReport, AppError> {
        let actor = session.actor()?;
        let dir = self.settings.attachments_dir.join("imports");
        let (data_path, meta_path) = (dir.join(format!("{id}.data")), dir.join(format!("{id}.json")));
        let loaded =
            tokio::task::spawn_blocking(move || -> std::io::Result<(Vec<u8>, Vec<u8>, std::time::SystemTime)> {
                let modified = std::fs::metadata(&data_path)?.modified()?;
                Ok((std::fs::read(&data_path)?, std::fs::read(&meta_path)?, modified))
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let Ok((bytes, meta_json, modified)) = loaded else { return Err(AppError::NotFound) };
        let staged: Staged = serde_json::from_slice(&meta_json).map_err(|_| AppError::NotFound)?;
        let fresh = modified.elapsed().is_ok_and(|age| age < STAGED_FOR);
        if staged.account != actor.account_id.0 || !fresh {
            return Err(AppError::NotFound);
        }
        let source = parse_source(&staged.source).ok_or(AppError::NotFound)?;
        let report = self.import_registry(session, source, &staged.file_name, &bytes, true, meta).await?;
        let dir = self.settings.attachments_dir.join("imports");
        let _ = tokio::task::spawn_blocking(move || {
            let _ = std::fs::remove_file(dir.join(format!("{id}.data")));
            let _ = std::fs::remove_file(dir.join(format!("{id}.json")));
        })
        .await;
        Ok(report)
    }
}
