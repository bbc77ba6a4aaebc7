//! Who is calling: the bearer token's session (for everything but the public
//! registry and the CapabilityStatement), the base URL the caller reached,
//! the request's language; and the query string as pairs.

use super::outcome::{FhirError, Issue};
use super::search::bad_request;
use crate::AppState;
use crate::context::{client_address, language};
use crate::i18n::Tr;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use tsunagu_app::{RequestMeta, Session};

/// The caller of a FHIR interaction that needs a token.
pub(crate) struct Caller {
    pub(super) session: Session,
    pub(super) meta: RequestMeta,
    pub(super) t: Tr,
    pub(super) base: String,
}

/// Where this server's FHIR API is, as the caller reached it (for fullUrl and links).
pub(super) fn base_url(parts: &Parts, state: &AppState) -> String {
    fhir_base(&parts.headers, state)
}

/// The FHIR base URL from a request's headers (Host, and X-Forwarded-Proto behind a proxy).
pub(crate) fn fhir_base(headers: &HeaderMap, state: &AppState) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .unwrap_or("localhost");
    let forwarded = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok());
    let scheme = match forwarded {
        Some(p @ ("http" | "https")) if state.config.behind_proxy => p,
        _ if state.config.secure_cookies => "https",
        _ => "http",
    };
    format!("{scheme}://{host}/fhir")
}

pub(super) fn meta_of(parts: &Parts, state: &AppState) -> RequestMeta {
    let user_agent = parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    RequestMeta {
        source_ip: client_address(parts, state.config.behind_proxy),
        user_agent: user_agent.map(|ua| ua.chars().take(200).collect()),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let t = Tr { lang: language(&parts.headers, None) };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(token) = token else {
            return Err(FhirError::unauthenticated(t));
        };
        let session = state.app.api_session(token).await.map_err(|e| FhirError::app(e, t))?;
        let Some(session) = session else {
            return Err(FhirError::unauthenticated(t));
        };
        // Each token has its own budget, wherever its requests come from.
        if let Some(buckets) = &state.token_buckets
            && let Err(wait) = buckets.take(session.token_hash.clone(), tsunagu_domain::clock::monotonic_now())
        {
            return Err(FhirError::throttled(t, wait));
        }
        Ok(Caller { session, meta: meta_of(parts, state), t, base: base_url(parts, state) })
    }
}

/// The base URL without a token (for the CapabilityStatement).
pub(crate) struct Base(pub(super) String);

impl FromRequestParts<AppState> for Base {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Base(base_url(parts, state)))
    }
}

pub(super) type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

pub(super) fn pairs(query: Pairs) -> Result<Vec<(String, String)>, FhirError> {
    query.map(|Query(p)| p).map_err(|e| bad_request(vec![Issue::new("invalid", e.body_text(), None)]))
}

pub(super) fn not_found(t: Tr) -> FhirError {
    FhirError::app(tsunagu_app::AppError::NotFound, t)
}

/// The language of a request without a session (the public registry).
pub(crate) struct Lang(pub(super) Tr);

impl FromRequestParts<AppState> for Lang {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Lang(Tr { lang: language(&parts.headers, None) }))
    }
}
