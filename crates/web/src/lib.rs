//! tsunagu's HTTP layer: server-rendered pages (Japanese first, phone first),
//! health, readiness and metrics. Handlers parse input, call one use case of
//! the app layer and render its answer; they never decide access and never
//! touch the store.

pub mod api;
mod chart;
mod context;
mod error;
mod fhir;
pub mod i18n;
mod markdown;
mod metrics;
mod pages;
mod qr;
mod rate_limit;
mod redirect;
mod security;

pub use context::{ANON_CSRF_COOKIE, LANG_COOKIE, SESSION_COOKIE};
pub use rate_limit::{PublicReadLimit, RateLimits, TokenLimit, WriteLimit};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post, put};
use std::time::Duration;
use tsunagu_app::App;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (only sent over HTTPS). On by default unless the
    /// server listens on a loopback address.
    pub secure_cookies: bool,
    /// Trust `X-Forwarded-For` for the client address (only behind your own proxy).
    pub behind_proxy: bool,
    /// Limit state-changing requests per client address (`None`: no limit).
    pub write_limit: Option<WriteLimit>,
    /// Bearer token for /metrics; without one, /metrics answers only to the local machine.
    pub metrics_token: Option<String>,
    /// Limit the public map's reads (`/m/...`, `/api/public/...`) per client address (`None`: no limit).
    pub public_read_limit: Option<PublicReadLimit>,
    /// The public map's background tiles.
    pub map_tiles: MapTiles,
    /// Limit each API token's requests (the FHIR API) (`None`: no limit).
    pub token_limit: Option<TokenLimit>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: true,
            behind_proxy: false,
            write_limit: None,
            metrics_token: None,
            public_read_limit: None,
            map_tiles: MapTiles::default(),
            token_limit: None,
        }
    }
}

/// Where the public map's background comes from, and the credit it must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapTiles {
    /// A Leaflet URL template (`{z}/{x}/{y}`, optionally `{s}`). The pages'
    /// CSP allows images from its origin on the map pages only.
    pub url: String,
    /// The credit shown on the map (tile servers require one).
    pub attribution: String,
    /// Where the credit links to.
    pub attribution_url: String,
    pub max_zoom: u8,
}

impl Default for MapTiles {
    /// 地理院タイル (標準地図) of the Geospatial Information Authority of Japan.
    fn default() -> Self {
        Self {
            url: "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png".to_owned(),
            attribution: "地理院タイル".to_owned(),
            attribution_url: "https://maps.gsi.go.jp/development/ichiran.html".to_owned(),
            max_zoom: 18,
        }
    }
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub app: App,
    pub config: WebConfig,
    /// Each API token's bucket (see [`WebConfig::token_limit`]).
    pub token_buckets: Option<std::sync::Arc<rate_limit::Buckets<Vec<u8>>>>,
}

type Route = (&'static str, &'static str, MethodRouter<AppState>);

/// The one table of routes: the router is built from it, and `routes()` reads
/// it, so a test that walks every route cannot miss one.
fn route_table() -> Vec<Route> {
    use pages::{account, admin, analysis, auth, backup, coordination, imports, ops, patients, public, public_pages};
    vec![
        ("GET", "/", get(auth::root)),
        ("GET", "/sign-in", get(auth::sign_in_page)),
        ("POST", "/sign-in", post(auth::sign_in)),
        ("GET", "/sign-in/code", get(auth::code_page)),
        ("POST", "/sign-in/code", post(auth::code)),
        ("GET", "/sign-in/enrol", get(auth::enrol_page)),
        ("POST", "/sign-in/enrol", post(auth::enrol)),
        ("POST", "/sign-out", post(auth::sign_out)),
        ("GET", "/invite", get(auth::invite_page)),
        ("POST", "/invite", post(auth::invite)),
        ("GET", "/lang/{lang}", get(auth::switch_language)),
        ("GET", "/home", get(patients::home)),
        ("GET", "/patients/new", get(patients::new_patient)),
        ("GET", "/break-glass", get(patients::break_glass_form)),
        ("POST", "/break-glass", post(patients::break_glass)),
        ("POST", "/patients", post(patients::create_patient)),
        ("GET", "/patients/{patient}", get(patients::patient)),
        // Up to five files of 10 MiB each, plus the form.
        (
            "POST",
            "/patients/{patient}/entries",
            post(patients::post_entry).layer(DefaultBodyLimit::max(52 * 1024 * 1024)),
        ),
        ("GET", "/attachments/{attachment}", get(patients::attachment)),
        ("POST", "/patients/{patient}/consent", post(patients::record_consent)),
        ("POST", "/patients/{patient}/consent/withdraw", post(patients::withdraw_consent)),
        ("POST", "/patients/{patient}/team", post(patients::add_member)),
        ("GET", "/patients/{patient}/acp", get(patients::acp)),
        ("POST", "/patients/{patient}/acp", post(patients::record_acp)),
        ("POST", "/patients/{patient}/status", post(patients::change_status)),
        ("GET", "/patients/{patient}/print", get(patients::print)),
        ("GET", "/patients/{patient}/export", get(patients::export)),
        ("POST", "/patients/{patient}/family", post(patients::invite_family)),
        ("GET", "/patients/{patient}/access", get(patients::access_log)),
        ("POST", "/patients/{patient}/team/{membership}/remove", post(patients::remove_member)),
        ("POST", "/patients/{patient}/urgent-requests", post(backup::raise)),
        ("POST", "/patients/{patient}/backup-hospital", post(backup::set_backup_hospital)),
        ("GET", "/urgent/{request}", get(backup::urgent)),
        ("POST", "/urgent/{request}/acknowledge", post(backup::acknowledge)),
        ("POST", "/urgent/{request}/hospitals", post(backup::ask_hospitals)),
        ("POST", "/urgent/{request}/answer", post(backup::answer)),
        ("POST", "/urgent/{request}/outcome", post(backup::outcome)),
        ("GET", "/backup", get(backup::overview)),
        ("POST", "/backup/groups", post(backup::create_group)),
        ("GET", "/backup/groups/{group}", get(backup::group)),
        ("POST", "/backup/groups/{group}/members", post(backup::add_member)),
        ("POST", "/backup/groups/{group}/members/{account}/remove", post(backup::remove_member)),
        ("POST", "/backup/groups/{group}/roster", post(backup::save_roster)),
        ("POST", "/backup/hospitals/{facility}", post(backup::update_beds)),
        ("GET", "/absences", get(backup::absences)),
        ("POST", "/absences", post(backup::record_absence)),
        ("POST", "/absences/{absence}/cancel", post(backup::cancel_absence)),
        // The coordination centre's desk (items オ and ウ), hospitals' discharge requests, candidates' answers.
        ("GET", "/centre", get(coordination::desk)),
        ("GET", "/centre/cases/new", get(coordination::new_case)),
        ("POST", "/centre/cases", post(coordination::create_case)),
        ("GET", "/centre/cases/{case}", get(coordination::case_page)),
        ("POST", "/centre/cases/{case}/state", post(coordination::change_state)),
        ("POST", "/centre/cases/{case}/assignee", post(coordination::assign)),
        ("POST", "/centre/cases/{case}/tasks", post(coordination::add_task)),
        ("POST", "/centre/cases/{case}/tasks/{task}/done", post(coordination::complete_task)),
        ("POST", "/centre/cases/{case}/log", post(coordination::log_contact)),
        ("POST", "/centre/cases/{case}/close", post(coordination::close)),
        ("POST", "/centre/cases/{case}/candidates", post(coordination::ask_candidates)),
        ("POST", "/centre/cases/{case}/team", post(coordination::create_team)),
        ("GET", "/centre/reports", get(coordination::report)),
        ("GET", "/centre/rules", get(coordination::rules)),
        ("POST", "/centre/rules", post(coordination::adopt_rules)),
        ("GET", "/centre/topics", get(coordination::topics)),
        ("POST", "/centre/topics", post(coordination::save_topics)),
        ("POST", "/centre/cases/{case}/conference", post(coordination::save_conference)),
        // A referral letter or a scanned form: up to 10 MiB, plus the form.
        (
            "POST",
            "/centre/cases/{case}/files",
            post(coordination::attach).layer(DefaultBodyLimit::max(11 * 1024 * 1024)),
        ),
        ("GET", "/centre/files/{file}", get(coordination::file)),
        ("GET", "/centre/reports.csv", get(coordination::report_csv)),
        ("GET", "/discharge", get(coordination::discharge_list)),
        ("GET", "/discharge/new", get(coordination::new_discharge)),
        ("POST", "/discharge", post(coordination::send_discharge)),
        ("GET", "/discharge/{case}", get(coordination::sent_request)),
        ("GET", "/coordination/{request}", get(coordination::candidate_request)),
        ("POST", "/coordination/{request}/answer", post(coordination::answer_request)),
        ("GET", "/entries/{entry}", get(patients::entry)),
        ("GET", "/entries/{entry}/correct", get(patients::correct_page)),
        ("POST", "/entries/{entry}/correct", post(patients::correct)),
        ("POST", "/entries/{entry}/acknowledge", post(patients::acknowledge)),
        ("GET", "/account", get(account::settings)),
        ("POST", "/account/password", post(account::change_password)),
        ("POST", "/account/sign-out-everywhere", post(account::sign_out_everywhere)),
        ("POST", "/account/recovery-codes", post(account::regenerate_recovery_codes)),
        ("POST", "/account/language", post(account::set_language)),
        ("POST", "/account/email-notifications", post(account::set_email_notifications)),
        ("POST", "/account/api-tokens", post(account::create_api_token)),
        ("POST", "/account/api-tokens/{token}/revoke", post(account::revoke_api_token)),
        ("GET", "/admin", get(admin::index)),
        ("GET", "/admin/municipalities", get(admin::municipalities)),
        ("POST", "/admin/municipalities", post(admin::create_municipality)),
        ("GET", "/admin/m/{municipality}/facilities", get(admin::facilities)),
        ("POST", "/admin/m/{municipality}/facilities", post(admin::create_facility)),
        ("GET", "/admin/m/{municipality}/accounts", get(admin::accounts)),
        ("POST", "/admin/m/{municipality}/accounts", post(admin::issue_account)),
        ("GET", "/admin/m/{municipality}/audit", get(admin::audit)),
        ("GET", "/admin/facilities/{facility}", get(admin::facility)),
        ("POST", "/admin/facilities/{facility}", post(admin::update_facility)),
        ("POST", "/admin/facilities/{facility}/profile", post(admin::update_profile)),
        ("GET", "/admin/imports", get(imports::imports)),
        // Open-data files: a national file of one service type is tens of MB.
        ("POST", "/admin/imports", post(imports::preview).layer(DefaultBodyLimit::max(64 * 1024 * 1024))),
        ("POST", "/admin/imports/{import}/apply", post(imports::apply)),
        ("GET", "/admin/public", get(public_pages::admin)),
        ("GET", "/admin/analysis", get(analysis::page)),
        ("GET", "/admin/analysis.csv", get(analysis::csv)),
        ("POST", "/admin/public/articles", post(public_pages::create_article)),
        ("GET", "/admin/public/articles/{article}", get(public_pages::edit_article)),
        ("POST", "/admin/public/articles/{article}", post(public_pages::update_article)),
        ("POST", "/admin/public/events", post(public_pages::create_event)),
        ("GET", "/admin/public/events/{event}", get(public_pages::edit_event)),
        ("POST", "/admin/public/events/{event}", post(public_pages::update_event)),
        ("POST", "/admin/public/events/{event}/cancellation", post(public_pages::cancel_event)),
        ("POST", "/admin/public/figures", post(public_pages::enter_figure)),
        ("POST", "/admin/public/figures/removal", post(public_pages::remove_figure)),
        ("GET", "/admin/accounts/{account}", get(admin::account)),
        ("POST", "/admin/accounts/{account}/status", post(admin::set_status)),
        ("POST", "/admin/accounts/{account}/reissue", post(admin::reissue)),
        ("POST", "/admin/accounts/{account}/memberships", post(admin::add_membership)),
        ("POST", "/admin/accounts/{account}/memberships/{facility}/remove", post(admin::remove_membership)),
        ("GET", "/api/openapi.json", get(api::openapi)),
        ("GET", "/api/v1/me", get(api::me)),
        ("GET", "/api/v1/patients", get(api::patients)),
        ("POST", "/api/v1/patients", post(api::register_patient)),
        ("GET", "/api/v1/patients/{patient}", get(api::patient)),
        ("POST", "/api/v1/patients/{patient}/entries", post(api::post_entry)),
        ("POST", "/api/v1/patients/{patient}/consent", post(api::record_consent)),
        ("POST", "/api/v1/patients/{patient}/consent/withdrawal", post(api::withdraw_consent)),
        ("POST", "/api/v1/patients/{patient}/team", post(api::add_team_member)),
        ("POST", "/api/v1/patients/{patient}/team/{membership}/removal", post(api::remove_team_member)),
        ("POST", "/api/v1/patients/{patient}/status", post(api::change_status)),
        ("GET", "/api/v1/patients/{patient}/acp", get(api::acp_history)),
        ("POST", "/api/v1/patients/{patient}/acp", post(api::record_acp)),
        ("GET", "/api/v1/entries/{entry}", get(api::entry_detail)),
        ("POST", "/api/v1/entries/{entry}/corrections", post(api::correct_entry)),
        ("POST", "/api/v1/entries/{entry}/acknowledgement", post(api::acknowledge_entry)),
        ("GET", "/api/v1/notifications", get(api::notifications)),
        ("GET", "/api/v1/patients/{patient}/who-answers", get(api::who_answers)),
        ("POST", "/api/v1/patients/{patient}/urgent-requests", post(api::raise_urgent_request)),
        ("GET", "/api/v1/urgent-requests/{request}", get(api::urgent_request)),
        ("POST", "/api/v1/urgent-requests/{request}/acknowledgement", post(api::acknowledge_urgent_request)),
        ("POST", "/api/v1/urgent-requests/{request}/hospital-request", post(api::ask_hospitals)),
        ("POST", "/api/v1/urgent-requests/{request}/hospital-answer", post(api::answer_as_hospital)),
        ("POST", "/api/v1/urgent-requests/{request}/outcome", post(api::record_urgent_outcome)),
        ("GET", "/api/v1/absences", get(api::my_absences)),
        ("POST", "/api/v1/absences", post(api::record_absence)),
        ("POST", "/api/v1/absences/{absence}/cancellation", post(api::cancel_absence)),
        ("GET", "/api/v1/physician-groups", get(api::physician_groups)),
        ("POST", "/api/v1/physician-groups", post(api::create_physician_group)),
        ("POST", "/api/v1/physician-groups/{group}/members", post(api::add_group_member)),
        ("GET", "/api/v1/physician-groups/{group}", get(api::physician_group)),
        ("POST", "/api/v1/physician-groups/{group}/roster", post(api::save_roster)),
        ("PUT", "/api/v1/hospitals/{facility}/backup-beds", put(api::update_backup_beds)),
        ("GET", "/api/v1/centre/cases", get(api::desk_cases)),
        ("POST", "/api/v1/centre/cases", post(api::record_consultation)),
        ("GET", "/api/v1/centre/cases/{case}", get(api::case_detail)),
        ("POST", "/api/v1/centre/cases/{case}/changes", post(api::change_case)),
        ("POST", "/api/v1/centre/cases/{case}/candidates", post(api::ask_candidates)),
        ("POST", "/api/v1/centre/cases/{case}/team", post(api::create_team)),
        ("GET", "/api/v1/centre/reports", get(api::report)),
        ("POST", "/api/v1/discharge-requests", post(api::send_discharge_request)),
        ("GET", "/api/v1/coordination-requests", get(api::coordination_inbox)),
        ("POST", "/api/v1/coordination-requests/{request}/answer", post(api::answer_request)),
        ("GET", "/colleagues", get(patients::colleagues)),
        ("GET", "/healthz", get(ops::healthz)),
        ("GET", "/readyz", get(ops::readyz)),
        ("GET", "/metrics", get(ops::metrics)),
        ("GET", "/static/{file}", get(ops::static_file)),
        // The public resource map (no sign-in): pages, the print layout, JSON, vendored map scripts.
        ("GET", "/m/{code}/map", get(public::map)),
        ("GET", "/m/{code}/map/print", get(public::print)),
        ("GET", "/m/{code}/facilities/{facility}", get(public::facility)),
        ("GET", "/api/public/v1/m/{code}/facilities", get(api::public_facilities)),
        ("GET", "/api/public/v1/m/{code}/facilities.csv", get(api::public_facilities_csv)),
        // The public pages (no sign-in): the municipality's home, articles, events, figures.
        ("GET", "/m/{code}", get(public_pages::home)),
        ("GET", "/m/{code}/articles", get(public_pages::articles)),
        ("GET", "/m/{code}/articles/{article}", get(public_pages::article)),
        ("GET", "/m/{code}/events", get(public_pages::events)),
        ("GET", "/m/{code}/consult", get(coordination::consult)),
        ("POST", "/m/{code}/consult", post(coordination::send_consult)),
        ("GET", "/api/public/v1/m/{code}/figures", get(api::public_figures)),
        ("GET", "/api/public/v1/m/{code}/events", get(api::public_events)),
        ("GET", "/static/vendor/{*file}", get(ops::vendor_file)),
        // HL7 FHIR R4 (JP Core): API tokens, the web pages' access rules and audit.
        ("GET", "/fhir/metadata", get(fhir::metadata)),
        ("POST", "/fhir", post(fhir::transaction)),
        ("GET", "/fhir/Organization", get(fhir::search_organizations)),
        ("GET", "/fhir/Organization/{id}", get(fhir::read_organization)),
        ("GET", "/fhir/Location", get(fhir::search_locations)),
        ("GET", "/fhir/Location/{id}", get(fhir::read_location)),
        ("GET", "/fhir/HealthcareService", get(fhir::search_healthcare_services)),
        ("GET", "/fhir/HealthcareService/{id}", get(fhir::read_healthcare_service)),
        ("GET", "/fhir/Patient", get(fhir::search_patients)),
        ("GET", "/fhir/Patient/{id}", get(fhir::read_patient)),
        ("GET", "/fhir/Patient/{id}/$everything", get(fhir::patient_everything)),
        ("GET", "/fhir/Observation", get(fhir::search_observations)),
        ("POST", "/fhir/Observation", post(fhir::create_observation)),
        ("GET", "/fhir/Observation/{id}", get(fhir::read_observation)),
        ("GET", "/fhir/Observation/{id}/_history", get(fhir::observation_history)),
        ("GET", "/fhir/Observation/{id}/_history/{vid}", get(fhir::observation_version)),
        ("GET", "/fhir/Communication", get(fhir::search_communications)),
        ("POST", "/fhir/Communication", post(fhir::create_communication)),
        ("GET", "/fhir/Communication/{id}", get(fhir::read_communication)),
        ("GET", "/fhir/Communication/{id}/_history", get(fhir::communication_history)),
        ("GET", "/fhir/Communication/{id}/_history/{vid}", get(fhir::communication_version)),
        ("GET", "/fhir/DocumentReference", get(fhir::search_documents)),
        ("GET", "/fhir/DocumentReference/{id}", get(fhir::read_document)),
        ("GET", "/fhir/Binary/{id}", get(fhir::read_binary)),
        ("GET", "/fhir/PractitionerRole", get(fhir::search_practitioner_roles)),
        ("GET", "/fhir/PractitionerRole/{id}", get(fhir::read_practitioner_role)),
        ("GET", "/fhir/Consent", get(fhir::search_consents)),
        ("GET", "/fhir/Consent/{id}", get(fhir::read_consent)),
        ("GET", "/fhir/Encounter", get(fhir::search_encounters)),
        ("GET", "/fhir/Encounter/{id}", get(fhir::read_encounter)),
        ("GET", "/fhir/AuditEvent", get(fhir::search_audit_events)),
        ("GET", "/fhir/Practitioner", get(fhir::search_practitioners)),
        ("GET", "/fhir/Practitioner/{id}", get(fhir::read_practitioner)),
        ("GET", "/fhir/CareTeam", get(fhir::search_care_teams)),
        ("GET", "/fhir/CareTeam/{id}", get(fhir::read_care_team)),
        ("GET", "/fhir/{*rest}", get(fhir::unsupported).post(fhir::unsupported)),
    ]
}

/// The whole web application.
pub fn router(app: App, config: WebConfig) -> Router {
    router_with_limits(app, config).0
}

/// The web application and its rate limits, which an installation of several
/// instances shares by calling [`RateLimits::share`] about once a second.
pub fn router_with_limits(app: App, config: WebConfig) -> (Router, std::sync::Arc<RateLimits>) {
    let limits = std::sync::Arc::new(RateLimits::new(&config));
    let mut router = Router::new();
    for (_, path, method_router) in route_table() {
        router = router.route(path, method_router);
    }
    if let Some(limiter) = limits.writes.clone() {
        router = router.layer(axum::middleware::from_fn_with_state(limiter, rate_limit::limit_writes));
    }
    if let Some(limiter) = limits.public_reads.clone() {
        router = router.layer(axum::middleware::from_fn_with_state(limiter, rate_limit::limit_public_reads));
    }
    let security = security::Security::new(config.secure_cookies, &config.map_tiles.url);
    let router = router
        .fallback(pages::ops::not_found)
        .layer(axum::middleware::from_fn(error::localise_errors))
        .layer(axum::middleware::from_fn_with_state(security, security::headers))
        .layer(axum::middleware::from_fn(metrics::count))
        .layer(DefaultBodyLimit::max(256 * 1024))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .with_state(AppState { app, token_buckets: limits.tokens.clone(), config });
    (router, limits)
}

/// (method, path pattern) of every route.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    route_table().into_iter().map(|(method, path, _)| (method, path)).collect()
}
