//! Break-glass access and a record's access history.

use super::*;

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
pub(super) struct BreakGlassTemplate {
    t: Tr,
    c: Chrome,
    form: BreakGlassForm,
    reasons: &'static [&'static str],
    hours: i64,
}

pub(super) fn break_glass_page(ctx: &Ctx, form: BreakGlassForm, error: Option<String>) -> BreakGlassTemplate {
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

#[derive(Template, WebTemplate)]
#[template(path = "access_log.html")]
pub(super) struct AccessLogTemplate {
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
