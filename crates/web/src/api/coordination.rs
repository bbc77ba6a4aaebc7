//! The coordination centre as JSON: the desk's cases, discharge requests
//! from hospitals, the candidates' requests and answers, the report. Each
//! handler calls the same use case as the pages.

use super::{ApiError, Created, JsonBody, failed, rfc3339, session, writer};
use crate::AppState;
use crate::context::Ctx;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use tsunagu_app::coordination::{CaseLine, TeamCreationForm};
use tsunagu_domain::coordination::{Answer, ConsultationForm, HandoverForm};
use tsunagu_domain::ids::{AccountId, CandidateRequestId, CaseId, FacilityId};
use tsunagu_domain::public_pages::FiscalYear;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

fn case_id(ctx: &Ctx, raw: &str) -> Result<CaseId, ApiError> {
    raw.parse().map_err(|_| ApiError::from_app(tsunagu_app::AppError::NotFound, ctx))
}

/// A case in the desk's queue.
#[derive(Serialize, ToSchema)]
pub(crate) struct CaseSummary {
    id: Uuid,
    /// consultation or discharge
    kind: String,
    /// new, in_progress, coordinating or closed
    state: String,
    /// phone, visit, email, web_form or discharge_request
    channel: String,
    requester_kind: String,
    requester_name: String,
    subject: Option<String>,
    /// routine, soon or today
    urgency: String,
    topics: Vec<String>,
    created_at: String,
    first_response_at: Option<String>,
    assignee: Option<String>,
    open_tasks: i64,
    overdue: bool,
    planned_discharge_on: Option<String>,
    team_completed_at: Option<String>,
    outcome: Option<String>,
    closed_at: Option<String>,
}

impl From<&CaseLine> for CaseSummary {
    fn from(l: &CaseLine) -> Self {
        Self {
            id: l.id.0,
            kind: l.kind.code().to_owned(),
            state: l.state.code().to_owned(),
            channel: l.channel.code().to_owned(),
            requester_kind: l.requester_kind.code().to_owned(),
            requester_name: l.requester_name.clone(),
            subject: l.subject.clone(),
            urgency: l.urgency.code().to_owned(),
            topics: l.topics.iter().map(|t| t.code.clone()).collect(),
            created_at: rfc3339(l.created_at),
            first_response_at: l.first_response_at.map(rfc3339),
            assignee: l.assignee_name.clone(),
            open_tasks: l.open_tasks,
            overdue: l.overdue,
            planned_discharge_on: l.planned_discharge_on.map(|d| d.to_string()),
            team_completed_at: l.team_completed_at.map(rfc3339),
            outcome: l.outcome.map(|o| o.code().to_owned()),
            closed_at: l.closed_at.map(rfc3339),
        }
    }
}

/// The desk's open cases, oldest first (the centre's coordinators only).
#[utoipa::path(get, path = "/api/v1/centre/cases",
    responses((status = 200, body = [CaseSummary]), (status = 403, body = ApiError)))]
pub(crate) async fn desk_cases(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Vec<CaseSummary>>, ApiError> {
    let s = session(&ctx)?;
    let desk = state.app.desk(s, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(Json(desk.open.iter().map(CaseSummary::from).collect()))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct NewConsultation {
    /// phone, visit or email
    #[schema(required = true)]
    pub channel: String,
    /// patient, family, hospital, professional or other
    #[schema(required = true)]
    pub requester_kind: String,
    #[schema(required = true)]
    pub requester_name: String,
    pub requester_contact: String,
    pub subject_name: String,
    pub subject_area: String,
    /// find_home_doctor, care_services, after_discharge, end_of_life, dementia, costs, other
    #[schema(required = true)]
    pub topics: Vec<String>,
    /// routine (default), soon or today
    pub urgency: String,
    #[schema(required = true)]
    pub summary: String,
}

/// Records a consultation taken by the desk (it is answered as it is recorded).
#[utoipa::path(post, path = "/api/v1/centre/cases", request_body = NewConsultation,
    responses((status = 201, body = Created), (status = 422, body = ApiError), (status = 403, body = ApiError)))]
pub(crate) async fn record_consultation(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    JsonBody(c): JsonBody<NewConsultation>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let s = writer(&ctx, &headers)?;
    let form = ConsultationForm {
        channel: &c.channel,
        requester_kind: &c.requester_kind,
        requester_name: &c.requester_name,
        requester_contact: &c.requester_contact,
        subject_name: &c.subject_name,
        subject_area: &c.subject_area,
        topics: c.topics.iter().map(String::as_str).collect(),
        urgency: &c.urgency,
        summary: &c.summary,
    };
    let id = state.app.record_consultation(s, &form, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Task {
    id: Uuid,
    title: String,
    due_on: Option<String>,
    done_at: Option<String>,
    overdue: bool,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct LogLine {
    /// phone, visit, email, note or state
    kind: String,
    note: String,
    writer: Option<String>,
    at: String,
}

/// A request to a candidate facility and its answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct CandidateRequest {
    id: Uuid,
    facility_id: Uuid,
    facility_name: String,
    /// waiting, accepted, declined or no_answer
    answer: String,
    /// The reason of a decline.
    reason: Option<String>,
    due_at: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Seat {
    /// primary_physician, visiting_nurse, care_manager or pharmacist
    seat: String,
    required: bool,
    requests: Vec<CandidateRequest>,
    filled_by: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RuleCheck {
    item: String,
    provider: Option<String>,
    due_on: String,
    present: bool,
    overdue: bool,
}

/// A case with everything the desk works with.
#[derive(Serialize, ToSchema)]
pub(crate) struct CaseDetail {
    case: CaseSummary,
    summary: String,
    requester_contact: Option<String>,
    tasks: Vec<Task>,
    log: Vec<LogLine>,
    /// The team being found (discharge requests).
    seats: Vec<Seat>,
    /// The patient created from the case.
    patient: Option<Uuid>,
    rule_checks: Vec<RuleCheck>,
    /// RFC 3339: the pre-discharge conference.
    conference_at: Option<String>,
}

fn answer_code(a: Answer) -> (String, Option<String>) {
    match a {
        Answer::Waiting => ("waiting".into(), None),
        Answer::Accepted => ("accepted".into(), None),
        Answer::Declined(r) => ("declined".into(), Some(r.code().to_owned())),
        Answer::NoAnswer => ("no_answer".into(), None),
    }
}

/// A case, audited as a read (the centre's coordinators only).
#[utoipa::path(get, path = "/api/v1/centre/cases/{case}", params(("case" = Uuid, Path)),
    responses((status = 200, body = CaseDetail), (status = 404, body = ApiError)))]
pub(crate) async fn case_detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(case): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    let s = session(&ctx)?;
    let case = case_id(&ctx, &case)?;
    let p = state.app.case_page(s, case, &ctx.meta).await.map_err(failed(&ctx))?;
    let seats = p
        .team
        .as_ref()
        .map(|t| {
            t.seats
                .iter()
                .map(|s| Seat {
                    seat: s.seat.code().to_owned(),
                    required: s.required,
                    filled_by: s.filled_by.as_ref().map(|f| f.facility.0),
                    requests: s
                        .requests
                        .iter()
                        .map(|r| {
                            let (answer, reason) = answer_code(r.answer);
                            CandidateRequest {
                                id: r.id.0,
                                facility_id: r.facility.0,
                                facility_name: r.facility_name.clone(),
                                answer,
                                reason,
                                due_at: rfc3339(r.due_at),
                            }
                        })
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(CaseDetail {
        case: CaseSummary::from(&p.line),
        summary: p.summary.clone(),
        requester_contact: p.requester_contact.clone(),
        tasks: p
            .tasks
            .iter()
            .map(|t| Task {
                id: t.id,
                title: t.title.clone(),
                due_on: t.due_on.map(|d| d.to_string()),
                done_at: t.done_at.map(rfc3339),
                overdue: t.overdue,
            })
            .collect(),
        log: p
            .log
            .iter()
            .map(|l| LogLine {
                kind: l.kind.code().to_owned(),
                note: l.note.clone(),
                writer: l.writer.clone(),
                at: rfc3339(l.at),
            })
            .collect(),
        seats,
        patient: p.team.as_ref().and_then(|t| t.patient.map(|p| p.0)),
        rule_checks: p
            .rule_checks
            .iter()
            .map(|r| RuleCheck {
                item: r.item.code().to_owned(),
                provider: r.provider.map(|p| p.code().to_owned()),
                due_on: r.due_on.to_string(),
                present: r.present,
                overdue: r.overdue,
            })
            .collect(),
        conference_at: p.conference.as_ref().map(|c| rfc3339(c.starts_at)),
    }))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct CaseChange {
    /// What changes: state, log, task, close or assign (its fields below).
    #[schema(required = true)]
    pub change: String,
    /// A new state (in_progress or coordinating; a closed case reopens as in_progress).
    pub state: Option<String>,
    /// A line of the contact log: phone, visit, email or note, with its note.
    pub log_kind: Option<String>,
    pub log_note: Option<String>,
    /// A new task, with an optional due date (YYYY-MM-DD).
    pub task: Option<String>,
    pub task_due_on: Option<String>,
    /// Closing: the outcome, and a note (required while tasks are open).
    pub outcome: Option<String>,
    pub closing_note: Option<String>,
    /// Gives the case to a coordinator (empty: nobody).
    pub assignee: Option<String>,
}

/// Changes a case: one of state, log line, task, closing or assignee per call.
#[utoipa::path(post, path = "/api/v1/centre/cases/{case}/changes", params(("case" = Uuid, Path)), request_body = CaseChange,
    responses((status = 204), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn change_case(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(case): Path<String>,
    JsonBody(c): JsonBody<CaseChange>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let case = case_id(&ctx, &case)?;
    let app = &state.app;
    let meta = &ctx.meta;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let result = match c.change.as_str() {
        "state" => app.change_case_state(s, case, &text(&c.state), meta).await,
        "log" => app.log_case_contact(s, case, &text(&c.log_kind), &text(&c.log_note), meta).await,
        "task" => app.add_case_task(s, case, &text(&c.task), &text(&c.task_due_on), meta).await,
        "close" => app.close_case(s, case, &text(&c.outcome), &text(&c.closing_note), meta).await,
        "assign" => {
            let assignee = match text(&c.assignee).trim() {
                "" => None,
                raw => Some(raw.parse::<AccountId>().map_err(|e| failed(&ctx)(e.into()))?),
            };
            app.assign_case(s, case, assignee, meta).await
        }
        "" => Err(tsunagu_domain::ValidationError::new("change", "required").into()),
        _ => Err(tsunagu_domain::ValidationError::new("change", "unknown").into()),
    };
    result.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct CandidatesToAsk {
    /// primary_physician, visiting_nurse, care_manager or pharmacist
    #[schema(required = true)]
    pub seat: String,
    /// Facilities of the municipality's registry, asked at once.
    #[schema(required = true)]
    pub facilities: Vec<Uuid>,
}

/// Asks candidate facilities for a seat of a discharge case's future team.
#[utoipa::path(post, path = "/api/v1/centre/cases/{case}/candidates", params(("case" = Uuid, Path)), request_body = CandidatesToAsk,
    responses((status = 204), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn ask_candidates(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(case): Path<String>,
    JsonBody(c): JsonBody<CandidatesToAsk>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let case = case_id(&ctx, &case)?;
    let facilities: Vec<FacilityId> = c.facilities.iter().copied().map(FacilityId).collect();
    state.app.ask_candidates(s, case, &c.seat, &facilities, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct TeamCreation {
    /// YYYY-MM-DD
    #[schema(required = true)]
    pub given_on: String,
    /// written or verbal
    #[schema(required = true)]
    pub method: String,
    pub proxy_name: String,
    pub proxy_relation: String,
    pub scope: String,
    /// An account of the home doctor's physician group.
    pub backup_physician: String,
}

/// Creates the patient, records consent and creates the care team from the accepted candidates.
#[utoipa::path(post, path = "/api/v1/centre/cases/{case}/team", params(("case" = Uuid, Path)), request_body = TeamCreation,
    responses((status = 201, body = Created, description = "The patient's id"), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn create_team(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(case): Path<String>,
    JsonBody(c): JsonBody<TeamCreation>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let s = writer(&ctx, &headers)?;
    let case = case_id(&ctx, &case)?;
    let form = TeamCreationForm {
        given_on: &c.given_on,
        method: &c.method,
        proxy_name: &c.proxy_name,
        proxy_relation: &c.proxy_relation,
        scope: &c.scope,
        backup_physician: &c.backup_physician,
    };
    let patient = state.app.create_team_from_case(s, case, &form, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok((StatusCode::CREATED, Json(Created { id: patient.0 })))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct NewDischargeRequest {
    /// The hospital the sender works at.
    #[schema(required = true)]
    pub hospital: Uuid,
    #[schema(required = true)]
    pub patient: super::PatientDetailsBody,
    /// YYYY-MM-DD
    #[schema(required = true)]
    pub planned_discharge_on: String,
    pub medications: String,
    pub adl: String,
    pub family_situation: String,
    pub family_care_skills: String,
    /// home, care_facility, hospital, palliative_care_unit or undecided
    pub place_of_care: String,
    pub place_of_death: String,
    /// Codes of the registry's services.
    pub needed_services: Vec<String>,
    pub note: String,
}

/// A hospital sends a discharge request: it lands at the centre as a case.
#[utoipa::path(post, path = "/api/v1/discharge-requests", request_body = NewDischargeRequest,
    responses((status = 201, body = Created), (status = 422, body = ApiError), (status = 403, body = ApiError)))]
pub(crate) async fn send_discharge_request(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    JsonBody(r): JsonBody<NewDischargeRequest>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let s = writer(&ctx, &headers)?;
    let patient = r.patient.form();
    let handover = HandoverForm {
        planned_discharge_on: &r.planned_discharge_on,
        medications: &r.medications,
        adl: &r.adl,
        family_situation: &r.family_situation,
        family_care_skills: &r.family_care_skills,
        place_of_care: &r.place_of_care,
        place_of_death: &r.place_of_death,
        needed_services: r.needed_services.iter().map(String::as_str).collect(),
        note: &r.note,
    };
    let id = state
        .app
        .send_discharge_request(s, FacilityId(r.hospital), &patient, &handover, &ctx.meta)
        .await
        .map_err(failed(&ctx))?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

/// A request of the centre to one of the caller's facilities.
#[derive(Serialize, ToSchema)]
pub(crate) struct InboxItem {
    id: Uuid,
    seat: String,
    facility_name: String,
    requested_at: String,
    due_at: String,
    due_soon: bool,
}

/// The centre's open requests to the caller's facilities (no patient data).
#[utoipa::path(get, path = "/api/v1/coordination-requests", responses((status = 200, body = [InboxItem])))]
pub(crate) async fn coordination_inbox(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<InboxItem>>, ApiError> {
    let s = session(&ctx)?;
    let items = state.app.coordination_inbox(s).await.map_err(failed(&ctx))?;
    Ok(Json(
        items
            .iter()
            .map(|i| InboxItem {
                id: i.id.0,
                seat: i.seat.code().to_owned(),
                facility_name: i.facility_name.clone(),
                requested_at: rfc3339(i.requested_at),
                due_at: rfc3339(i.due_at),
                due_soon: i.due_soon,
            })
            .collect(),
    ))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct CandidateAnswer {
    /// accept or decline
    #[schema(required = true)]
    pub answer: String,
    /// With a decline: no_capacity, out_of_area, care_not_provided, staffing or other.
    pub reason: String,
    pub note: String,
}

/// A candidate facility answers the centre's request.
#[utoipa::path(post, path = "/api/v1/coordination-requests/{request}/answer", params(("request" = Uuid, Path)),
    request_body = CandidateAnswer,
    responses((status = 204), (status = 422, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn answer_request(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(request): Path<String>,
    JsonBody(a): JsonBody<CandidateAnswer>,
) -> Result<StatusCode, ApiError> {
    let s = writer(&ctx, &headers)?;
    let request: CandidateRequestId =
        request.parse().map_err(|_| ApiError::from_app(tsunagu_app::AppError::NotFound, &ctx))?;
    state
        .app
        .answer_candidate_request(s, request, &a.answer, &a.reason, &a.note, &ctx.meta)
        .await
        .map_err(failed(&ctx))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, IntoParams)]
pub(crate) struct ReportQuery {
    /// The fiscal year (April to March) by its starting year; this one when absent.
    year: Option<i32>,
}

/// A count of one code.
#[derive(Serialize, ToSchema)]
pub(crate) struct Count {
    code: String,
    count: i64,
}

/// The desk's figures of a fiscal year.
#[derive(Serialize, ToSchema)]
pub(crate) struct Report {
    fiscal_year: i32,
    total: i64,
    open: i64,
    by_channel: Vec<Count>,
    by_requester: Vec<Count>,
    by_topic: Vec<Count>,
    by_outcome: Vec<Count>,
    first_response_hours: Option<f64>,
    days_to_team: Option<f64>,
    teams_created: i64,
    asked: i64,
    accepted: i64,
    /// Declines by reason ("no_answer" for requests left unanswered).
    declined: Vec<Count>,
}

fn counts<T: tsunagu_domain::text::Label>(c: &[(T, i64)]) -> Vec<Count> {
    c.iter().map(|(k, n)| Count { code: k.code().to_owned(), count: *n }).collect()
}

/// The desk's report for the council (counts only; the centre's coordinators).
#[utoipa::path(get, path = "/api/v1/centre/reports", params(ReportQuery),
    responses((status = 200, body = Report), (status = 403, body = ApiError)))]
pub(crate) async fn report(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReportQuery>,
) -> Result<Json<Report>, ApiError> {
    let s = session(&ctx)?;
    let year = match q.year {
        Some(y) if (2000..=2100).contains(&y) => FiscalYear(y),
        _ => FiscalYear::of(state.app.now().to_offset(tsunagu_domain::clock::JST).date()),
    };
    let r = state.app.case_report(s, year, &ctx.meta).await.map_err(failed(&ctx))?;
    Ok(Json(Report {
        fiscal_year: year.0,
        total: r.total,
        open: r.open,
        by_channel: counts(&r.by_channel),
        by_requester: counts(&r.by_requester),
        by_topic: r.by_topic.iter().map(|(t, n)| Count { code: t.code.clone(), count: *n }).collect(),
        by_outcome: counts(&r.by_outcome),
        first_response_hours: r.first_response_hours,
        days_to_team: r.days_to_team,
        teams_created: r.teams_created,
        asked: r.asked,
        accepted: r.accepted,
        declined: r
            .declined
            .iter()
            .map(|(k, n)| Count { code: k.map_or("no_answer", |r| r.code()).to_owned(), count: *n })
            .collect(),
    }))
}
