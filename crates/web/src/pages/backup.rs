//! The backup system's pages: groups and rosters, absences, backup beds, and
//! urgent requests with their escalation.

use super::{Chrome, Id, NoticeQuery, parse_id};
use crate::AppState;
use crate::context::{Ctx, NoFields, Verified};
use crate::error::WebError;
use crate::i18n::Tr;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::HashMap;
use tsunagu_app::escalation::RequestPage;
use tsunagu_app::on_call::{AbsenceForm, AbsenceView, BackupOverview, GroupForm, GroupPage};
use tsunagu_domain::escalation::RequestOutcome;
use tsunagu_domain::ids::PatientId;
use tsunagu_domain::on_call::AbsenceReason;
use uuid::Uuid;

#[derive(Template, WebTemplate)]
#[template(path = "backup.html")]
struct BackupTemplate {
    t: Tr,
    c: Chrome,
    o: BackupOverview,
    /// The webhook's delivery record, for those who read the municipality's audit log.
    deliveries: Vec<tsunagu_app::escalation::DeliveryView>,
}

/// The overview with the delivery record when the reader may see it.
async fn backup_template(state: &AppState, ctx: &Ctx, c: Chrome) -> Result<BackupTemplate, WebError> {
    let session = ctx.signed_in()?;
    let o = state.app.backup_overview(session).await?;
    let deliveries = match state.app.webhook_deliveries(session).await {
        Ok(d) => d,
        Err(tsunagu_app::AppError::Forbidden | tsunagu_app::AppError::NotFound) => Vec::new(),
        Err(e) => return Err(ctx.fail(e)),
    };
    Ok(BackupTemplate { t: ctx.t, c, o, deliveries })
}

pub(crate) async fn overview(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    Ok(backup_template(&state, &ctx, ctx.chrome(q.notice.as_deref())).await?.into_response())
}

async fn overview_with_error(state: &AppState, ctx: &Ctx, e: tsunagu_app::AppError) -> Result<Response, WebError> {
    let (status, message) = ctx.form_error(e)?;
    let mut c = ctx.chrome(None);
    c.error = Some(message);
    Ok((status, backup_template(state, ctx, c).await?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct NewGroup {
    name: String,
    area: String,
    coordinator: String,
}

pub(crate) async fn create_group(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(f): Verified<NewGroup>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let form = GroupForm { name: &f.name, area: &f.area, coordinator_login: &f.coordinator };
    match state.app.create_physician_group(session, &form, &ctx.meta).await {
        Ok(id) => Ok(Redirect::to(&format!("/backup/groups/{id}?notice=created")).into_response()),
        Err(e) => overview_with_error(&state, &ctx, e).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct BedsForm {
    participates: String,
    beds_available: String,
    note: String,
}

pub(crate) async fn update_beds(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(hospital): Id<Uuid>,
    Verified(f): Verified<BedsForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let participates = f.participates == "on";
    match state.app.update_backup_beds(session, hospital, participates, &f.beds_available, &f.note, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to("/backup?notice=saved#hospitals").into_response()),
        Err(e) => overview_with_error(&state, &ctx, e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "group.html")]
struct GroupTemplate {
    t: Tr,
    c: Chrome,
    g: GroupPage,
    month: String,
    previous: String,
    next: String,
    reasons: &'static [AbsenceReason],
}

impl GroupTemplate {
    fn is(&self, slot: &Option<Uuid>, member: &Uuid) -> bool {
        slot.as_ref() == Some(member)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MonthQuery {
    month: String,
    notice: Option<String>,
}

fn month_code(year: i32, month: time::Month) -> String {
    format!("{year:04}-{:02}", u8::from(month))
}

async fn group_template(
    state: &AppState,
    ctx: &Ctx,
    group: Uuid,
    month: &str,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<GroupTemplate, WebError> {
    let session = ctx.signed_in()?;
    let g = state.app.group_page(session, group, month).await?;
    let (y, m) = (g.year, g.month);
    let previous =
        if m == time::Month::January { month_code(y - 1, time::Month::December) } else { month_code(y, m.previous()) };
    let next =
        if m == time::Month::December { month_code(y + 1, time::Month::January) } else { month_code(y, m.next()) };
    let mut c = ctx.chrome(notice);
    c.error = error;
    Ok(GroupTemplate { t: ctx.t, c, month: month_code(y, m), g, previous, next, reasons: AbsenceReason::ALL })
}

pub(crate) async fn group(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(group): Id<Uuid>,
    Query(q): Query<MonthQuery>,
) -> Result<Response, WebError> {
    Ok(group_template(&state, &ctx, group, &q.month, q.notice.as_deref(), None).await?.into_response())
}

async fn group_with_error(
    state: &AppState,
    ctx: &Ctx,
    group: Uuid,
    month: &str,
    e: tsunagu_app::AppError,
) -> Result<Response, WebError> {
    let (status, message) = ctx.form_error(e)?;
    // A month that cannot be shown (it may be what was wrong) falls back to this month.
    let page = match group_template(state, ctx, group, month, None, Some(message.clone())).await {
        Ok(page) => page,
        Err(_) => group_template(state, ctx, group, "", None, Some(message)).await?,
    };
    Ok((status, page).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MemberForm {
    login_id: String,
    phone: String,
}

pub(crate) async fn add_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(group): Id<Uuid>,
    Verified(f): Verified<MemberForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.add_group_member(session, group, &f.login_id, &f.phone, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/backup/groups/{group}?notice=saved#members")).into_response()),
        Err(e) => group_with_error(&state, &ctx, group, "", e).await,
    }
}

pub(crate) async fn remove_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((group, account)): Path<(String, String)>,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let group: Uuid = parse_id(&ctx, &group)?;
    let account: Uuid = parse_id(&ctx, &account)?;
    state.app.remove_group_member(session, group, account, &ctx.meta).await?;
    Ok(Redirect::to(&format!("/backup/groups/{group}?notice=saved#members")).into_response())
}

/// The roster form: `slot_<unix seconds>` = a member's id or empty, and
/// `action` = "save" or "fill".
pub(crate) async fn save_roster(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(group): Id<Uuid>,
    Verified(f): Verified<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let month = f.get("month").cloned().unwrap_or_default();
    let mut assignments = Vec::new();
    for (key, value) in &f {
        let Some(start) = key.strip_prefix("slot_") else { continue };
        let start: i64 = match start.parse() {
            Ok(s) => s,
            Err(_) => {
                return group_with_error(
                    &state,
                    &ctx,
                    group,
                    &month,
                    tsunagu_domain::ValidationError::new("slot", "unknown").into(),
                )
                .await;
            }
        };
        let physician = match value.trim() {
            "" => None,
            raw => match Uuid::parse_str(raw) {
                Ok(id) => Some(id),
                Err(_) => {
                    return group_with_error(
                        &state,
                        &ctx,
                        group,
                        &month,
                        tsunagu_domain::ValidationError::new("physician", "not_in_group").into(),
                    )
                    .await;
                }
            },
        };
        assignments.push((start, physician));
    }
    let fill = f.get("action").is_some_and(|a| a == "fill");
    match state.app.save_roster(session, group, &month, &assignments, fill, &ctx.meta).await {
        Ok(_) => Ok(Redirect::to(&format!("/backup/groups/{group}?month={month}&notice=saved#roster")).into_response()),
        Err(e) => group_with_error(&state, &ctx, group, &month, e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "absences.html")]
struct AbsencesTemplate {
    t: Tr,
    c: Chrome,
    absences: Vec<AbsenceView>,
    reasons: &'static [AbsenceReason],
}

async fn absences_template(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<AbsencesTemplate, WebError> {
    let session = ctx.signed_in()?;
    let absences = state.app.my_absences(session).await?;
    let mut c = ctx.chrome(notice);
    c.error = error;
    Ok(AbsencesTemplate { t: ctx.t, c, absences, reasons: AbsenceReason::ALL })
}

pub(crate) async fn absences(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    Ok(absences_template(&state, &ctx, q.notice.as_deref(), None).await?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct NewAbsence {
    physician: String,
    starts_at: String,
    ends_at: String,
    reason: String,
    note: String,
    /// Where to go back to (a group page when a coordinator records it, at its month).
    group: String,
    month: String,
}

pub(crate) async fn record_absence(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(f): Verified<NewAbsence>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let form = AbsenceForm {
        physician: &f.physician,
        starts_at: &f.starts_at,
        ends_at: &f.ends_at,
        reason: &f.reason,
        note: &f.note,
    };
    let group: Option<Uuid> = f.group.parse().ok();
    match state.app.record_absence(session, &form, &ctx.meta).await {
        Ok(_) => match group {
            Some(g) => {
                let month: String = f.month.chars().filter(|c| c.is_ascii_digit() || *c == '-').take(7).collect();
                Ok(Redirect::to(&format!("/backup/groups/{g}?month={month}&notice=saved#absences")).into_response())
            }
            None => Ok(Redirect::to("/absences?notice=saved").into_response()),
        },
        Err(e) => match group {
            Some(g) => group_with_error(&state, &ctx, g, &f.month, e).await,
            None => {
                let (status, message) = ctx.form_error(e)?;
                Ok((status, absences_template(&state, &ctx, None, Some(message)).await?).into_response())
            }
        },
    }
}

pub(crate) async fn cancel_absence(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(absence): Id<Uuid>,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    state.app.cancel_absence(session, absence, &ctx.meta).await?;
    Ok(Redirect::to("/absences?notice=saved").into_response())
}

// Urgent requests

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RaiseForm {
    kind: String,
    note: String,
}

pub(crate) async fn raise(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(patient): Id<PatientId>,
    Verified(f): Verified<RaiseForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.raise_urgent_request(session, patient, &f.kind, &f.note, &ctx.meta).await {
        Ok(id) => Ok(Redirect::to(&format!("/urgent/{id}?notice=raised")).into_response()),
        Err(e) => super::patients::patient_with_error(&state, &ctx, patient, e).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct HospitalChoice {
    hospital: String,
}

pub(crate) async fn set_backup_hospital(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(patient): Id<PatientId>,
    Verified(f): Verified<HospitalChoice>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.set_backup_hospital(session, patient, &f.hospital, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{patient}?notice=saved#who-answers")).into_response()),
        Err(e) => super::patients::patient_with_error(&state, &ctx, patient, e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "urgent.html")]
struct UrgentTemplate {
    t: Tr,
    c: Chrome,
    r: RequestPage,
    outcomes: &'static [RequestOutcome],
}

async fn urgent_template(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<UrgentTemplate, WebError> {
    let session = ctx.signed_in()?;
    let r = state.app.urgent_request_page(session, id, &ctx.meta).await?;
    let mut c = ctx.chrome(notice);
    c.error = error;
    Ok(UrgentTemplate { t: ctx.t, c, r, outcomes: RequestOutcome::ALL })
}

pub(crate) async fn urgent(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    Ok(urgent_template(&state, &ctx, id, q.notice.as_deref(), None).await?.into_response())
}

async fn after_urgent_action(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    result: Result<(), tsunagu_app::AppError>,
) -> Result<Response, WebError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/urgent/{id}?notice=saved")).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, urgent_template(state, ctx, id, None, Some(message)).await?).into_response())
        }
    }
}

pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let result = state.app.acknowledge_urgent_request(session, id, &ctx.meta).await;
    after_urgent_action(&state, &ctx, id, result).await
}

pub(crate) async fn ask_hospitals(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let result = state.app.ask_hospitals(session, id, &ctx.meta).await;
    after_urgent_action(&state, &ctx, id, result).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct HospitalAnswer {
    /// "accept" or "decline".
    answer: String,
    reason: String,
}

pub(crate) async fn answer(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
    Verified(f): Verified<HospitalAnswer>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let result = match f.answer.as_str() {
        "accept" => state.app.answer_as_hospital(session, id, true, &f.reason, &ctx.meta).await,
        "decline" => state.app.answer_as_hospital(session, id, false, &f.reason, &ctx.meta).await,
        _ => Err(tsunagu_domain::ValidationError::new("answer", "unknown").into()),
    };
    after_urgent_action(&state, &ctx, id, result).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct OutcomeForm {
    outcome: String,
    note: String,
}

pub(crate) async fn outcome(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
    Verified(f): Verified<OutcomeForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let result = state.app.record_urgent_outcome(session, id, &f.outcome, &f.note, &ctx.meta).await;
    after_urgent_action(&state, &ctx, id, result).await
}
