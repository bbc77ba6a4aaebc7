//! The JSON API (`/api/v1/...`), described by an OpenAPI 3.1 document generated
//! from these handlers and types (`/api/openapi.json`). It calls the same use
//! cases as the pages. Authentication is the signed-in session (cookie); a
//! state-changing call must also send the session's CSRF token in
//! `X-CSRF-Token`. (API clients with their own tokens come with the
//! interoperability work.)

mod backup;
pub mod bodies;
mod care;
mod codes;
mod coordination;
mod public;

pub(crate) use backup::*;
pub(crate) use care::*;
pub(crate) use coordination::*;
pub(crate) use public::{public_events, public_facilities, public_facilities_csv, public_figures};

use crate::AppState;
use crate::context::Ctx;
use crate::error::describe;
use axum::Json;
use axum::extract::{FromRequest, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tsunagu_app::patients::{EntryView, PatientSummary, PatientView, TimelineQuery, parse_entry};
use tsunagu_app::{AppError, Session};
use tsunagu_domain::care::VitalsForm;
use tsunagu_domain::ids::PatientId;
use tsunagu_domain::policy::ConsentState;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

/// An error: a stable `code` (with the `field` it concerns) and a message in the caller's language.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiError {
    code: String,
    field: Option<String>,
    message: String,
    #[serde(skip)]
    status: u16,
}

impl ApiError {
    pub(super) fn from_app(e: AppError, ctx: &Ctx) -> Self {
        let (status, message) = describe(&e, ctx.t);
        let (code, field) = match &e {
            AppError::Invalid(v) => (v.code.to_owned(), Some(v.field.to_owned())),
            AppError::Conflict { field } => ("conflict".to_owned(), Some((*field).to_owned())),
            AppError::NotFound => ("not_found".to_owned(), None),
            AppError::Forbidden => ("forbidden".to_owned(), None),
            AppError::Unauthenticated | AppError::SignInRefused => ("unauthenticated".to_owned(), None),
            AppError::Throttled => ("throttled".to_owned(), None),
            AppError::Store(_) | AppError::Internal(_) => ("internal".to_owned(), None),
        };
        Self { code, field, message, status: status.as_u16() }
    }

    fn simple(status: StatusCode, code: &str, message: &str) -> Self {
        Self { code: code.to_owned(), field: None, message: message.to_owned(), status: status.as_u16() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self)).into_response()
    }
}

pub(super) fn session(ctx: &Ctx) -> Result<&Session, ApiError> {
    match &ctx.session {
        Some(s) if s.stage == tsunagu_app::SessionStage::Full => Ok(s),
        _ => Err(ApiError::simple(StatusCode::UNAUTHORIZED, "unauthenticated", ctx.t.s("sign_in.expired"))),
    }
}

/// The caller of a state-changing endpoint: fully signed in, and sending the
/// session's CSRF token in `X-CSRF-Token`.
pub(super) fn writer<'a>(ctx: &'a Ctx, headers: &HeaderMap) -> Result<&'a Session, ApiError> {
    let s = session(ctx)?;
    check_csrf(ctx, headers)?;
    Ok(s)
}

/// Maps a use case's error to the API's error, in the caller's language.
pub(super) fn failed(ctx: &Ctx) -> impl Fn(AppError) -> ApiError + '_ {
    move |e| ApiError::from_app(e, ctx)
}

pub(super) fn check_csrf(ctx: &Ctx, headers: &HeaderMap) -> Result<(), ApiError> {
    let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    ctx.check_csrf(sent).map_err(|_| ApiError::simple(StatusCode::FORBIDDEN, "csrf", ctx.t.s("error.csrf")))
}

pub(super) fn parse_uuid(ctx: &Ctx, raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::from_app(AppError::NotFound, ctx))
}

pub(super) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// A JSON body whose rejection is an [`ApiError`] in the caller's language.
pub(crate) struct JsonBody<T>(pub(super) T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        // A stranger is told to sign in before anything about the body: the
        // body is not read (nor judged) for someone who may not send it.
        if crate::context::refuse_strangers(&request).is_err() {
            return Err(ApiError::simple(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in first"));
        }
        Json::<T>::from_request(request, state)
            .await
            .map(|Json(v)| JsonBody(v))
            .map_err(|e| ApiError::simple(StatusCode::UNPROCESSABLE_ENTITY, "malformed", &e.body_text()))
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Me {
    login_id: String,
    display_name: String,
    profession: String,
    roles: Vec<String>,
    municipality_id: Option<Uuid>,
    /// Send this in `X-CSRF-Token` with every POST.
    csrf_token: String,
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = ApiError)))]
pub(crate) async fn me(ctx: Ctx) -> Result<Json<Me>, ApiError> {
    let s = session(&ctx)?;
    Ok(Json(Me {
        login_id: s.account.login_id.clone(),
        display_name: s.account.display_name.clone(),
        profession: s.account.profession.code().to_owned(),
        roles: s.account.all_roles().iter().map(|r| r.code().to_owned()).collect(),
        municipality_id: s.account.municipality_id.map(|m| m.0),
        csrf_token: s.csrf_token.clone(),
    }))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Patient {
    id: Uuid,
    name: String,
    name_kana: String,
    /// YYYY-MM-DD
    birth_date: String,
    age: i32,
    sex: String,
    address: String,
    care_level: String,
    status: String,
    special_care: Vec<String>,
    main_diagnoses: Option<String>,
    allergies: Option<String>,
}

impl From<&PatientView> for Patient {
    fn from(p: &PatientView) -> Self {
        Self {
            id: p.id,
            name: p.name.clone(),
            name_kana: p.name_kana.clone(),
            birth_date: p.birth_date.to_string(),
            age: p.age,
            sex: p.sex.code().to_owned(),
            address: p.address.clone(),
            care_level: p.care_level.code().to_owned(),
            status: p.status.code().to_owned(),
            special_care: p.special_care.iter().map(|c| c.code().to_owned()).collect(),
            main_diagnoses: p.main_diagnoses.clone(),
            allergies: p.allergies.clone(),
        }
    }
}

pub(super) fn consent_code(c: ConsentState) -> &'static str {
    match c {
        ConsentState::Pending => "pending",
        ConsentState::Active => "active",
        ConsentState::Withdrawn => "withdrawn",
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PatientListItem {
    patient: Patient,
    /// pending, active or withdrawn
    consent: String,
    /// Entries by others not yet read, counted among the patient's newest 100
    /// (100 means 100 or more).
    unread: i64,
    urgent_unacknowledged: i64,
    needs_reply: i64,
}

impl From<&PatientSummary> for PatientListItem {
    fn from(s: &PatientSummary) -> Self {
        Self {
            patient: (&s.patient).into(),
            consent: consent_code(s.consent).to_owned(),
            unread: s.unread,
            urgent_unacknowledged: s.urgent_unacknowledged,
            needs_reply: s.needs_reply,
        }
    }
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(default)]
pub(crate) struct SearchQuery {
    /// Name or kana (width and katakana/hiragana folded), or text in entries.
    q: String,
    /// Entry kind filter (message, visit_record, vitals, ...).
    kind: String,
    /// Only entries by this author (account id); patient record only.
    author: String,
}

/// The signed-in person's patients, urgent and unread first.
#[utoipa::path(get, path = "/api/v1/patients", params(SearchQuery),
    responses((status = 200, body = Vec<PatientListItem>), (status = 401, body = ApiError)))]
pub(crate) async fn patients(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<PatientListItem>>, ApiError> {
    let s = session(&ctx)?;
    let list = state.app.my_patients(s, &q.q, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(Json(list.iter().map(Into::into).collect()))
}

#[derive(Serialize, Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct Vitals {
    pub temperature_c: Option<f64>,
    pub systolic: Option<u16>,
    pub diastolic: Option<u16>,
    pub pulse: Option<u16>,
    pub spo2: Option<u8>,
    pub respiratory_rate: Option<u16>,
    pub weight_kg: Option<f64>,
    pub blood_glucose: Option<u16>,
    pub pain: Option<u8>,
    pub bowel_movements: Option<u8>,
}

impl Vitals {
    /// The values as the form's text fields, so that the API validates exactly as the pages do.
    pub fn texts(&self) -> [String; 10] {
        [
            text(self.temperature_c),
            text(self.systolic),
            text(self.diastolic),
            text(self.pulse),
            text(self.spo2),
            text(self.respiratory_rate),
            text(self.weight_kg),
            text(self.blood_glucose),
            text(self.pain),
            text(self.bowel_movements),
        ]
    }

    pub fn form(t: &[String; 10]) -> VitalsForm<'_> {
        VitalsForm {
            temperature_c: &t[0],
            systolic: &t[1],
            diastolic: &t[2],
            pulse: &t[3],
            spo2: &t[4],
            respiratory_rate: &t[5],
            weight_kg: &t[6],
            blood_glucose: &t[7],
            pain: &t[8],
            bowel_movements: &t[9],
        }
    }

    pub(super) fn of(v: &tsunagu_domain::care::VitalSigns) -> Self {
        Self {
            temperature_c: v.temperature_c,
            systolic: v.systolic,
            diastolic: v.diastolic,
            pulse: v.pulse,
            spo2: v.spo2,
            respiratory_rate: v.respiratory_rate,
            weight_kg: v.weight_kg,
            blood_glucose: v.blood_glucose,
            pain: v.pain,
            bowel_movements: v.bowel_movements,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Entry {
    id: Uuid,
    kind: String,
    author_name: String,
    /// RFC 3339, UTC
    created_at: String,
    body: String,
    vitals: Vitals,
    corrected: bool,
    needs_reply: bool,
    /// team, family or physicians
    audience: String,
    reply_to: Option<Uuid>,
    read_count: i64,
    /// Whether this reader had not read it before this call.
    was_unread: bool,
    attachments: Vec<String>,
}

impl From<&EntryView> for Entry {
    fn from(e: &EntryView) -> Self {
        Self {
            id: e.id,
            kind: e.kind.code().to_owned(),
            author_name: e.author_name.clone(),
            created_at: rfc3339(e.created_at),
            body: e.body.clone(),
            vitals: Vitals::of(&e.vitals),
            corrected: e.corrected,
            needs_reply: e.needs_reply,
            audience: e.audience.code().to_owned(),
            reply_to: e.reply_to,
            read_count: e.read_count,
            was_unread: e.was_unread,
            attachments: e.attachments.iter().map(|a| format!("/attachments/{}", a.id)).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TeamMember {
    /// The membership (to remove it with `.../team/{membership}/removal`).
    membership_id: Uuid,
    display_name: String,
    /// Where they work, and its phone number.
    facility_name: Option<String>,
    phone: Option<String>,
    team_role: Option<String>,
    profession: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PatientRecord {
    patient: Patient,
    consent: String,
    team: Vec<TeamMember>,
    can_write: bool,
    /// The newest 50 entries the reader may see, newest first. Reading marks them read.
    timeline: Vec<Entry>,
}

/// A patient's record (access-checked and audited; marks the entries read).
#[utoipa::path(get, path = "/api/v1/patients/{patient}", params(("patient" = Uuid, Path), SearchQuery),
    responses((status = 200, body = PatientRecord), (status = 404, body = ApiError)))]
pub(crate) async fn patient(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<PatientRecord>, ApiError> {
    let s = session(&ctx)?;
    let id = parse_uuid(&ctx, &id)?;
    let p = state
        .app
        .patient_page(
            s,
            PatientId(id),
            &TimelineQuery { kind: &q.kind, text: &q.q, author: &q.author, ..TimelineQuery::default() },
            &ctx.meta,
        )
        .await
        .map_err(failed(&ctx))?;
    Ok(Json(PatientRecord {
        patient: (&p.patient).into(),
        consent: consent_code(p.consent_state).to_owned(),
        team: p
            .team
            .iter()
            .filter(|m| m.active)
            .map(|m| TeamMember {
                membership_id: m.membership_id,
                display_name: m.display_name.clone(),
                facility_name: m.facility_name.clone(),
                phone: m.phone.clone(),
                team_role: m.team_role.map(|r| r.code().to_owned()),
                profession: m.profession.map(|p| p.code().to_owned()),
            })
            .collect(),
        can_write: p.can_write,
        timeline: p.timeline.iter().map(Into::into).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewEntry {
    /// message, visit_record, vitals, medication_change, condition_change or urgent
    #[schema(required = true, schema_with = codes::entry_kind)]
    pub kind: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub vitals: Vitals,
    #[serde(default)]
    pub needs_reply: bool,
    /// team (default), family or physicians
    #[serde(default)]
    #[schema(schema_with = codes::audience)]
    pub audience: String,
    pub reply_to: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Created {
    pub(super) id: Uuid,
}

pub(super) fn text<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Posts to a patient's timeline; answers once it is durably committed.
#[utoipa::path(post, path = "/api/v1/patients/{patient}/entries", params(("patient" = Uuid, Path)), request_body = NewEntry,
    responses((status = 201, body = Created), (status = 422, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn post_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(new): JsonBody<NewEntry>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let s = writer(&ctx, &headers)?;
    let id = parse_uuid(&ctx, &id)?;
    let texts = new.vitals.texts();
    let draft = parse_entry(&new.kind, &new.body, &Vitals::form(&texts), new.needs_reply)
        .and_then(|d| d.for_audience(&new.audience, None).map_err(Into::into))
        .map_err(failed(&ctx))?;
    let entry =
        state.app.post_entry(s, PatientId(id), &draft, new.reply_to, &[], &ctx.meta).await.map_err(failed(&ctx))?;
    Ok((StatusCode::CREATED, Json(Created { id: entry })))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tsunagu",
        description = "Home medical and long-term care collaboration: the care-team information-sharing API."
    ),
    paths(
        me,
        patients,
        patient,
        post_entry,
        register_patient,
        record_consent,
        withdraw_consent,
        add_team_member,
        remove_team_member,
        change_status,
        acp_history,
        record_acp,
        entry_detail,
        correct_entry,
        acknowledge_entry,
        notifications,
        who_answers,
        raise_urgent_request,
        urgent_request,
        acknowledge_urgent_request,
        ask_hospitals,
        answer_as_hospital,
        record_urgent_outcome,
        record_absence,
        physician_group,
        save_roster,
        update_backup_beds,
        physician_groups,
        create_physician_group,
        add_group_member,
        my_absences,
        cancel_absence,
        desk_cases,
        record_consultation,
        case_detail,
        change_case,
        ask_candidates,
        create_team,
        send_discharge_request,
        coordination_inbox,
        answer_request,
        report,
        public::public_facilities,
        public::public_facilities_csv,
        public::public_figures,
        public::public_events
    ),
    modifiers(&CommonAnswers)
)]
pub(crate) struct ApiDoc;

/// The answers every signed-in operation can give, listed where they happen
/// rather than remembered per handler: 401 without a session; 403 on every
/// write (a missing or wrong `X-CSRF-Token`, or the policy) and on every read
/// the policy can deny; 404 wherever a path names something (unknown, or out
/// of the reader's sight); 422 wherever a body is validated.
struct CommonAnswers;

impl utoipa::Modify for CommonAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let answer = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ApiError"))).build(),
                )
                .build()
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            let names_something = path.contains('{');
            let operations =
                [(&mut item.get, false), (&mut item.post, true), (&mut item.put, true), (&mut item.delete, true)];
            for (operation, writes) in operations {
                let Some(op) = operation.as_mut() else { continue };
                let has_body = op.request_body.is_some();
                let responses = &mut op.responses.responses;
                let mut add = |status: &str, description: &str| {
                    responses.entry(status.to_owned()).or_insert_with(|| answer(description).into());
                };
                add("401", "Not signed in (or the session ended).");
                if writes {
                    add("403", "Refused: no valid X-CSRF-Token, or the access policy does not allow it.");
                }
                if names_something {
                    add("404", "Not found, or not visible to the caller.");
                }
                if has_body {
                    add("422", "The body is incomplete or invalid; nothing was changed.");
                }
            }
        }
    }
}

/// The OpenAPI 3.1 document, generated from the handlers above.
pub(crate) async fn openapi() -> Response {
    match ApiDoc::openapi().to_pretty_json() {
        Ok(json) => ([(axum::http::header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
