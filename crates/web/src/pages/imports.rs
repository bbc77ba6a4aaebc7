//! Importing government open data from the admin pages: upload, preview the
//! report (nothing changes), then apply the same file.

use super::{Chrome, Id, NoticeQuery};
use crate::AppState;
use crate::context::{Ctx, NoFields, Verified, VerifiedUpload};
use crate::error::WebError;
use crate::i18n::Tr;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
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
    let runs = state.app.import_runs(session).await?;
    let municipality = state.app.municipality(session, municipality_id).await?;
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
    upload: VerifiedUpload,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let source = upload.fields.iter().find(|(k, _)| k == "source").map(|(_, v)| v.clone()).unwrap_or_default();
    let file = upload.files.into_iter().find(|f| f.name == "file").map(|f| (f.file_name, f.bytes.to_vec()));
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

pub(crate) async fn apply(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let report = state.app.apply_staged_import(session, id, &ctx.meta).await?;
    Ok(page(&state, &ctx, Some(report), None, Some("saved"), None).await?.into_response())
}
