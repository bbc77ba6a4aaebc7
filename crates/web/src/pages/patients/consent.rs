//! Recording and withdrawing consent.

use super::*;

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
