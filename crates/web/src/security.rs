//! Security headers on every response.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// No inline scripts or styles anywhere: the CSP forbids them.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// What the headers depend on.
#[derive(Clone)]
pub(crate) struct Security {
    /// The site is served over HTTPS (secure cookies on), so browsers are
    /// told to use nothing else for a year (HSTS).
    pub over_tls: bool,
    /// The CSP of the public map's pages (`/m/...`): [`CSP`] with the map
    /// tile server's origin allowed for images. Nowhere else may a page load
    /// an image from another site.
    pub map_csp: HeaderValue,
}

impl Security {
    pub fn new(over_tls: bool, tile_url: &str) -> Self {
        let map_csp = match tile_origin(tile_url) {
            Some(origin) => CSP.replacen("img-src 'self' data:", &format!("img-src 'self' data: {origin}"), 1),
            None => {
                if !tile_url.is_empty() {
                    tracing::warn!(tile_url, "the map tile URL is not an http(s) URL with a plain host: no tiles");
                }
                CSP.to_owned()
            }
        };
        let map_csp = HeaderValue::from_str(&map_csp).unwrap_or(HeaderValue::from_static(CSP));
        Self { over_tls, map_csp }
    }
}

/// The origin of a tile URL template for the CSP: `https://host[:port]`, with
/// Leaflet's `{s}` subdomain placeholder as a `*.` wildcard. `None` unless
/// it is http(s) and its host has only the characters a host may have (so
/// that no setting can smuggle another directive into the policy).
pub(crate) fn tile_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let host = rest.split('/').next()?.replacen("{s}.", "*.", 1);
    let plain = host.strip_prefix("*.").unwrap_or(&host);
    let valid = !plain.is_empty()
        && !plain.starts_with(['.', '-', ':'])
        && plain.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    valid.then(|| format!("{scheme}://{host}"))
}

pub(crate) async fn headers(State(security): State<Security>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_static = path.starts_with("/static/");
    let is_map = path.starts_with("/m/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let over_tls = security.over_tls;
    if is_map {
        h.insert("content-security-policy", security.map_csp);
    } else {
        h.insert("content-security-policy", HeaderValue::from_static(CSP));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_tile_origin_enters_the_policy() {
        let gsi = "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png";
        assert_eq!(tile_origin(gsi).as_deref(), Some("https://cyberjapandata.gsi.go.jp"));
        let osm = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png";
        assert_eq!(tile_origin(osm).as_deref(), Some("https://*.tile.openstreetmap.org"));
        assert_eq!(tile_origin("http://127.0.0.1:8081/{z}/{x}/{y}.png").as_deref(), Some("http://127.0.0.1:8081"));
        assert_eq!(tile_origin("/tiles/{z}/{x}/{y}.png"), None);
        assert_eq!(tile_origin("javascript://x/"), None);
        assert_eq!(tile_origin("https://evil.example; script-src *"), None);
        assert_eq!(tile_origin("https://a.example'/x"), None);
        assert_eq!(tile_origin("https:///x"), None);

        let security = Security::new(false, gsi);
        let csp = security.map_csp.to_str().unwrap_or_default();
        assert!(csp.contains("img-src 'self' data: https://cyberjapandata.gsi.go.jp;"), "{csp}");
        assert!(csp.contains("script-src 'self';"), "nothing else changes: {csp}");
        let bad = Security::new(false, "https://evil.example; script-src *");
        assert_eq!(bad.map_csp.to_str().unwrap_or_default(), CSP);
    }
}
