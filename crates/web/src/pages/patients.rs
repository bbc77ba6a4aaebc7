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
    AdvanceCarePlanForm, CareLevel, ConsentMethod, Outcome, PatientForm, PatientStatus, Place, Sex, SpecialCare,
    TreatmentWish,
};
use tsunagu_domain::policy::ConsentState;
use uuid::Uuid;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    t: Tr,
    c: Chrome,
    account: AccountView,
    roles: Vec<Role>,
    show_admin: bool,
    recovery_low: bool,
    patients: Vec<PatientSummary>,
    notifications: Vec<tsunagu_app::patients::NotificationView>,
    q: String,
    /// Which actions to offer (the use cases check again).
    can_register: bool,
    can_break_glass: bool,
    /// Urgent requests that have called me or my hospital and wait for an answer.
    waiting: Vec<tsunagu_app::escalation::WaitingView>,
    /// My patients' requests not yet closed (nobody answered first).
    team_requests: Vec<tsunagu_app::escalation::TeamRequestView>,
}

impl HomePage {
    fn unanswered(&self) -> Vec<&tsunagu_app::escalation::TeamRequestView> {
        self.team_requests.iter().filter(|r| r.nobody_answered()).collect()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct HomeQuery {
    notice: Option<String>,
    q: String,
}

pub(crate) async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HomeQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let unused = state.app.unused_recovery_codes(session).await?;
    let patients = match session.account.municipality_id {
        Some(_) => state.app.my_patients(session, &q.q, &ctx.meta).await?,
        None => Vec::new(),
    };
    let notifications = match session.account.municipality_id {
        Some(_) => state.app.notifications(session).await?,
        None => Vec::new(),
    };
    let waiting = match session.account.municipality_id {
        Some(_) => state.app.requests_waiting_for_me(session).await?,
        None => Vec::new(),
    };
    let team_requests = match session.account.municipality_id {
        Some(_) if session.account.profession != tsunagu_domain::account::Profession::Family => {
            state.app.my_team_requests(session, &ctx.meta).await?
        }
        _ => Vec::new(),
    };
    let roles = session.account.all_roles();
    Ok(HomePage {
        waiting,
        team_requests,
        notifications,
        t: ctx.t,
        c: ctx.chrome(q.notice.as_deref()),
        show_admin: ctx.admin_link,
        roles,
        account: session.account.clone(),
        recovery_low: unused < 3,
        patients,
        q: q.q,
        can_register: state.app.may_register_patients(session).is_ok(),
        can_break_glass: state.app.may_break_glass(session).is_ok(),
    }
    .into_response())
}

/// The patient form as typed.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct PatientFormValues {
    family_name: String,
    given_name: String,
    family_name_kana: String,
    given_name_kana: String,
    birth_date: String,
    sex: String,
    address: String,
    daily_living_area: String,
    phone: String,
    key_person: String,
    key_person_phone: String,
    care_level: String,
    main_diagnoses: String,
    allergies: String,
    team_role: String,
    special_care: Vec<String>,
}

impl PatientFormValues {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut v = Self::default();
        for (k, value) in pairs {
            let slot = match k.as_str() {
                "family_name" => &mut v.family_name,
                "given_name" => &mut v.given_name,
                "family_name_kana" => &mut v.family_name_kana,
                "given_name_kana" => &mut v.given_name_kana,
                "birth_date" => &mut v.birth_date,
                "sex" => &mut v.sex,
                "address" => &mut v.address,
                "daily_living_area" => &mut v.daily_living_area,
                "phone" => &mut v.phone,
                "key_person" => &mut v.key_person,
                "key_person_phone" => &mut v.key_person_phone,
                "care_level" => &mut v.care_level,
                "main_diagnoses" => &mut v.main_diagnoses,
                "allergies" => &mut v.allergies,
                "team_role" => &mut v.team_role,
                "special_care" => {
                    v.special_care.push(value);
                    continue;
                }
                _ => continue,
            };
            *slot = value;
        }
        v
    }

    fn has_care(&self, code: &str) -> bool {
        self.special_care.iter().any(|c| c == code)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "patient_new.html")]
struct NewPatientPage {
    t: Tr,
    c: Chrome,
    form: PatientFormValues,
    sexes: &'static [Sex],
    care_levels: &'static [CareLevel],
    special_cares: &'static [SpecialCare],
    team_roles: &'static [TeamRole],
}

fn new_patient_page(ctx: &Ctx, form: PatientFormValues, error: Option<String>) -> NewPatientPage {
    let mut c = ctx.chrome(None);
    c.error = error;
    NewPatientPage {
        t: ctx.t,
        c,
        form,
        sexes: Sex::ALL,
        care_levels: CareLevel::ALL,
        special_cares: SpecialCare::ALL,
        team_roles: TeamRole::ALL,
    }
}

pub(crate) async fn new_patient(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    state.app.may_register_patients(session)?;
    let form = PatientFormValues {
        sex: "female".into(),
        care_level: "none".into(),
        team_role: "visiting_nurse".into(),
        ..PatientFormValues::default()
    };
    Ok(new_patient_page(&ctx, form, None).into_response())
}

pub(crate) async fn create_patient(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(pairs): Verified<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let v = PatientFormValues::from_pairs(pairs);
    let form = PatientForm {
        family_name: &v.family_name,
        given_name: &v.given_name,
        family_name_kana: &v.family_name_kana,
        given_name_kana: &v.given_name_kana,
        birth_date: &v.birth_date,
        sex: &v.sex,
        address: &v.address,
        daily_living_area: &v.daily_living_area,
        phone: &v.phone,
        key_person: &v.key_person,
        key_person_phone: &v.key_person_phone,
        care_level: &v.care_level,
        main_diagnoses: &v.main_diagnoses,
        allergies: &v.allergies,
        special_care: v.special_care.iter().map(String::as_str).collect(),
    };
    match state.app.register_patient(session, &form, &v.team_role, &ctx.meta).await {
        Ok(p) => Ok(Redirect::to(&format!("/patients/{}?notice=created", p.id)).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, new_patient_page(&ctx, v, Some(message))).into_response())
        }
    }
}

/// The compose form as typed (kept after an error).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct EntryFormValues {
    kind: String,
    audience: String,
    body: String,
    needs_reply: bool,
    reply_to: String,
    reason: String,
    temperature_c: String,
    systolic: String,
    diastolic: String,
    pulse: String,
    spo2: String,
    respiratory_rate: String,
    weight_kg: String,
    blood_glucose: String,
    pain: String,
    bowel_movements: String,
}

impl EntryFormValues {
    /// Sets one field by its form name (for multipart forms).
    fn set(&mut self, name: &str, value: String) {
        let slot = match name {
            "kind" => &mut self.kind,
            "audience" => &mut self.audience,
            "body" => &mut self.body,
            "reply_to" => &mut self.reply_to,
            "reason" => &mut self.reason,
            "temperature_c" => &mut self.temperature_c,
            "systolic" => &mut self.systolic,
            "diastolic" => &mut self.diastolic,
            "pulse" => &mut self.pulse,
            "spo2" => &mut self.spo2,
            "respiratory_rate" => &mut self.respiratory_rate,
            "weight_kg" => &mut self.weight_kg,
            "blood_glucose" => &mut self.blood_glucose,
            "pain" => &mut self.pain,
            "bowel_movements" => &mut self.bowel_movements,
            "needs_reply" => {
                self.needs_reply = value == "true";
                return;
            }
            _ => return,
        };
        *slot = value;
    }

    fn vitals(&self) -> VitalsForm<'_> {
        VitalsForm {
            temperature_c: &self.temperature_c,
            systolic: &self.systolic,
            diastolic: &self.diastolic,
            pulse: &self.pulse,
            spo2: &self.spo2,
            respiratory_rate: &self.respiratory_rate,
            weight_kg: &self.weight_kg,
            blood_glucose: &self.blood_glucose,
            pain: &self.pain,
            bowel_movements: &self.bowel_movements,
        }
    }

    fn has_vitals(&self) -> bool {
        [
            &self.temperature_c,
            &self.systolic,
            &self.pulse,
            &self.spo2,
            &self.respiratory_rate,
            &self.weight_kg,
            &self.blood_glucose,
            &self.pain,
            &self.bowel_movements,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "patient.html")]
struct PatientTemplate {
    t: Tr,
    c: Chrome,
    p: PatientPage,
    /// Where the browser keeps an unsent compose form (per reader and patient: `static/app.js`).
    draft_key: String,
    kinds: &'static [EntryKind],
    team_roles: &'static [TeamRole],
    consent_methods: &'static [ConsentMethod],
    filter: String,
    entry: EntryFormValues,
    today: String,
    statuses: &'static [PatientStatus],
    outcomes: &'static [Outcome],
    search: String,
    chart: Option<String>,
    professions: Vec<tsunagu_domain::account::Profession>,
    profession: String,
    /// Everyone who has been on the team, to filter by author.
    authors: Vec<(Uuid, String)>,
    /// The timeline as conversations (replies under their entry).
    threads: Vec<tsunagu_app::patients::Thread>,
    /// Entries on this page (a reply to anything else links to it).
    shown_ids: std::collections::HashSet<Uuid>,
    /// The entry being replied to, when it is on this page.
    replying_to: Option<tsunagu_app::patients::EntryView>,
    author: String,
    from: String,
    to: String,
    /// The municipality's hospitals (to pick the backup hospital), for those who act for the team.
    hospitals: Vec<(Uuid, String)>,
    request_kinds: &'static [tsunagu_domain::escalation::RequestKind],
}

impl PatientTemplate {
    fn pending(&self) -> bool {
        self.p.consent_state == ConsentState::Pending
    }
    fn withdrawn(&self) -> bool {
        self.p.consent_state == ConsentState::Withdrawn
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PatientQuery {
    notice: Option<String>,
    kind: String,
    q: String,
    profession: String,
    author: String,
    from: String,
    to: String,
    /// Open the compose form as a reply to this entry.
    reply_to: String,
}

async fn patient_template(
    state: &AppState,
    ctx: &Ctx,
    patient: PatientId,
    view: &PatientQuery,
    entry: EntryFormValues,
    error: Option<String>,
) -> Result<PatientTemplate, WebError> {
    let session = ctx.signed_in()?;
    let (filter, search) = (view.kind.as_str(), view.q.as_str());
    let query = TimelineQuery {
        kind: filter,
        text: search,
        profession: &view.profession,
        author: &view.author,
        from: &view.from,
        to: &view.to,
        with_responders: true,
    };
    let p = state.app.patient_page(session, patient, &query, &ctx.meta).await?;
    let mut c = ctx.chrome(view.notice.as_deref());
    c.error = error;
    let today = state.app.now().to_offset(JST).date().to_string();
    let p_trend = p.vitals_trend.clone();
    // Filter by the professions present in the team.
    let mut professions: Vec<tsunagu_domain::account::Profession> = Vec::new();
    for profession in p.team.iter().filter_map(|m| m.profession) {
        if !professions.contains(&profession) {
            professions.push(profession);
        }
    }
    let threads = tsunagu_app::patients::threads(&p.timeline);
    let shown_ids = p.timeline.iter().map(|e| e.id).collect();
    let replying_to = p.timeline.iter().find(|e| e.id.to_string() == entry.reply_to).cloned();
    let mut authors: Vec<(Uuid, String)> = Vec::new();
    for m in &p.team {
        if !authors.iter().any(|(id, _)| *id == m.account_id) {
            authors.push((m.account_id, m.display_name.clone()));
        }
    }
    let hospitals = if p.can_act_for_team { state.app.hospitals(session).await? } else { Vec::new() };
    Ok(PatientTemplate {
        draft_key: format!("entry:{}:{}", session.account.id, patient),
        hospitals,
        request_kinds: tsunagu_domain::escalation::RequestKind::ALL,
        t: ctx.t,
        c,
        p,
        kinds: EntryKind::ALL,
        team_roles: TeamRole::ALL,
        consent_methods: ConsentMethod::ALL,
        filter: filter.to_owned(),
        entry,
        today,
        statuses: PatientStatus::ALL,
        outcomes: Outcome::ALL,
        search: search.to_owned(),
        chart: crate::chart::vitals_trend(&p_trend),
        professions,
        profession: view.profession.clone(),
        authors,
        threads,
        shown_ids,
        replying_to,
        author: view.author.clone(),
        from: view.from.clone(),
        to: view.to.clone(),
    })
}

/// The patient page again, with what went wrong with a form on it.
pub(crate) async fn patient_with_error(
    state: &AppState,
    ctx: &Ctx,
    patient: PatientId,
    e: tsunagu_app::AppError,
) -> Result<Response, WebError> {
    let (status, message) = ctx.form_error(e)?;
    let page =
        patient_template(state, ctx, patient, &PatientQuery::default(), EntryFormValues::default(), Some(message))
            .await?;
    Ok((status, page).into_response())
}

pub(crate) async fn patient(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Query(q): Query<PatientQuery>,
) -> Result<Response, WebError> {
    // A reply is usually a message; otherwise the visit record is the common case.
    let kind = if q.reply_to.is_empty() { "visit_record" } else { "message" };
    let entry = EntryFormValues { kind: kind.into(), reply_to: q.reply_to.clone(), ..EntryFormValues::default() };
    Ok(patient_template(&state, &ctx, id, &q, entry, None).await?.into_response())
}

/// The compose form: URL-encoded, or multipart when files are attached.
pub(crate) struct Submission<T> {
    values: T,
    files: Vec<tsunagu_app::attachments::UploadedFile>,
}

/// A form whose text fields can also arrive as multipart parts (with files).
pub(crate) trait MultipartFields: serde::de::DeserializeOwned + Default {
    fn set(&mut self, name: &str, value: String);
}

impl MultipartFields for EntryFormValues {
    fn set(&mut self, name: &str, value: String) {
        EntryFormValues::set(self, name, value);
    }
}

impl<T: MultipartFields + Send, S: Send + Sync> axum::extract::FromRequest<S> for Submission<T> {
    type Rejection = WebError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        // Only for a signed-in session: a stranger's upload is refused before it is read.
        crate::context::refuse_strangers(&request)?;
        let is_multipart = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !is_multipart {
            let Verified(values) = Verified::<T>::from_request(request, state).await?;
            return Ok(Self { values, files: Vec::new() });
        }
        let upload = VerifiedUpload::from_request(request, state).await?;
        let mut values = T::default();
        for (name, value) in upload.fields {
            values.set(&name, value);
        }
        let files = upload
            .files
            .into_iter()
            .filter(|part| part.name == "attachment" && !part.bytes.is_empty())
            .map(|part| tsunagu_app::attachments::UploadedFile {
                declared_type: part.content_type,
                file_name: part.file_name,
                bytes: part.bytes.to_vec(),
            })
            .collect();
        Ok(Self { values, files })
    }
}

pub(crate) async fn post_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    submission: Submission<EntryFormValues>,
) -> Result<Response, WebError> {
    let Submission { values: v, files } = submission;
    let session = ctx.signed_in()?;
    let reply_to = match v.reply_to.as_str() {
        "" => None,
        raw => Some(parse_id::<Uuid>(&ctx, raw)?),
    };
    let parsed = parse_entry(&v.kind, &v.body, &v.vitals(), v.needs_reply)
        .and_then(|d| d.for_audience(&v.audience, None).map_err(Into::into));
    let result = match parsed {
        Ok(draft) => state.app.post_entry(session, id, &draft, reply_to, &files, &ctx.meta).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(entry) => Ok(Redirect::to(&format!("/patients/{id}?notice=posted#e-{entry}")).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, patient_template(&state, &ctx, id, &PatientQuery::default(), v, Some(message)).await?)
                .into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ConsentFormValues {
    given_on: String,
    method: String,
    proxy_name: String,
    proxy_relation: String,
    scope: String,
    reason: String,
}

impl MultipartFields for ConsentFormValues {
    fn set(&mut self, name: &str, value: String) {
        let slot = match name {
            "given_on" => &mut self.given_on,
            "method" => &mut self.method,
            "proxy_name" => &mut self.proxy_name,
            "proxy_relation" => &mut self.proxy_relation,
            "scope" => &mut self.scope,
            "reason" => &mut self.reason,
            _ => return,
        };
        *slot = value;
    }
}

pub(crate) async fn record_consent(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    submission: Submission<ConsentFormValues>,
) -> Result<Response, WebError> {
    let Submission { values: v, files } = submission;
    if files.len() > 1 {
        return Err(ctx.fail(tsunagu_domain::ValidationError::new("attachment", "too_many_consent").into()));
    }
    let session = ctx.signed_in()?;
    let form = ConsentForm {
        given_on: &v.given_on,
        method: &v.method,
        proxy_name: &v.proxy_name,
        proxy_relation: &v.proxy_relation,
        scope: &v.scope,
    };
    match state.app.record_consent(session, id, &form, files.first(), &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{id}?notice=consent")).into_response()),
        Err(e) => patient_with_error(&state, &ctx, id, e).await,
    }
}

pub(crate) async fn withdraw_consent(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Verified(v): Verified<ConsentFormValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.withdraw_consent(session, id, &v.reason, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{id}?notice=saved")).into_response()),
        Err(e) => patient_with_error(&state, &ctx, id, e).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MemberForm {
    member: String,
    team_role: String,
}

pub(crate) async fn add_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Verified(v): Verified<MemberForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    // The datalist shows "login — name"; take the login id.
    let login = v.member.split_whitespace().next().unwrap_or_default();
    match state.app.add_team_member(session, id, login, &v.team_role, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{id}?notice=saved#team")).into_response()),
        Err(e) => patient_with_error(&state, &ctx, id, e).await,
    }
}

pub(crate) async fn remove_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, membership)): Path<(String, String)>,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let id: Uuid = parse_id(&ctx, &id)?;
    let membership: Uuid = parse_id(&ctx, &membership)?;
    match state.app.remove_team_member(session, PatientId(id), membership, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{id}?notice=saved#team")).into_response()),
        Err(e) => patient_with_error(&state, &ctx, PatientId(id), e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "entry.html")]
struct EntryTemplate {
    t: Tr,
    c: Chrome,
    d: EntryDetail,
}

pub(crate) async fn entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<EntryId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let d = state.app.entry_detail(session, id, &ctx.meta).await?;
    Ok(EntryTemplate { t: ctx.t, c: ctx.chrome(q.notice.as_deref()), d }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "entry_correct.html")]
struct CorrectTemplate {
    t: Tr,
    c: Chrome,
    d: EntryDetail,
    entry: EntryFormValues,
}

fn values_of(d: &EntryDetail) -> EntryFormValues {
    let v = &d.entry.vitals;
    let s = |x: Option<String>| x.unwrap_or_default();
    EntryFormValues {
        kind: d.entry.kind.code().to_owned(),
        body: d.entry.body.clone(),
        needs_reply: d.entry.needs_reply,
        temperature_c: s(v.temperature_c.map(|x| x.to_string())),
        systolic: s(v.systolic.map(|x| x.to_string())),
        diastolic: s(v.diastolic.map(|x| x.to_string())),
        pulse: s(v.pulse.map(|x| x.to_string())),
        spo2: s(v.spo2.map(|x| x.to_string())),
        respiratory_rate: s(v.respiratory_rate.map(|x| x.to_string())),
        weight_kg: s(v.weight_kg.map(|x| x.to_string())),
        blood_glucose: s(v.blood_glucose.map(|x| x.to_string())),
        pain: s(v.pain.map(|x| x.to_string())),
        bowel_movements: s(v.bowel_movements.map(|x| x.to_string())),
        ..EntryFormValues::default()
    }
}

pub(crate) async fn correct_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<EntryId>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let d = state.app.entry_detail(session, id, &ctx.meta).await?;
    let entry = values_of(&d);
    Ok(CorrectTemplate { t: ctx.t, c: ctx.chrome(None), d, entry }.into_response())
}

pub(crate) async fn correct(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<EntryId>,
    Verified(v): Verified<EntryFormValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let result = match parse_entry(&v.kind, &v.body, &v.vitals(), v.needs_reply) {
        Ok(draft) => state.app.correct_entry(session, id, &draft, &v.reason, &ctx.meta).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(patient) => Ok(Redirect::to(&format!("/patients/{patient}?notice=corrected#e-{id}")).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let d = state.app.entry_detail(session, id, &ctx.meta).await?;
            let mut c = ctx.chrome(None);
            c.error = Some(message);
            Ok((status, CorrectTemplate { t: ctx.t, c, d, entry: v }).into_response())
        }
    }
}

pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<EntryId>,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let patient = state.app.acknowledge_entry(session, id, &ctx.meta).await?;
    Ok(Redirect::to(&format!("/patients/{patient}?notice=acknowledged#e-{id}")).into_response())
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct AcpFormValues {
    discussed_on: String,
    participants: String,
    place_of_care: String,
    place_of_death: String,
    treatment: String,
    proxy_name: String,
    proxy_relation: String,
    wishes: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "acp.html")]
struct AcpTemplate {
    t: Tr,
    c: Chrome,
    patient: tsunagu_app::patients::PatientView,
    revisions: Vec<tsunagu_app::patients::AcpView>,
    places: &'static [Place],
    treatments: &'static [TreatmentWish],
    form: AcpFormValues,
}

async fn acp_template(
    state: &AppState,
    ctx: &Ctx,
    patient: PatientId,
    form: Option<AcpFormValues>,
    error: Option<String>,
) -> Result<AcpTemplate, WebError> {
    let session = ctx.signed_in()?;
    let (patient, revisions) = state.app.acp_history(session, patient, &ctx.meta).await?;
    let form = form.unwrap_or_else(|| match revisions.first() {
        // Start from the latest revision: a review usually changes one thing.
        Some(r) => AcpFormValues {
            discussed_on: state.app.now().to_offset(JST).date().to_string(),
            participants: r.participants.clone(),
            place_of_care: r.place_of_care.map(|p| p.code().to_owned()).unwrap_or_default(),
            place_of_death: r.place_of_death.map(|p| p.code().to_owned()).unwrap_or_default(),
            treatment: r.treatment.map(|p| p.code().to_owned()).unwrap_or_default(),
            proxy_name: r.proxy_name.clone().unwrap_or_default(),
            proxy_relation: r.proxy_relation.clone().unwrap_or_default(),
            wishes: r.wishes.clone().unwrap_or_default(),
        },
        None => AcpFormValues {
            discussed_on: state.app.now().to_offset(JST).date().to_string(),
            place_of_care: "undecided".into(),
            place_of_death: "undecided".into(),
            treatment: "undecided".into(),
            ..AcpFormValues::default()
        },
    });
    let mut c = ctx.chrome(None);
    c.error = error;
    Ok(AcpTemplate { t: ctx.t, c, patient, revisions, places: Place::ALL, treatments: TreatmentWish::ALL, form })
}

pub(crate) async fn acp(State(state): State<AppState>, ctx: Ctx, Id(id): Id<PatientId>) -> Result<Response, WebError> {
    Ok(acp_template(&state, &ctx, id, None, None).await?.into_response())
}

pub(crate) async fn record_acp(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Verified(v): Verified<AcpFormValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let form = AdvanceCarePlanForm {
        discussed_on: &v.discussed_on,
        participants: &v.participants,
        place_of_care: &v.place_of_care,
        place_of_death: &v.place_of_death,
        treatment: &v.treatment,
        proxy_name: &v.proxy_name,
        proxy_relation: &v.proxy_relation,
        wishes: &v.wishes,
    };
    match state.app.record_acp(session, id, &form, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{id}?notice=saved#acp")).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, acp_template(&state, &ctx, id, Some(v), Some(message)).await?).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct StatusFormValues {
    status: String,
    outcome: String,
    outcome_date: String,
}

pub(crate) async fn change_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Verified(v): Verified<StatusFormValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.change_patient_status(session, id, &v.status, &v.outcome, &v.outcome_date, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{id}?notice=saved")).into_response()),
        Err(e) => patient_with_error(&state, &ctx, id, e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "print.html")]
struct PrintTemplate {
    t: Tr,
    c: Chrome,
    r: tsunagu_app::patients::PrintedRecord,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PrintQuery {
    from: String,
    to: String,
}

pub(crate) async fn print(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Query(q): Query<PrintQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let r = state.app.print_record(session, id, &q.from, &q.to, &ctx.meta).await?;
    Ok(PrintTemplate { t: ctx.t, c: ctx.chrome(None), r }.into_response())
}

/// The whole record as a FHIR Bundle, downloaded for a transfer to a hospital
/// or another municipality (the same export as `Patient/{id}/$everything`).
pub(crate) async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Id(id): Id<PatientId>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let export = state.app.fhir_export(session, id, &ctx.meta).await?;
    let bundle = crate::fhir::everything(&crate::fhir::fhir_base(&headers, &state), &export);
    let disposition = format!("attachment; filename=\"patient-{id}.fhir.json\"");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/fhir+json; charset=utf-8".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        serde_json::to_vec(&bundle).map_err(|e| ctx.fail(tsunagu_app::AppError::Internal(e.to_string())))?,
    )
        .into_response())
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct BreakGlassForm {
    name: String,
    birth_date: String,
    reason_kind: String,
    reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "break_glass.html")]
struct BreakGlassTemplate {
    t: Tr,
    c: Chrome,
    form: BreakGlassForm,
    reasons: &'static [&'static str],
    hours: i64,
}

fn break_glass_page(ctx: &Ctx, form: BreakGlassForm, error: Option<String>) -> BreakGlassTemplate {
    let mut c = ctx.chrome(None);
    c.error = error;
    BreakGlassTemplate {
        t: ctx.t,
        c,
        form,
        reasons: tsunagu_app::patients::BREAK_GLASS_REASONS,
        hours: tsunagu_app::patients::BREAK_GLASS_HOURS,
    }
}

pub(crate) async fn break_glass_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    state.app.may_break_glass(session)?;
    Ok(break_glass_page(
        &ctx,
        BreakGlassForm { reason_kind: "covering_physician".into(), ..BreakGlassForm::default() },
        None,
    )
    .into_response())
}

pub(crate) async fn break_glass(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(v): Verified<BreakGlassForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.break_glass(session, &v.name, &v.birth_date, &v.reason_kind, &v.reason, &ctx.meta).await {
        Ok(patient) => Ok(Redirect::to(&format!("/patients/{patient}")).into_response()),
        Err(tsunagu_app::AppError::NotFound) => {
            let message = ctx.t.s("break_glass.no_match").to_owned();
            Ok((axum::http::StatusCode::NOT_FOUND, break_glass_page(&ctx, v, Some(message))).into_response())
        }
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, break_glass_page(&ctx, v, Some(message))).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct FamilyForm {
    login_id: String,
    name: String,
    relation: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "family_invited.html")]
struct FamilyInvitedTemplate {
    t: Tr,
    c: Chrome,
    patient: Uuid,
    issued: tsunagu_app::IssuedCode,
    expires: String,
}

pub(crate) async fn invite_family(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Verified(v): Verified<FamilyForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.invite_family(session, id, &v.login_id, &v.name, &v.relation, &ctx.meta).await {
        Ok(issued) => {
            let expires = ctx.t.when(&issued.expires_at);
            Ok(FamilyInvitedTemplate { t: ctx.t, c: ctx.chrome(None), patient: id.0, issued, expires }.into_response())
        }
        Err(e) => patient_with_error(&state, &ctx, id, e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "access_log.html")]
struct AccessLogTemplate {
    t: Tr,
    c: Chrome,
    patient: tsunagu_app::patients::PatientView,
    events: Vec<tsunagu_app::patients::AccessView>,
}

pub(crate) async fn access_log(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let (patient, events) = state.app.access_history(session, id, &ctx.meta).await?;
    Ok(AccessLogTemplate { t: ctx.t, c: ctx.chrome(None), patient, events }.into_response())
}

pub(crate) async fn attachment(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let (content_type, file_name, bytes) = state.app.attachment(session, id, &ctx.meta).await?;
    // Images show inline; PDFs download, so no document renders in our origin.
    let disposition = if content_type.starts_with("image/") { "inline" } else { "attachment" };
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (axum::http::header::CONTENT_DISPOSITION, format!("{disposition}; filename*=UTF-8''{encoded}")),
            (axum::http::header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "colleague_options.html")]
struct ColleagueOptions {
    t: Tr,
    found: Vec<Colleague>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ColleagueQuery {
    /// What has been typed into the team form's member field (or a group's).
    #[serde(alias = "login_id", alias = "coordinator")]
    member: String,
}

/// The member picker's suggestions (an htmx fragment of `<option>`s): a
/// search, so that a city with thousands of professionals never sends them all.
pub(crate) async fn colleagues(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ColleagueQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let found = state.app.colleagues(session, &q.member).await?;
    Ok(ColleagueOptions { t: ctx.t, found }.into_response())
}
