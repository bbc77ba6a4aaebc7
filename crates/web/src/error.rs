//! One mapping from use-case errors to HTTP answers, in the user's language.

use crate::i18n::{Lang, Tr};
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tsunagu_app::AppError;

pub(crate) enum WebError {
    App(AppError, Lang),
    Redirect(String),
    Csrf(Lang),
}

impl WebError {
    pub fn app(e: AppError, lang: Lang) -> Self {
        WebError::App(e, lang)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: Tr,
    status: u16,
    message: String,
}

/// The status and user-facing message of an error. Database details never reach the user.
pub(crate) fn describe(e: &AppError, t: Tr) -> (StatusCode, String) {
    match e {
        AppError::Invalid(v) => (StatusCode::UNPROCESSABLE_ENTITY, t.error(v.field, v.code)),
        AppError::Conflict { field } => (StatusCode::CONFLICT, t.error(field, "conflict")),
        AppError::NotFound => (StatusCode::NOT_FOUND, t.s("error.not_found").to_owned()),
        AppError::Forbidden => (StatusCode::FORBIDDEN, t.s("error.forbidden").to_owned()),
        AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, t.s("sign_in.expired").to_owned()),
        AppError::SignInRefused => (StatusCode::UNAUTHORIZED, t.s("sign_in.refused").to_owned()),
        AppError::Throttled => (StatusCode::TOO_MANY_REQUESTS, t.s("sign_in.throttled").to_owned()),
        AppError::Store(_) | AppError::Internal(_) => {
            tracing::error!(error = %e, "request failed");
            (StatusCode::INTERNAL_SERVER_ERROR, t.s("error.internal").to_owned())
        }
    }
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
            WebError::App(e, lang) => {
                let t = Tr { lang };
                let (status, message) = describe(&e, t);
                page(status, message, t)
            }
        }
    }
}
