//! What other systems post, at the HTTP edge: the body's media type and JSON,
//! the If-None-Exist header, and the domain's reading of the resources
//! (`tsunagu_domain::fhir_input`) turned into OperationOutcome issues.

use super::outcome::{FhirError, Issue};
use super::search::bad_request;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::Value;
use tsunagu_app::fhir::FhirPost;
use tsunagu_domain::fhir_input::{self, Problem};

pub(super) use tsunagu_domain::fhir_input::{read_measurement, read_message};

/// A problem of a posted resource as an OperationOutcome issue.
pub(super) fn issue(p: Problem) -> Issue {
    Issue::new(p.code, p.diagnostics, Some(&p.expression))
}

/// The problems of a posted resource, answered as 400 with every one named.
pub(super) fn rejected(problems: Vec<Problem>) -> FhirError {
    bad_request(problems.into_iter().map(issue).collect())
}

/// Adds the posted resource's identifier and the If-None-Exist condition
/// (which must name that same identifier) to a post.
pub(super) fn with_identity(
    post: FhirPost,
    resource: &Value,
    headers: &HeaderMap,
    what: &str,
) -> Result<FhirPost, FhirError> {
    let header = headers.get("if-none-exist").and_then(|v| v.to_str().ok());
    with_condition(post, resource, header, what)
}

pub(super) fn with_condition(
    mut post: FhirPost,
    resource: &Value,
    if_none_exist: Option<&str>,
    what: &str,
) -> Result<FhirPost, FhirError> {
    let own = fhir_input::identifier_of(resource, what).map_err(|p| rejected(vec![p]))?;
    match fhir_input::condition(if_none_exist).map_err(|p| rejected(vec![p]))? {
        None => post.identifier = own,
        Some(wanted) => {
            if own.as_ref().is_some_and(|o| *o != wanted) {
                return Err(bad_request(vec![Issue::new(
                    "invalid",
                    "If-None-Exist と identifier が違います / If-None-Exist names another identifier",
                    Some("If-None-Exist"),
                )]));
            }
            post.identifier = Some(wanted);
            post.if_none_exist = true;
        }
    }
    Ok(post)
}

/// A posted body: FHIR JSON (or plain JSON), parsed.
pub(super) fn fhir_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, FhirError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !matches!(mime, "application/fhir+json" | "application/json") {
        return Err(FhirError::one(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
            "Content-Type は application/fhir+json / send application/fhir+json",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| bad_request(vec![Issue::new("structure", format!("JSON を読めません / invalid JSON: {e}"), None)]))
}
