//! The care-team information-sharing system: patients, consent, care teams,
//! the timeline, read receipts. Every read and write of patient data checks
//! the patient policy once and appends its audit event in the same transaction.

use crate::kept_timelines::KeptTimeline;
use crate::municipalities::enforce;
use crate::sessions::Session;
use crate::{App, AppError, AuditActor, RequestMeta, audit_record};
use serde_json::json;
use std::sync::Arc;
use time::{Date, OffsetDateTime};
use tsunagu_domain::ValidationError;
use tsunagu_domain::account::{AccountStatus, LoginId, Profession};
use tsunagu_domain::audit::{AuditAction, AuditRecord};
use tsunagu_domain::care::{Audience, EntryDraft, EntryKind, TeamRole, VitalSigns, VitalsForm, visible_audiences};
use tsunagu_domain::clock::JST;
use tsunagu_domain::ids::{AccountId, FacilityId, MunicipalityId};
use tsunagu_domain::patient::{
    AdvanceCarePlan, AdvanceCarePlanForm, CareLevel, ConsentDetails, PatientDetails, PatientForm, PatientStatus, Place,
    Sex, SpecialCare, StatusChange, TreatmentWish, age,
};
use tsunagu_domain::policy::{self, Actor, ConsentState, PatientScope, TeamChange, TeamSeat};
use tsunagu_domain::text::search_key;
use tsunagu_store::{
    AcpRow, BreakGlassRow, ConsentRow, EntryRead, MemberPatientRow, NewEntry, NewEntryVersion, NewNotification,
    NewTeamMember, PatientRead, PatientRow, ReadTrace, StoreTx, TeamMemberRow, TimelineFilter, TimelineRow,
};
use uuid::Uuid;

/// A patient as members see them.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientView {
    pub id: Uuid,
    pub name: String,
    pub name_kana: String,
    pub birth_date: Date,
    pub age: i32,
    pub sex: Sex,
    pub address: String,
    pub daily_living_area: Option<String>,
    pub phone: Option<String>,
    pub key_person: Option<String>,
    pub key_person_phone: Option<String>,
    pub care_level: CareLevel,
    pub main_diagnoses: Option<String>,
    pub allergies: Option<String>,
    pub special_care: Vec<SpecialCare>,
    pub status: PatientStatus,
}

/// A line of someone's patient list.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientSummary {
    pub patient: PatientView,
    pub consent: ConsentState,
    /// Unread among the newest entries ([`tsunagu_store::UNREAD_WINDOW`]).
    pub unread: i64,
    pub urgent_unacknowledged: i64,
    /// Entries by others that ask for a reply and have none yet.
    pub needs_reply: i64,
}

impl PatientSummary {
    /// The unread count as a badge shows it: "99+" once the count reaches the
    /// window it is counted in, since older unread entries are not counted.
    pub fn unread_badge(&self) -> String {
        if self.unread >= tsunagu_store::UNREAD_WINDOW {
            format!("{}+", tsunagu_store::UNREAD_WINDOW - 1)
        } else {
            self.unread.to_string()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsentView {
    pub given_on: Date,
    pub method: String,
    pub proxy_name: Option<String>,
    pub proxy_relation: Option<String>,
    pub scope: String,
    pub withdrawn_at: Option<OffsetDateTime>,
    /// The entry with the scanned consent form, if one was attached.
    pub document_entry: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeamMemberView {
    pub membership_id: Uuid,
    pub account_id: Uuid,
    pub display_name: String,
    pub profession: Option<Profession>,
    pub team_role: Option<TeamRole>,
    pub active: bool,
    pub is_me: bool,
    /// Whether the reader may end this membership (their own, or as a lead of the team).
    pub removable: bool,
    /// Where they work and its phone number (tap to call).
    pub facility_name: Option<String>,
    pub phone: Option<String>,
}

/// An entry on the timeline, as one reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryView {
    pub id: Uuid,
    pub kind: EntryKind,
    pub author_name: String,
    pub author_profession: Option<Profession>,
    pub is_mine: bool,
    pub created_at: OffsetDateTime,
    pub body: String,
    pub vitals: VitalSigns,
    pub corrected: bool,
    pub needs_reply: bool,
    pub reply_to: Option<Uuid>,
    pub audience: Audience,
    pub attachments: Vec<AttachmentView>,
    /// Unread by this reader before this page was shown.
    pub was_unread: bool,
    pub read_count: i64,
    pub acknowledged_by_me: bool,
    pub acknowledgement_count: i64,
    /// Entries that answer this one ("needs reply" is settled once there is one).
    pub reply_count: i64,
    /// Posted by someone who was not on the team then: under an emergency grant (invariant 1).
    pub by_emergency_access: bool,
}

/// An entry with the replies to it that are on the same page, oldest first.
pub type Thread = (EntryView, Vec<EntryView>);

/// Groups a page of the timeline (newest first) into threads: a reply goes
/// under its parent when the parent is on the page; threads come newest
/// activity first, so a fresh reply brings its conversation to the top.
pub fn threads(timeline: &[EntryView]) -> Vec<Thread> {
    let shown: std::collections::HashSet<Uuid> = timeline.iter().map(|e| e.id).collect();
    let mut threads: Vec<Thread> = timeline
        .iter()
        .filter(|e| e.reply_to.is_none_or(|parent| !shown.contains(&parent)))
        .map(|e| (e.clone(), Vec::new()))
        .collect();
    for reply in timeline.iter().rev() {
        if let Some(parent) = reply.reply_to.filter(|p| shown.contains(p)) {
            // Replies to replies join the thread of the reply's own root.
            let root = root_of(timeline, parent);
            if let Some((_, replies)) = threads.iter_mut().find(|(e, _)| e.id == root) {
                replies.push(reply.clone());
            }
        }
    }
    let latest =
        |(e, replies): &Thread| replies.iter().map(|r| r.created_at).max().unwrap_or(e.created_at).max(e.created_at);
    threads.sort_by_key(|t| std::cmp::Reverse(latest(t)));
    threads
}

fn root_of(timeline: &[EntryView], mut id: Uuid) -> Uuid {
    // Bounded by the page: a cycle cannot occur (a reply is newer than its parent).
    for _ in 0..timeline.len() {
        match timeline.iter().find(|e| e.id == id).and_then(|e| e.reply_to) {
            Some(parent) if timeline.iter().any(|e| e.id == parent) => id = parent,
            _ => break,
        }
    }
    id
}

impl EntryView {
    /// The start of the text, to quote it (e.g. "replying to ...").
    pub fn snippet(&self) -> String {
        let text: String = self.body.chars().take(30).collect();
        if self.body.chars().count() > 30 { format!("{text}…") } else { text }
    }
}

/// How the timeline is narrowed, as typed (empty means "any").
#[derive(Debug, Clone, Copy, Default)]
pub struct TimelineQuery<'a> {
    pub kind: &'a str,
    pub text: &'a str,
    pub profession: &'a str,
    /// An author's account id; empty for everyone.
    pub author: &'a str,
    /// YYYY-MM-DD, JST, inclusive.
    pub from: &'a str,
    pub to: &'a str,
    /// Also work out who answers now (the page shows it; the JSON record has its own endpoint).
    pub with_responders: bool,
}

/// One revision of the advance care plan (人生会議).
#[derive(Debug, Clone, PartialEq)]
pub struct AcpView {
    pub discussed_on: Date,
    pub participants: String,
    pub place_of_care: Option<Place>,
    pub place_of_death: Option<Place>,
    pub treatment: Option<TreatmentWish>,
    pub proxy_name: Option<String>,
    pub proxy_relation: Option<String>,
    pub wishes: Option<String>,
    pub recorder_name: String,
    pub recorded_at: OffsetDateTime,
}

pub(crate) fn acp_view(r: AcpRow) -> AcpView {
    AcpView {
        discussed_on: r.discussed_on,
        participants: r.participants,
        place_of_care: Place::parse(&r.place_of_care).ok(),
        place_of_death: Place::parse(&r.place_of_death).ok(),
        treatment: TreatmentWish::parse(&r.treatment).ok(),
        proxy_name: r.proxy_name,
        proxy_relation: r.proxy_relation,
        wishes: r.wishes,
        recorder_name: r.recorder_name,
        recorded_at: r.recorded_at,
    }
}

/// A patient's whole record for a period, for printing.
#[derive(Debug, Clone)]
pub struct PrintedRecord {
    pub patient: PatientView,
    pub consent: Option<ConsentView>,
    pub team: Vec<TeamMemberView>,
    pub acp: Option<AcpView>,
    pub from: Date,
    pub to: Date,
    pub entries: Vec<EntryView>,
    /// True when the period held more entries than are printed at once.
    pub truncated: bool,
}

/// Everything on a patient's page.
#[derive(Debug, Clone)]
pub struct PatientPage {
    pub acp: Option<AcpView>,
    pub patient: PatientView,
    pub consent_state: ConsentState,
    pub consent: Option<ConsentView>,
    pub team: Vec<TeamMemberView>,
    pub timeline: Arc<Vec<EntryView>>,
    pub can_write: bool,
    /// May withdraw consent, change the care plan and status (members who are not family).
    pub can_act_for_team: bool,
    /// May add colleagues to the team (its professional members).
    pub can_add_to_team: bool,
    /// May invite family (the team's leads: docs/security.md).
    pub can_invite_family: bool,
    pub viewer_is_family: bool,
    pub latest_vitals: Option<(OffsetDateTime, VitalSigns)>,
    /// Set when the reader sees this record by break-glass, not as a member: until when.
    pub emergency_until: Option<OffsetDateTime>,
    /// Up to 20 recent measurements, oldest first (for the trend chart).
    pub vitals_trend: Vec<(OffsetDateTime, VitalSigns)>,
    /// Who answers now: physicians, on call, backup hospitals, with numbers (when asked for).
    pub responders: Option<crate::on_call::ChainView>,
    pub urgent_requests: Vec<crate::escalation::RequestLine>,
}

/// One entry with its history and who has read it.
#[derive(Debug, Clone)]
pub struct EntryDetail {
    pub patient_id: Uuid,
    pub patient_name: String,
    pub entry: EntryView,
    pub versions: Vec<EntryVersionView>,
    pub reads: Vec<(String, OffsetDateTime)>,
    pub acknowledgements: Vec<(String, OffsetDateTime)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EntryVersionView {
    pub version: i64,
    pub body: String,
    pub vitals: VitalSigns,
    pub editor_name: String,
    pub edited_at: OffsetDateTime,
    pub reason: Option<String>,
}

/// Someone who can be added to a team.
#[derive(Debug, Clone, PartialEq)]
pub struct Colleague {
    pub login_id: String,
    pub display_name: String,
    pub profession: Option<Profession>,
}

fn corrupt(what: &str, value: &str) -> AppError {
    AppError::Store(tsunagu_store::StoreError::Corrupt(format!("{what} {value:?}")))
}

pub(crate) fn patient_view(r: &PatientRow, today: Date) -> Result<PatientView, AppError> {
    Ok(PatientView {
        id: r.id,
        name: format!("{} {}", r.family_name, r.given_name),
        name_kana: format!("{} {}", r.family_name_kana, r.given_name_kana),
        birth_date: r.birth_date,
        age: age(r.birth_date, today),
        sex: Sex::parse(&r.sex).map_err(|_| corrupt("sex", &r.sex))?,
        address: r.address.clone(),
        daily_living_area: r.daily_living_area.clone(),
        phone: r.phone.clone(),
        key_person: r.key_person.clone(),
        key_person_phone: r.key_person_phone.clone(),
        care_level: CareLevel::parse(&r.care_level).map_err(|_| corrupt("care level", &r.care_level))?,
        main_diagnoses: r.main_diagnoses.clone(),
        allergies: r.allergies.clone(),
        special_care: r.special_care.split(',').filter_map(|c| SpecialCare::parse(c).ok()).collect(),
        status: PatientStatus::parse(&r.status).map_err(|_| corrupt("status", &r.status))?,
    })
}

fn consent_state(consents: &[ConsentRow]) -> ConsentState {
    match consents.first() {
        None => ConsentState::Pending,
        Some(c) if c.withdrawn_at.is_some() => ConsentState::Withdrawn,
        Some(_) => ConsentState::Active,
    }
}

/// Whether `account` was an active member of the team at `at` (the team's rows
/// include those who have left).
fn was_member(team: &[TeamMemberRow], account: Uuid, at: OffsetDateTime) -> bool {
    team.iter().any(|m| m.account_id == account && m.joined_at <= at && m.left_at.is_none_or(|left| left > at))
}

fn entry_view(r: TimelineRow, reader: Uuid, team: &[TeamMemberRow]) -> EntryView {
    EntryView {
        by_emergency_access: !was_member(team, r.author_id, r.created_at),
        id: r.id,
        kind: EntryKind::parse(&r.kind).unwrap_or(EntryKind::Message),
        author_profession: Profession::parse(&r.author_profession).ok(),
        author_name: r.author_name,
        is_mine: r.author_id == reader,
        created_at: r.created_at,
        body: r.body,
        vitals: serde_json::from_str(&r.vitals).unwrap_or_default(),
        corrected: r.latest_version > 1,
        needs_reply: r.needs_reply,
        reply_to: r.reply_to,
        audience: Audience::parse(&r.audience).unwrap_or(Audience::Team),
        attachments: Vec::new(),
        was_unread: !r.read_by_me && r.author_id != reader,
        read_count: r.read_count,
        acknowledged_by_me: r.acknowledged_by_me,
        acknowledgement_count: r.acknowledgement_count,
        reply_count: r.reply_count,
    }
}

/// A patient's row, consents, team and the policy's view of them.
pub(crate) struct Loaded {
    pub(crate) grants: Vec<BreakGlassRow>,
    pub(crate) row: PatientRow,
    pub(crate) consents: Vec<ConsentRow>,
    pub(crate) team: Vec<TeamMemberRow>,
    pub(crate) scope: PatientScope,
}

impl Loaded {
    /// The account's role in the team, if it is an active member.
    pub(crate) fn role_of(&self, account: Uuid) -> Option<TeamRole> {
        self.team.iter().find(|m| m.account_id == account && m.left_at.is_none()).map(|m| seat(m).role)
    }

    pub(crate) fn is_family(&self, account: Uuid) -> bool {
        self.role_of(account) == Some(TeamRole::Family)
    }

    /// What `account` may see of the timeline.
    pub(crate) fn filter_for(&self, account: Uuid) -> Vec<String> {
        visible_audiences(self.role_of(account)).iter().map(|a| a.code().to_owned()).collect()
    }
}

/// A member as the policy sees them. A role or profession this build does not
/// know (a newer row) counts as "other": never a physician, never family.
/// A role that does not fit the member's profession (a row from before roles
/// were checked) counts as "other", or "family" for a family account: it never
/// opens the physicians' entries.
fn seat(m: &TeamMemberRow) -> TeamSeat {
    let profession = Profession::parse(&m.profession).unwrap_or(Profession::Other);
    let role = TeamRole::parse(&m.team_role).unwrap_or(TeamRole::Other);
    let role = match role {
        r if r.fits(profession) => r,
        _ if profession == Profession::Family => TeamRole::Family,
        _ => TeamRole::Other,
    };
    TeamSeat { account_id: AccountId(m.account_id), role, profession }
}

pub(crate) async fn load(tx: &mut dyn StoreTx, patient: Uuid, now: OffsetDateTime) -> Result<Loaded, AppError> {
    let tsunagu_store::PatientScopeRows { patient: row, consents, team, grants } =
        tx.patient_scope(patient, now).await?.ok_or(AppError::NotFound)?;
    let scope = PatientScope {
        municipality_id: MunicipalityId(row.municipality_id),
        created_by: AccountId(row.created_by),
        consent: consent_state(&consents),
        team: team.iter().filter(|m| m.left_at.is_none()).map(seat).collect(),
        emergency_access: grants.iter().map(|g| AccountId(g.account_id)).collect(),
    };
    Ok(Loaded { row, consents, team, scope, grants })
}

impl App {
    /// Who may read a patient's record, as kept from a recent read or loaded
    /// now (see `kept_records.rs`): policy is applied to it by the caller.
    pub(crate) async fn kept_scope(&self, patient: Uuid) -> Result<Arc<Loaded>, AppError> {
        let now = self.now();
        if let Some(loaded) = self.records.get(patient, now) {
            return Ok(loaded);
        }
        let generation = self.records.generation();
        let mut tx = self.store.begin_read().await?;
        let loaded = Arc::new(load(tx.as_mut(), patient, now).await?);
        drop(tx);
        self.records.keep(patient, Arc::clone(&loaded), generation);
        Ok(loaded)
    }

    /// The patients of whom `account` is an active member, with their consent
    /// state, in kana order: as kept (`Settings::session_cache`) or read.
    pub(crate) async fn kept_caseload(&self, account: Uuid) -> Result<Arc<Vec<MemberPatientRow>>, AppError> {
        if let Some(caseload) = self.records.caseload(account) {
            return Ok(caseload);
        }
        let generation = self.records.caseload_generation();
        let mut tx = self.store.begin_read().await?;
        let caseload = Arc::new(tx.patients_of_member(account).await?);
        drop(tx);
        self.records.keep_caseload(account, Arc::clone(&caseload), generation);
        Ok(caseload)
    }

    pub(crate) fn today(&self) -> Date {
        self.now().to_offset(JST).date()
    }

    fn audit_patient<'a>(session: &'a Session, meta: &'a RequestMeta) -> AuditActor<'a> {
        AuditActor { account_id: Some(session.account.id), label: &session.audit_label, meta }
    }

    /// Whether the signed-in person may register patients (and so be offered the form).
    pub fn may_register_patients(&self, session: &Session) -> Result<(), AppError> {
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::Forbidden)?;
        enforce(policy::create_patient(&actor, municipality))?;
        if session.account.profession == Profession::Family {
            return Err(AppError::Forbidden);
        }
        Ok(())
    }

    /// Whether the signed-in person may open a record by break-glass (and so be offered the form).
    pub fn may_break_glass(&self, session: &Session) -> Result<(), AppError> {
        let actor = session.actor()?;
        if !policy::may_break_glass(&actor, session.account.profession) {
            return Err(AppError::Forbidden);
        }
        Ok(())
    }

    /// A professional registers a patient they care for; they become the first
    /// member of the team. Nobody else sees the patient until consent is recorded.
    pub async fn register_patient(
        &self,
        session: &Session,
        form: &PatientForm<'_>,
        my_role: &str,
        meta: &RequestMeta,
    ) -> Result<PatientView, AppError> {
        self.may_register_patients(session)?;
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::Forbidden)?;
        let details = PatientDetails::parse(form, self.today())?;
        let role = TeamRole::parse(my_role).map_err(|_| ValidationError::new("team_role", "unknown"))?;
        let now = self.now();
        let row = PatientRow {
            id: Uuid::now_v7(),
            municipality_id: municipality.0,
            created_by: actor.account_id.0,
            search_key: details.search_key(),
            family_name: details.family_name,
            given_name: details.given_name,
            family_name_kana: details.family_name_kana,
            given_name_kana: details.given_name_kana,
            birth_date: details.birth_date,
            sex: details.sex.code().to_owned(),
            address: details.address,
            daily_living_area: details.daily_living_area,
            phone: details.phone,
            key_person: details.key_person,
            key_person_phone: details.key_person_phone,
            care_level: details.care_level.code().to_owned(),
            main_diagnoses: details.main_diagnoses,
            allergies: details.allergies,
            special_care: details.special_care.iter().map(|c| c.code()).collect::<Vec<_>>().join(","),
            status: PatientStatus::AtHome.code().to_owned(),
            outcome: None,
            outcome_date: None,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.begin().await?;
        tx.insert_patient(&row).await?;
        tx.insert_team_member(&NewTeamMember {
            id: Uuid::now_v7(),
            patient_id: row.id,
            account_id: actor.account_id.0,
            team_role: role.code().to_owned(),
            added_by: actor.account_id.0,
            joined_at: now,
        })
        .await?;
        tx.append_audit(&audit_record(
            now,
            Some(municipality),
            &Self::audit_patient(session, meta),
            AuditAction::PatientRegistered,
            "patient",
            Some(row.id),
            json!({ "team_role": role.code() }),
        ))
        .await?;
        tx.commit().await?;
        patient_view(&row, self.today())
    }

    /// Everyone's own patient list, unread and urgent first. `query` filters by
    /// name or kana (width and katakana/hiragana folded).
    pub async fn my_patients(
        &self,
        session: &Session,
        query: &str,
        meta: &RequestMeta,
    ) -> Result<Vec<PatientSummary>, AppError> {
        let actor = session.actor()?;
        let rows = self.kept_caseload(actor.account_id.0).await?;
        let mut tx = self.store.begin_read().await?;
        let counts = tx.patient_counts(actor.account_id.0).await?;
        drop(tx);
        let key = search_key(query);
        let today = self.today();
        let mut out = Vec::new();
        for (row, consent) in readable_caseload(&rows, &actor) {
            if !key.is_empty() && !row.search_key.contains(&key) {
                continue;
            }
            let c = counts.iter().find(|c| c.patient_id == row.id);
            out.push(PatientSummary {
                patient: patient_view(row, today)?,
                consent,
                unread: c.map_or(0, |c| c.unread),
                urgent_unacknowledged: c.map_or(0, |c| c.urgent_unacknowledged),
                needs_reply: c.map_or(0, |c| c.needs_reply),
            });
        }
        out.sort_by_key(|s| (-s.urgent_unacknowledged, -(s.unread.min(1)), s.patient.name_kana.clone()));
        if !out.is_empty() {
            self.record_audited_read(audit_record(
                self.now(),
                actor.municipality_id,
                &Self::audit_patient(session, meta),
                AuditAction::PatientListViewed,
                "patient_list",
                None,
                json!({ "patients": out.iter().map(|s| s.patient.id).collect::<Vec<_>>() }),
            ))
            .await?;
        }
        Ok(out)
    }

    /// The patient page: profile, consent, team and the newest 50 entries
    /// (optionally of one kind). Showing them marks them read.
    pub async fn patient_page(
        &self,
        session: &Session,
        patient: Uuid,
        query: &TimelineQuery<'_>,
        meta: &RequestMeta,
    ) -> Result<PatientPage, AppError> {
        let actor = session.actor()?;
        let kind = match query.kind.trim() {
            "" => None,
            k => Some(EntryKind::parse(k).map_err(|_| ValidationError::new("kind", "unknown"))?),
        };
        let text = Some(query.text).filter(|t| !t.trim().is_empty());
        let profession = match query.profession.trim() {
            "" => None,
            p => Some(Profession::parse(p).map_err(|_| ValidationError::new("profession", "unknown"))?),
        };
        let author = match query.author.trim() {
            "" => None,
            a => Some(Uuid::parse_str(a).map_err(|_| ValidationError::new("author", "unknown"))?),
        };
        let since = match query.from.trim() {
            "" => None,
            raw => Some(day_starts("from", tsunagu_domain::patient::parse_date("from", raw)?)?),
        };
        let until = match query.to.trim() {
            "" => None,
            raw => Some(day_ends("to", tsunagu_domain::patient::parse_date("to", raw)?)?),
        };
        // Read without holding the write lock; then record the read (audit event,
        // read receipts) in a short write transaction that commits before any of
        // it is returned: no patient datum leaves without its audit event on disk.
        let loaded = self.kept_scope(patient).await?;
        self.decide(policy::read_patient(&actor, &loaded.scope), &loaded, session, meta, "read")?;
        let me = actor.account_id.0;
        let unfiltered = kind.is_none()
            && text.is_none()
            && profession.is_none()
            && author.is_none()
            && since.is_none()
            && until.is_none();
        let page = match unfiltered.then(|| self.timelines.get(patient, me)).flatten() {
            Some(page) => page,
            None => {
                let generation = self.timelines.generation();
                let page = Arc::new(
                    self.read_timeline(patient, me, &loaded, kind, text, profession, author, since, until).await?,
                );
                // A page with entries new to the reader changes as soon as it
                // is shown (the receipts below): not worth keeping.
                if unfiltered && !page.timeline.iter().any(|e| e.was_unread) {
                    self.timelines.keep(patient, me, Arc::clone(&page), generation);
                }
                page
            }
        };
        let now = self.now();
        // Who answers now (numbers of physicians on call) and the urgent
        // requests are for the professionals: family see neither.
        let team_only = policy::read_team_only(&actor, &loaded.scope).is_allowed();
        let (responders, urgent_requests) = if query.with_responders && team_only {
            let mut tx = self.store.reader().await?;
            let day = time::Duration::days(1);
            let chain = crate::on_call::chain_data(tx.as_mut(), &loaded, now - day, now + day).await?;
            let requests = crate::escalation::RequestLine::requests_of_patient(tx.as_mut(), patient).await?;
            (Some(chain.view(&loaded, now)), requests)
        } else {
            (None, Vec::new())
        };
        let unread: Vec<Uuid> = page.timeline.iter().filter(|e| e.was_unread).map(|e| e.id).collect();
        let event = PatientEvent {
            at: now,
            action: AuditAction::PatientViewed,
            target_kind: "patient",
            target: Some(patient),
            details: json!({ "entries_shown": page.timeline.len(), "kind": kind.map(|k| k.code()), "searched": text.is_some_and(|t| !t.trim().is_empty()) }),
        };
        let trace = ReadTrace {
            audit: Self::patient_audit_record(&loaded, session, meta, event),
            receipts: unread.into_iter().map(|entry_id| EntryRead { entry_id, reader: me, at: now }).collect(),
            opened: Some(PatientRead { reader: me, patient_id: patient, at: now }),
        };
        let marks_read = !trace.receipts.is_empty();
        self.store.record_read(trace).await?;
        if marks_read {
            // Read counts and "read by me" changed, for this reader and the team.
            self.timelines_changed(&[patient]).await;
        }
        let vitals_trend = page.vitals_trend.clone();
        let latest_vitals = vitals_trend.last().cloned();
        Ok(PatientPage {
            acp: page.acp.clone(),
            patient: patient_view(&loaded.row, self.today())?,
            consent_state: loaded.scope.consent,
            consent: loaded.consents.first().map(consent_view),
            team: team_views(&loaded.team, me)
                .into_iter()
                .map(|mut m| {
                    let change = if m.is_me {
                        TeamChange::Leave
                    } else {
                        // The member's facilities are not loaded for the page: a facility
                        // admin removes their staff through the use case, which loads them.
                        TeamChange::Remove { member: AccountId(m.account_id), facilities: Vec::new() }
                    };
                    m.removable = m.active && policy::change_team(&actor, &loaded.scope, &change).is_allowed();
                    m
                })
                .collect(),
            can_add_to_team: policy::change_team(
                &actor,
                &loaded.scope,
                &TeamChange::Add { role: TeamRole::Other, profession: Profession::Other },
            )
            .is_allowed(),
            can_invite_family: policy::change_team(&actor, &loaded.scope, &TeamChange::InviteFamily).is_allowed(),
            can_write: policy::write_patient(&actor, &loaded.scope).is_allowed(),
            can_act_for_team: policy::act_for_team(&actor, &loaded.scope).is_allowed(),
            viewer_is_family: loaded.is_family(me),
            timeline: Arc::clone(&page.timeline),
            latest_vitals,
            vitals_trend,
            responders,
            urgent_requests,
            emergency_until: if loaded.scope.is_member(actor.account_id) {
                None
            } else {
                loaded.grants.iter().filter(|g| g.account_id == me).map(|g| g.expires_at).max()
            },
        })
    }

    /// The timeline's part of a patient page as `reader` may see it: the
    /// newest 50 entries (filtered as asked) with their attachments, the vital
    /// signs' trend and the current ACP. Access is decided by the caller: the
    /// parts are read statement by statement.
    #[allow(clippy::too_many_arguments)]
    async fn read_timeline(
        &self,
        patient: Uuid,
        reader: Uuid,
        loaded: &Loaded,
        kind: Option<EntryKind>,
        text: Option<&str>,
        profession: Option<Profession>,
        author: Option<Uuid>,
        since: Option<OffsetDateTime>,
        until: Option<OffsetDateTime>,
    ) -> Result<KeptTimeline, AppError> {
        let mut tx = self.store.reader().await?;
        let audiences = loaded.filter_for(reader);
        let filter = TimelineFilter {
            kind: kind.map(|k| k.code().to_owned()),
            text: text.map(str::to_owned),
            audiences: audiences.clone(),
            profession: profession.map(|p| p.code().to_owned()),
            author,
            since,
            until,
            with_vitals: false,
            oldest_first: false,
            ..TimelineFilter::default()
        };
        let rows = tx.timeline(patient, reader, &filter, 50).await?;
        let vitals_rows = if kind == Some(EntryKind::Vitals) {
            Vec::new()
        } else {
            let vitals = TimelineFilter { audiences, ..TimelineFilter::default() };
            tx.vitals_points(patient, reader, &vitals, 20).await?
        };
        let acp = tx.acp_revisions(patient).await?.into_iter().next().map(acp_view);
        // Most pages have no attachment: no query for them then.
        let attachment_rows = match rows.iter().filter(|r| r.has_attachments).map(|r| r.created_at).min() {
            Some(oldest) => tx.attachments_since(patient, oldest).await?,
            None => Vec::new(),
        };
        drop(tx);
        let mut timeline: Vec<EntryView> = rows.into_iter().map(|r| entry_view(r, reader, &loaded.team)).collect();
        attach(&mut timeline, &attachment_rows);
        // The recent vital signs, oldest first, from vitals entries and from any
        // shown entry that carried vitals (a visit record often does).
        let mut trend: Vec<(OffsetDateTime, Uuid, VitalSigns)> = vitals_rows
            .into_iter()
            .map(|r| (r.created_at, r.id, serde_json::from_str(&r.vitals).unwrap_or_default()))
            .chain(timeline.iter().map(|e| (e.created_at, e.id, e.vitals.clone())))
            .filter(|(_, _, vitals): &(OffsetDateTime, Uuid, VitalSigns)| !vitals.is_empty())
            .collect();
        trend.sort_by_key(|(at, id, _)| (*at, *id));
        trend.dedup_by_key(|(_, id, _)| *id);
        let vitals_trend = trend.into_iter().rev().take(20).rev().map(|(at, _, v)| (at, v)).collect();
        Ok(KeptTimeline { timeline: Arc::new(timeline), vitals_trend, acp })
    }

    /// Records the patient's (or proxy's) consent; sharing starts now.
    pub async fn record_consent(
        &self,
        session: &Session,
        patient: Uuid,
        form: &ConsentForm<'_>,
        document: Option<&crate::attachments::UploadedFile>,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let details = ConsentDetails::parse(
            form.given_on,
            form.method,
            form.proxy_name,
            form.proxy_relation,
            form.scope,
            self.today(),
        )?;
        let scan = document
            .map(|f| tsunagu_domain::care::AttachmentFile::inspect(&f.declared_type, &f.file_name, &f.bytes))
            .transpose()?;
        // The scan is written (durably) before the transaction that refers to
        // it, and only for someone who may record consent.
        let stored = match (document, scan) {
            (Some(file), Some(kind)) => {
                let mut tx = self.store.begin_read().await?;
                let precheck = load(tx.as_mut(), patient, self.now()).await?;
                self.decide(
                    policy::record_consent(&actor, &precheck.scope),
                    &precheck,
                    session,
                    meta,
                    "record_consent",
                )?;
                drop(tx);
                let id = Uuid::now_v7();
                let sha256 = crate::attachments::store(&self.settings.attachments_dir, id, file.bytes.clone()).await?;
                Some((id, kind, file.bytes.len(), sha256))
            }
            _ => None,
        };
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        self.decide(policy::record_consent(&actor, &loaded.scope), &loaded, session, meta, "record_consent")?;
        if loaded.is_family(actor.account_id.0) {
            return Err(AppError::Forbidden);
        }
        let now = self.now();
        let document_entry_id = stored.as_ref().map(|_| Uuid::now_v7());
        if let (Some(entry_id), Some((attachment_id, kind, size, sha256))) = (document_entry_id, stored) {
            // The scan travels as a team entry with the file, so that it is
            // read, access-checked and audited like every other attachment.
            tx.insert_entry(&NewEntry {
                id: entry_id,
                patient_id: patient,
                kind: EntryKind::Message.code().to_owned(),
                author_id: actor.account_id.0,
                reply_to: None,
                needs_reply: false,
                created_at: now,
                body: "同意書（スキャン）".to_owned(),
                vitals: "{}".to_owned(),
                audience: Audience::Team.code().to_owned(),
            })
            .await?;
            tx.insert_attachment(&attachment_row(attachment_id, kind, size, sha256, entry_id, patient, now)).await?;
            self.audit(
                tx.as_mut(),
                &loaded,
                session,
                meta,
                PatientEvent {
                    at: now,
                    action: AuditAction::EntryPosted,
                    target_kind: "entry",
                    target: Some(entry_id),
                    details: json!({ "patient": patient, "kind": "message", "consent_document": true }),
                },
            )
            .await?;
        }
        tx.insert_consent(&ConsentRow {
            id: Uuid::now_v7(),
            patient_id: patient,
            given_on: details.given_on,
            method: details.method.code().to_owned(),
            proxy_name: details.proxy_name.clone(),
            proxy_relation: details.proxy_relation.clone(),
            scope: details.scope.clone(),
            recorded_by: actor.account_id.0,
            recorded_at: now,
            withdrawn_at: None,
            withdrawn_by: None,
            withdrawal_reason: None,
            document_entry_id,
        })
        .await?;
        let audit = json!({ "given_on": details.given_on.to_string(), "method": details.method.code(), "by_proxy": details.proxy_name.is_some(), "document": document_entry_id.is_some() });
        self.audit(
            tx.as_mut(),
            &loaded,
            session,
            meta,
            PatientEvent {
                at: now,
                action: AuditAction::ConsentRecorded,
                target_kind: "patient",
                target: Some(patient),
                details: audit,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that consent was withdrawn: sharing stops at once, the record stays read-only.
    pub async fn withdraw_consent(
        &self,
        session: &Session,
        patient: Uuid,
        reason: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let reason = tsunagu_domain::text::required("reason", reason, 500)?;
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        self.decide(policy::act_for_team(&actor, &loaded.scope), &loaded, session, meta, "act_for_team")?;
        let current = loaded.consents.first().ok_or(AppError::Forbidden)?;
        let now = self.now();
        tx.withdraw_consent(current.id, actor.account_id.0, now, &reason).await?;
        self.audit(
            tx.as_mut(),
            &loaded,
            session,
            meta,
            PatientEvent {
                at: now,
                action: AuditAction::ConsentWithdrawn,
                target_kind: "patient",
                target: Some(patient),
                details: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A member adds a colleague (any facility of the municipality) to the team.
    pub async fn add_team_member(
        &self,
        session: &Session,
        patient: Uuid,
        login: &str,
        team_role: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        // Family join through their own invitation, with what they may see limited.
        let role = TeamRole::parse(team_role)
            .ok()
            .filter(|r| *r != TeamRole::Family)
            .ok_or(ValidationError::new("team_role", "unknown"))?;
        let login = LoginId::parse(login).map_err(|_| ValidationError::new("member", "unknown_colleague"))?;
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        // Whether the actor may change this team at all, before anything about the colleague is told.
        let any_fitting = TeamChange::Add { role: TeamRole::Other, profession: Profession::Other };
        self.decide(policy::change_team(&actor, &loaded.scope, &any_fitting), &loaded, session, meta, "change_team")?;
        let colleague = tx.account_by_login(login.as_str()).await?;
        let colleague = match colleague {
            Some(c)
                if c.municipality_id == Some(loaded.row.municipality_id)
                    && c.status == AccountStatus::Active.code()
                    && c.profession != Profession::Family.code() =>
            {
                c
            }
            _ => return Err(ValidationError::new("member", "unknown_colleague").into()),
        };
        if loaded.scope.is_member(AccountId(colleague.id)) {
            return Err(ValidationError::new("member", "already_member").into());
        }
        let profession = Profession::parse(&colleague.profession).unwrap_or(Profession::Other);
        if !role.fits(profession) {
            return Err(ValidationError::new("team_role", "does_not_fit").into());
        }
        self.decide(
            policy::change_team(&actor, &loaded.scope, &TeamChange::Add { role, profession }),
            &loaded,
            session,
            meta,
            "change_team",
        )?;
        let now = self.now();
        tx.insert_team_member(&NewTeamMember {
            id: Uuid::now_v7(),
            patient_id: patient,
            account_id: colleague.id,
            team_role: role.code().to_owned(),
            added_by: actor.account_id.0,
            joined_at: now,
        })
        .await?;
        self.audit(
            tx.as_mut(),
            &loaded,
            session,
            meta,
            PatientEvent {
                at: now,
                action: AuditAction::TeamMemberAdded,
                target_kind: "patient",
                target: Some(patient),
                details: json!({ "member": colleague.login_id, "team_role": role.code() }),
            },
        )
        .await?;
        let n = NewNotification {
            id: Uuid::now_v7(),
            account_id: colleague.id,
            patient_id: patient,
            entry_id: None,
            kind: "team_added".to_owned(),
            actor_id: actor.account_id.0,
            created_at: now,
        };
        notify(tx.as_mut(), &n).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a membership: one's own (leaving) or a colleague's (removal). Recorded, never deleted.
    pub async fn remove_team_member(
        &self,
        session: &Session,
        patient: Uuid,
        membership: Uuid,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        self.decide(policy::read_patient(&actor, &loaded.scope), &loaded, session, meta, "read")?;
        let member =
            loaded.team.iter().find(|m| m.id == membership && m.left_at.is_none()).ok_or(AppError::NotFound)?;
        let change = if member.account_id == actor.account_id.0 {
            TeamChange::Leave
        } else {
            let facilities = tx.memberships_of_account(member.account_id).await?;
            TeamChange::Remove {
                member: AccountId(member.account_id),
                facilities: facilities.iter().map(|f| FacilityId(f.facility_id)).collect(),
            }
        };
        self.decide(policy::change_team(&actor, &loaded.scope, &change), &loaded, session, meta, "change_team")?;
        if loaded.scope.team.len() == 1 {
            return Err(ValidationError::new("member", "last_member").into());
        }
        let now = self.now();
        tx.end_team_membership(member.id, actor.account_id.0, now).await?;
        let leaving = member.account_id == actor.account_id.0;
        self.audit(
            tx.as_mut(),
            &loaded,
            session,
            meta,
            PatientEvent {
                at: now,
                action: AuditAction::TeamMemberRemoved,
                target_kind: "patient",
                target: Some(patient),
                details: json!({ "member": member.login_id, "left_by_themselves": leaving }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Posts to a patient's timeline. Acknowledged only once committed (durable).
    pub async fn post_entry(
        &self,
        session: &Session,
        patient: Uuid,
        draft: &EntryDraft,
        reply_to: Option<Uuid>,
        files: &[crate::attachments::UploadedFile],
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        let actor = session.actor()?;
        if files.len() > 5 {
            return Err(ValidationError::new("attachment", "too_many").into());
        }
        let inspected: Vec<tsunagu_domain::care::AttachmentFile> = files
            .iter()
            .map(|f| tsunagu_domain::care::AttachmentFile::inspect(&f.declared_type, &f.file_name, &f.bytes))
            .collect::<Result<_, _>>()?;
        // Check access before writing any file (and before queueing for the
        // writer): on the scope as kept, the authoritative check is below.
        let precheck = self.kept_scope(patient).await?;
        self.decide(policy::write_patient(&actor, &precheck.scope), &precheck, session, meta, "write")?;
        let mut stored = Vec::new();
        for (file, kind) in files.iter().zip(&inspected) {
            let id = Uuid::now_v7();
            let sha256 = crate::attachments::store(&self.settings.attachments_dir, id, file.bytes.clone()).await?;
            stored.push((id, kind.clone(), file.bytes.len(), sha256));
        }
        let mut tx = self.begin_keeping_records().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        tx.changes_timeline_of(patient);
        let now = self.now();
        let id = self.write_entry(tx.as_mut(), &loaded, session, draft, reply_to, meta, now).await?;
        for (attachment_id, kind, size, sha256) in stored {
            tx.insert_attachment(&attachment_row(attachment_id, kind, size, sha256, id, patient, now)).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Writes one entry in `tx` for a member who may write: the entry, its
    /// audit event and the team's notifications (the compose form's and the
    /// FHIR API's posts alike). Checks the policy; `loaded` must come from `tx`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn write_entry(
        &self,
        tx: &mut dyn StoreTx,
        loaded: &Loaded,
        session: &Session,
        draft: &EntryDraft,
        reply_to: Option<Uuid>,
        meta: &RequestMeta,
        now: OffsetDateTime,
    ) -> Result<Uuid, AppError> {
        let actor = session.actor()?;
        let patient = loaded.row.id;
        self.decide(policy::write_patient(&actor, &loaded.scope), loaded, session, meta, "write")?;
        let draft = &draft.clone().for_audience(draft.audience.code(), loaded.role_of(actor.account_id.0))?;
        if let Some(parent) = reply_to {
            // An entry the author may not read is answered as unknown: a reply
            // must not confirm that a physicians-only entry exists.
            let parent = tx.entry(parent, actor.account_id.0).await?;
            let readable = |p: &TimelineRow| {
                p.patient_id == patient
                    && (p.author_id == actor.account_id.0
                        || Audience::parse(&p.audience)
                            .is_ok_and(|a| visible_audiences(loaded.role_of(actor.account_id.0)).contains(&a)))
            };
            if !parent.as_ref().is_some_and(readable) {
                return Err(ValidationError::new("reply_to", "unknown").into());
            }
        }
        let id = Uuid::now_v7();
        let entry = NewEntry {
            id,
            patient_id: patient,
            kind: draft.kind.code().to_owned(),
            author_id: actor.account_id.0,
            reply_to,
            needs_reply: draft.needs_reply,
            created_at: now,
            body: draft.body.clone(),
            vitals: serde_json::to_string(&draft.vitals).map_err(|e| AppError::Internal(e.to_string()))?,
            audience: draft.audience.code().to_owned(),
        };
        self.audit(
            tx,
            loaded,
            session,
            meta,
            PatientEvent {
                at: now,
                action: AuditAction::EntryPosted,
                target_kind: "entry",
                target: Some(id),
                // A post under an emergency grant says so (invariant 1).
                details: json!({ "patient": patient, "kind": draft.kind.code(), "emergency": !loaded.scope.is_member(actor.account_id) }),
            },
        )
        .await?;
        let notifications: Vec<NewNotification> = recipients(&loaded.team, actor.account_id.0, draft)
            .into_iter()
            .map(|(account_id, kind)| NewNotification {
                id: Uuid::now_v7(),
                account_id,
                patient_id: patient,
                entry_id: Some(id),
                kind: kind.to_owned(),
                actor_id: actor.account_id.0,
                created_at: now,
            })
            .collect();
        // The entry, its notifications and the e-mail notices in one round trip
        // where the backend allows it: a post's time is the writer's round trips.
        tx.insert_posted_entry(&entry, &notifications, &mail_notices(&notifications)).await?;
        Ok(id)
    }

    /// Unread notifications (mentions, urgent entries, new teams), newest first.
    pub async fn notifications(&self, session: &Session) -> Result<Vec<NotificationView>, AppError> {
        let actor = session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let rows = tx.unread_notifications(actor.account_id.0, 50).await?;
        Ok(rows
            .into_iter()
            .map(|r| NotificationView {
                patient_id: r.patient_id,
                entry_id: r.entry_id,
                kind: r.kind,
                created_at: r.created_at,
                actor_name: r.actor_name,
                patient_name: format!("{} {}", r.patient_family_name, r.patient_given_name),
            })
            .collect())
    }

    /// Loads an entry and its patient's scope, checking the actor may read it.
    pub(crate) async fn readable_entry(
        &self,
        tx: &mut dyn StoreTx,
        session: &Session,
        meta: &RequestMeta,
        entry: Uuid,
    ) -> Result<(TimelineRow, Loaded), AppError> {
        let actor = session.actor()?;
        let row = tx.entry(entry, actor.account_id.0).await?.ok_or(AppError::NotFound)?;
        let loaded = load(tx, row.patient_id, self.now()).await?;
        self.decide(policy::read_patient(&actor, &loaded.scope), &loaded, session, meta, "read")?;
        let me = actor.account_id.0;
        if row.author_id != me && !loaded.filter_for(me).contains(&row.audience) {
            // An entry for another audience is refused like an unknown one, and audited.
            self.decide(policy::Decision::Hidden, &loaded, session, meta, "read_entry")?;
        }
        Ok((row, loaded))
    }

    /// Corrects one's own entry: a new version; the old one stays readable (真正性).
    pub async fn correct_entry(
        &self,
        session: &Session,
        entry: Uuid,
        draft: &EntryDraft,
        reason: &str,
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        let actor = session.actor()?;
        let reason = tsunagu_domain::text::required("reason", reason, 200)?;
        let mut tx = self.begin_keeping_records().await?;
        let (row, loaded) = self.readable_entry(tx.as_mut(), session, meta, entry).await?;
        tx.changes_timeline_of(row.patient_id);
        self.decide(policy::write_patient(&actor, &loaded.scope), &loaded, session, meta, "write")?;
        if row.author_id != actor.account_id.0 {
            return Err(AppError::Forbidden);
        }
        if draft.kind.code() != row.kind {
            return Err(ValidationError::new("kind", "cannot_change").into());
        }
        let now = self.now();
        let vitals = serde_json::to_string(&draft.vitals).map_err(|e| AppError::Internal(e.to_string()))?;
        tx.insert_entry_version(&NewEntryVersion {
            entry_id: entry,
            version: row.latest_version + 1,
            body: draft.body.clone(),
            vitals,
            edited_by: actor.account_id.0,
            edited_at: now,
            reason,
        })
        .await?;
        self.audit(
            tx.as_mut(),
            &loaded,
            session,
            meta,
            PatientEvent {
                at: now,
                action: AuditAction::EntryCorrected,
                target_kind: "entry",
                target: Some(entry),
                details: json!({ "patient": row.patient_id, "version": row.latest_version + 1 }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(row.patient_id)
    }

    /// One entry with every version and its read receipts.
    pub async fn entry_detail(
        &self,
        session: &Session,
        entry: Uuid,
        meta: &RequestMeta,
    ) -> Result<EntryDetail, AppError> {
        let actor = session.actor()?;
        let mut tx = self.begin_keeping_all().await?;
        let (row, loaded) = self.readable_entry(tx.as_mut(), session, meta, entry).await?;
        let versions = tx.entry_versions(entry).await?;
        let reads = tx.read_receipts(entry).await?;
        let acks = tx.acknowledgements(entry).await?;
        let files = tx.attachments_of_patient(row.patient_id).await?;
        self.audit(
            tx.as_mut(),
            &loaded,
            session,
            meta,
            PatientEvent {
                at: self.now(),
                action: AuditAction::EntryViewed,
                target_kind: "entry",
                target: Some(entry),
                details: json!({ "patient": row.patient_id }),
            },
        )
        .await?;
        tx.commit().await?;
        let patient_name = format!("{} {}", loaded.row.family_name, loaded.row.given_name);
        let patient_id = row.patient_id;
        let mut view = entry_view(row, actor.account_id.0, &loaded.team);
        attach(std::slice::from_mut(&mut view), &files);
        Ok(EntryDetail {
            patient_id,
            patient_name,
            entry: view,
            versions: versions
                .into_iter()
                .map(|v| EntryVersionView {
                    version: v.version,
                    body: v.body,
                    vitals: serde_json::from_str(&v.vitals).unwrap_or_default(),
                    editor_name: v.editor_name,
                    edited_at: v.edited_at,
                    reason: v.reason,
                })
                .collect(),
            reads: reads.into_iter().map(|r| (r.display_name, r.at)).collect(),
            acknowledgements: acks.into_iter().map(|r| (r.display_name, r.at)).collect(),
        })
    }

    /// "I have seen this and am acting on it" for an urgent entry.
    pub async fn acknowledge_entry(
        &self,
        session: &Session,
        entry: Uuid,
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        let actor = session.actor()?;
        let mut tx = self.begin_keeping_records().await?;
        let (row, loaded) = self.readable_entry(tx.as_mut(), session, meta, entry).await?;
        tx.changes_timeline_of(row.patient_id);
        self.decide(policy::write_patient(&actor, &loaded.scope), &loaded, session, meta, "write")?;
        if row.kind != EntryKind::Urgent.code() {
            return Err(ValidationError::new("kind", "not_urgent").into());
        }
        let now = self.now();
        if tx.acknowledge(entry, actor.account_id.0, now).await? {
            tx.mark_read(&[tsunagu_store::EntryRead { entry_id: entry, reader: actor.account_id.0, at: now }]).await?;
            self.audit(
                tx.as_mut(),
                &loaded,
                session,
                meta,
                PatientEvent {
                    at: now,
                    action: AuditAction::EntryAcknowledged,
                    target_kind: "entry",
                    target: Some(entry),
                    details: json!({ "patient": row.patient_id }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(row.patient_id)
    }

    /// Active colleagues in one's municipality whose login id, name or
    /// furigana contains `query`, to add to a team (at most 20; none for an
    /// empty query or for family accounts).
    pub async fn colleagues(&self, session: &Session, query: &str) -> Result<Vec<Colleague>, AppError> {
        let actor = session.actor()?;
        let Some(municipality) = actor.municipality_id else { return Ok(Vec::new()) };
        // "login — name" as the picker fills it in: search by the login id.
        let query = query.split(" — ").next().unwrap_or_default().trim();
        if query.is_empty() || session.account.profession == Profession::Family {
            return Ok(Vec::new());
        }
        let text = tsunagu_domain::text::fold_full_width_ascii(query).to_lowercase();
        let kana = tsunagu_domain::text::furigana_search_key(query);
        let mut tx = self.store.begin_read().await?;
        Ok(tx
            .search_colleagues(municipality.0, &text, &kana, 20)
            .await?
            .into_iter()
            .map(|a| Colleague {
                profession: Profession::parse(&a.profession).ok(),
                login_id: a.login_id,
                display_name: a.display_name,
            })
            .collect())
    }
}

/// An in-app notification, and (for those who opted in) a queued "something
/// new" mail, in the caller's transaction: neither is lost if the other is kept.
pub(crate) async fn notify(tx: &mut dyn StoreTx, n: &NewNotification) -> Result<(), AppError> {
    notify_all(tx, std::slice::from_ref(n), n.created_at).await
}

/// The patients of a caseload (see [`App::kept_caseload`]) the actor may
/// read, with their consent state: the policy decides on each, with the actor
/// as the one active member the caseload was read for.
pub(crate) fn readable_caseload<'a>(
    caseload: &'a [MemberPatientRow],
    actor: &'a Actor,
) -> impl Iterator<Item = (&'a PatientRow, ConsentState)> + 'a {
    caseload.iter().filter_map(move |member| {
        let row = &member.patient;
        let consent = match member.consent_in_force {
            None => ConsentState::Pending,
            Some(true) => ConsentState::Active,
            Some(false) => ConsentState::Withdrawn,
        };
        let scope = PatientScope {
            municipality_id: MunicipalityId(row.municipality_id),
            created_by: AccountId(row.created_by),
            consent,
            // The caseload holds the reader's own memberships: being a member
            // is all `read_patient` asks of the team.
            team: vec![TeamSeat { account_id: actor.account_id, role: TeamRole::Other, profession: Profession::Other }],
            emergency_access: vec![],
        };
        policy::read_patient(actor, &scope).is_allowed().then_some((row, consent))
    })
}

/// [`notify`] for several at once: two statements whatever the team's size
/// (a post's writer time is mostly round trips).
pub(crate) async fn notify_all(
    tx: &mut dyn StoreTx,
    notifications: &[NewNotification],
    at: OffsetDateTime,
) -> Result<(), AppError> {
    tx.insert_notifications(notifications).await?;
    tx.enqueue_mails(&mail_notices(notifications), at).await?;
    Ok(())
}

/// One e-mail notice (outbox id, account) per account notified; the store
/// queues only those of accounts that asked for e-mail.
fn mail_notices(notifications: &[NewNotification]) -> Vec<(Uuid, Uuid)> {
    let mut accounts: Vec<Uuid> = notifications.iter().map(|n| n.account_id).collect();
    accounts.sort_unstable();
    accounts.dedup();
    accounts.into_iter().map(|a| (Uuid::now_v7(), a)).collect()
}

/// The row naming a file already written durably, on the entry that carries it.
fn attachment_row(
    id: Uuid,
    kind: tsunagu_domain::care::AttachmentFile,
    size: usize,
    sha256: Vec<u8>,
    entry_id: Uuid,
    patient_id: Uuid,
    at: OffsetDateTime,
) -> tsunagu_store::AttachmentRow {
    tsunagu_store::AttachmentRow {
        id,
        entry_id,
        patient_id,
        content_type: kind.content_type.to_owned(),
        file_name: kind.file_name,
        size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
        sha256,
        created_at: at,
    }
}

/// Who hears about a new entry: every other member if it is urgent; members
/// mentioned as @login otherwise.
fn recipients(team: &[TeamMemberRow], author: Uuid, draft: &EntryDraft) -> Vec<(Uuid, &'static str)> {
    let mentioned = tsunagu_domain::care::mentions(&draft.body);
    team.iter()
        .filter(|m| m.left_at.is_none() && m.account_id != author)
        .filter(|m| visible_audiences(TeamRole::parse(&m.team_role).ok()).contains(&draft.audience))
        .filter_map(|m| {
            if draft.kind == EntryKind::Urgent {
                Some((m.account_id, "urgent"))
            } else if mentioned.contains(&m.login_id) {
                Some((m.account_id, "mention"))
            } else {
                None
            }
        })
        .collect()
}

/// A notification as its recipient sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationView {
    pub patient_id: Uuid,
    pub entry_id: Option<Uuid>,
    /// "mention", "urgent" or "team_added".
    pub kind: String,
    pub created_at: OffsetDateTime,
    pub actor_name: String,
    pub patient_name: String,
}

fn team_views(team: &[TeamMemberRow], me: Uuid) -> Vec<TeamMemberView> {
    team.iter()
        .map(|m| TeamMemberView {
            membership_id: m.id,
            account_id: m.account_id,
            display_name: m.display_name.clone(),
            profession: Profession::parse(&m.profession).ok(),
            team_role: TeamRole::parse(&m.team_role).ok(),
            active: m.left_at.is_none(),
            is_me: m.account_id == me,
            removable: false,
            facility_name: m.facility_name.clone(),
            phone: m.facility_phone.clone().filter(|p| !p.is_empty()),
        })
        .collect()
}

pub(crate) fn consent_view(c: &ConsentRow) -> ConsentView {
    ConsentView {
        given_on: c.given_on,
        method: c.method.clone(),
        proxy_name: c.proxy_name.clone(),
        proxy_relation: c.proxy_relation.clone(),
        scope: c.scope.clone(),
        withdrawn_at: c.withdrawn_at,
        document_entry: c.document_entry_id,
    }
}

impl App {
    /// Records a new revision of the advance care plan; earlier ones stay.
    pub async fn record_acp(
        &self,
        session: &Session,
        patient: Uuid,
        form: &AdvanceCarePlanForm<'_>,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let plan = AdvanceCarePlan::parse(form, self.today())?;
        let mut tx = self.begin_keeping_records().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        tx.changes_timeline_of(patient);
        self.decide(policy::act_for_team(&actor, &loaded.scope), &loaded, session, meta, "act_for_team")?;
        let now = self.now();
        tx.insert_acp(&AcpRow {
            id: Uuid::now_v7(),
            patient_id: patient,
            discussed_on: plan.discussed_on,
            participants: plan.participants,
            place_of_care: plan.place_of_care.code().to_owned(),
            place_of_death: plan.place_of_death.code().to_owned(),
            treatment: plan.treatment.code().to_owned(),
            proxy_name: plan.proxy_name,
            proxy_relation: plan.proxy_relation,
            wishes: plan.wishes,
            recorded_by: actor.account_id.0,
            recorded_at: now,
            recorder_name: String::new(),
        })
        .await?;
        self.audit(
            tx.as_mut(),
            &loaded,
            session,
            meta,
            PatientEvent {
                at: now,
                action: AuditAction::AcpRecorded,
                target_kind: "patient",
                target: Some(patient),
                details: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every revision of the advance care plan, newest first.
    pub async fn acp_history(
        &self,
        session: &Session,
        patient: Uuid,
        meta: &RequestMeta,
    ) -> Result<(PatientView, Vec<AcpView>), AppError> {
        let actor = session.actor()?;
        let loaded = self.kept_scope(patient).await?;
        self.decide(policy::read_patient(&actor, &loaded.scope), &loaded, session, meta, "read")?;
        let mut tx = self.store.reader().await?;
        let revisions = tx.acp_revisions(patient).await?;
        drop(tx);
        self.record_read(
            &loaded,
            session,
            meta,
            PatientEvent {
                at: self.now(),
                action: AuditAction::AcpViewed,
                target_kind: "patient",
                target: Some(patient),
                details: json!({ "revisions": revisions.len() }),
            },
        )
        .await?;
        Ok((patient_view(&loaded.row, self.today())?, revisions.into_iter().map(acp_view).collect()))
    }

    /// Where the patient is now; ending care records the outcome (在宅看取り, ...).
    pub async fn change_patient_status(
        &self,
        session: &Session,
        patient: Uuid,
        status: &str,
        outcome: &str,
        outcome_date: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let change = StatusChange::parse(status, outcome, outcome_date, self.today())?;
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        self.decide(policy::act_for_team(&actor, &loaded.scope), &loaded, session, meta, "act_for_team")?;
        let now = self.now();
        let before = (loaded.row.status.clone(), loaded.row.outcome.clone());
        let mut row = loaded.row.clone();
        row.status = change.status.code().to_owned();
        row.outcome = change.outcome.map(|(o, _)| o.code().to_owned());
        row.outcome_date = change.outcome.map(|(_, d)| d);
        row.updated_at = now;
        tx.update_patient(&row).await?;
        let details = json!({ "before": { "status": before.0, "outcome": before.1 }, "after": { "status": row.status, "outcome": row.outcome } });
        self.audit(
            tx.as_mut(),
            &loaded,
            session,
            meta,
            PatientEvent {
                at: now,
                action: AuditAction::PatientUpdated,
                target_kind: "patient",
                target: Some(patient),
                details,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The whole record for `[from, to]` (JST dates), for printing or saving as PDF.
    pub async fn print_record(
        &self,
        session: &Session,
        patient: Uuid,
        from: &str,
        to: &str,
        meta: &RequestMeta,
    ) -> Result<PrintedRecord, AppError> {
        const MAX_ENTRIES: i64 = 2_000;
        let actor = session.actor()?;
        let today = self.today();
        let from = match from.trim() {
            "" => today.checked_sub(time::Duration::days(30)).unwrap_or(today),
            raw => tsunagu_domain::patient::parse_date("from", raw)?,
        };
        let to = match to.trim() {
            "" => today,
            raw => tsunagu_domain::patient::parse_date("to", raw)?,
        };
        if to < from {
            return Err(ValidationError::new("to", "before_from").into());
        }
        let start = day_starts("from", from)?;
        let end = day_ends("to", to)?;
        let loaded = self.kept_scope(patient).await?;
        self.decide(policy::read_patient(&actor, &loaded.scope), &loaded, session, meta, "read")?;
        let mut tx = self.store.reader().await?;
        let me = actor.account_id.0;
        let audiences = loaded.filter_for(me);
        let rows: Vec<TimelineRow> = tx
            .timeline_between(patient, me, start, end, MAX_ENTRIES + 1)
            .await?
            .into_iter()
            .filter(|r| r.author_id == me || audiences.contains(&r.audience))
            .collect();
        let acp = tx.acp_revisions(patient).await?.into_iter().next().map(acp_view);
        drop(tx);
        let details = json!({ "from": from.to_string(), "to": to.to_string(), "entries": rows.len() });
        self.record_read(
            &loaded,
            session,
            meta,
            PatientEvent {
                at: self.now(),
                action: AuditAction::PatientPrinted,
                target_kind: "patient",
                target: Some(patient),
                details,
            },
        )
        .await?;
        let truncated = rows.len() as i64 > MAX_ENTRIES;
        Ok(PrintedRecord {
            patient: patient_view(&loaded.row, today)?,
            consent: loaded.consents.first().map(consent_view),
            team: team_views(&loaded.team, me),
            acp,
            from,
            to,
            entries: rows.into_iter().take(MAX_ENTRIES as usize).map(|r| entry_view(r, me, &loaded.team)).collect(),
            truncated,
        })
    }
}

/// Why someone outside the team opens a record.
pub const BREAK_GLASS_REASONS: &[&str] = &["covering_physician", "hospital_escalation", "emergency_call", "other"];

/// How long a break-glass grant lasts.
pub const BREAK_GLASS_HOURS: i64 = 4;

impl App {
    /// Break-glass: a clinician outside the team opens a record for a stated
    /// reason. The patient must be named exactly (name or kana) with the birth
    /// date; access lasts four hours, is audited with the reason, and every
    /// member of the team is notified at once.
    pub async fn break_glass(
        &self,
        session: &Session,
        name: &str,
        birth_date: &str,
        reason_kind: &str,
        reason: &str,
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        self.may_break_glass(session)?;
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::Forbidden)?;
        let key = search_key(name);
        if key.chars().count() < 2 {
            return Err(ValidationError::new("name", "required").into());
        }
        let birth_date = tsunagu_domain::patient::parse_date("birth_date", birth_date)?;
        if !BREAK_GLASS_REASONS.contains(&reason_kind) {
            return Err(ValidationError::new("reason_kind", "unknown").into());
        }
        let reason = tsunagu_domain::text::required("reason", reason, 500)?;
        if reason.chars().count() < 5 {
            return Err(ValidationError::new("reason", "too_short").into());
        }
        let now = self.now();
        let mut tx = self.begin().await?;
        let candidates = tx.patients_born_on(municipality.0, birth_date).await?;
        let matches: Vec<&PatientRow> = candidates.iter().filter(|p| name_matches(p, &key)).collect();
        let who = Self::audit_patient(session, meta);
        let [patient] = matches.as_slice() else {
            let details = json!({ "matches": matches.len(), "reason_kind": reason_kind, "reason": reason });
            tx.append_audit(&audit_record(
                now,
                Some(municipality),
                &who,
                AuditAction::BreakGlassRefused,
                "patient",
                None,
                details,
            ))
            .await?;
            tx.commit().await?;
            return Err(if matches.is_empty() {
                AppError::NotFound
            } else {
                ValidationError::new("name", "ambiguous").into()
            });
        };
        let patient_id = patient.id;
        let team = tx.team(patient_id).await?;
        if team.iter().any(|m| m.left_at.is_none() && m.account_id == actor.account_id.0) {
            return Ok(patient_id);
        }
        let expires_at = now + time::Duration::hours(BREAK_GLASS_HOURS);
        tx.insert_break_glass(&BreakGlassRow {
            id: Uuid::now_v7(),
            patient_id,
            account_id: actor.account_id.0,
            reason_kind: reason_kind.to_owned(),
            reason: reason.clone(),
            granted_at: now,
            expires_at,
        })
        .await?;
        let details =
            json!({ "reason_kind": reason_kind, "reason": reason, "expires_at": expires_at.unix_timestamp() });
        tx.append_audit(&audit_record(
            now,
            Some(municipality),
            &who,
            AuditAction::BreakGlassGranted,
            "patient",
            Some(patient_id),
            details,
        ))
        .await?;
        for member in team.iter().filter(|m| m.left_at.is_none()) {
            let n = NewNotification {
                id: Uuid::now_v7(),
                account_id: member.account_id,
                patient_id,
                entry_id: None,
                kind: "break_glass".to_owned(),
                actor_id: actor.account_id.0,
                created_at: now,
            };
            notify(tx.as_mut(), &n).await?;
        }
        tx.commit().await?;
        Ok(patient_id)
    }
}

/// An attachment as listed under its entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentView {
    pub id: Uuid,
    pub file_name: String,
    pub is_image: bool,
}

/// An audit event about one patient's data.
pub(crate) struct PatientEvent {
    pub(crate) at: OffsetDateTime,
    pub(crate) action: AuditAction,
    pub(crate) target_kind: &'static str,
    pub(crate) target: Option<Uuid>,
    pub(crate) details: serde_json::Value,
}

impl App {
    /// Records a read of patient data: its audit event, durable before the
    /// data is returned (written with other readers' in the writer's next
    /// batch: `Store::record_read`).
    pub(crate) async fn record_read(
        &self,
        loaded: &Loaded,
        session: &Session,
        meta: &RequestMeta,
        e: PatientEvent,
    ) -> Result<(), AppError> {
        self.record_audited_read(Self::patient_audit_record(loaded, session, meta, e)).await
    }

    /// Records a read (of patient data, or of a list of patients) by its
    /// audit event alone, durable before the data is returned.
    pub(crate) async fn record_audited_read(&self, audit: AuditRecord) -> Result<(), AppError> {
        self.store.record_read(ReadTrace { audit, receipts: Vec::new(), opened: None }).await?;
        Ok(())
    }

    /// Appends a patient-data audit event to the patient's municipality chain, in `tx`.
    pub(crate) async fn audit(
        &self,
        tx: &mut dyn StoreTx,
        loaded: &Loaded,
        session: &Session,
        meta: &RequestMeta,
        e: PatientEvent,
    ) -> Result<(), AppError> {
        tx.append_audit(&Self::patient_audit_record(loaded, session, meta, e)).await?;
        Ok(())
    }

    fn patient_audit_record(loaded: &Loaded, session: &Session, meta: &RequestMeta, e: PatientEvent) -> AuditRecord {
        let who = Self::audit_patient(session, meta);
        audit_record(e.at, Some(loaded.scope.municipality_id), &who, e.action, e.target_kind, e.target, e.details)
    }
}

/// Puts each attachment under its entry.
fn attach(entries: &mut [EntryView], rows: &[tsunagu_store::AttachmentRow]) {
    for e in entries.iter_mut() {
        e.attachments = rows
            .iter()
            .filter(|a| a.entry_id == e.id)
            .map(|a| AttachmentView {
                id: a.id,
                file_name: a.file_name.clone(),
                is_image: a.content_type.starts_with("image/"),
            })
            .collect();
    }
}

impl App {
    /// An attachment's bytes, for someone who may read its entry; audited.
    pub async fn attachment(
        &self,
        session: &Session,
        id: Uuid,
        meta: &RequestMeta,
    ) -> Result<(String, String, Vec<u8>), AppError> {
        session.require_scope("DocumentReference", tsunagu_domain::interop::Access::Read)?;
        session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let row = tx.attachment(id).await?.ok_or(AppError::NotFound)?;
        let (_, loaded) = self.readable_entry(tx.as_mut(), session, meta, row.entry_id).await?;
        drop(tx);
        let bytes = crate::attachments::load(&self.settings.attachments_dir, row.id, row.sha256.clone()).await?;
        let details = json!({ "patient": row.patient_id, "entry": row.entry_id });
        self.record_read(
            &loaded,
            session,
            meta,
            PatientEvent {
                at: self.now(),
                action: AuditAction::AttachmentViewed,
                target_kind: "attachment",
                target: Some(id),
                details,
            },
        )
        .await?;
        Ok((row.content_type, row.file_name, bytes))
    }
}

/// Someone who read a patient's record, as the patient and family see it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessView {
    /// The audit event's id.
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub who: String,
    pub action: AuditAction,
}

impl App {
    /// A team member invites a family member (家族): a family account joins the
    /// team and sees what is shared with the family. Prints a one-time code.
    pub async fn invite_family(
        &self,
        session: &Session,
        patient: Uuid,
        login: &str,
        name: &str,
        relation: &str,
        meta: &RequestMeta,
    ) -> Result<crate::IssuedCode, AppError> {
        let actor = session.actor()?;
        let relation = tsunagu_domain::text::required("relation", relation, 30)?;
        let name = format!("{}（{}）", tsunagu_domain::text::required("display_name", name, 40)?, relation);
        let new = tsunagu_domain::account::NewAccount::parse(login, &name, "", "", "family", &[])?;
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        self.decide(
            policy::change_team(&actor, &loaded.scope, &TeamChange::InviteFamily),
            &loaded,
            session,
            meta,
            "change_team",
        )?;
        let now = self.now();
        let row = crate::accounts::invited_account_row(Some(MunicipalityId(loaded.row.municipality_id)), &new, now);
        tx.insert_account(&row).await.map_err(AppError::conflict_on("login_id"))?;
        let (code, expires_at) = self.new_invitation(tx.as_mut(), row.id, Some(actor.account_id)).await?;
        tx.insert_team_member(&NewTeamMember {
            id: Uuid::now_v7(),
            patient_id: patient,
            account_id: row.id,
            team_role: TeamRole::Family.code().to_owned(),
            added_by: actor.account_id.0,
            joined_at: now,
        })
        .await?;
        let details = json!({ "login_id": row.login_id, "relation": relation });
        self.audit(
            tx.as_mut(),
            &loaded,
            session,
            meta,
            PatientEvent {
                at: now,
                action: AuditAction::FamilyInvited,
                target_kind: "patient",
                target: Some(patient),
                details,
            },
        )
        .await?;
        let account = crate::sessions::load_account(tx.as_mut(), row).await?;
        tx.commit().await?;
        Ok(crate::IssuedCode { account, code, expires_at })
    }

    /// Who has opened the record, newest first: what the patient and family
    /// may always see (invariant 3).
    pub async fn access_history(
        &self,
        session: &Session,
        patient: Uuid,
        meta: &RequestMeta,
    ) -> Result<(PatientView, Vec<AccessView>), AppError> {
        session.require_scope("AuditEvent", tsunagu_domain::interop::Access::Read)?;
        let actor = session.actor()?;
        let loaded = self.kept_scope(patient).await?;
        self.decide(policy::read_patient(&actor, &loaded.scope), &loaded, session, meta, "read")?;
        let mut tx = self.store.reader().await?;
        let chain = tsunagu_domain::audit::chain_of(Some(loaded.scope.municipality_id));
        let events = tx.audit_events_for_target(chain, patient, 500).await?;
        drop(tx);
        let readings = [
            AuditAction::PatientViewed,
            AuditAction::PatientPrinted,
            AuditAction::AcpViewed,
            AuditAction::BreakGlassGranted,
            AuditAction::AccessLogViewed,
            AuditAction::UrgentRequestViewed,
            // Attempts that were refused: the patient sees who tried, too.
            AuditAction::AccessRefused,
        ];
        let names: std::collections::HashMap<Uuid, String> =
            loaded.team.iter().map(|m| (m.account_id, m.display_name.clone())).collect();
        let list = events
            .into_iter()
            .filter_map(|e| {
                let action = AuditAction::parse(&e.action).ok().filter(|a| readings.contains(a))?;
                let who = e.actor_account_id.and_then(|a| names.get(&a).cloned()).unwrap_or(e.actor_label);
                // Reads through an API token name the token too (e.g. the clinic's EHR).
                let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
                let who = match details.get("client").and_then(|c| c.as_str()) {
                    Some(client) => format!("{who}（{client}）"),
                    None => who,
                };
                Some(AccessView { id: e.id, at: e.occurred_at, who, action })
            })
            .collect();
        self.record_read(
            &loaded,
            session,
            meta,
            PatientEvent {
                at: self.now(),
                action: AuditAction::AccessLogViewed,
                target_kind: "patient",
                target: Some(patient),
                details: json!({}),
            },
        )
        .await?;
        Ok((patient_view(&loaded.row, self.today())?, list))
    }
}

/// Whether a typed name (folded) is the patient's full name in kanji or in kana.
fn name_matches(p: &PatientRow, key: &str) -> bool {
    let kanji = search_key(&format!("{}{}", p.family_name, p.given_name));
    let kana = search_key(&format!("{}{}", p.family_name_kana, p.given_name_kana));
    key == kanji || key == kana
}

/// The raw consent form.
#[derive(Debug, Clone, Default)]
pub struct ConsentForm<'a> {
    pub given_on: &'a str,
    pub method: &'a str,
    pub proxy_name: &'a str,
    pub proxy_relation: &'a str,
    pub scope: &'a str,
}

/// Parses an entry form (what the web layer and the API share).
pub fn parse_entry(kind: &str, body: &str, vitals: &VitalsForm<'_>, needs_reply: bool) -> Result<EntryDraft, AppError> {
    Ok(EntryDraft::parse(kind, body, vitals, needs_reply)?)
}

/// The moment a Japanese calendar day (typed in by a reader) begins, in UTC;
/// a day whose moment cannot be represented is out of range, not a panic.
fn day_starts(field: &'static str, day: Date) -> Result<OffsetDateTime, ValidationError> {
    day.midnight()
        .assume_offset(JST)
        .checked_to_offset(time::UtcOffset::UTC)
        .ok_or(ValidationError::new(field, "out_of_range"))
}

/// The moment after a Japanese calendar day ends (the next day's midnight), in UTC.
fn day_ends(field: &'static str, day: Date) -> Result<OffsetDateTime, ValidationError> {
    day_starts(field, day)?.checked_add(time::Duration::days(1)).ok_or(ValidationError::new(field, "out_of_range"))
}

#[cfg(test)]
mod thread_tests {
    use super::*;

    fn entry(n: i64, reply_to: Option<i64>) -> EntryView {
        let id = |n: i64| Uuid::from_u128(n as u128);
        EntryView {
            id: id(n),
            kind: EntryKind::Message,
            author_name: String::new(),
            author_profession: None,
            is_mine: false,
            created_at: OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(n),
            body: format!("{n}"),
            vitals: VitalSigns::default(),
            corrected: false,
            needs_reply: false,
            reply_to: reply_to.map(id),
            audience: Audience::Team,
            attachments: Vec::new(),
            was_unread: false,
            read_count: 0,
            acknowledged_by_me: false,
            acknowledgement_count: 0,
            reply_count: 0,
            by_emergency_access: false,
        }
    }

    #[test]
    fn replies_sit_under_their_parent_and_bring_it_to_the_top() {
        // Newest first, as the timeline comes: 5 replies to 4 (a reply to 1), 3 stands alone, 2 replies to 1.
        let page = [entry(5, Some(4)), entry(4, Some(1)), entry(3, None), entry(2, Some(1)), entry(1, None)];
        let shape: Vec<(String, Vec<String>)> =
            threads(&page).into_iter().map(|(e, r)| (e.body, r.into_iter().map(|r| r.body).collect())).collect();
        assert_eq!(
            shape,
            vec![("1".into(), vec!["2".into(), "4".into(), "5".into()]), ("3".into(), vec![])],
            "the thread with the newest reply first, its replies oldest first"
        );
    }

    #[test]
    fn a_reply_whose_parent_is_not_on_the_page_stands_alone() {
        let shape: Vec<usize> = threads(&[entry(9, Some(1)), entry(8, None)]).iter().map(|(_, r)| r.len()).collect();
        assert_eq!(shape, vec![0, 0]);
    }
}
