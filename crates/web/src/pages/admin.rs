//! Administration: municipalities, facilities, accounts (ID issuing), audit log.
//! Which buttons show is presentation only; every action is checked again by
//! the use case it calls.

use super::{Chrome, Id, NoticeQuery, parse_id};
use crate::AppState;
use crate::context::Ctx;
use crate::context::{NoFields, Verified};
use crate::error::WebError;
use crate::i18n::Tr;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_app::views::{AccountView, FacilityView, MunicipalityView};
use tsunagu_app::{AccountAdminForm, AppError, IssuedCode, Session};
use tsunagu_domain::account::{Profession, Role};
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::clock::format_jst;
use tsunagu_domain::facility::{FacilityForm, FacilityKind};
use tsunagu_domain::ids::{AccountId, FacilityId, MunicipalityId};
use tsunagu_domain::policy;

fn is_operator(session: &Session) -> bool {
    session.account.roles.contains(&Role::Operator)
}

pub(crate) async fn index(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    state.app.may_enter_admin(session)?;
    if is_operator(session) {
        return Ok(Redirect::to("/admin/municipalities").into_response());
    }
    match session.account.municipality_id {
        Some(m) => Ok(Redirect::to(&format!("/admin/m/{m}/facilities")).into_response()),
        None => Err(AppError::Forbidden.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_municipalities.html")]
struct MunicipalitiesPage {
    t: Tr,
    c: Chrome,
    municipalities: Vec<MunicipalityView>,
    code: String,
    name: String,
}

pub(crate) async fn municipalities(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let municipalities = state.app.municipalities(session).await?;
    Ok(MunicipalitiesPage {
        t: ctx.t,
        c: ctx.chrome(q.notice.as_deref()),
        municipalities,
        code: String::new(),
        name: String::new(),
    }
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MunicipalityForm {
    code: String,
    name: String,
}

pub(crate) async fn create_municipality(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<MunicipalityForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.create_municipality(session, &form.code, &form.name, &ctx.meta).await {
        Ok(m) => Ok(Redirect::to(&format!("/admin/m/{}/facilities?notice=created", m.id)).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let municipalities = state.app.municipalities(session).await?;
            let mut c = ctx.chrome(None);
            c.error = Some(message);
            Ok((status, MunicipalitiesPage { t: ctx.t, c, municipalities, code: form.code, name: form.name })
                .into_response())
        }
    }
}

/// The raw text of a facility form, kept to show it again after an error.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct FacilityFormValues {
    kind: String,
    name: String,
    name_kana: String,
    medical_institution_code: String,
    care_provider_number: String,
    postal_code: String,
    address: String,
    phone: String,
    latitude: String,
    longitude: String,
}

impl FacilityFormValues {
    fn as_form(&self) -> FacilityForm<'_> {
        FacilityForm {
            kind: &self.kind,
            name: &self.name,
            name_kana: &self.name_kana,
            medical_institution_code: &self.medical_institution_code,
            care_provider_number: &self.care_provider_number,
            postal_code: &self.postal_code,
            address: &self.address,
            phone: &self.phone,
            latitude: &self.latitude,
            longitude: &self.longitude,
        }
    }

    fn of(f: &FacilityView) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let number = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        Self {
            kind: f.kind.code().to_owned(),
            name: f.name.clone(),
            name_kana: text(&f.name_kana),
            medical_institution_code: text(&f.medical_institution_code),
            care_provider_number: text(&f.care_provider_number),
            postal_code: text(&f.postal_code),
            address: f.address.clone(),
            phone: text(&f.phone),
            latitude: number(f.latitude),
            longitude: number(f.longitude),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_facilities.html")]
struct FacilitiesPage {
    t: Tr,
    c: Chrome,
    municipality: MunicipalityView,
    is_operator: bool,
    facilities: Vec<FacilityView>,
    can_create: bool,
    kinds: &'static [FacilityKind],
    form: FacilityFormValues,
}

async fn facilities_page(
    state: &AppState,
    ctx: &Ctx,
    municipality: MunicipalityId,
    form: FacilityFormValues,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<FacilitiesPage, WebError> {
    let session = ctx.signed_in()?;
    let m = state.app.municipality(session, municipality).await?;
    let facilities = state.app.facilities(session, municipality).await?;
    let actor = session.actor()?;
    let mut c = ctx.chrome(notice);
    c.error = error;
    Ok(FacilitiesPage {
        t: ctx.t,
        c,
        municipality: m,
        is_operator: is_operator(session),
        facilities,
        can_create: policy::create_facility(&actor, municipality).is_allowed(),
        kinds: FacilityKind::ALL,
        form,
    })
}

pub(crate) async fn facilities(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(municipality): Id<MunicipalityId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let form = FacilityFormValues { kind: FacilityKind::Clinic.code().to_owned(), ..FacilityFormValues::default() };
    Ok(facilities_page(&state, &ctx, municipality, form, q.notice.as_deref(), None).await?.into_response())
}

pub(crate) async fn create_facility(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(municipality): Id<MunicipalityId>,
    Verified(form): Verified<FacilityFormValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.create_facility(session, municipality, &form.as_form(), &ctx.meta).await {
        Ok(f) => Ok(Redirect::to(&format!("/admin/facilities/{}?notice=created", f.id)).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, facilities_page(&state, &ctx, municipality, form, None, Some(message)).await?).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_facility.html")]
struct FacilityPage {
    t: Tr,
    c: Chrome,
    municipality: MunicipalityView,
    is_operator: bool,
    facility: FacilityView,
    staff: Vec<AccountView>,
    can_edit: bool,
    kinds: &'static [FacilityKind],
    form: FacilityFormValues,
    registry: tsunagu_app::registry::RegistryDetail,
    services: &'static [tsunagu_domain::registry::FacilityService],
    acceptings: &'static [tsunagu_domain::registry::Accepting],
}

async fn facility_page(
    state: &AppState,
    ctx: &Ctx,
    id: FacilityId,
    form: Option<FacilityFormValues>,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<FacilityPage, WebError> {
    let session = ctx.signed_in()?;
    let (facility, staff) = state.app.facility(session, id).await?;
    let municipality = state.app.municipality(session, facility.municipality_id).await?;
    let actor = session.actor()?;
    let registry = state.app.registry_detail(session, id).await?;
    let mut c = ctx.chrome(notice);
    c.error = error;
    Ok(FacilityPage {
        registry,
        services: tsunagu_domain::registry::FacilityService::ALL,
        acceptings: tsunagu_domain::registry::Accepting::ALL,
        t: ctx.t,
        c,
        is_operator: is_operator(session),
        can_edit: policy::edit_facility(&actor, facility.municipality_id, id).is_allowed(),
        kinds: FacilityKind::ALL,
        form: form.unwrap_or_else(|| FacilityFormValues::of(&facility)),
        municipality,
        facility,
        staff,
    })
}

pub(crate) async fn facility(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<FacilityId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    Ok(facility_page(&state, &ctx, id, None, q.notice.as_deref(), None).await?.into_response())
}

pub(crate) async fn update_facility(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<FacilityId>,
    Verified(form): Verified<FacilityFormValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.update_facility(session, id, &form.as_form(), &ctx.meta).await {
        Ok(f) => Ok(Redirect::to(&format!("/admin/facilities/{}?notice=saved", f.id)).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, facility_page(&state, &ctx, id, Some(form), None, Some(message)).await?).into_response())
        }
    }
}

/// The facility's profile form: services are repeated checkboxes, so the
/// body is read as pairs.
pub(crate) async fn update_profile(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<FacilityId>,
    Verified(pairs): Verified<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default();
    let form = tsunagu_domain::registry::FacilityProfileForm {
        services: pairs.iter().filter(|(k, _)| k == "services").map(|(_, v)| v.as_str()).collect(),
        opening_hours: value("opening_hours"),
        accepting: value("accepting"),
        contact_person: value("contact_person"),
        languages: value("languages"),
        note: value("note"),
    };
    match state.app.update_facility_profile(session, id, &form, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/facilities/{}?notice=saved#profile", id.0)).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, facility_page(&state, &ctx, id, None, None, Some(message)).await?).into_response())
        }
    }
}

/// The issue-ID form as typed.
#[derive(Default)]
pub(crate) struct AccountFormValues {
    login_id: String,
    display_name: String,
    display_name_kana: String,
    email: String,
    profession: String,
    facility_id: String,
    roles: Vec<String>,
}

impl AccountFormValues {
    fn has_role(&self, code: &str) -> bool {
        self.roles.iter().any(|r| r == code)
    }

    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut v = Self::default();
        for (k, value) in pairs {
            match k.as_str() {
                "login_id" => v.login_id.clone_from(value),
                "display_name" => v.display_name.clone_from(value),
                "display_name_kana" => v.display_name_kana.clone_from(value),
                "email" => v.email.clone_from(value),
                "profession" => v.profession.clone_from(value),
                "facility_id" => v.facility_id.clone_from(value),
                "role" => v.roles.push(value.clone()),
                _ => {}
            }
        }
        v
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_accounts.html")]
struct AccountsPage {
    t: Tr,
    c: Chrome,
    municipality: MunicipalityView,
    is_operator: bool,
    accounts: Vec<AccountView>,
    facilities: Vec<FacilityView>,
    professions: &'static [Profession],
    grantable_roles: Vec<Role>,
    form: AccountFormValues,
}

async fn accounts_page(
    state: &AppState,
    ctx: &Ctx,
    municipality: MunicipalityId,
    form: AccountFormValues,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<AccountsPage, WebError> {
    let session = ctx.signed_in()?;
    let m = state.app.municipality(session, municipality).await?;
    let accounts = state.app.accounts(session, municipality).await?;
    let actor = session.actor()?;
    let mut facilities = state.app.facilities(session, municipality).await?;
    // A facility admin issues IDs only for their own facilities: offer only those.
    facilities.retain(|f| policy::issue_account(&actor, municipality, Some(f.id), &[Role::Professional]).is_allowed());
    let grantable_roles = [Role::FacilityAdmin, Role::Coordinator, Role::MunicipalityAdmin, Role::Operator]
        .into_iter()
        .filter(|r| policy::issue_account(&actor, municipality, facilities.first().map(|f| f.id), &[*r]).is_allowed())
        .collect();
    let mut c = ctx.chrome(notice);
    c.error = error;
    Ok(AccountsPage {
        t: ctx.t,
        c,
        municipality: m,
        is_operator: is_operator(session),
        accounts,
        facilities,
        professions: Profession::ALL,
        grantable_roles,
        form,
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct AccountsQuery {
    notice: Option<String>,
    facility: Option<String>,
}

pub(crate) async fn accounts(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(municipality): Id<MunicipalityId>,
    Query(q): Query<AccountsQuery>,
) -> Result<Response, WebError> {
    let form = AccountFormValues {
        facility_id: q.facility.unwrap_or_default(),
        profession: Profession::Nurse.code().into(),
        ..AccountFormValues::default()
    };
    Ok(accounts_page(&state, &ctx, municipality, form, q.notice.as_deref(), None).await?.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "issued_code.html")]
struct IssuedCodePage {
    t: Tr,
    c: Chrome,
    issued: IssuedCode,
    expires: String,
    /// A mailto: link that opens the admin's own mail program with the code,
    /// when the person has an address (the server sends no mail itself).
    mailto: Option<String>,
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn issued_page(ctx: &Ctx, issued: IssuedCode) -> Response {
    let expires = format_jst(issued.expires_at);
    let mailto = issued.account.email.as_ref().map(|email| {
        let subject = ctx.t.s("issued.mail_subject");
        let body = format!(
            "{}\n\n{}: {}\n{}: {}\n{}: {}\n\n{}",
            issued.account.display_name,
            ctx.t.s("field.login_id"),
            issued.account.login_id,
            ctx.t.s("invite.code"),
            issued.code,
            ctx.t.s("issued.expires"),
            expires,
            ctx.t.s("issued.instructions")
        );
        format!("mailto:{}?subject={}&body={}", percent(email), percent(subject), percent(&body))
    });
    IssuedCodePage { t: ctx.t, c: ctx.chrome(None), issued, expires, mailto }.into_response()
}

pub(crate) async fn issue_account(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(municipality): Id<MunicipalityId>,
    Verified(pairs): Verified<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let values = AccountFormValues::from_pairs(&pairs);
    let facility_id = match values.facility_id.as_str() {
        "" => None,
        raw => Some(parse_id::<FacilityId>(&ctx, raw)?),
    };
    let form = AccountAdminForm {
        login_id: &values.login_id,
        display_name: &values.display_name,
        display_name_kana: &values.display_name_kana,
        email: &values.email,
        profession: &values.profession,
        roles: values.roles.iter().map(String::as_str).collect(),
        facility_id,
    };
    match state.app.issue_account(session, municipality, &form, &ctx.meta).await {
        Ok(issued) => Ok(issued_page(&ctx, issued)),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, accounts_page(&state, &ctx, municipality, values, None, Some(message)).await?).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_account.html")]
struct AccountPage {
    t: Tr,
    c: Chrome,
    municipality: MunicipalityView,
    is_operator: bool,
    account: AccountView,
    powers: tsunagu_app::AccountPowers,
    facilities: Vec<FacilityView>,
}

pub(crate) async fn account(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AccountId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let (account, powers) = state.app.account(session, id).await?;
    let Some(municipality_id) = account.municipality_id else {
        return Err(ctx.fail(AppError::NotFound));
    };
    let municipality = state.app.municipality(session, municipality_id).await?;
    let facilities = state.app.facilities(session, municipality_id).await?;
    let page = AccountPage {
        t: ctx.t,
        c: ctx.chrome(q.notice.as_deref()),
        municipality,
        is_operator: is_operator(session),
        account,
        powers,
        facilities,
    };
    Ok(page.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct StatusForm {
    enabled: bool,
}

pub(crate) async fn set_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AccountId>,
    Verified(form): Verified<StatusForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    state.app.set_account_enabled(session, id, form.enabled, &ctx.meta).await?;
    Ok(Redirect::to(&format!("/admin/accounts/{id}?notice=saved")).into_response())
}

pub(crate) async fn reissue(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AccountId>,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let issued = state.app.reissue_code(session, id, &ctx.meta).await?;
    Ok(issued_page(&ctx, issued))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MembershipForm {
    facility_id: String,
    is_admin: bool,
}

pub(crate) async fn add_membership(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AccountId>,
    Verified(form): Verified<MembershipForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let facility: FacilityId = parse_id(&ctx, &form.facility_id)?;
    state.app.add_membership(session, id, facility, form.is_admin, &ctx.meta).await?;
    Ok(Redirect::to(&format!("/admin/accounts/{id}?notice=saved")).into_response())
}

pub(crate) async fn remove_membership(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, facility)): Path<(String, String)>,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let id: AccountId = parse_id(&ctx, &id)?;
    let facility: FacilityId = parse_id(&ctx, &facility)?;
    state.app.remove_membership(session, id, facility, &ctx.meta).await?;
    Ok(Redirect::to(&format!("/admin/accounts/{id}?notice=saved")).into_response())
}

/// One row of the audit page, already in the reader's words.
pub(crate) struct AuditRow {
    seq: i64,
    when: String,
    who: String,
    what: String,
    from: String,
    details: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    t: Tr,
    c: Chrome,
    municipality: MunicipalityView,
    is_operator: bool,
    events: Vec<AuditRow>,
}

pub(crate) async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(municipality): Id<MunicipalityId>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let events = state.app.recent_audit_events(session, municipality, 200).await?;
    let m = state.app.municipality(session, municipality).await?;
    let events = events
        .into_iter()
        .map(|e| AuditRow {
            seq: e.seq,
            when: format_jst(e.occurred_at),
            who: e.actor_label,
            what: AuditAction::parse(&e.action).map(|a| ctx.t.label(&a).to_owned()).unwrap_or(e.action),
            from: e.source_ip.unwrap_or_default(),
            details: e.details,
        })
        .collect();
    Ok(AuditPage { t: ctx.t, c: ctx.chrome(None), municipality: m, is_operator: is_operator(session), events }
        .into_response())
}
