//! Security headers on every response.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// No inline scripts or styles anywhere: the CSP forbids them.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// `over_tls`: the site is served over HTTPS (secure cookies on), so browsers
/// are told to use nothing else for a year (HSTS).
pub(crate) async fn headers(State(over_tls): State<bool>, request: Request, next: Next) -> Response {
    let is_static = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=(self)"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if over_tls {
        h.insert("strict-transport-security", HeaderValue::from_static("max-age=31536000"));
    }
    if !is_static {
        // Pages may hold patient data: never keep them in a shared or disk cache.
        h.insert("cache-control", HeaderValue::from_static("no-store"));
    }
    response
}
