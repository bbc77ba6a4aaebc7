//! Importing government open data from the admin pages: upload, preview the
//! report (nothing changes), then apply the same file.

use super::{Chrome, NoticeQuery, parse_id};
use crate::AppState;
use crate::context::{Ctx, Form, SignedInBody};
use crate::error::WebError;
use crate::i18n::Tr;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Response};
use tsunagu_app::AppError;
use tsunagu_app::registry::{ImportReport, ImportRunView};
use tsunagu_app::views::MunicipalityView;
use tsunagu_domain::ValidationError;
use tsunagu_domain::account::Role;
use tsunagu_import::Source;
use uuid::Uuid;

#[derive(Template, WebTemplate)]
#[template(path = "admin_import.html")]
struct ImportPage {
    t: Tr,
    c: Chrome,
    municipality: MunicipalityView,
    is_operator: bool,
    sources: &'static [Source],
    runs: Vec<ImportRunView>,
    report: Option<ImportReport>,
    /// The previewed file waiting to be applied.
    staged: Option<Uuid>,
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    report: Option<ImportReport>,
    staged: Option<Uuid>,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<ImportPage, WebError> {
    let session = ctx.signed_in()?;
    let municipality_id = session.account.municipality_id.ok_or_else(|| ctx.fail(AppError::NotFound))?;
    let runs = state.app.import_runs(session).await.map_err(|e| ctx.fail(e))?;
    let municipality = state.app.municipality(session, municipality_id).await.map_err(|e| ctx.fail(e))?;
    let mut c = ctx.chrome(notice);
    c.error = error;
    Ok(ImportPage {
        t: ctx.t,
        c,
        municipality,
        is_operator: session.account.roles.contains(&Role::Operator),
        sources: Source::ALL,
        runs,
        report,
        staged,
    })
}

pub(crate) async fn imports(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    Ok(page(&state, &ctx, None, None, q.notice.as_deref(), None).await?.into_response())
}

/// The upload: `csrf`, `source` and one `file`. Answers with the preview.
pub(crate) async fn preview(
    State(state): State<AppState>,
    ctx: Ctx,
    // The session is checked before the file is read.
    SignedInBody(mut multipart): SignedInBody<Multipart>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let (mut csrf, mut source, mut file) = (String::new(), String::new(), None);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return Err(ctx.fail(ValidationError::new("file", "too_large").into())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|_| ctx.fail(ValidationError::new("file", "too_large").into()))?;
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "source" => source = String::from_utf8_lossy(&bytes).into_owned(),
            "file" => file = Some((file_name.unwrap_or_default(), bytes.to_vec())),
            _ => {}
        }
    }
    ctx.check_csrf(&csrf)?;
    let result = match (Source::parse(&source), file) {
        (None, _) => Err(ValidationError::new("source", "unknown").into()),
        (_, None) => Err(ValidationError::new("file", "required").into()),
        (Some(_), Some((_, bytes))) if bytes.is_empty() => Err(ValidationError::new("file", "required").into()),
        (Some(source), Some((file_name, bytes))) => {
            state.app.stage_import(session, source, &file_name, &bytes, &ctx.meta).await
        }
    };
    match result {
        // A file refused whole (unreadable, too large once expanded, the wrong kind) is the
        // client's error: 422 with the reason on the page, nothing staged.
        Ok((staged, report)) if report.refused.is_some() => {
            let status = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok((status, page(&state, &ctx, Some(report), staged, None, None).await?).into_response())
        }
        Ok((staged, report)) => Ok(page(&state, &ctx, Some(report), staged, None, None).await?.into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, page(&state, &ctx, None, None, None, Some(message)).await?).into_response())
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct ApplyForm {
    csrf: String,
}

pub(crate) async fn apply(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<ApplyForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(&form.csrf)?;
    let id: Uuid = parse_id(&ctx, &id)?;
    let report = state.app.apply_staged_import(session, id, &ctx.meta).await.map_err(|e| ctx.fail(e))?;
    Ok(page(&state, &ctx, Some(report), None, Some("saved"), None).await?.into_response())
}
