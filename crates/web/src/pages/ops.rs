//! Health, readiness, metrics, static files.

use crate::AppState;
use crate::context::Ctx;
use crate::error::page;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Alive: answers without touching the database.
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// Ready: the database answers.
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    if state.app.ready().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}

/// Operational figures, for the monitoring system only: with a configured
/// token, for whoever sends it as a bearer token; without one, for the local
/// machine only (a scraper on the same host). Everyone else: not found.
pub(crate) async fn metrics(State(state): State<AppState>, parts: axum::http::request::Parts) -> Response {
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
    let allowed = match state.config.metrics_token.as_deref() {
        Some(token) => parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|sent| same_secret(sent.as_bytes(), token.as_bytes())),
        None => peer.is_some_and(|p| p.0.ip().is_loopback()),
    };
    if !allowed {
        return StatusCode::NOT_FOUND.into_response();
    }
    let body = crate::metrics::render(state.app.backend(), state.app.ready().await, state.app.write_batches());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// Compares without stopping at the first difference (no timing hint).
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Front-end files are compiled into the binary: nothing to install, no CDN.
const STATIC_FILES: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../static/app.css")),
    ("favicon.svg", "image/svg+xml", include_bytes!("../../static/favicon.svg")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../static/app.js")),
    ("htmx.min.js", "text/javascript; charset=utf-8", include_bytes!("../../static/htmx.min.js")),
    ("htmx.LICENSE.txt", "text/plain; charset=utf-8", include_bytes!("../../static/htmx.LICENSE.txt")),
    ("public.css", "text/css; charset=utf-8", include_bytes!("../../static/public.css")),
    ("public_map.js", "text/javascript; charset=utf-8", include_bytes!("../../static/public_map.js")),
    ("README.vendored.txt", "text/plain; charset=utf-8", include_bytes!("../../static/README.vendored.txt")),
];

/// Third-party front-end files, unchanged from their packages, in their own
/// directories (Leaflet's stylesheet finds its images by relative path).
const VENDOR_FILES: &[(&str, &str, &[u8])] = &[
    ("leaflet/leaflet.js", "text/javascript; charset=utf-8", include_bytes!("../../static/vendor/leaflet/leaflet.js")),
    ("leaflet/leaflet.css", "text/css; charset=utf-8", include_bytes!("../../static/vendor/leaflet/leaflet.css")),
    ("leaflet/LICENSE", "text/plain; charset=utf-8", include_bytes!("../../static/vendor/leaflet/LICENSE")),
    (
        "leaflet/images/marker-icon.png",
        "image/png",
        include_bytes!("../../static/vendor/leaflet/images/marker-icon.png"),
    ),
    (
        "leaflet/images/marker-icon-2x.png",
        "image/png",
        include_bytes!("../../static/vendor/leaflet/images/marker-icon-2x.png"),
    ),
    (
        "leaflet/images/marker-shadow.png",
        "image/png",
        include_bytes!("../../static/vendor/leaflet/images/marker-shadow.png"),
    ),
    ("leaflet/images/layers.png", "image/png", include_bytes!("../../static/vendor/leaflet/images/layers.png")),
    ("leaflet/images/layers-2x.png", "image/png", include_bytes!("../../static/vendor/leaflet/images/layers-2x.png")),
    (
        "leaflet.markercluster/leaflet.markercluster.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/leaflet.markercluster/leaflet.markercluster.js"),
    ),
    (
        "leaflet.markercluster/MarkerCluster.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/vendor/leaflet.markercluster/MarkerCluster.css"),
    ),
    (
        "leaflet.markercluster/MarkerCluster.Default.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/vendor/leaflet.markercluster/MarkerCluster.Default.css"),
    ),
    (
        "leaflet.markercluster/MIT-LICENCE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../static/vendor/leaflet.markercluster/MIT-LICENCE.txt"),
    ),
];

pub(crate) async fn static_file(Path(file): Path<String>) -> Response {
    serve(STATIC_FILES, &file)
}

/// `/static/vendor/<package>/<file>`: only the names in the table, so no path
/// can reach anything else.
pub(crate) async fn vendor_file(Path(file): Path<String>) -> Response {
    serve(VENDOR_FILES, &file)
}

fn serve(table: &[(&str, &'static str, &'static [u8])], file: &str) -> Response {
    match table.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "public, max-age=3600")], *body).into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

pub(crate) async fn not_found(ctx: Ctx) -> Response {
    page(StatusCode::NOT_FOUND, ctx.t.s("error.not_found").to_owned(), ctx.t)
}
