//! The rest of the care-team use cases as JSON: registering a patient,
//! consent, the team, status and outcome, the advance care plan, an entry's
//! history, corrections, acknowledgements and notifications. Each handler
//! parses, calls the same use case as the page does, and shapes the answer.

use super::{ApiError, Created, Entry, JsonBody, Patient, Vitals, failed, parse_uuid, rfc3339, session, writer};
use crate::AppState;
use crate::context::Ctx;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use tsunagu_app::patients::{AcpView, ConsentForm, parse_entry};
use tsunagu_domain::ids::{EntryId, PatientId};
use tsunagu_domain::patient::{AdvanceCarePlanForm, PatientForm};
use utoipa::ToSchema;
use uuid::Uuid;

/// A new patient, and the registering professional's role on the team.
/// A patient's details, as a registration and a hospital's discharge request send them.
#[derive(Deserialize, Serialize, Default, ToSchema)]
#[serde(default)]
pub struct PatientDetailsBody {
    #[schema(required = true)]
    pub family_name: String,
    #[schema(required = true)]
    pub given_name: String,
    /// Katakana or hiragana.
    #[schema(required = true)]
    pub family_name_kana: String,
    #[schema(required = true)]
    pub given_name_kana: String,
    /// YYYY-MM-DD
    #[schema(required = true, example = "1938-04-01")]
    pub birth_date: String,
    /// female, male or other
    #[schema(required = true, schema_with = super::codes::sex)]
    pub sex: String,
    #[schema(required = true)]
    pub address: String,
    pub daily_living_area: String,
    pub phone: String,
    pub key_person: String,
    pub key_person_phone: String,
    /// none, applying, support_1, support_2, care_1 ... care_5
    #[schema(required = true, schema_with = super::codes::care_level)]
    pub care_level: String,
    pub main_diagnoses: String,
    pub allergies: String,
    /// home_oxygen, gastrostomy, ventilator, pressure_ulcer, opioid_pain_management, ...
    #[schema(schema_with = super::codes::special_care)]
    pub special_care: Vec<String>,
}

impl PatientDetailsBody {
    /// The fields as the domain parses them.
    pub fn form(&self) -> PatientForm<'_> {
        PatientForm {
            family_name: &self.family_name,
            given_name: &self.given_name,
            family_name_kana: &self.family_name_kana,
            given_name_kana: &self.given_name_kana,
            birth_date: &self.birth_date,
            sex: &self.sex,
            address: &self.address,
            daily_living_area: &self.daily_living_area,
            phone: &self.phone,
            key_person: &self.key_person,
            key_person_phone: &self.key_person_phone,
            care_level: &self.care_level,
            main_diagnoses: &self.main_diagnoses,
            allergies: &self.allergies,
            special_care: self.special_care.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct NewPatient {
    #[serde(flatten)]
    pub details: PatientDetailsBody,
    /// The registering professional's team role (visiting_nurse, primary_physician, ...).
    #[schema(required = true, schema_with = super::codes::team_role)]
    pub team_role: String,
}

/// Registers a patient; the caller becomes the first team member. Nobody else
/// sees the patient until consent is recorded.
#[utoipa::path(post, path = "/api/v1/patients", request_body = NewPatient,
    responses((status = 201, body = Patient), (status = 422, body = ApiError), (status = 403, body = ApiError)))]
pub(crate) async fn register_patient(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    JsonBody(p): JsonBody<NewPatient>,
) -> Result<(StatusCode, Json<Patient>), ApiError> {
    let s = writer(&ctx, &headers)?;
    let form = p.details.form();
    let view = state.app.register_patient(s, &form, &p.team_role, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok((StatusCode::CREATED, Json((&view).into())))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct NewConsent {
    /// YYYY-MM-DD
    #[schema(required = true, example = "2026-11-01")]
    pub given_on: String,
    /// written or verbal
    #[schema(required = true, schema_with = super::codes::consent_method)]
    pub method: String,
    /// When a proxy consented: their name and relation.
    pub proxy_name: String,
    pub proxy_relation: String,
    #[schema(required = true)]
    pub scope: String,
}

/// Records the patient's consent to sharing within the team.
#[utoipa::path(post, path = "/api/v1/patients/{patient}/consent", params(("patient" = Uuid, Path)), request_body = NewConsent,
    responses((status = 204), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn record_consent(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(patient): Path<String>,
    JsonBody(c): JsonBody<NewConsent>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let patient = parse_uuid(&ctx, &patient)?;
    let form = ConsentForm {
        given_on: &c.given_on,
        method: &c.method,
        proxy_name: &c.proxy_name,
        proxy_relation: &c.proxy_relation,
        scope: &c.scope,
    };
    state.app.record_consent(s, PatientId(patient), &form, None, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct Withdrawal {
    #[schema(required = true)]
    pub reason: String,
}

/// Records the withdrawal of consent: sharing stops at once and the record becomes read-only.
#[utoipa::path(post, path = "/api/v1/patients/{patient}/consent/withdrawal", params(("patient" = Uuid, Path)),
    request_body = Withdrawal, responses((status = 204), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn withdraw_consent(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(patient): Path<String>,
    JsonBody(w): JsonBody<Withdrawal>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let patient = parse_uuid(&ctx, &patient)?;
    state.app.withdraw_consent(s, PatientId(patient), &w.reason, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct NewTeamMember {
    /// The colleague's login id (same municipality).
    #[schema(required = true)]
    pub login_id: String,
    /// primary_physician, visiting_nurse, care_manager, pharmacist, ...
    #[schema(required = true, schema_with = super::codes::team_role)]
    pub team_role: String,
}

/// Adds a colleague to the care team.
#[utoipa::path(post, path = "/api/v1/patients/{patient}/team", params(("patient" = Uuid, Path)), request_body = NewTeamMember,
    responses((status = 204), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn add_team_member(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(patient): Path<String>,
    JsonBody(m): JsonBody<NewTeamMember>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let patient = parse_uuid(&ctx, &patient)?;
    state
        .app
        .add_team_member(s, PatientId(patient), &m.login_id, &m.team_role, &ctx.meta)
        .await
        .map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends a team membership (one's own: leaving the team).
#[utoipa::path(post, path = "/api/v1/patients/{patient}/team/{membership}/removal",
    params(("patient" = Uuid, Path), ("membership" = Uuid, Path)),
    responses((status = 204), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn remove_team_member(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((patient, membership)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let (patient, membership) = (parse_uuid(&ctx, &patient)?, parse_uuid(&ctx, &membership)?);
    state.app.remove_team_member(s, PatientId(patient), membership, true, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct StatusChange {
    /// at_home, in_hospital, in_facility or ended
    #[schema(required = true, schema_with = super::codes::patient_status)]
    pub status: String,
    /// When ended: home_death, hospital_death, facility, moved, ...
    #[schema(schema_with = super::codes::outcome)]
    pub outcome: String,
    /// YYYY-MM-DD, when ended.
    pub outcome_date: String,
}

/// Changes where the patient is (at home, in hospital, ...) or ends care with its outcome.
#[utoipa::path(post, path = "/api/v1/patients/{patient}/status", params(("patient" = Uuid, Path)), request_body = StatusChange,
    responses((status = 204), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn change_status(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(patient): Path<String>,
    JsonBody(c): JsonBody<StatusChange>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let patient = parse_uuid(&ctx, &patient)?;
    state
        .app
        .change_patient_status(s, PatientId(patient), &c.status, &c.outcome, &c.outcome_date, &ctx.meta)
        .await
        .map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

/// One revision of the advance care plan (人生会議).
#[derive(Serialize, Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct AdvanceCarePlan {
    /// YYYY-MM-DD
    #[schema(required = true, example = "2026-11-20")]
    pub discussed_on: String,
    #[schema(required = true)]
    pub participants: String,
    /// home, hospital, facility, undecided
    #[schema(required = true, schema_with = super::codes::place)]
    pub place_of_care: String,
    #[schema(required = true, schema_with = super::codes::place)]
    pub place_of_death: String,
    /// full_treatment, limited, comfort_only, undecided
    #[schema(required = true, schema_with = super::codes::treatment)]
    pub treatment: String,
    pub proxy_name: String,
    pub proxy_relation: String,
    pub wishes: String,
    /// Read only: who recorded it and when (RFC 3339).
    pub recorder_name: String,
    pub recorded_at: String,
}

impl AdvanceCarePlan {
    /// The body as the domain's form (what the handler and the fuzz target parse).
    pub fn form(&self) -> AdvanceCarePlanForm<'_> {
        AdvanceCarePlanForm {
            discussed_on: &self.discussed_on,
            participants: &self.participants,
            place_of_care: &self.place_of_care,
            place_of_death: &self.place_of_death,
            treatment: &self.treatment,
            proxy_name: &self.proxy_name,
            proxy_relation: &self.proxy_relation,
            wishes: &self.wishes,
        }
    }
}

impl From<&AcpView> for AdvanceCarePlan {
    fn from(a: &AcpView) -> Self {
        Self {
            discussed_on: a.discussed_on.to_string(),
            participants: a.participants.clone(),
            place_of_care: a.place_of_care.map(|p| p.code().to_owned()).unwrap_or_default(),
            place_of_death: a.place_of_death.map(|p| p.code().to_owned()).unwrap_or_default(),
            treatment: a.treatment.map(|t| t.code().to_owned()).unwrap_or_default(),
            proxy_name: a.proxy_name.clone().unwrap_or_default(),
            proxy_relation: a.proxy_relation.clone().unwrap_or_default(),
            wishes: a.wishes.clone().unwrap_or_default(),
            recorder_name: a.recorder_name.clone(),
            recorded_at: rfc3339(a.recorded_at),
        }
    }
}

/// Every revision of the advance care plan, newest first (audited).
#[utoipa::path(get, path = "/api/v1/patients/{patient}/acp", params(("patient" = Uuid, Path)),
    responses((status = 200, body = Vec<AdvanceCarePlan>), (status = 404, body = ApiError)))]
pub(crate) async fn acp_history(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(patient): Path<String>,
) -> Result<Json<Vec<AdvanceCarePlan>>, ApiError> {
    let s = session(&ctx)?;
    let patient = parse_uuid(&ctx, &patient)?;
    let (_, revisions) = state.app.acp_history(s, PatientId(patient), &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(Json(revisions.iter().map(Into::into).collect()))
}

/// Records a new revision of the advance care plan; earlier ones stay.
#[utoipa::path(post, path = "/api/v1/patients/{patient}/acp", params(("patient" = Uuid, Path)), request_body = AdvanceCarePlan,
    responses((status = 204), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn record_acp(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(patient): Path<String>,
    JsonBody(a): JsonBody<AdvanceCarePlan>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let patient = parse_uuid(&ctx, &patient)?;
    let form = a.form();
    state.app.record_acp(s, PatientId(patient), &form, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub(crate) struct EntryVersion {
    version: i64,
    body: String,
    vitals: Vitals,
    editor_name: String,
    /// RFC 3339
    edited_at: String,
    /// Why it was corrected (none for the first version).
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Receipt {
    name: String,
    /// RFC 3339
    at: String,
}

/// An entry with every version and who has read and acknowledged it.
#[derive(Serialize, ToSchema)]
pub(crate) struct EntryHistory {
    patient_id: Uuid,
    entry: Entry,
    /// Newest first.
    versions: Vec<EntryVersion>,
    reads: Vec<Receipt>,
    acknowledgements: Vec<Receipt>,
}

/// An entry's history (audited).
#[utoipa::path(get, path = "/api/v1/entries/{entry}", params(("entry" = Uuid, Path)),
    responses((status = 200, body = EntryHistory), (status = 404, body = ApiError)))]
pub(crate) async fn entry_detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(entry): Path<String>,
) -> Result<Json<EntryHistory>, ApiError> {
    let s = session(&ctx)?;
    let entry = parse_uuid(&ctx, &entry)?;
    let d = state.app.entry_detail(s, EntryId(entry), &ctx.meta).await.map_err(failed(&ctx))?;
    let receipts = |list: &[(String, time::OffsetDateTime)]| {
        list.iter().map(|(n, at)| Receipt { name: n.clone(), at: rfc3339(*at) }).collect()
    };
    Ok(Json(EntryHistory {
        patient_id: d.patient_id,
        entry: (&d.entry).into(),
        versions: d
            .versions
            .iter()
            .map(|v| EntryVersion {
                version: v.version,
                body: v.body.clone(),
                vitals: Vitals::of(&v.vitals),
                editor_name: v.editor_name.clone(),
                edited_at: rfc3339(v.edited_at),
                reason: v.reason.clone(),
            })
            .collect(),
        reads: receipts(&d.reads),
        acknowledgements: receipts(&d.acknowledgements),
    }))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct Correction {
    /// The entry's kind (a correction cannot change it).
    #[schema(required = true, schema_with = super::codes::entry_kind)]
    pub kind: String,
    pub body: String,
    pub vitals: Vitals,
    pub needs_reply: bool,
    /// Why it is corrected.
    #[schema(required = true)]
    pub reason: String,
}

/// Corrects an entry: a new version; the earlier ones stay visible.
#[utoipa::path(post, path = "/api/v1/entries/{entry}/corrections", params(("entry" = Uuid, Path)), request_body = Correction,
    responses((status = 201, body = Created), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn correct_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(entry): Path<String>,
    JsonBody(c): JsonBody<Correction>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let s = writer(&ctx, &headers)?;
    let entry = parse_uuid(&ctx, &entry)?;
    let texts = c.vitals.texts();
    let draft = parse_entry(&c.kind, &c.body, &Vitals::form(&texts), c.needs_reply).map_err(failed(&ctx))?;
    let id = state.app.correct_entry(s, EntryId(entry), &draft, &c.reason, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Acknowledges an urgent entry (急変を確認).
#[utoipa::path(post, path = "/api/v1/entries/{entry}/acknowledgement", params(("entry" = Uuid, Path)),
    responses((status = 204), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn acknowledge_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(entry): Path<String>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let entry = parse_uuid(&ctx, &entry)?;
    state.app.acknowledge_entry(s, EntryId(entry), &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Notification {
    patient_id: Uuid,
    entry_id: Option<Uuid>,
    /// mention, urgent or team_added
    kind: String,
    /// RFC 3339
    created_at: String,
    actor_name: String,
    patient_name: String,
}

/// Unread notifications, newest first (reading the patient marks them read).
#[utoipa::path(get, path = "/api/v1/notifications",
    responses((status = 200, body = Vec<Notification>), (status = 401, body = ApiError)))]
pub(crate) async fn notifications(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<Notification>>, ApiError> {
    let s = session(&ctx)?;
    let list = state.app.notifications(s).await.map_err(failed(&ctx))?;
    Ok(Json(
        list.into_iter()
            .map(|n| Notification {
                patient_id: n.patient_id,
                entry_id: n.entry_id,
                kind: n.kind,
                created_at: rfc3339(n.created_at),
                actor_name: n.actor_name,
                patient_name: n.patient_name,
            })
            .collect(),
    ))
}
