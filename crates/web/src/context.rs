//! What every handler knows about the request: language, client address, the
//! session (if any), and the CSRF token its forms must carry.

use crate::AppState;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::net::SocketAddr;
use tsunagu_app::{RequestMeta, Session, SessionStage};

pub const SESSION_COOKIE: &str = "tsunagu_session";
pub const ANON_CSRF_COOKIE: &str = "tsunagu_csrf";
pub const LANG_COOKIE: &str = "tsunagu_lang";

pub(crate) struct Ctx {
    pub t: Tr,
    pub meta: RequestMeta,
    pub session: Option<Session>,
    pub token: Option<String>,
    /// The double-submit token of signed-out forms, if the browser has one.
    pub anon_csrf: Option<String>,
    pub path: String,
    pub secure_cookies: bool,
    /// Whether the menu links to the admin pages (the policy's `enter_admin`).
    pub admin_link: bool,
    /// Where to come back to after signing in again: this page (a GET), or
    /// for a form the page it was sent from (its same-site `Referer`).
    pub return_to: Option<String>,
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub(crate) fn client_address(parts: &Parts, behind_proxy: bool) -> Option<String> {
    if behind_proxy {
        let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        if let Some(first) = forwarded.and_then(|v| v.split(',').next()) {
            return Some(first.trim().to_owned());
        }
    }
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ci| ci.0.ip().to_string())
}

pub(crate) fn language(headers: &HeaderMap, session: Option<&Session>) -> Lang {
    if let Some(lang) = cookie(headers, LANG_COOKIE).and_then(Lang::parse) {
        return lang;
    }
    if let Some(lang) = session.and_then(|s| Lang::parse(&s.account.language)) {
        return lang;
    }
    let accept = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.trim_start().starts_with("en") { Lang::En } else { Lang::Ja }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned);
        let session = match &token {
            Some(token) => state.app.session(token).await.map_err(|e| WebError::app(e, Lang::Ja))?,
            None => None,
        };
        let t = Tr { lang: language(&parts.headers, session.as_ref()) };
        if let Some(slot) = parts.extensions.get::<crate::error::LanguageSlot>() {
            slot.set(t.lang);
        }
        // For the body extractors that come after: they refuse a stranger before
        // reading, and check the form's token against this one.
        let return_to = return_to(parts);
        // Where a stranger goes, worked out only for a request without a session.
        let again = match session {
            None => sign_in_again(token.is_some(), return_to.as_deref()),
            Some(_) => String::new(),
        };
        parts.extensions.insert(SeenStage(session.as_ref().map(|s| s.stage), again.clone()));
        let expected = match (&session, cookie(&parts.headers, ANON_CSRF_COOKIE)) {
            (Some(s), _) => s.csrf_token.clone(),
            (None, Some(t)) => t.to_owned(),
            (None, None) => String::new(),
        };
        // A form from a page whose session has since ended goes to sign in
        // (and back), not to a refusal; the sign-in forms themselves are exempt.
        let signed_out_form = parts.uri.path().starts_with("/sign-in") || parts.uri.path() == "/invite";
        let ended = (token.is_some() && session.is_none() && !signed_out_form).then(|| again.clone());
        parts.extensions.insert(FormCheck { expected, lang: t.lang, ended });
        let user_agent = parts.headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
        Ok(Ctx {
            t,
            meta: RequestMeta {
                source_ip: client_address(parts, state.config.behind_proxy),
                user_agent: user_agent.map(|ua| ua.chars().take(200).collect()),
            },
            token,
            anon_csrf: cookie(&parts.headers, ANON_CSRF_COOKIE).map(str::to_owned),
            path: parts.uri.path().to_owned(),
            secure_cookies: state.config.secure_cookies,
            return_to,
            admin_link: session
                .as_ref()
                .is_some_and(|s| s.stage == SessionStage::Full && state.app.may_enter_admin(s).is_ok()),
            session,
        })
    }
}

/// How far through sign-in the request's session was, as [`Ctx`] found it (`None`:
/// no session). Left in the request's extensions for the body extractors.
#[derive(Clone)]
struct SeenStage(Option<SessionStage>, String);

/// Where someone who is not fully signed in goes instead: what [`Ctx::signed_in`] answers.
fn require_full(stage: Option<SessionStage>) -> Result<(), WebError> {
    match stage {
        Some(SessionStage::Full) => Ok(()),
        Some(SessionStage::Enrol) => Err(WebError::Redirect("/sign-in/enrol".into())),
        Some(_) => Err(WebError::Redirect("/sign-in/code".into())),
        None => Err(WebError::Redirect("/sign-in".into())),
    }
}

/// The page to come back to after signing in (see [`Ctx::return_to`]); never a
/// sign-in page, never another site.
fn return_to(parts: &Parts) -> Option<String> {
    let target = if parts.method == axum::http::Method::GET {
        parts.uri.path_and_query().map(|pq| pq.as_str().to_owned())
    } else {
        let host = parts.headers.get(axum::http::header::HOST).and_then(|v| v.to_str().ok())?;
        let referer = parts.headers.get(axum::http::header::REFERER).and_then(|v| v.to_str().ok())?;
        let rest = referer.strip_prefix("https://").or_else(|| referer.strip_prefix("http://"))?;
        rest.strip_prefix(host).filter(|path| path.starts_with('/')).map(str::to_owned)
    }?;
    let safe = crate::redirect::same_site_path(Some(&target));
    (safe != "/" && !safe.starts_with("/sign-in") && !safe.starts_with("/sign-out")).then(|| safe.to_owned())
}

/// `/sign-in`, with the page to return to (and a note that the session ended, when it had).
fn sign_in_again(ended: bool, return_to: Option<&str>) -> String {
    let mut query: Vec<(&str, &str)> = Vec::new();
    if ended {
        query.push(("notice", "expired"));
    }
    if let Some(next) = return_to {
        query.push(("next", next));
    }
    match serde_urlencoded::to_string(&query) {
        Ok(q) if !q.is_empty() => format!("/sign-in?{q}"),
        _ => "/sign-in".to_owned(),
    }
}

/// Refuses, before a byte of the body is read, a request whose session is not fully
/// signed in: an upload from a stranger is answered at once instead of being read (up
/// to the route's body limit, tens of megabytes) and then refused. Needs [`Ctx`] among
/// the handler's extractors before the body's (axum runs the body extractor last); without
/// it the request is refused too.
pub(crate) fn refuse_strangers(request: &axum::extract::Request) -> Result<(), WebError> {
    match request.extensions().get::<SeenStage>() {
        Some(SeenStage(None, again)) => Err(WebError::Redirect(again.clone())),
        seen => require_full(seen.and_then(|seen| seen.0)),
    }
}

/// What [`Ctx`] leaves for the body extractors after it: the token the
/// request's forms must carry (the session's, or signed out the double-submit
/// cookie's; empty: none, and every form is refused) and the language.
#[derive(Clone)]
struct FormCheck {
    expected: String,
    lang: Lang,
    /// Where to send a form whose session ended (sign in, then back).
    ended: Option<String>,
}

impl FormCheck {
    fn of(request: &axum::extract::Request) -> Option<Self> {
        request.extensions().get::<FormCheck>().cloned()
    }

    /// Refuses a token that is not the expected one (compared in constant time).
    fn verify(&self, sent: &str) -> Result<(), WebError> {
        if self.expected.is_empty() || !constant_time_eq(self.expected.as_bytes(), sent.as_bytes()) {
            return Err(WebError::Csrf(self.lang));
        }
        Ok(())
    }

    fn malformed(&self) -> WebError {
        WebError::app(tsunagu_domain::ValidationError::new("form", "malformed").into(), self.lang)
    }
}

/// A URL-encoded form whose `csrf` field matched the request's token: the only
/// way a page handler reads a form, so a handler that changes state cannot be
/// written without the check. Needs [`Ctx`] among the handler's extractors
/// (without it every form is refused). A malformed body gets the error page in
/// the user's language.
pub(crate) struct Verified<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Verified<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let check = FormCheck::of(&request).ok_or(WebError::Csrf(Lang::Ja))?;
        if let Some(again) = check.ended {
            return Err(WebError::Redirect(again));
        }
        let url_encoded = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !url_encoded {
            return Err(check.malformed());
        }
        let body = axum::body::Bytes::from_request(request, state).await.map_err(|_| check.malformed())?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|_| check.malformed())?;
        check.verify(pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or_default())?;
        serde_urlencoded::from_bytes(&body).map(Verified).map_err(|_| check.malformed())
    }
}

/// A form with nothing but its token (a button that changes state).
#[derive(serde::Deserialize)]
pub(crate) struct NoFields {}

/// A file sent with a form.
pub(crate) struct UploadedPart {
    pub name: String,
    pub file_name: String,
    pub content_type: String,
    pub bytes: axum::body::Bytes,
}

/// A multipart form from a fully signed-in session whose `csrf` part matched
/// the session's token: its text fields and its files. A stranger is refused
/// before the body is read ([`refuse_strangers`]); a body over the route's
/// limit is "file too large".
pub(crate) struct VerifiedUpload {
    pub fields: Vec<(String, String)>,
    pub files: Vec<UploadedPart>,
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for VerifiedUpload {
    type Rejection = WebError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        refuse_strangers(&request)?;
        let check = FormCheck::of(&request).ok_or(WebError::Csrf(Lang::Ja))?;
        let too_large = || WebError::app(tsunagu_domain::ValidationError::new("file", "too_large").into(), check.lang);
        let failed = |e: axum::extract::multipart::MultipartError| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE { too_large() } else { check.malformed() }
        };
        let mut multipart =
            axum::extract::Multipart::from_request(request, state).await.map_err(|_| check.malformed())?;
        let (mut fields, mut files) = (Vec::new(), Vec::new());
        while let Some(field) = multipart.next_field().await.map_err(failed)? {
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(str::to_owned) {
                Some(file_name) => {
                    let content_type = field.content_type().unwrap_or_default().to_owned();
                    let bytes = field.bytes().await.map_err(failed)?;
                    files.push(UploadedPart { name, file_name, content_type, bytes });
                }
                None => fields.push((name, field.text().await.map_err(failed)?)),
            }
        }
        check.verify(fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or_default())?;
        Ok(VerifiedUpload { fields, files })
    }
}

impl Ctx {
    /// The fully signed-in session, or a redirect to where sign-in stands.
    pub fn signed_in(&self) -> Result<&Session, WebError> {
        match self.session.as_ref() {
            None => Err(WebError::Redirect(sign_in_again(self.token.is_some(), self.return_to.as_deref()))),
            Some(s) => require_full(Some(s.stage)).map(|()| s),
        }
    }

    /// The token forms on this page must send back.
    pub fn csrf(&self) -> String {
        match (&self.session, &self.anon_csrf) {
            (Some(s), _) => s.csrf_token.clone(),
            (None, Some(t)) => t.clone(),
            (None, None) => String::new(),
        }
    }

    /// Refuses a form that does not carry this session's token (or, signed
    /// out, the token of the double-submit cookie).
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        let expected = self.csrf();
        if expected.is_empty() || !constant_time_eq(expected.as_bytes(), submitted.as_bytes()) {
            return Err(WebError::Csrf(self.t.lang));
        }
        Ok(())
    }

    pub fn cookie_header(&self, name: &str, value: &str, max_age_seconds: Option<i64>) -> String {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        let age = max_age_seconds.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
        // SameSite=Lax keeps the cookie off cross-site POSTs; HttpOnly keeps it from scripts.
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{age}")
    }

    pub fn fail(&self, e: tsunagu_app::AppError) -> WebError {
        WebError::app(e, self.t.lang)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
