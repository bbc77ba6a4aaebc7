//! A case as the desk works it: its state, assignee, tasks and log, and for
//! a discharge request the seats of the future team, the requests to
//! candidates and the one action that creates the team.

use super::*;
use tsunagu_app::coordination::{CasePage, TeamCreationForm};
use tsunagu_domain::coordination::{CaseOutcome, ContactKind, Seat};
use tsunagu_domain::ids::{AccountId, FacilityId};
use tsunagu_domain::patient::ConsentMethod;
use uuid::Uuid;

/// What was typed into the case page's forms, given back after an error.
#[derive(Default)]
pub(crate) struct Kept {
    pub note: String,
    pub task: String,
    pub closing_note: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "centre_case.html")]
struct CaseTemplate {
    t: Tr,
    c: Chrome,
    w: Words,
    p: CasePage,
    kept: Kept,
    contact_kinds: &'static [ContactKind],
    outcomes: &'static [CaseOutcome],
    consent_methods: &'static [ConsentMethod],
    today: String,
}

impl CaseTemplate {
    fn is_assignee(&self, id: &AccountId) -> bool {
        self.p.assignee.as_ref() == Some(id)
    }

    /// A conference's time as `datetime-local` shows it (Tokyo).
    fn local(&self, at: &time::OffsetDateTime) -> String {
        let t = at.to_offset(JST);
        format!("{}T{:02}:{:02}", t.date(), t.hour(), t.minute())
    }

    fn seat_anchor(&self, seat: &Seat) -> &'static str {
        seat.code()
    }
}

async fn render(state: &AppState, ctx: &Ctx, case: CaseId, c: Chrome, kept: Kept) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let p = state.app.case_page(session, case, &ctx.meta).await?;
    let today = state.app.now().to_offset(JST).date().to_string();
    Ok(CaseTemplate {
        t: ctx.t,
        c,
        w: Words { t: ctx.t },
        p,
        kept,
        contact_kinds: ContactKind::WRITTEN,
        outcomes: CaseOutcome::ALL,
        consent_methods: ConsentMethod::ALL,
        today,
    }
    .into_response())
}

/// `GET /centre/cases/{case}`.
pub(crate) async fn case_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(case): Id<CaseId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    render(&state, &ctx, case, ctx.chrome(q.notice.as_deref()), Kept::default()).await
}

/// After a change: back to the case (at `anchor`), or the page with the error and what was typed.
async fn after(
    state: &AppState,
    ctx: &Ctx,
    case: CaseId,
    anchor: &str,
    result: Result<(), tsunagu_app::AppError>,
    kept: Kept,
) -> Result<Response, WebError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/centre/cases/{case}?notice=saved#{anchor}")).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let mut c = ctx.chrome(None);
            c.error = Some(message);
            let page = render(state, ctx, case, c, kept).await?;
            Ok((status, page).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct StateForm {
    state: String,
}

pub(crate) async fn change_state(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(case): Id<CaseId>,
    Verified(f): Verified<StateForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let result = state.app.change_case_state(session, case, &f.state, &ctx.meta).await;
    after(&state, &ctx, case, "state", result, Kept::default()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AssigneeForm {
    assignee: String,
}

pub(crate) async fn assign(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(case): Id<CaseId>,
    Verified(f): Verified<AssigneeForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let assignee = match f.assignee.trim() {
        "" => None,
        raw => Some(raw.parse::<AccountId>().map_err(|e| ctx.fail(e.into()))?),
    };
    let result = state.app.assign_case(session, case, assignee, &ctx.meta).await;
    after(&state, &ctx, case, "state", result, Kept::default()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TaskForm {
    title: String,
    due_on: String,
}

pub(crate) async fn add_task(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(case): Id<CaseId>,
    Verified(f): Verified<TaskForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let result = state.app.add_case_task(session, case, &f.title, &f.due_on, &ctx.meta).await;
    after(&state, &ctx, case, "tasks", result, Kept { task: f.title, ..Kept::default() }).await
}

pub(crate) async fn complete_task(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((case, task)): Path<(String, String)>,
    Verified(_): Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let case: CaseId = super::super::parse_id(&ctx, &case)?;
    let task: Uuid = super::super::parse_id(&ctx, &task)?;
    let result = state.app.complete_case_task(session, case, task, &ctx.meta).await;
    after(&state, &ctx, case, "tasks", result, Kept::default()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LogForm {
    kind: String,
    note: String,
}

pub(crate) async fn log_contact(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(case): Id<CaseId>,
    Verified(f): Verified<LogForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let result = state.app.log_case_contact(session, case, &f.kind, &f.note, &ctx.meta).await;
    after(&state, &ctx, case, "log", result, Kept { note: f.note, ..Kept::default() }).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CloseForm {
    outcome: String,
    closing_note: String,
}

pub(crate) async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(case): Id<CaseId>,
    Verified(f): Verified<CloseForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let result = state.app.close_case(session, case, &f.outcome, &f.closing_note, &ctx.meta).await;
    after(&state, &ctx, case, "close", result, Kept { closing_note: f.closing_note, ..Kept::default() }).await
}

/// `POST /centre/cases/{case}/candidates`: `seat` and one `facility` per candidate ticked.
pub(crate) async fn ask_candidates(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(case): Id<CaseId>,
    Verified(pairs): Verified<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let seat = pairs.iter().find(|(k, _)| k == "seat").map(|(_, v)| v.clone()).unwrap_or_default();
    let mut facilities = Vec::new();
    for (_, raw) in pairs.iter().filter(|(k, _)| k == "facility") {
        facilities.push(raw.parse::<FacilityId>().map_err(|e| ctx.fail(e.into()))?);
    }
    let result = state.app.ask_candidates(session, case, &seat, &facilities, &ctx.meta).await.map(|_| ());
    after(&state, &ctx, case, &format!("seat-{seat}"), result, Kept::default()).await
}

/// `POST /centre/cases/{case}/files`: a PDF or an image (multipart, `file`).
pub(crate) async fn attach(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(case): Id<CaseId>,
    upload: crate::context::VerifiedUpload,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let file = upload.files.into_iter().find(|p| p.name == "file" && !p.bytes.is_empty());
    let result = match file {
        Some(part) => {
            let file = tsunagu_app::attachments::UploadedFile {
                declared_type: part.content_type,
                file_name: part.file_name,
                bytes: part.bytes.to_vec(),
            };
            state.app.attach_to_case(session, case, &file, &ctx.meta).await
        }
        None => Err(tsunagu_domain::ValidationError::new("file", "required").into()),
    };
    after(&state, &ctx, case, "files", result, Kept::default()).await
}

/// `GET /centre/files/{file}`: a case's file, for the desk.
pub(crate) async fn file(State(state): State<AppState>, ctx: Ctx, Id(id): Id<Uuid>) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let (content_type, file_name, bytes) = state.app.case_file(session, id, &ctx.meta).await?;
    Ok(super::super::file_response(content_type, &file_name, bytes))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ConferenceFields {
    starts_at: String,
    place: String,
    online: String,
    participants: String,
    minutes: String,
    decisions: String,
}

/// `POST /centre/cases/{case}/conference`: the pre-discharge conference, scheduled or minuted.
pub(crate) async fn save_conference(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(case): Id<CaseId>,
    Verified(f): Verified<ConferenceFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let form = tsunagu_domain::discharge_rules::ConferenceForm {
        starts_at: &f.starts_at,
        place: &f.place,
        online: f.online == "on",
        participants: &f.participants,
        minutes: &f.minutes,
        decisions: &f.decisions,
    };
    let result = state.app.save_conference(session, case, &form, &ctx.meta).await;
    after(&state, &ctx, case, "conference", result, Kept::default()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TeamForm {
    given_on: String,
    method: String,
    proxy_name: String,
    proxy_relation: String,
    scope: String,
    backup_physician: String,
}

/// `POST /centre/cases/{case}/team`: patient, consent and care team in one step.
pub(crate) async fn create_team(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(case): Id<CaseId>,
    Verified(f): Verified<TeamForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let form = TeamCreationForm {
        given_on: &f.given_on,
        method: &f.method,
        proxy_name: &f.proxy_name,
        proxy_relation: &f.proxy_relation,
        scope: &f.scope,
        backup_physician: &f.backup_physician,
    };
    let result = state.app.create_team_from_case(session, case, &form, &ctx.meta).await.map(|_| ());
    after(&state, &ctx, case, "team", result, Kept::default()).await
}
