//! The use cases behind the FHIR API (issue 6). They are the web pages' rules
//! exactly — the same policy call, the same audit events (naming the API
//! token), the same "not found" for anyone outside the team — plus the
//! token's scope. The FHIR JSON itself is shaped in the web crate.

use crate::municipalities::enforce;
use crate::patients::{PatientEvent, PatientView, load, patient_view, readable_caseload};
use crate::{App, AppError, RequestMeta, Session, audit_record};
use serde_json::json;
use time::{Date, OffsetDateTime};
use tsunagu_domain::ValidationError;
use tsunagu_domain::account::Profession;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::care::{Audience, EntryDraft, EntryKind, TeamRole, VitalSigns};
use tsunagu_domain::ids::{EntryId, PatientId};
use tsunagu_domain::interop::Access;
use tsunagu_domain::policy::{self, ConsentState};
use tsunagu_domain::record_access::{RecordGrant, RecordIntent};
use tsunagu_domain::text::search_key;
use tsunagu_store::{PatientRow, TimelineFilter};
use uuid::Uuid;

/// A patient with their name in parts (FHIR keeps family and given apart).
#[derive(Debug, Clone, PartialEq)]
pub struct PatientRecord {
    pub view: PatientView,
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub updated_at: OffsetDateTime,
}

fn record(row: &PatientRow, today: Date) -> Result<PatientRecord, AppError> {
    Ok(PatientRecord {
        view: patient_view(row, today)?,
        family_name: row.family_name.clone(),
        given_name: row.given_name.clone(),
        family_name_kana: row.family_name_kana.clone(),
        given_name_kana: row.given_name_kana.clone(),
        updated_at: row.updated_at,
    })
}

/// A patient search; every part optional. Names match anywhere in the name
/// (kanji or kana, width and hiragana/katakana folded).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatientQuery {
    pub ids: Option<Vec<Uuid>>,
    pub name: Option<String>,
    pub family: Option<String>,
    pub given: Option<String>,
    pub born_from: Option<Date>,
    pub born_to: Option<Date>,
    pub sex: Option<String>,
    /// Changed in `[since, until)` (`_lastUpdated`).
    pub updated_since: Option<OffsetDateTime>,
    pub updated_until: Option<OffsetDateTime>,
    pub sort: PatientSort,
    /// Largest first.
    pub descending: bool,
    pub count: usize,
    pub offset: usize,
}

/// The order of a patient search (`_sort`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PatientSort {
    /// By kana (family, then given): the default, as the patient list.
    #[default]
    Kana,
    BirthDate,
    LastUpdated,
}

/// A page of a search: what is on it, and whether more follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
}

/// A colleague as the staff directory shows them (no contact details but
/// their facilities').
#[derive(Debug, Clone, PartialEq)]
pub struct PractitionerRecord {
    pub id: Uuid,
    pub display_name: String,
    pub display_name_kana: Option<String>,
    pub profession: Profession,
    pub active: bool,
    /// The facilities they work at, by facility id.
    pub facilities: Vec<Workplace>,
}

/// A patient's consents to sharing and every revision of the advance care
/// plan (`GET /fhir/Consent?patient=`), newest first in each.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentRecord {
    pub patient: Uuid,
    pub consents: Vec<crate::patients::ConsentView>,
    pub acp: Vec<crate::patients::AcpView>,
}

/// A facility a practitioner works at.
#[derive(Debug, Clone, PartialEq)]
pub struct Workplace {
    pub facility: Uuid,
    pub name: String,
}

/// A photo or PDF attached to a timeline entry (its bytes are read apart, audited).
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRecord {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub entry_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: Vec<u8>,
    pub created_at: OffsetDateTime,
}

/// The most colleagues one search answers.
const COLLEAGUE_LIMIT: i64 = 50;

/// A member of a care team, with when they joined and left.
#[derive(Debug, Clone, PartialEq)]
pub struct CareTeamMember {
    pub account_id: Uuid,
    pub display_name: String,
    pub profession: Option<Profession>,
    pub team_role: Option<TeamRole>,
    pub joined_at: OffsetDateTime,
    pub left_at: Option<OffsetDateTime>,
    pub facility_name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CareTeamRecord {
    pub patient: PatientRecord,
    pub consent: ConsentState,
    pub members: Vec<CareTeamMember>,
}

/// A timeline entry as FHIR shows it: every entry is a Communication; one
/// that carries vital signs (a vitals entry, or a visit record with some)
/// is also a set of Observations.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: EntryKind,
    pub author_id: Uuid,
    pub author_name: String,
    pub created_at: OffsetDateTime,
    pub edited_at: OffsetDateTime,
    pub version: i64,
    pub vitals: VitalSigns,
    /// The current text (for a measurement, its note).
    pub note: String,
    pub reply_to: Option<Uuid>,
}

fn timeline_entry(r: tsunagu_store::TimelineRow) -> TimelineEntry {
    TimelineEntry {
        vitals: serde_json::from_str(&r.vitals).unwrap_or_default(),
        kind: EntryKind::parse(&r.kind).unwrap_or(EntryKind::Message),
        id: r.id,
        patient_id: r.patient_id,
        author_id: r.author_id,
        author_name: r.author_name,
        created_at: r.created_at,
        edited_at: r.edited_at,
        version: r.latest_version,
        note: r.body,
        reply_to: r.reply_to,
    }
}

/// A patient's whole record, to hand over (`Patient/{id}/$everything`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatientExport {
    pub team: CareTeamRecord,
    /// Every entry the caller may read, newest first.
    pub entries: Vec<TimelineEntry>,
    /// Newest first.
    pub consents: Vec<crate::patients::ConsentView>,
    /// Every revision of the advance care plan, newest first.
    pub acp: Vec<crate::patients::AcpView>,
    /// The attachments of the entries above (descriptions; bytes at Binary/{id}).
    pub documents: Vec<DocumentRecord>,
}

/// The most entries one export holds (decades of daily visits).
const EXPORT_CEILING: i64 = 200_000;

/// The FHIR resources a timeline entry is read as: every entry is a
/// Communication; one with vital signs is also Observations; a visit record
/// is also an Encounter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineResource {
    Observation,
    Communication,
    Encounter,
}

impl TimelineResource {
    /// The resource type, which is also the scope's resource.
    pub fn name(self) -> &'static str {
        match self {
            TimelineResource::Observation => "Observation",
            TimelineResource::Communication => "Communication",
            TimelineResource::Encounter => "Encounter",
        }
    }

    /// Whether this entry (or this version of it) is read as this resource.
    pub fn shows(self, e: &TimelineEntry) -> bool {
        match self {
            TimelineResource::Observation => !e.vitals.is_empty(),
            TimelineResource::Communication => true,
            TimelineResource::Encounter => e.kind == EntryKind::VisitRecord,
        }
    }
}

/// Which timeline entries a search wants.
#[derive(Debug, Clone, PartialEq)]
pub struct EntrySearch {
    pub resource: TimelineResource,
    pub kind: Option<EntryKind>,
    /// Entries written in `[since, until)`.
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// Entries whose current version was written in `[since, until)` (`_lastUpdated`).
    pub updated: (Option<OffsetDateTime>, Option<OffsetDateTime>),
    pub count: usize,
    pub offset: usize,
    /// Oldest first (`_sort=date`); newest first otherwise.
    pub oldest_first: bool,
}

/// What a FHIR read's audit event says besides its action: the resource, and
/// the API token's name (the patient's access history shows it).
fn document(a: tsunagu_store::AttachmentRow) -> DocumentRecord {
    DocumentRecord {
        id: a.id,
        patient_id: a.patient_id,
        entry_id: a.entry_id,
        file_name: a.file_name,
        content_type: a.content_type,
        size_bytes: a.size_bytes,
        sha256: a.sha256,
        created_at: a.created_at,
    }
}

fn practitioner_record(account: &crate::views::AccountView) -> PractitionerRecord {
    PractitionerRecord {
        id: account.id.0,
        display_name: account.display_name.clone(),
        display_name_kana: account.display_name_kana.clone(),
        profession: account.profession,
        active: account.status == tsunagu_domain::account::AccountStatus::Active,
        facilities: account
            .memberships
            .iter()
            .map(|m| Workplace { facility: m.facility_id.0, name: m.facility_name.clone() })
            .collect(),
    }
}

fn members_of(loaded: &crate::patients::Loaded) -> Vec<CareTeamMember> {
    loaded
        .team
        .iter()
        .map(|m| CareTeamMember {
            account_id: m.account_id,
            display_name: m.display_name.clone(),
            profession: Profession::parse(&m.profession).ok(),
            team_role: TeamRole::parse(&m.team_role).ok(),
            joined_at: m.joined_at,
            left_at: m.left_at,
            facility_name: m.facility_name.clone(),
            phone: m.facility_phone.clone().filter(|p| !p.is_empty()),
        })
        .collect()
}

fn fhir_read(session: &Session, resource: &str) -> serde_json::Value {
    json!({ "via": "fhir", "resource": resource, "client": session.client })
}

impl App {
    /// A patient's record as a team member reads it through `resource`:
    /// scope, policy, then the read's audit event committed (before anything
    /// is returned).
    async fn read_for_fhir(
        &self,
        session: &Session,
        resource: &str,
        patient: Uuid,
        meta: &RequestMeta,
    ) -> Result<(std::sync::Arc<crate::patients::Loaded>, RecordGrant), AppError> {
        session.require_scope(resource, Access::Read)?;
        let loaded = self.kept_scope(patient).await?;
        let decided = self.decide(RecordIntent::Read, &loaded, session, meta)?;
        let grant = decided.grant().clone();
        let event = decided.patient_event(self.now(), AuditAction::PatientViewed, fhir_read(session, resource));
        self.record_read(&decided, event).await?;
        Ok((loaded, grant))
    }

    /// A patient's consents and advance care plans (`GET /fhir/Consent`): for
    /// whoever may read the record, audited like any read of it.
    pub async fn fhir_consents(
        &self,
        session: &Session,
        patient: PatientId,
        meta: &RequestMeta,
    ) -> Result<ConsentRecord, AppError> {
        let patient = patient.0;
        let (loaded, grant) = self.read_for_fhir(session, "Consent", patient, meta).await?;
        let mut tx = self.store.begin_read().await?;
        let acp = tx.acp_revisions(&grant).await?.into_iter().map(crate::patients::acp_view).collect();
        Ok(ConsentRecord {
            patient,
            consents: loaded.consents.iter().map(crate::patients::consent_view).collect(),
            acp,
        })
    }

    /// The attachments of a patient's timeline the caller may read (their
    /// entries' audiences, as on the page), newest first (`GET /fhir/DocumentReference?patient=`).
    pub async fn fhir_documents(
        &self,
        session: &Session,
        patient: PatientId,
        meta: &RequestMeta,
    ) -> Result<Vec<DocumentRecord>, AppError> {
        let patient = patient.0;
        session.require_scope("DocumentReference", Access::Read)?;
        let loaded = self.kept_scope(patient).await?;
        let decided = self.decide(RecordIntent::Read, &loaded, session, meta)?;
        let mut tx = self.store.reader().await?;
        let rows = tx.visible_attachments(decided.grant()).await?;
        drop(tx);
        let event =
            decided.patient_event(self.now(), AuditAction::PatientViewed, fhir_read(session, "DocumentReference"));
        self.record_read(&decided, event).await?;
        Ok(rows.into_iter().map(document).collect())
    }

    /// One attachment's description (`GET /fhir/DocumentReference/{id}`), if its entry is readable.
    pub async fn fhir_document(
        &self,
        session: &Session,
        id: Uuid,
        meta: &RequestMeta,
    ) -> Result<DocumentRecord, AppError> {
        session.require_scope("DocumentReference", Access::Read)?;
        let mut tx = self.store.begin_read().await?;
        let a = tx.attachment(id).await?.ok_or(AppError::NotFound)?;
        let loaded = self.entry_scope(tx.as_mut(), a.entry_id).await?;
        let (_, decided) =
            self.decide_on_entry(tx.as_mut(), RecordIntent::Read, a.entry_id, &loaded, session, meta).await?;
        drop(tx);
        let event =
            decided.patient_event(self.now(), AuditAction::PatientViewed, fhir_read(session, "DocumentReference"));
        self.record_read(&decided, event).await?;
        Ok(document(a))
    }

    /// A colleague (`GET /fhir/Practitioner/{id}`): someone of the caller's municipality.
    pub async fn fhir_practitioner(&self, session: &Session, id: Uuid) -> Result<PractitionerRecord, AppError> {
        self.colleague(session, id, "Practitioner").await
    }

    /// A colleague's roles (`GET /fhir/PractitionerRole?practitioner=`): their
    /// profession at each facility they work at.
    pub async fn fhir_practitioner_roles(&self, session: &Session, id: Uuid) -> Result<PractitionerRecord, AppError> {
        self.colleague(session, id, "PractitionerRole").await
    }

    /// A facility's staff (`GET /fhir/PractitionerRole?organization=`): the
    /// active colleagues who work there, as far as the caller may see them
    /// (their own municipality; none for a facility that is not there).
    pub async fn fhir_facility_staff(
        &self,
        session: &Session,
        facility: Uuid,
    ) -> Result<Vec<PractitionerRecord>, AppError> {
        session.require_scope("PractitionerRole", Access::Read)?;
        let actor = session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let Some(row) = tx.facility(facility).await? else { return Ok(Vec::new()) };
        let staff = crate::facilities::staff_of(tx.as_mut(), &row).await?;
        Ok(staff
            .iter()
            .filter(|a| a.status == tsunagu_domain::account::AccountStatus::Active)
            .filter(|a| {
                policy::see_colleague(&actor, session.account.profession, a.municipality_id, a.profession).is_allowed()
            })
            .map(practitioner_record)
            .collect())
    }

    async fn colleague(&self, session: &Session, id: Uuid, resource: &str) -> Result<PractitionerRecord, AppError> {
        session.require_scope(resource, Access::Read)?;
        let actor = session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let row = tx.account(id).await?.ok_or(AppError::NotFound)?;
        let account = crate::sessions::load_account(tx.as_mut(), row).await?;
        enforce(policy::see_colleague(
            &actor,
            session.account.profession,
            account.municipality_id,
            account.profession,
        ))?;
        Ok(practitioner_record(&account))
    }

    /// Colleagues by name, kana or login (`GET /fhir/Practitioner?name=`).
    pub async fn fhir_practitioners(&self, session: &Session, name: &str) -> Result<Vec<PractitionerRecord>, AppError> {
        session.require_scope("Practitioner", Access::Read)?;
        let actor = session.actor()?;
        let Some(municipality) = actor.municipality_id else { return Ok(Vec::new()) };
        let text = tsunagu_domain::text::fold_full_width_ascii(name.trim()).to_lowercase();
        let kana = tsunagu_domain::text::furigana_search_key(name);
        if text.is_empty() {
            return Err(ValidationError::new("name", "required").into());
        }
        let mut tx = self.store.begin_read().await?;
        let mut found = Vec::new();
        for row in tx.search_colleagues(municipality.0, &text, &kana, COLLEAGUE_LIMIT).await? {
            let account = crate::sessions::load_account(tx.as_mut(), row).await?;
            if policy::see_colleague(&actor, session.account.profession, account.municipality_id, account.profession)
                .is_allowed()
            {
                found.push(practitioner_record(&account));
            }
        }
        Ok(found)
    }

    /// One patient (`GET /fhir/Patient/{id}`).
    pub async fn fhir_patient(
        &self,
        session: &Session,
        id: Uuid,
        meta: &RequestMeta,
    ) -> Result<PatientRecord, AppError> {
        let (loaded, _) = self.read_for_fhir(session, "Patient", id, meta).await?;
        record(&loaded.row, self.today())
    }

    /// A search among the caller's own patients (`GET /fhir/Patient?...`).
    pub async fn fhir_search_patients(
        &self,
        session: &Session,
        query: &PatientQuery,
        meta: &RequestMeta,
    ) -> Result<Page<PatientRecord>, AppError> {
        session.require_scope("Patient", Access::Read)?;
        let actor = session.actor()?;
        let [name_key, family_key, given_key] =
            [&query.name, &query.family, &query.given].map(|t| t.as_deref().map(search_key));
        if [&name_key, &family_key, &given_key].into_iter().flatten().any(String::is_empty) {
            return Err(ValidationError::new("name", "required").into());
        }
        // A search looks only through the caller's own patients: their caseload,
        // as kept for the patient list, filtered here.
        let caseload = self.kept_caseload(actor.account_id.0).await?;
        let contains = |part: [&str; 2], key: &Option<String>| {
            key.as_deref().is_none_or(|k| part.iter().any(|p| search_key(p).contains(k)))
        };
        let today = self.today();
        let matching = readable_caseload(&caseload, &actor).map(|(member, _)| &member.patient).filter(|row| {
            query.ids.as_ref().is_none_or(|ids| ids.contains(&row.id))
                && name_key.as_deref().is_none_or(|k| row.search_key.contains(k))
                && contains([&row.family_name, &row.family_name_kana], &family_key)
                && contains([&row.given_name, &row.given_name_kana], &given_key)
                && query.born_from.is_none_or(|from| row.birth_date >= from)
                && query.born_to.is_none_or(|to| row.birth_date <= to)
                && query.sex.as_deref().is_none_or(|sex| row.sex.code() == sex)
                && query.updated_since.is_none_or(|since| row.updated_at >= since)
                && query.updated_until.is_none_or(|until| row.updated_at < until)
        });
        let mut matching: Vec<&PatientRow> = matching.collect();
        match query.sort {
            PatientSort::Kana => matching.sort_by(|a, b| {
                (&a.family_name_kana, &a.given_name_kana, a.id).cmp(&(&b.family_name_kana, &b.given_name_kana, b.id))
            }),
            PatientSort::BirthDate => matching.sort_by_key(|p| (p.birth_date, p.id)),
            PatientSort::LastUpdated => matching.sort_by_key(|p| (p.updated_at, p.id)),
        }
        if query.descending {
            matching.reverse();
        }
        let has_next = matching.len() > query.offset + query.count;
        let items: Vec<PatientRecord> =
            matching.iter().skip(query.offset).take(query.count).map(|r| record(r, today)).collect::<Result<_, _>>()?;
        if !items.is_empty() {
            self.record_audited_read(audit_record(
                self.now(),
                actor.municipality_id,
                &session.audit_actor(meta),
                AuditAction::PatientListViewed,
                "patient_list",
                None,
                json!({ "via": "fhir", "patients": items.iter().map(|p| p.view.id).collect::<Vec<_>>() }),
            ))
            .await?;
        }
        Ok(Page { items, has_next })
    }

    /// A patient's care team (`GET /fhir/CareTeam?patient=`), former members included.
    pub async fn fhir_care_team(
        &self,
        session: &Session,
        patient: PatientId,
        meta: &RequestMeta,
    ) -> Result<CareTeamRecord, AppError> {
        let patient = patient.0;
        let (loaded, _) = self.read_for_fhir(session, "CareTeam", patient, meta).await?;
        let members = members_of(&loaded);
        Ok(CareTeamRecord { patient: record(&loaded.row, self.today())?, consent: loaded.scope.consent, members })
    }

    /// A patient's whole record as the caller may read it — profile, team,
    /// consents, every ACP revision, the timeline — for a transfer to a
    /// hospital or another municipality. Audited as an export.
    pub async fn fhir_export(
        &self,
        session: &Session,
        patient: PatientId,
        meta: &RequestMeta,
    ) -> Result<PatientExport, AppError> {
        let patient = patient.0;
        for resource in ["Patient", "CareTeam", "Communication", "Observation"] {
            session.require_scope(resource, Access::Read)?;
        }
        let actor = session.actor()?;
        let loaded = self.kept_scope(patient).await?;
        let decided = self.decide(RecordIntent::Read, &loaded, session, meta)?;
        let mut tx = self.store.reader().await?;
        if loaded.is_family(actor.account_id.0) {
            // A transfer is the professionals' business; family read on the pages.
            return Err(AppError::Forbidden);
        }
        let rows = tx.timeline(decided.grant(), &TimelineFilter::default(), EXPORT_CEILING).await?;
        let acp = tx.acp_revisions(decided.grant()).await?.into_iter().map(crate::patients::acp_view).collect();
        let visible: std::collections::HashSet<Uuid> = rows.iter().map(|r| r.id).collect();
        let documents = tx
            .attachments_of_patient(decided.grant())
            .await?
            .into_iter()
            .filter(|a| visible.contains(&a.entry_id))
            .map(document)
            .collect();
        drop(tx);
        let entries: Vec<TimelineEntry> = rows.into_iter().map(timeline_entry).collect();
        let details = json!({ "via": "fhir", "client": session.client, "entries": entries.len() });
        let event = decided.patient_event(self.now(), AuditAction::RecordExported, details);
        self.record_read(&decided, event).await?;
        let members = members_of(&loaded);
        Ok(PatientExport {
            team: CareTeamRecord {
                patient: record(&loaded.row, self.today())?,
                consent: loaded.scope.consent,
                members,
            },
            entries,
            consents: loaded.consents.iter().map(crate::patients::consent_view).collect(),
            acp,
            documents,
        })
    }

    /// A patient's timeline entries, newest first (`GET /fhir/Observation?patient=`,
    /// `GET /fhir/Communication?patient=`): what the caller may read of the timeline.
    pub async fn fhir_entries(
        &self,
        session: &Session,
        patient: PatientId,
        search: &EntrySearch,
        meta: &RequestMeta,
    ) -> Result<Page<TimelineEntry>, AppError> {
        let patient = patient.0;
        session.require_scope(search.resource.name(), Access::Read)?;
        let loaded = self.kept_scope(patient).await?;
        let decided = self.decide(RecordIntent::Read, &loaded, session, meta)?;
        let mut tx = self.store.reader().await?;
        let kind =
            if search.resource == TimelineResource::Encounter { Some(EntryKind::VisitRecord) } else { search.kind };
        let filter = TimelineFilter {
            kind: kind.map(|k| k.code().to_owned()),
            since: search.since,
            until: search.until,
            edited_since: search.updated.0,
            edited_until: search.updated.1,
            with_vitals: search.resource == TimelineResource::Observation,
            oldest_first: search.oldest_first,
            ..TimelineFilter::default()
        };
        let wanted = (search.offset + search.count + 1) as i64;
        let rows = tx.timeline(decided.grant(), &filter, wanted).await?;
        drop(tx);
        let has_next = rows.len() as i64 == wanted;
        let items: Vec<TimelineEntry> =
            rows.into_iter().skip(search.offset).take(search.count).map(timeline_entry).collect();
        let details = json!({ "via": "fhir", "resource": search.resource.name(), "client": session.client, "entries_shown": items.len() });
        let event = decided.patient_event(self.now(), AuditAction::PatientViewed, details);
        self.record_read(&decided, event).await?;
        Ok(Page { items, has_next })
    }

    /// One timeline entry (`GET /fhir/Communication/{id}`, `GET /fhir/Observation/{id}-...`),
    /// if the caller may read it; for `Observation`, only an entry with vital signs.
    pub async fn fhir_entry(
        &self,
        session: &Session,
        resource: TimelineResource,
        entry: EntryId,
        meta: &RequestMeta,
    ) -> Result<TimelineEntry, AppError> {
        let entry = entry.0;
        session.require_scope(resource.name(), Access::Read)?;
        let mut tx = self.store.begin_read().await?;
        let loaded = self.entry_scope(tx.as_mut(), entry).await?;
        let (row, decided) =
            self.decide_on_entry(tx.as_mut(), RecordIntent::Read, entry, &loaded, session, meta).await?;
        drop(tx);
        let found = timeline_entry(row);
        if !resource.shows(&found) {
            return Err(AppError::NotFound);
        }
        let event = PatientEvent {
            at: self.now(),
            action: AuditAction::EntryViewed,
            target_kind: "entry",
            target: Some(entry),
            details: fhir_read(session, resource.name()),
        };
        self.record_read(&decided, event).await?;
        Ok(found)
    }

    /// Every version of a timeline entry, newest first (`/_history`), if the
    /// caller may read it; for `Observation`, only an entry with vital signs.
    /// Corrections keep the old versions (真正性), and here they are.
    pub async fn fhir_entry_history(
        &self,
        session: &Session,
        resource: TimelineResource,
        entry: EntryId,
        meta: &RequestMeta,
    ) -> Result<Vec<TimelineEntry>, AppError> {
        let entry = entry.0;
        session.require_scope(resource.name(), Access::Read)?;
        let mut tx = self.store.begin_read().await?;
        let loaded = self.entry_scope(tx.as_mut(), entry).await?;
        let (row, decided) =
            self.decide_on_entry(tx.as_mut(), RecordIntent::Read, entry, &loaded, session, meta).await?;
        let versions = tx.entry_versions(decided.grant(), entry).await?;
        drop(tx);
        let current = timeline_entry(row);
        let history: Vec<TimelineEntry> = versions
            .into_iter()
            .map(|v| TimelineEntry {
                vitals: serde_json::from_str(&v.vitals).unwrap_or_default(),
                note: v.body,
                edited_at: v.edited_at,
                version: v.version,
                ..current.clone()
            })
            .collect();
        if !history.iter().any(|v| resource.shows(v)) {
            return Err(AppError::NotFound);
        }
        let details = json!({ "via": "fhir", "resource": resource.name(), "client": session.client, "history": true });
        let event = PatientEvent {
            at: self.now(),
            action: AuditAction::EntryViewed,
            target_kind: "entry",
            target: Some(entry),
            details,
        };
        self.record_read(&decided, event).await?;
        Ok(history)
    }

    /// Posts to patients' timelines for another system (`POST /fhir/Observation`,
    /// `POST /fhir/Communication`, and a transaction Bundle of them): all in
    /// one transaction (every post or none), each exactly as the compose form
    /// posts it (policy, notifications, audit), plus the identifiers the
    /// system gave them. With `if_none_exist`, a post whose identifier the
    /// patient already has makes nothing and answers the existing entry.
    pub async fn fhir_post(
        &self,
        session: &Session,
        posts: &[FhirPost],
        meta: &RequestMeta,
    ) -> Result<Vec<Posted>, AppError> {
        for post in posts {
            session.require_scope(post.resource().name(), Access::Write)?;
        }
        let now = self.now();
        let mut tx = self.begin_keeping_records().await?;
        let mut outcome = Vec::with_capacity(posts.len());
        for post in posts {
            let loaded = load(tx.as_mut(), post.patient, now).await?;
            tx.changes_timeline_of(post.patient);
            if let (Some((system, value)), true) = (&post.identifier, post.if_none_exist) {
                // Only a team member may learn that the identifier is taken.
                let decided = self.decide(RecordIntent::Read, &loaded, session, meta)?;
                if let Some(existing) = tx.entry_by_identifier(post.patient, system, value).await? {
                    outcome.push((existing, false, decided.grant().clone()));
                    continue;
                }
            }
            let (id, grant) =
                self.write_entry(tx.as_mut(), &loaded, session, &post.draft, post.reply_to, meta, now).await?;
            if let Some((system, value)) = &post.identifier {
                tx.insert_entry_identifier(post.patient, system, value, id).await.map_err(|e| match e {
                    tsunagu_store::StoreError::Conflict => AppError::Conflict { field: "identifier" },
                    other => other.into(),
                })?;
            }
            outcome.push((id, true, grant));
        }
        tx.commit().await?;
        let mut tx = self.store.begin_read().await?;
        let mut posted = Vec::with_capacity(outcome.len());
        for (id, created, grant) in outcome {
            let row = tx.entry(&grant, id).await?.ok_or(AppError::NotFound)?;
            posted.push(Posted { entry: timeline_entry(row), created });
        }
        Ok(posted)
    }
}

/// One post to a timeline from another system.
#[derive(Debug, Clone, PartialEq)]
pub struct FhirPost {
    pub patient: Uuid,
    pub draft: EntryDraft,
    pub reply_to: Option<Uuid>,
    /// (system, value) the posting system gave it.
    pub identifier: Option<(String, String)>,
    /// Conditional create: make nothing if the identifier is already the patient's.
    pub if_none_exist: bool,
}

impl FhirPost {
    /// A measurement (an Observation): a vitals entry for the team.
    pub fn measurement(patient: PatientId, vitals: VitalSigns, note: &str) -> Result<Self, AppError> {
        let patient = patient.0;
        let body = tsunagu_domain::text::optional_multiline("note", note, 4000)?.unwrap_or_default();
        let draft = EntryDraft { kind: EntryKind::Vitals, body, vitals, needs_reply: false, audience: Audience::Team };
        Ok(Self { patient, draft, reply_to: None, identifier: None, if_none_exist: false })
    }

    /// A note (a Communication): a message, visit record, medication or
    /// condition change, or urgent entry, for the team. Vital signs come as
    /// measurements, with their codes and units.
    pub fn note(patient: PatientId, kind: &str, body: &str, reply_to: Option<Uuid>) -> Result<Self, AppError> {
        let patient = patient.0;
        if kind == EntryKind::Vitals.code() {
            return Err(ValidationError::new("category", "unknown").into());
        }
        let draft = EntryDraft::parse(kind, body, &tsunagu_domain::care::VitalsForm::default(), false)?;
        Ok(Self { patient, draft, reply_to, identifier: None, if_none_exist: false })
    }

    /// The FHIR resource type it arrives as (the scope it needs).
    pub fn resource(&self) -> TimelineResource {
        if self.draft.kind == EntryKind::Vitals {
            TimelineResource::Observation
        } else {
            TimelineResource::Communication
        }
    }
}

/// What a post came to: the entry, and whether it was made now (or found by its identifier).
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    pub entry: TimelineEntry,
    pub created: bool,
}
