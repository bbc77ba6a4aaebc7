//! The advance care plan (人生会議) and the patient's status.

use super::*;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct AcpFormValues {
    discussed_on: String,
    participants: String,
    place_of_care: String,
    place_of_death: String,
    treatment: String,
    proxy_name: String,
    proxy_relation: String,
    wishes: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "acp.html")]
pub(super) struct AcpTemplate {
    t: Tr,
    c: Chrome,
    patient: tsunagu_app::patients::PatientView,
    revisions: Vec<tsunagu_app::patients::AcpView>,
    places: &'static [Place],
    treatments: &'static [TreatmentWish],
    form: AcpFormValues,
}

pub(super) async fn acp_template(
    state: &AppState,
    ctx: &Ctx,
    patient: PatientId,
    form: Option<AcpFormValues>,
    error: Option<String>,
) -> Result<AcpTemplate, WebError> {
    let session = ctx.signed_in()?;
    let (patient, revisions) = state.app.acp_history(session, patient, &ctx.meta).await?;
    let form = form.unwrap_or_else(|| match revisions.first() {
        // Start from the latest revision: a review usually changes one thing.
        Some(r) => AcpFormValues {
            discussed_on: state.app.now().to_offset(JST).date().to_string(),
            participants: r.participants.clone(),
            place_of_care: r.place_of_care.map(|p| p.code().to_owned()).unwrap_or_default(),
            place_of_death: r.place_of_death.map(|p| p.code().to_owned()).unwrap_or_default(),
            treatment: r.treatment.map(|p| p.code().to_owned()).unwrap_or_default(),
            proxy_name: r.proxy_name.clone().unwrap_or_default(),
            proxy_relation: r.proxy_relation.clone().unwrap_or_default(),
            wishes: r.wishes.clone().unwrap_or_default(),
        },
        None => AcpFormValues {
            discussed_on: state.app.now().to_offset(JST).date().to_string(),
            place_of_care: "undecided".into(),
            place_of_death: "undecided".into(),
            treatment: "undecided".into(),
            ..AcpFormValues::default()
        },
    });
    let mut c = ctx.chrome(None);
    c.error = error;
    Ok(AcpTemplate { t: ctx.t, c, patient, revisions, places: Place::ALL, treatments: TreatmentWish::ALL, form })
}

pub(crate) async fn acp(State(state): State<AppState>, ctx: Ctx, Id(id): Id<PatientId>) -> Result<Response, WebError> {
    Ok(acp_template(&state, &ctx, id, None, None).await?.into_response())
}

pub(crate) async fn record_acp(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Verified(v): Verified<AcpFormValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let form = AdvanceCarePlanForm {
        discussed_on: &v.discussed_on,
        participants: &v.participants,
        place_of_care: &v.place_of_care,
        place_of_death: &v.place_of_death,
        treatment: &v.treatment,
        proxy_name: &v.proxy_name,
        proxy_relation: &v.proxy_relation,
        wishes: &v.wishes,
    };
    match state.app.record_acp(session, id, &form, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{id}?notice=saved#acp")).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, acp_template(&state, &ctx, id, Some(v), Some(message)).await?).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct StatusFormValues {
    status: String,
    outcome: String,
    outcome_date: String,
}

pub(crate) async fn change_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Verified(v): Verified<StatusFormValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.change_patient_status(session, id, &v.status, &v.outcome, &v.outcome_date, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{id}?notice=saved")).into_response()),
        Err(e) => patient_with_error(&state, &ctx, id, e).await,
    }
}
