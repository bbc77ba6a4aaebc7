//! Signing in (password, then a code), enrolling a second factor, redeeming
//! an invitation, signing out, and switching language.

use super::{Chrome, with_cookies};
use crate::AppState;
use crate::context::Verified;
use crate::context::{Ctx, LANG_COOKIE, NoFields, SESSION_COOKIE};
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_app::{AppError, SessionStage, SignedIn};

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
struct SignInPage {
    t: Tr,
    c: Chrome,
    login_id: String,
    /// The page to return to after signing in (empty: home).
    next: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "code.html")]
struct CodePage {
    t: Tr,
    c: Chrome,
    next: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "enrol.html")]
struct EnrolPage {
    t: Tr,
    c: Chrome,
    secret: String,
    otpauth_uri: String,
    qr_svg: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "recovery_codes.html")]
pub(crate) struct RecoveryCodesPage {
    pub t: Tr,
    pub c: Chrome,
    pub codes: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "invite.html")]
struct InvitePage {
    t: Tr,
    c: Chrome,
    login_id: String,
    code: String,
}

pub(crate) async fn root(ctx: Ctx) -> Redirect {
    match ctx.signed_in() {
        Ok(_) => Redirect::to("/home"),
        Err(_) => Redirect::to("/sign-in"),
    }
}

/// `?notice=` and `?next=` of the sign-in pages.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SignInQuery {
    notice: Option<String>,
    next: String,
}

/// A page to return to, kept only if it is a page of this site (else none).
fn kept_next(next: &str) -> String {
    match crate::redirect::same_site_path(Some(next)) {
        "/" => String::new(),
        path => path.to_owned(),
    }
}

/// `path`, carrying the page to return to.
fn with_next(path: &str, next: &str) -> String {
    match serde_urlencoded::to_string([("next", next)]) {
        Ok(q) if !next.is_empty() => format!("{path}?{q}"),
        _ => path.to_owned(),
    }
}

pub(crate) async fn sign_in_page(mut ctx: Ctx, Query(q): Query<SignInQuery>) -> Result<Response, WebError> {
    if ctx.signed_in().is_ok() {
        return Ok(Redirect::to("/home").into_response());
    }
    let cookie = ctx.ensure_anon_csrf()?;
    let page =
        SignInPage { t: ctx.t, c: ctx.chrome(q.notice.as_deref()), login_id: String::new(), next: kept_next(&q.next) };
    Ok(with_cookies(page, cookie))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SignInForm {
    login_id: String,
    password: String,
    next: String,
}

fn session_cookie(ctx: &Ctx, signed_in: &SignedIn) -> String {
    ctx.cookie_header(SESSION_COOKIE, &signed_in.token, None)
}

fn next_step(stage: SessionStage) -> &'static str {
    match stage {
        SessionStage::SecondFactor => "/sign-in/code",
        SessionStage::Enrol => "/sign-in/enrol",
        SessionStage::Full => "/home",
    }
}

pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<SignInForm>,
) -> Result<Response, WebError> {
    let next = kept_next(&form.next);
    match state.app.sign_in(&form.login_id, &form.password, &ctx.meta).await {
        Ok(signed_in) => {
            let to = match signed_in.stage {
                SessionStage::SecondFactor => with_next(next_step(signed_in.stage), &next),
                SessionStage::Full if !next.is_empty() => next,
                stage => next_step(stage).to_owned(),
            };
            Ok(with_cookies(Redirect::to(&to), [session_cookie(&ctx, &signed_in)]))
        }
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let mut c = ctx.chrome(None);
            c.error = Some(message);
            Ok((status, SignInPage { t: ctx.t, c, login_id: form.login_id, next }).into_response())
        }
    }
}

/// The session half-way through sign-in at `stage`, or a redirect to the start.
fn half_signed_in(ctx: &Ctx, stage: SessionStage) -> Result<String, WebError> {
    match (&ctx.session, &ctx.token) {
        (Some(s), Some(token)) if s.stage == stage => Ok(token.clone()),
        (Some(s), _) if s.stage == SessionStage::Full => Err(WebError::Redirect("/home".into())),
        _ => Err(WebError::Redirect("/sign-in?notice=expired".into())),
    }
}

pub(crate) async fn code_page(ctx: Ctx, Query(q): Query<SignInQuery>) -> Result<Response, WebError> {
    half_signed_in(&ctx, SessionStage::SecondFactor)?;
    Ok(CodePage { t: ctx.t, c: ctx.chrome(None), next: kept_next(&q.next) }.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CodeForm {
    code: String,
    next: String,
}

pub(crate) async fn code(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<CodeForm>,
) -> Result<Response, WebError> {
    let token = half_signed_in(&ctx, SessionStage::SecondFactor)?;
    match state.app.verify_second_factor(&token, &form.code, &ctx.meta).await {
        Ok(signed_in) => {
            let to = match kept_next(&form.next) {
                next if next.is_empty() => "/home".to_owned(),
                next => next,
            };
            Ok(with_cookies(Redirect::to(&to), [session_cookie(&ctx, &signed_in)]))
        }
        Err(AppError::Throttled) => Ok(Redirect::to("/sign-in?notice=expired").into_response()),
        Err(e) => {
            let (status, _) = ctx.form_error(e)?;
            let mut c = ctx.chrome(None);
            c.error = Some(ctx.t.s("second_factor.refused").to_owned());
            Ok((status, CodePage { t: ctx.t, c, next: kept_next(&form.next) }).into_response())
        }
    }
}

pub(crate) async fn enrol_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let token = half_signed_in(&ctx, SessionStage::Enrol)?;
    render_enrolment(&state, &ctx, &token, StatusCode::OK, None).await
}

async fn render_enrolment(
    state: &AppState,
    ctx: &Ctx,
    token: &str,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, WebError> {
    let enrolment = state.app.enrolment(token).await?;
    let mut c = ctx.chrome(None);
    c.error = error;
    let page = EnrolPage {
        t: ctx.t,
        c,
        qr_svg: crate::qr::svg(&enrolment.otpauth_uri),
        secret: enrolment.secret_base32,
        otpauth_uri: enrolment.otpauth_uri,
    };
    Ok((status, page).into_response())
}

pub(crate) async fn enrol(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<CodeForm>,
) -> Result<Response, WebError> {
    let token = half_signed_in(&ctx, SessionStage::Enrol)?;
    match state.app.complete_enrolment(&token, &form.code, &ctx.meta).await {
        Ok((signed_in, codes)) => {
            let mut c = ctx.chrome(None);
            c.nav = None;
            let page = RecoveryCodesPage { t: ctx.t, c, codes };
            Ok(with_cookies(page, [session_cookie(&ctx, &signed_in)]))
        }
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            render_enrolment(&state, &ctx, &token, status, Some(message)).await
        }
    }
}

pub(crate) async fn sign_out(
    State(state): State<AppState>,
    ctx: Ctx,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    if let Some(token) = &ctx.token {
        state.app.sign_out(token, &ctx.meta).await?;
    }
    let clear = ctx.cookie_header(SESSION_COOKIE, "", Some(0));
    Ok(with_cookies(Redirect::to("/sign-in?notice=signed_out"), [clear]))
}

#[derive(Deserialize, Default)]
pub(crate) struct InviteQuery {
    code: Option<String>,
    login_id: Option<String>,
}

pub(crate) async fn invite_page(mut ctx: Ctx, Query(q): Query<InviteQuery>) -> Result<Response, WebError> {
    let cookie = ctx.ensure_anon_csrf()?;
    let page = InvitePage {
        t: ctx.t,
        c: ctx.chrome(None),
        login_id: q.login_id.unwrap_or_default(),
        code: q.code.unwrap_or_default(),
    };
    Ok(with_cookies(page, cookie))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct InviteForm {
    login_id: String,
    code: String,
    password: String,
    password_again: String,
}

pub(crate) async fn invite(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<InviteForm>,
) -> Result<Response, WebError> {
    let result = if form.password == form.password_again {
        state.app.redeem_invitation(&form.code, &form.login_id, &form.password, &ctx.meta).await
    } else {
        Err(tsunagu_domain::ValidationError::new("password", "mismatch").into())
    };
    match result {
        Ok(_) => Ok(Redirect::to("/sign-in?notice=redeemed").into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let mut c = ctx.chrome(None);
            c.error = Some(message);
            Ok((status, InvitePage { t: ctx.t, c, login_id: form.login_id, code: form.code }).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

pub(crate) async fn switch_language(ctx: Ctx, Path(lang): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let lang = Lang::parse(&lang).unwrap_or(Lang::Ja);
    let cookie = ctx.cookie_header(LANG_COOKIE, lang.code(), Some(60 * 60 * 24 * 365));
    with_cookies(Redirect::to(crate::redirect::same_site_path(q.next.as_deref())), [cookie])
}
