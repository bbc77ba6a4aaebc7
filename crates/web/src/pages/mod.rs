//! Page handlers, one module per area. Each parses its input, calls one use
//! case, and renders the answer.

pub(crate) mod account;
pub(crate) mod admin;
pub(crate) mod analysis;
pub(crate) mod auth;
pub(crate) mod backup;
pub(crate) mod coordination;
pub(crate) mod imports;
pub(crate) mod ops;
pub(crate) mod patients;
pub(crate) mod public;
pub(crate) mod public_pages;

use crate::context::{ANON_CSRF_COOKIE, Ctx};
use crate::error::{WebError, describe};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tsunagu_app::AppError;

/// What the layout needs on every page.
pub(crate) struct Chrome {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub path: String,
    pub other_lang: &'static str,
    pub flash: Option<String>,
    pub error: Option<String>,
}

pub(crate) struct Nav {
    pub show_admin: bool,
}

/// Notices that a redirect may ask the next page to show (`?notice=...`).
const NOTICES: &[(&str, &str)] = &[
    ("created", "admin.created"),
    ("saved", "admin.saved"),
    ("signed_out", "sign_in.signed_out"),
    ("redeemed", "sign_in.redeemed"),
    ("password_changed", "account.password_changed"),
    ("token_revoked", "api_token.revoked_notice"),
    ("expired", "sign_in.expired"),
    ("posted", "patient.posted"),
    ("consent", "patient.consent_recorded"),
    ("corrected", "patient.corrected"),
    ("acknowledged", "patient.acknowledged"),
    ("raised", "urgent.raised"),
    ("sent", "discharge.sent"),
];

impl Ctx {
    pub fn chrome(&self, query_notice: Option<&str>) -> Chrome {
        let nav = self
            .session
            .as_ref()
            .filter(|s| s.stage == tsunagu_app::SessionStage::Full)
            .map(|_| Nav { show_admin: self.admin_link });
        let flash =
            query_notice.and_then(|n| NOTICES.iter().find(|(k, _)| *k == n)).map(|(_, key)| self.t.s(key).to_owned());
        Chrome {
            nav,
            csrf: self.csrf(),
            path: self.path.clone(),
            other_lang: match self.t.lang {
                crate::i18n::Lang::Ja => "en",
                crate::i18n::Lang::En => "ja",
            },
            flash,
            error: None,
        }
    }

    /// For signed-out forms: makes sure the browser has a double-submit CSRF
    /// cookie, returning the `Set-Cookie` value when a new one is needed.
    pub fn ensure_anon_csrf(&mut self) -> Result<Option<String>, WebError> {
        if self.session.is_some() || self.anon_csrf.is_some() {
            return Ok(None);
        }
        let token = tsunagu_app::credentials::new_token().map_err(|e| self.fail(e))?;
        self.anon_csrf = Some(token.clone());
        Ok(Some(self.cookie_header(ANON_CSRF_COOKIE, &token, None)))
    }

    /// A form's validation or conflict error as a message on the page; other
    /// errors become the error page.
    pub fn form_error(&self, e: AppError) -> Result<(StatusCode, String), WebError> {
        match e {
            AppError::Invalid(_) | AppError::Conflict { .. } | AppError::SignInRefused | AppError::Throttled => {
                Ok(describe(&e, self.t))
            }
            other => Err(self.fail(other)),
        }
    }
}

/// Adds `Set-Cookie` headers to a response.
pub(crate) fn with_cookies(response: impl IntoResponse, cookies: impl IntoIterator<Item = String>) -> Response {
    let mut response = response.into_response();
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// A stored file as its reader receives it: images inline, PDFs downloaded
/// (so that no document renders in our origin), never cached by anyone else.
pub(crate) fn file_response(content_type: String, file_name: &str, bytes: Vec<u8>) -> Response {
    let disposition = if content_type.starts_with("image/") { "inline" } else { "attachment" };
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, format!("{disposition}; filename*=UTF-8''{encoded}")),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// Parses an id from a path; a malformed id is simply "not found".
pub(crate) fn parse_id<T: std::str::FromStr>(ctx: &Ctx, raw: &str) -> Result<T, WebError> {
    raw.parse().map_err(|_| ctx.fail(AppError::NotFound))
}

/// An id from the request's path, parsed at the edge: a malformed one is
/// answered like an unknown one ("not found", in the user's language).
pub(crate) struct Id<T>(pub T);

impl<T: std::str::FromStr + Send, S: Send + Sync> axum::extract::FromRequestParts<S> for Id<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, WebError> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| WebError::from(AppError::NotFound))?;
        raw.parse().map(Id).map_err(|_| AppError::NotFound.into())
    }
}

/// `?notice=` of a request.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct NoticeQuery {
    pub notice: Option<String>,
}
