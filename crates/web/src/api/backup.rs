//! The backup system as JSON: who answers now, urgent requests and their
//! escalation, absences, a group's roster and coverage, backup beds. Each
//! handler calls the same use case as the pages.

use super::{ApiError, Created, JsonBody, failed, parse_uuid, rfc3339, session, writer};
use crate::AppState;
use crate::context::Ctx;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use tsunagu_app::on_call::{AbsenceForm, ResponderView};
use tsunagu_domain::ids::PatientId;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Someone to call.
#[derive(Serialize, ToSchema)]
pub(crate) struct Responder {
    /// primary, backup, on_call or hospital
    role: String,
    account_id: Option<Uuid>,
    facility_id: Option<Uuid>,
    name: String,
    place: Option<String>,
    phone: Option<String>,
    /// Free backup beds (hospitals).
    beds: Option<i64>,
}

impl From<&ResponderView> for Responder {
    fn from(r: &ResponderView) -> Self {
        Self {
            role: r.role.code().to_owned(),
            account_id: r.account_id,
            facility_id: r.facility_id,
            name: r.name.clone(),
            place: r.place.clone(),
            phone: r.phone.clone(),
            beds: r.beds,
        }
    }
}

/// A team physician who is away at that moment.
#[derive(Serialize, ToSchema)]
pub(crate) struct Away {
    name: String,
    /// conference, leave, night_away, illness or other
    reason: String,
    /// RFC 3339
    until: String,
}

/// Who answers for a patient at a moment, in order of calling.
#[derive(Serialize, ToSchema)]
pub(crate) struct WhoAnswers {
    /// RFC 3339
    at: String,
    responders: Vec<Responder>,
    away: Vec<Away>,
}

#[derive(Deserialize, Default, IntoParams)]
#[serde(default)]
pub(crate) struct AtQuery {
    /// RFC 3339; now when absent.
    at: String,
}

/// "Who answers now" (or at `at`): primary → backup → on call → backup hospitals, with phone numbers.
#[utoipa::path(get, path = "/api/v1/patients/{patient}/who-answers", params(("patient" = Uuid, Path), AtQuery),
    responses((status = 200, body = WhoAnswers), (status = 404, body = ApiError),
        (status = 403, description = "Family members: who answers (with physicians' numbers) is the professionals'", body = ApiError)))]
pub(crate) async fn who_answers(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(patient): Path<String>,
    Query(q): Query<AtQuery>,
) -> Result<Json<WhoAnswers>, ApiError> {
    let s = session(&ctx)?;
    let patient = parse_uuid(&ctx, &patient)?;
    let at = match q.at.trim() {
        "" => None,
        raw => Some(
            time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
                .map_err(|_| failed(&ctx)(tsunagu_domain::ValidationError::new("at", "format").into()))?,
        ),
    };
    let v = state.app.who_answers(s, PatientId(patient), at, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(Json(WhoAnswers {
        at: rfc3339(v.at),
        responders: v.responders.iter().map(Responder::from).collect(),
        away: v
            .away
            .iter()
            .map(|a| Away { name: a.name.clone(), reason: a.reason.code().to_owned(), until: rfc3339(a.until) })
            .collect(),
    }))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct NewUrgentRequest {
    /// urgent_visit or admission
    #[schema(required = true, schema_with = super::codes::request_kind)]
    pub kind: String,
    /// The situation.
    #[schema(required = true)]
    pub note: String,
}

/// Raises an urgent request (急変時の依頼): the responsible physician is called at once, then the chain.
#[utoipa::path(post, path = "/api/v1/patients/{patient}/urgent-requests", params(("patient" = Uuid, Path)),
    request_body = NewUrgentRequest,
    responses((status = 201, body = Created), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn raise_urgent_request(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(patient): Path<String>,
    JsonBody(r): JsonBody<NewUrgentRequest>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let s = writer(&ctx, &headers)?;
    let patient = parse_uuid(&ctx, &patient)?;
    let id = state
        .app
        .raise_urgent_request(s, PatientId(patient), &r.kind, &r.note, &ctx.meta)
        .await
        .map_err(failed(&ctx))?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// One step of an escalation.
#[derive(Serialize, ToSchema)]
pub(crate) struct Step {
    seq: i64,
    /// Absent for the end of the chain.
    responder: Option<Responder>,
    due_at: String,
    fired_at: Option<String>,
    /// acknowledged, accepted, declined, timed_out or cancelled
    answer: Option<String>,
    answered_at: Option<String>,
    answered_by: Option<String>,
    reason: Option<String>,
}

/// An urgent request and every step of its escalation.
#[derive(Serialize, ToSchema)]
pub(crate) struct UrgentRequest {
    id: Uuid,
    patient_id: Uuid,
    kind: String,
    /// open, acknowledged, accepted, unanswered or closed
    state: String,
    note: String,
    raised_by: String,
    raised_at: String,
    acknowledged_by: Option<String>,
    accepted_by_hospital: Option<String>,
    /// managed_at_home, admitted, died_at_home, withdrawn or other
    outcome: Option<String>,
    steps: Vec<Step>,
}

/// An urgent request (the team, and those it called while it is active); audited.
#[utoipa::path(get, path = "/api/v1/urgent-requests/{request}", params(("request" = Uuid, Path)),
    responses((status = 200, body = UrgentRequest), (status = 404, body = ApiError),
        (status = 403, description = "Family members: urgent requests are the professionals'", body = ApiError)))]
pub(crate) async fn urgent_request(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(request): Path<String>,
) -> Result<Json<UrgentRequest>, ApiError> {
    let s = session(&ctx)?;
    let id = parse_uuid(&ctx, &request)?;
    let p = state.app.urgent_request_page(s, id, &ctx.meta).await.map_err(failed(&ctx))?;
    let r = p.request;
    Ok(Json(UrgentRequest {
        id: r.id,
        patient_id: r.patient_id,
        kind: r.kind.code().to_owned(),
        state: r.state.code().to_owned(),
        note: r.note,
        raised_by: r.raised_by,
        raised_at: rfc3339(r.raised_at),
        acknowledged_by: r.acknowledged_by,
        accepted_by_hospital: r.accepted_by_hospital,
        outcome: r.outcome.map(|o| o.code().to_owned()),
        steps: p
            .steps
            .iter()
            .map(|s| Step {
                seq: s.seq,
                responder: s.responder.as_ref().map(Responder::from),
                due_at: rfc3339(s.due_at),
                fired_at: s.fired_at.map(rfc3339),
                answer: s.answer.map(|a| a.code().to_owned()),
                answered_at: s.answered_at.map(rfc3339),
                answered_by: s.answered_by.clone(),
                reason: s.reason.clone(),
            })
            .collect(),
    }))
}

/// A physician takes the request; the escalation stops.
#[utoipa::path(post, path = "/api/v1/urgent-requests/{request}/acknowledgement", params(("request" = Uuid, Path)),
    responses((status = 204), (status = 422, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn acknowledge_urgent_request(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(request): Path<String>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let id = parse_uuid(&ctx, &request)?;
    state.app.acknowledge_urgent_request(s, id, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Asks the backup hospitals now (the first is called at once).
#[utoipa::path(post, path = "/api/v1/urgent-requests/{request}/hospital-request", params(("request" = Uuid, Path)),
    responses((status = 204), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn ask_hospitals(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(request): Path<String>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let id = parse_uuid(&ctx, &request)?;
    state.app.ask_hospitals(s, id, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct HospitalAnswer {
    /// True to accept; false to decline (with a reason).
    #[schema(required = true)]
    pub accept: bool,
    /// Required when declining.
    pub reason: String,
}

/// A called hospital accepts (admits) or declines with a reason; a decline calls the next at once.
#[utoipa::path(post, path = "/api/v1/urgent-requests/{request}/hospital-answer", params(("request" = Uuid, Path)),
    request_body = HospitalAnswer,
    responses((status = 204), (status = 422, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn answer_as_hospital(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(request): Path<String>,
    JsonBody(a): JsonBody<HospitalAnswer>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let id = parse_uuid(&ctx, &request)?;
    state.app.answer_as_hospital(s, id, a.accept, &a.reason, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct UrgentOutcome {
    /// managed_at_home, admitted, died_at_home, withdrawn or other
    #[schema(required = true, schema_with = super::codes::request_outcome)]
    pub outcome: String,
    pub note: String,
}

/// Records how it ended and closes the request.
#[utoipa::path(post, path = "/api/v1/urgent-requests/{request}/outcome", params(("request" = Uuid, Path)),
    request_body = UrgentOutcome,
    responses((status = 204), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn record_urgent_outcome(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(request): Path<String>,
    JsonBody(o): JsonBody<UrgentOutcome>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let id = parse_uuid(&ctx, &request)?;
    state.app.record_urgent_outcome(s, id, &o.outcome, &o.note, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct NewAbsence {
    /// Empty: oneself; else a group member's account id (coordinators).
    pub physician: String,
    /// Tokyo local time, e.g. 2026-12-01T18:00
    #[schema(required = true, example = "2026-12-01T18:00")]
    pub starts_at: String,
    #[schema(required = true, example = "2026-12-02T09:00")]
    pub ends_at: String,
    /// conference, leave, night_away, illness or other
    #[schema(required = true, schema_with = super::codes::absence_reason)]
    pub reason: String,
    pub note: String,
}

/// Records an absence (学会・休暇・夜間不在 ...).
#[utoipa::path(post, path = "/api/v1/absences", request_body = NewAbsence,
    responses((status = 201, body = Created), (status = 422, body = ApiError), (status = 403, body = ApiError)))]
pub(crate) async fn record_absence(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    JsonBody(a): JsonBody<NewAbsence>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let s = writer(&ctx, &headers)?;
    let form = AbsenceForm {
        physician: &a.physician,
        starts_at: &a.starts_at,
        ends_at: &a.ends_at,
        reason: &a.reason,
        note: &a.note,
    };
    let id = state.app.record_absence(s, &form, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// One roster slot.
#[derive(Serialize, ToSchema)]
pub(crate) struct Slot {
    starts_at: String,
    ends_at: String,
    /// night or day_off
    kind: String,
    holiday: Option<String>,
    physician: Option<Uuid>,
    physician_name: Option<String>,
    /// hole, absent or not_in_group
    problem: Option<String>,
}

/// A coverage gap of the coming 30 days (no patient named).
#[derive(Serialize, ToSchema)]
pub(crate) struct Gap {
    starts_at: String,
    ends_at: String,
    patients: usize,
}

/// A physician group's month: roster, holes and conflicts, coverage gaps, load.
#[derive(Serialize, ToSchema)]
pub(crate) struct GroupMonth {
    id: Uuid,
    name: String,
    month: String,
    holes: usize,
    conflicts: usize,
    slots: Vec<Slot>,
    gaps: Vec<Gap>,
    /// (name, patients as primary, as backup, shifts this month)
    load: Vec<(String, usize, usize, usize)>,
}

#[derive(Deserialize, Default, IntoParams)]
#[serde(default)]
pub(crate) struct MonthParam {
    /// YYYY-MM; this month when absent.
    month: String,
}

/// A group's roster for a month, with its holes, conflicts, coverage gaps and each member's load.
#[utoipa::path(get, path = "/api/v1/physician-groups/{group}", params(("group" = Uuid, Path), MonthParam),
    responses((status = 200, body = GroupMonth), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn physician_group(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(group): Path<String>,
    Query(q): Query<MonthParam>,
) -> Result<Json<GroupMonth>, ApiError> {
    let s = session(&ctx)?;
    let id = parse_uuid(&ctx, &group)?;
    let g = state.app.group_page(s, id, &q.month).await.map_err(failed(&ctx))?;
    Ok(Json(GroupMonth {
        id: g.id,
        name: g.name,
        month: format!("{:04}-{:02}", g.year, u8::from(g.month)),
        holes: g.holes,
        conflicts: g.conflicts,
        slots: g
            .slots
            .iter()
            .map(|s| Slot {
                starts_at: rfc3339(s.start),
                ends_at: rfc3339(s.end),
                kind: s.kind.code().to_owned(),
                holiday: s.holiday.map(str::to_owned),
                physician: s.physician,
                physician_name: s.physician_name.clone(),
                problem: s.problem.map(str::to_owned),
            })
            .collect(),
        gaps: g
            .gaps
            .iter()
            .map(|x| Gap { starts_at: rfc3339(x.start), ends_at: rfc3339(x.end), patients: x.patients })
            .collect(),
        load: g.members.iter().map(|m| (m.name.clone(), m.as_primary, m.as_backup, m.shifts_this_month)).collect(),
    }))
}

/// Assignments for a month: slot start (RFC 3339) → member account id (null: nobody).
#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct RosterChange {
    /// YYYY-MM
    #[schema(required = true, example = "2026-12")]
    pub month: String,
    pub assignments: Vec<(String, Option<Uuid>)>,
    /// Then fill the remaining holes in turn among the members.
    pub fill: bool,
}

/// Saves a month's roster (the group's coordinator).
#[utoipa::path(post, path = "/api/v1/physician-groups/{group}/roster", params(("group" = Uuid, Path)),
    request_body = RosterChange,
    responses((status = 204), (status = 422, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn save_roster(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(group): Path<String>,
    JsonBody(r): JsonBody<RosterChange>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let id = parse_uuid(&ctx, &group)?;
    let mut assignments = Vec::with_capacity(r.assignments.len());
    for (start, physician) in &r.assignments {
        let at = time::OffsetDateTime::parse(start, &time::format_description::well_known::Rfc3339)
            .map_err(|_| failed(&ctx)(tsunagu_domain::ValidationError::new("slot", "unknown").into()))?;
        assignments.push((at.unix_timestamp(), *physician));
    }
    state.app.save_roster(s, id, &r.month, &assignments, r.fill, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct Beds {
    pub participates: bool,
    pub beds_available: i64,
    pub note: String,
}

/// A hospital's staff keep its backup beds current.
#[utoipa::path(put, path = "/api/v1/hospitals/{facility}/backup-beds", params(("facility" = Uuid, Path)),
    request_body = Beds,
    responses((status = 204), (status = 422, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn update_backup_beds(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(facility): Path<String>,
    JsonBody(b): JsonBody<Beds>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let id = parse_uuid(&ctx, &facility)?;
    let beds = b.beds_available.to_string();
    state.app.update_backup_beds(s, id, b.participates, &beds, &b.note, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A physician group, as listed.
#[derive(Serialize, ToSchema)]
pub(crate) struct GroupSummary {
    id: Uuid,
    name: String,
    area: String,
    coordinator: Option<String>,
    members: usize,
    /// Roster holes in the coming 30 days.
    holes: usize,
}

/// A hospital and its backup beds.
#[derive(Serialize, ToSchema)]
pub(crate) struct BackupHospital {
    facility_id: Uuid,
    name: String,
    phone: Option<String>,
    participates: bool,
    beds_available: i64,
    note: String,
    updated_at: Option<String>,
}

/// The municipality's backup system at a glance.
#[derive(Serialize, ToSchema)]
pub(crate) struct BackupOverview {
    groups: Vec<GroupSummary>,
    hospitals: Vec<BackupHospital>,
    clinics_in_groups: usize,
    physicians_in_groups: usize,
}

/// Physician groups (with roster holes in the next 30 days) and backup hospitals with their beds.
#[utoipa::path(get, path = "/api/v1/physician-groups",
    responses((status = 200, body = BackupOverview), (status = 401, body = ApiError)))]
pub(crate) async fn physician_groups(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<BackupOverview>, ApiError> {
    let s = session(&ctx)?;
    let o = state.app.backup_overview(s).await.map_err(failed(&ctx))?;
    Ok(Json(BackupOverview {
        groups: o
            .groups
            .into_iter()
            .map(|g| GroupSummary {
                id: g.id,
                name: g.name,
                area: g.area,
                coordinator: g.coordinator,
                members: g.members,
                holes: g.holes,
            })
            .collect(),
        hospitals: o
            .hospitals
            .into_iter()
            .map(|h| BackupHospital {
                facility_id: h.facility_id,
                name: h.name,
                phone: h.phone,
                participates: h.participates,
                beds_available: h.beds_available,
                note: h.note,
                updated_at: h.updated_at.map(rfc3339),
            })
            .collect(),
        clinics_in_groups: o.clinics_in_groups,
        physicians_in_groups: o.physicians_in_groups,
    }))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct NewGroup {
    #[schema(required = true)]
    pub name: String,
    pub area: String,
    /// The coordinator's login id (optional).
    pub coordinator: String,
}

/// Creates a physician group (municipality admins and the coordination centre).
#[utoipa::path(post, path = "/api/v1/physician-groups", request_body = NewGroup,
    responses((status = 201, body = Created), (status = 422, body = ApiError), (status = 403, body = ApiError)))]
pub(crate) async fn create_physician_group(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    JsonBody(g): JsonBody<NewGroup>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let s = writer(&ctx, &headers)?;
    let form = tsunagu_app::on_call::GroupForm { name: &g.name, area: &g.area, coordinator_login: &g.coordinator };
    let id = state.app.create_physician_group(s, &form, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct NewGroupMember {
    #[schema(required = true)]
    pub login_id: String,
    /// The number to call when on call (optional).
    pub phone: String,
}

/// Adds a physician to a group, or changes their on-call number (the coordinator).
#[utoipa::path(post, path = "/api/v1/physician-groups/{group}/members", params(("group" = Uuid, Path)),
    request_body = NewGroupMember,
    responses((status = 204), (status = 422, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn add_group_member(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(group): Path<String>,
    JsonBody(m): JsonBody<NewGroupMember>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let id = parse_uuid(&ctx, &group)?;
    state.app.add_group_member(s, id, &m.login_id, &m.phone, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

/// An absence as listed.
#[derive(Serialize, ToSchema)]
pub(crate) struct Absence {
    id: Uuid,
    starts_at: String,
    ends_at: String,
    reason: String,
    note: String,
    cancelled: bool,
}

/// One's own absences that have not ended.
#[utoipa::path(get, path = "/api/v1/absences",
    responses((status = 200, body = [Absence]), (status = 401, body = ApiError)))]
pub(crate) async fn my_absences(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Vec<Absence>>, ApiError> {
    let s = session(&ctx)?;
    let list = state.app.my_absences(s).await.map_err(failed(&ctx))?;
    Ok(Json(
        list.into_iter()
            .map(|a| Absence {
                id: a.id,
                starts_at: rfc3339(a.starts_at),
                ends_at: rfc3339(a.ends_at),
                reason: a.reason.code().to_owned(),
                note: a.note,
                cancelled: a.cancelled,
            })
            .collect(),
    ))
}

/// Cancels an absence (the physician, or a coordinator of one of their groups).
#[utoipa::path(post, path = "/api/v1/absences/{absence}/cancellation", params(("absence" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn cancel_absence(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(absence): Path<String>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let id = parse_uuid(&ctx, &absence)?;
    state.app.cancel_absence(s, id, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}
