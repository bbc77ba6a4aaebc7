//! FHIR's answers: resources as `application/fhir+json`, and errors as an
//! OperationOutcome with the HTTP status that goes with them.

use crate::error::describe;
use crate::i18n::Tr;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use tsunagu_app::AppError;

pub(crate) const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// A resource (or Bundle) to send, serialised.
pub(crate) struct Resource {
    pub status: StatusCode,
    body: Vec<u8>,
    pub location: Option<String>,
}

impl Resource {
    pub(crate) fn ok(body: impl Serialize) -> Self {
        Self::new(StatusCode::OK, body, None)
    }

    pub(crate) fn new(status: StatusCode, body: impl Serialize, location: Option<String>) -> Self {
        match serde_json::to_vec(&body) {
            Ok(body) => Self { status, body, location },
            Err(e) => {
                let issue = Issue::new("exception", format!("the answer could not be written: {e}"), None);
                let outcome = operation_outcome(&[issue], "fatal").to_string().into_bytes();
                Self { status: StatusCode::INTERNAL_SERVER_ERROR, body: outcome, location: None }
            }
        }
    }
}

impl IntoResponse for Resource {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        if let Some(location) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, location);
        }
        response
    }
}

/// One problem, as an OperationOutcome issue.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Issue {
    /// FHIR's issue type: `invalid`, `not-supported`, `not-found`, `forbidden`, `login`, ...
    pub code: &'static str,
    pub diagnostics: String,
    /// Where: a search parameter's name or a FHIRPath into the posted resource.
    pub expression: Option<String>,
}

impl Issue {
    pub(crate) fn new(code: &'static str, diagnostics: impl Into<String>, expression: Option<&str>) -> Self {
        Self { code, diagnostics: diagnostics.into(), expression: expression.map(str::to_owned) }
    }
}

/// A failed FHIR interaction.
#[derive(Debug)]
pub(crate) struct FhirError {
    pub status: StatusCode,
    pub issues: Vec<Issue>,
    /// Sent as `WWW-Authenticate` with a 401.
    pub challenge: bool,
    /// Sent as `Retry-After` with a 429.
    pub retry_after: Option<std::time::Duration>,
}

impl FhirError {
    pub(crate) fn new(status: StatusCode, issues: Vec<Issue>) -> Self {
        Self { status, issues, challenge: false, retry_after: None }
    }

    pub(crate) fn one(status: StatusCode, code: &'static str, diagnostics: impl Into<String>) -> Self {
        Self::new(status, vec![Issue::new(code, diagnostics, None)])
    }

    pub(crate) fn unauthenticated(t: Tr) -> Self {
        let message = match t.lang {
            crate::i18n::Lang::Ja => "有効なAPIトークンを Authorization: Bearer で送ってください。",
            crate::i18n::Lang::En => "Send a valid API token as Authorization: Bearer.",
        };
        Self { challenge: true, ..Self::one(StatusCode::UNAUTHORIZED, "login", message) }
    }

    /// The token has used up its requests for now.
    pub(crate) fn throttled(t: Tr, wait: std::time::Duration) -> Self {
        let message = match t.lang {
            crate::i18n::Lang::Ja => "このトークンの要求が多すぎます。しばらく待ってからもう一度お試しください。",
            crate::i18n::Lang::En => "Too many requests with this token: please wait and try again.",
        };
        Self { retry_after: Some(wait), ..Self::one(StatusCode::TOO_MANY_REQUESTS, "throttled", message) }
    }

    /// A use case's error, in the caller's language.
    pub(crate) fn app(e: AppError, t: Tr) -> Self {
        let (status, message) = describe(&e, t);
        let (code, expression) = match &e {
            AppError::Invalid(v) => ("invalid", Some(v.field)),
            AppError::Conflict { field } => ("conflict", Some(*field)),
            AppError::NotFound => ("not-found", None),
            AppError::Forbidden => ("forbidden", None),
            AppError::Unauthenticated | AppError::SignInRefused => return Self::unauthenticated(t),
            AppError::Throttled => ("throttled", None),
            AppError::Store(_) | AppError::Internal(_) => ("exception", None),
        };
        Self::new(status, vec![Issue::new(code, message, expression)])
    }
}

pub(crate) fn operation_outcome(issues: &[Issue], severity: &str) -> Value {
    let issues: Vec<Value> = issues
        .iter()
        .map(|i| {
            let mut issue = json!({ "severity": severity, "code": i.code, "diagnostics": i.diagnostics });
            if let Some(e) = &i.expression {
                issue["expression"] = json!([e]);
            }
            issue
        })
        .collect();
    json!({ "resourceType": "OperationOutcome", "issue": issues })
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        let severity = if self.status.is_server_error() { "fatal" } else { "error" };
        let body = operation_outcome(&self.issues, severity);
        let mut response = Resource::new(self.status, body, None).into_response();
        if let Some(wait) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tsunagu\", error=\"invalid_token\""),
            );
        }
        response
    }
}
