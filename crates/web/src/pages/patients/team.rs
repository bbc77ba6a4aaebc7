//! The care team: adding and removing members, inviting family, finding colleagues.

use super::*;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MemberForm {
    member: String,
    team_role: String,
}

pub(crate) async fn add_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Verified(v): Verified<MemberForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    // The datalist shows "login — name"; take the login id.
    let login = v.member.split_whitespace().next().unwrap_or_default();
    match state.app.add_team_member(session, id, login, &v.team_role, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{id}?notice=saved#team")).into_response()),
        Err(e) => patient_with_error(&state, &ctx, id, e).await,
    }
}

pub(crate) async fn remove_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, membership)): Path<(String, String)>,
    Verified(form): Verified<RemoveForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let id: Uuid = parse_id(&ctx, &id)?;
    let membership: Uuid = parse_id(&ctx, &membership)?;
    let confirmed = form.confirmed == "yes";
    match state.app.remove_team_member(session, PatientId(id), membership, confirmed, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{id}?notice=saved#team")).into_response()),
        Err(tsunagu_app::AppError::Invalid(v)) if v.code == "confirm_primary_physician" => {
            Ok(ConfirmRemoval { t: ctx.t, c: ctx.chrome(None), patient: id, membership }.into_response())
        }
        Err(e) => patient_with_error(&state, &ctx, PatientId(id), e).await,
    }
}

/// Removing a member: `confirmed=yes` once the page below has asked.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RemoveForm {
    confirmed: String,
}

/// "Remove the primary physician?": the team would be left without one.
#[derive(Template, WebTemplate)]
#[template(path = "team_remove_confirm.html")]
pub(super) struct ConfirmRemoval {
    t: Tr,
    c: Chrome,
    patient: Uuid,
    membership: Uuid,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct FamilyForm {
    login_id: String,
    name: String,
    relation: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "family_invited.html")]
pub(super) struct FamilyInvitedTemplate {
    t: Tr,
    c: Chrome,
    patient: Uuid,
    issued: tsunagu_app::IssuedCode,
    expires: String,
}

pub(crate) async fn invite_family(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Verified(v): Verified<FamilyForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.invite_family(session, id, &v.login_id, &v.name, &v.relation, &ctx.meta).await {
        Ok(issued) => {
            let expires = ctx.t.when(&issued.expires_at);
            Ok(FamilyInvitedTemplate { t: ctx.t, c: ctx.chrome(None), patient: id.0, issued, expires }.into_response())
        }
        Err(e) => patient_with_error(&state, &ctx, id, e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "colleague_options.html")]
pub(super) struct ColleagueOptions {
    t: Tr,
    found: Vec<Colleague>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ColleagueQuery {
    /// What has been typed into the team form's member field (or a group's).
    #[serde(alias = "login_id", alias = "coordinator")]
    member: String,
}

/// The member picker's suggestions (an htmx fragment of `<option>`s): a
/// search, so that a city with thousands of professionals never sends them all.
pub(crate) async fn colleagues(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ColleagueQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let found = state.app.colleagues(session, &q.member).await?;
    Ok(ColleagueOptions { t: ctx.t, found }.into_response())
}
