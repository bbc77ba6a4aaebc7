//! One mapping from use-case errors to HTTP answers, in the user's language.

use crate::i18n::{Lang, Tr};
use askama::Template;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::{Arc, OnceLock};
use tsunagu_app::AppError;

/// A page handler's error. A use case's error converts with `?`; the page is
/// rendered in the request's language by [`localise_errors`], which learns it
/// from [`crate::context::Ctx`] (no handler attaches it by hand).
pub(crate) enum WebError {
    App(AppError, Option<Lang>),
    Redirect(String),
    Csrf(Lang),
}

impl WebError {
    pub fn app(e: AppError, lang: Lang) -> Self {
        WebError::App(e, Some(lang))
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::App(e, None)
    }
}

impl From<tsunagu_domain::ValidationError> for WebError {
    fn from(e: tsunagu_domain::ValidationError) -> Self {
        WebError::App(e.into(), None)
    }
}

/// Where [`crate::context::Ctx`] leaves the request's language for
/// [`localise_errors`] (a request's extensions do not come back with its response).
#[derive(Clone, Default)]
pub(crate) struct LanguageSlot(Arc<OnceLock<Lang>>);

impl LanguageSlot {
    pub fn set(&self, lang: Lang) {
        let _ = self.0.set(lang);
    }
}

/// An error page rendered before the language was known: what to say, to render again.
#[derive(Clone)]
struct Unlocalised {
    status: StatusCode,
    message: Message,
}

/// Renders again, in the request's language, an error page that a handler
/// returned with `?` (first rendered in Japanese).
pub(crate) async fn localise_errors(mut request: Request, next: Next) -> Response {
    let fallback = crate::context::language(request.headers(), None);
    let slot = LanguageSlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    if let Some(pending) = response.extensions_mut().remove::<Unlocalised>() {
        let lang = slot.0.get().copied().unwrap_or(fallback);
        if lang != Lang::Ja {
            let t = Tr { lang };
            return page(pending.status, pending.message.text(t), t);
        }
    }
    response
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: Tr,
    status: u16,
    message: String,
}

/// What an error page says, in any language.
#[derive(Clone, Copy)]
enum Message {
    Text(&'static str),
    Field(&'static str, &'static str),
}

impl Message {
    fn text(self, t: Tr) -> String {
        match self {
            Message::Text(key) => t.s(key).to_owned(),
            Message::Field(field, code) => t.error(field, code),
        }
    }
}

/// The status of an error and what to tell the user. Database details never reach the user.
fn classify(e: &AppError) -> (StatusCode, Message) {
    match e {
        AppError::Invalid(v) => (StatusCode::UNPROCESSABLE_ENTITY, Message::Field(v.field, v.code)),
        AppError::Conflict { field } => (StatusCode::CONFLICT, Message::Field(field, "conflict")),
        AppError::NotFound => (StatusCode::NOT_FOUND, Message::Text("error.not_found")),
        AppError::Forbidden => (StatusCode::FORBIDDEN, Message::Text("error.forbidden")),
        AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, Message::Text("sign_in.expired")),
        AppError::SignInRefused => (StatusCode::UNAUTHORIZED, Message::Text("sign_in.refused")),
        AppError::Throttled => (StatusCode::TOO_MANY_REQUESTS, Message::Text("sign_in.throttled")),
        AppError::Store(_) | AppError::Internal(_) => {
            tracing::error!(error = %e, "request failed");
            (StatusCode::INTERNAL_SERVER_ERROR, Message::Text("error.internal"))
        }
    }
}

/// The status and user-facing message of an error.
pub(crate) fn describe(e: &AppError, t: Tr) -> (StatusCode, String) {
    let (status, message) = classify(e);
    (status, message.text(t))
}

pub(crate) fn page(status: StatusCode, message: String, t: Tr) -> Response {
    let body = ErrorPage { t, status: status.as_u16(), message }.render().unwrap_or_else(|_| "error".to_owned());
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Redirect(to) => Redirect::to(&to).into_response(),
            WebError::Csrf(lang) => {
                let t = Tr { lang };
                page(StatusCode::FORBIDDEN, t.s("error.csrf").to_owned(), t)
            }
            WebError::App(AppError::Unauthenticated, _) => Redirect::to("/sign-in").into_response(),
            WebError::App(e, Some(lang)) => {
                let t = Tr { lang };
                let (status, message) = describe(&e, t);
                page(status, message, t)
            }
            WebError::App(e, None) => {
                let t = Tr { lang: Lang::Ja };
                let (status, message) = classify(&e);
                let mut response = page(status, message.text(t), t);
                response.extensions_mut().insert(Unlocalised { status, message });
                response
            }
        }
    }
}
