//! The home screen and one's own account settings.

use super::auth::RecoveryCodesPage;
use super::{Chrome, NoticeQuery, with_cookies};
use crate::AppState;
use crate::context::Verified;
use crate::context::{Ctx, LANG_COOKIE, NoFields, SESSION_COOKIE};
use crate::error::WebError;
use crate::i18n::Tr;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_app::api_tokens::ApiTokenView;
use tsunagu_app::views::AccountView;
use uuid::Uuid;

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct SettingsPage {
    t: Tr,
    c: Chrome,
    account: AccountView,
    session_count: i64,
    recovery_codes: i64,
    email_notifications: bool,
    /// `None` when the person may not have API tokens (family, operators).
    api_tokens: Option<Vec<TokenLine>>,
}

/// A token in the list, its scopes as people read them.
struct TokenLine {
    token: ApiTokenView,
    allows: String,
}

/// What a scope lets a token do, as the creation form says it.
fn scope_label(t: Tr, scope: &str) -> String {
    let key = match scope {
        "user/Patient.read" => "api_token.scope.patient",
        "user/CareTeam.read" => "api_token.scope.team",
        "user/Consent.read" => "api_token.scope.consent",
        "user/Observation.read" => "api_token.scope.vitals_read",
        "user/Observation.write" => "api_token.scope.vitals_write",
        "user/Communication.read" | "user/Encounter.read" => "api_token.scope.notes_read",
        "user/Communication.write" => "api_token.scope.notes_write",
        "user/AuditEvent.read" => "api_token.scope.access",
        "user/Practitioner.read" | "user/PractitionerRole.read" => "api_token.scope.colleagues",
        "user/DocumentReference.read" => "api_token.scope.documents",
        // Made from the shell with other scopes (`user/*.read`, ...): shown as written.
        other => return other.to_owned(),
    };
    t.s(key).to_owned()
}

#[derive(Template, WebTemplate)]
#[template(path = "api_token_created.html")]
struct TokenCreatedPage {
    t: Tr,
    c: Chrome,
    name: String,
    token: String,
    expires_on: String,
}

async fn settings_page(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<SettingsPage, WebError> {
    let session = ctx.signed_in()?;
    let session_count = state.app.session_count(session).await?;
    let recovery_codes = state.app.unused_recovery_codes(session).await?;
    let email_notifications = state.app.email_notifications(session).await?;
    let api_tokens = if state.app.may_create_api_tokens(session) {
        let tokens = state.app.api_tokens(session).await?;
        Some(
            tokens
                .into_iter()
                .map(|token| TokenLine {
                    allows: {
                        let mut labels: Vec<String> = Vec::new();
                        for label in token.scopes.split(' ').map(|s| scope_label(ctx.t, s)) {
                            if !labels.contains(&label) {
                                labels.push(label);
                            }
                        }
                        labels.join("、")
                    },
                    token,
                })
                .collect(),
        )
    } else {
        None
    };
    let mut c = ctx.chrome(notice);
    c.error = error;
    Ok(SettingsPage {
        t: ctx.t,
        c,
        account: session.account.clone(),
        session_count,
        recovery_codes,
        email_notifications,
        api_tokens,
    })
}

pub(crate) async fn settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    Ok(settings_page(&state, &ctx, q.notice.as_deref(), None).await?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<PasswordForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.change_password(session, &form.current_password, &form.new_password, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to("/account?notice=password_changed").into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, settings_page(&state, &ctx, None, Some(message)).await?).into_response())
        }
    }
}

pub(crate) async fn sign_out_everywhere(
    State(state): State<AppState>,
    ctx: Ctx,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    state.app.sign_out_everywhere(session, &ctx.meta).await?;
    let clear = ctx.cookie_header(SESSION_COOKIE, "", Some(0));
    Ok(with_cookies(Redirect::to("/sign-in?notice=signed_out"), [clear]))
}

pub(crate) async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    ctx: Ctx,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let codes = state.app.regenerate_recovery_codes(session, &ctx.meta).await?;
    Ok(RecoveryCodesPage { t: ctx.t, c: ctx.chrome(None), codes }.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LanguageForm {
    language: String,
}

pub(crate) async fn set_language(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<LanguageForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    state.app.set_language(session, &form.language).await?;
    let cookie = ctx.cookie_header(LANG_COOKIE, &form.language, Some(60 * 60 * 24 * 365));
    Ok(with_cookies(Redirect::to("/account?notice=saved"), [cookie]))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct EmailNotificationsForm {
    /// "on" to receive mails; anything else turns them off.
    email_notifications: String,
}

pub(crate) async fn set_email_notifications(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<EmailNotificationsForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let on = form.email_notifications == "on";
    match state.app.set_email_notifications(session, on, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to("/account?notice=saved").into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, settings_page(&state, &ctx, None, Some(message)).await?).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ApiTokenForm {
    name: String,
    scope_patient: String,
    scope_team: String,
    scope_consent: String,
    scope_vitals_read: String,
    scope_vitals_write: String,
    scope_notes_read: String,
    scope_notes_write: String,
    scope_access: String,
    scope_colleagues: String,
    scope_documents: String,
    valid_days: String,
}

impl ApiTokenForm {
    /// The ticked boxes as SMART scopes.
    fn scopes(&self) -> String {
        [
            (&self.scope_patient, "user/Patient.read"),
            (&self.scope_team, "user/CareTeam.read"),
            (&self.scope_consent, "user/Consent.read"),
            (&self.scope_vitals_read, "user/Observation.read"),
            (&self.scope_vitals_write, "user/Observation.write"),
            (&self.scope_notes_read, "user/Communication.read user/Encounter.read"),
            (&self.scope_notes_write, "user/Communication.write"),
            (&self.scope_access, "user/AuditEvent.read"),
            (&self.scope_colleagues, "user/Practitioner.read user/PractitionerRole.read"),
            (&self.scope_documents, "user/DocumentReference.read"),
        ]
        .iter()
        .filter(|(ticked, _)| ticked.as_str() == "on")
        .map(|(_, scope)| *scope)
        .collect::<Vec<_>>()
        .join(" ")
    }
}

pub(crate) async fn create_api_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<ApiTokenForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.create_api_token(session, &form.name, &form.scopes(), &form.valid_days, &ctx.meta).await {
        Ok(made) => Ok(TokenCreatedPage {
            t: ctx.t,
            c: ctx.chrome(None),
            name: form.name.trim().to_owned(),
            token: made.token,
            expires_on: made.expires_at.to_offset(tsunagu_domain::clock::JST).date().to_string(),
        }
        .into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, settings_page(&state, &ctx, None, Some(message)).await?).into_response())
        }
    }
}

pub(crate) async fn revoke_api_token(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Path(token): axum::extract::Path<String>,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let id: Uuid = token.parse().map_err(|_| ctx.fail(tsunagu_app::AppError::NotFound))?;
    state.app.revoke_api_token(session, id, &ctx.meta).await?;
    Ok(Redirect::to("/account?notice=token_revoked#api-tokens").into_response())
}
