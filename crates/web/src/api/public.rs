//! The public resource map as JSON (`/api/public/v1/...`): no sign-in, public
//! data only, for the map's markers and for anyone who reuses the list. It
//! calls the same use case as the map page. Reads are limited per client
//! address (see `rate_limit.rs`), not by a session.

use super::ApiError;
use crate::AppState;
use crate::context::Ctx;
use crate::i18n::Lang;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tsunagu_app::public_map::{Listed, PublicQuery, PublicQueryForm};
use tsunagu_domain::text::csv_text_cell;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Facilities per answer unless `limit` says otherwise.
const DEFAULT_LIMIT: i64 = 100;

#[derive(Deserialize, Default, IntoParams)]
#[serde(default)]
pub(crate) struct PublicFacilitiesQuery {
    /// A facility kind: clinic, hospital, dental_clinic, pharmacy, home_nursing_station,
    /// care_management_office, home_help_office, community_support_center, ...
    kind: String,
    /// A home-care notification: home_care_support_clinic, home_care_support_hospital,
    /// enhanced_palliative, comprehensive_home_medical_management or home_cancer_care.
    flag: String,
    /// Text the address contains (a town name).
    area: String,
    /// Text the name or its reading (kana) contains.
    name: String,
    /// With `lng`: facilities nearest to this point first (those without coordinates left out).
    lat: String,
    lng: String,
    /// From 1.
    page: String,
    /// A service the facility offers by its own account: scheduled_home_visit, urgent_visit,
    /// around_the_clock, home_death, palliative_opioids, home_oxygen, ventilator, ...
    service: String,
    /// "yes": only facilities that accept new patients now.
    accepting: String,
    /// Facilities per page, 1 to 2000 (default 100).
    limit: String,
}

impl PublicFacilitiesQuery {
    /// The filters as the use case reads them, at `page` of `limit`.
    fn form<'a>(&'a self, page: &'a str, limit: &'a str) -> PublicQueryForm<'a> {
        PublicQueryForm {
            kind: &self.kind,
            flag: &self.flag,
            area: &self.area,
            name: &self.name,
            lat: &self.lat,
            lng: &self.lng,
            page,
            limit,
            service: &self.service,
            accepting: &self.accepting,
            code: "",
        }
    }
}

/// A status flag (届出) the facility holds now.
#[derive(Serialize, ToSchema)]
pub(crate) struct PublicFlagJson<'a> {
    /// e.g. home_care_support_clinic_2; other notifications by their 受理記号.
    code: &'a str,
    /// In the caller's language.
    label: &'a str,
    /// YYYY-MM-DD (算定開始年月日), when known.
    since: Option<String>,
    home_care: bool,
}

/// What anyone may know of a facility.
// Borrowed from the answer: rendered, not copied.
#[derive(Serialize, ToSchema)]
pub(crate) struct PublicFacilityJson<'a> {
    id: Uuid,
    kind: &'static str,
    /// The kind in the caller's language.
    kind_label: &'static str,
    name: &'a str,
    name_kana: Option<&'a str>,
    address: &'a str,
    /// The town part of the address.
    area: &'a str,
    phone: Option<&'a str>,
    fax: Option<&'a str>,
    service: Option<&'a str>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    /// Metres from (`lat`, `lng`), when given.
    distance_m: Option<f64>,
    flags: Vec<PublicFlagJson<'a>>,
    /// The facility's public page.
    url: String,
}

/// A page of a municipality's facilities.
#[derive(Serialize, ToSchema)]
pub(crate) struct PublicFacilityList<'a> {
    municipality_code: &'a str,
    municipality_name: &'a str,
    /// Matching facilities on every page; absent when sorted by distance
    /// (nearest first, facilities without coordinates are left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<i64>,
    page: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pages: Option<i64>,
    per_page: i64,
    /// There is a next page.
    has_next: bool,
    facilities: Vec<PublicFacilityJson<'a>>,
}

fn facility_json<'a>(f: &'a Listed, code: &str, lang: Lang) -> PublicFacilityJson<'a> {
    let (kind_label, flag_label): (&str, fn(&tsunagu_app::public_map::PublicFlag) -> &str) = match lang {
        Lang::Ja => (f.kind.label_ja(), |g| &g.label_ja),
        Lang::En => (f.kind.label_en(), |g| &g.label_en),
    };
    PublicFacilityJson {
        id: f.id,
        kind: f.kind.code(),
        kind_label,
        name: &f.name,
        name_kana: f.name_kana.as_deref(),
        address: &f.address,
        area: &f.area,
        phone: f.phone.as_deref(),
        fax: f.fax.as_deref(),
        service: f.service.as_deref(),
        latitude: f.location.map(|l| l.latitude),
        longitude: f.location.map(|l| l.longitude),
        distance_m: f.distance_m.map(|d| d.round()),
        flags: f
            .flags
            .iter()
            .map(|g| PublicFlagJson {
                code: &g.code,
                label: flag_label(g),
                since: g.since.map(|d| d.to_string()),
                home_care: g.home_care,
            })
            .collect(),
        url: format!("/m/{code}/facilities/{}", f.id),
    }
}

/// A municipality's open facilities, filtered, a page at a time — or nearest
/// first from a point. No sign-in. Errors: 404 for an unknown municipality,
/// 422 for bad filters or coordinates (with `field` and `code`), 429 when one
/// address asks too often.
#[utoipa::path(get, path = "/api/public/v1/m/{code}/facilities", tag = "public",
    params(("code" = String, Path, description = "全国地方公共団体コード (6 digits), e.g. 122173"), PublicFacilitiesQuery),
    responses((status = 200, body = PublicFacilityList), (status = 404, body = ApiError), (status = 422, body = ApiError),
        (status = 429, description = "Too many requests from this address; see Retry-After")))]
pub(crate) async fn public_facilities(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<PublicFacilitiesQuery>,
) -> Result<Response, ApiError> {
    let fail = |e| ApiError::from_app(e, &ctx);
    let form = q.form(&q.page, &q.limit);
    let query = match PublicQuery::parse(&form, DEFAULT_LIMIT) {
        Ok(query) => query,
        Err(e) => {
            // An unknown municipality is "not found" whatever the filters.
            state.app.public_municipality(&code).await.map_err(fail)?;
            return Err(fail(e.into()));
        }
    };
    // Many citizens ask the same question: the rendered answer is kept as
    // long as the answer itself (public data only).
    let key = format!("{code}|{query:?}|{:?}", ctx.t.lang);
    if let Some(kept) = state.app.kept_public_rendering(&key) {
        return Ok(open_json(Bytes::from_owner(SharedBody(kept))));
    }
    let version = state.app.public_version();
    let list = state.app.public_facilities(&code, &query).await.map_err(fail)?;
    let body = PublicFacilityList {
        facilities: list.facilities.iter().map(|f| facility_json(f, &list.municipality.code, ctx.t.lang)).collect(),
        municipality_code: &list.municipality.code,
        municipality_name: &list.municipality.name,
        total: list.total,
        page: list.query.page,
        pages: list.pages,
        per_page: list.query.per_page,
        has_next: list.has_next,
    };
    // About 600 bytes a facility: grown once or not at all.
    let mut rendered = Vec::with_capacity(1024 + 640 * body.facilities.len());
    serde_json::to_writer(&mut rendered, &body).map_err(|e| fail(tsunagu_app::AppError::Internal(e.to_string())))?;
    let rendered = std::sync::Arc::new(rendered);
    state.app.keep_public_rendering(key, std::sync::Arc::clone(&rendered), version);
    Ok(open_json(Bytes::from_owner(SharedBody(rendered))))
}

/// A rendering that is also kept, sent without copying it.
struct SharedBody(std::sync::Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBody {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A JSON answer of open data: any site may read it (no cookies are involved).
fn open_json(body: Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        ],
        body,
    )
        .into_response()
}

/// The most pages of [`tsunagu_app::public_map::MAX_LIMIT`] one CSV holds (300,000 facilities).
const CSV_PAGES: i64 = 150;

/// The same list as CSV (UTF-8 with BOM, as the government's open data), every
/// matching facility in one file: for spreadsheets and for the municipality's
/// own open-data catalogue. Filters as for the JSON; no paging.
#[utoipa::path(get, path = "/api/public/v1/m/{code}/facilities.csv", tag = "public",
    params(("code" = String, Path, description = "全国地方公共団体コード (6 digits), e.g. 122173"), PublicFacilitiesQuery),
    responses((status = 200, description = "text/csv: ID, 種別, 名称, 名称（カナ）, 住所, 電話番号, FAX番号, 緯度, 経度, 医療機関コード, 介護保険事業所番号, 届出"),
        (status = 404, body = ApiError), (status = 422, body = ApiError), (status = 429, description = "Too many requests")))]
pub(crate) async fn public_facilities_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<PublicFacilitiesQuery>,
) -> Result<Response, ApiError> {
    let fail = |e| ApiError::from_app(e, &ctx);
    let limit = tsunagu_app::public_map::MAX_LIMIT.to_string();
    let mut facilities = Vec::new();
    let mut municipality = None;
    for page in 1..=CSV_PAGES {
        let page_text = page.to_string();
        let form = q.form(&page_text, &limit);
        let query = match PublicQuery::parse(&form, tsunagu_app::public_map::MAX_LIMIT) {
            Ok(query) => query,
            Err(e) => {
                state.app.public_municipality(&code).await.map_err(fail)?;
                return Err(fail(e.into()));
            }
        };
        let list = state.app.public_facilities(&code, &query).await.map_err(fail)?;
        let more = list.has_next;
        facilities.extend(list.facilities);
        municipality = Some(list.municipality);
        if !more {
            break;
        }
    }
    let m = municipality.ok_or_else(|| fail(tsunagu_app::AppError::NotFound))?;
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let internal = |e: csv::Error| fail(tsunagu_app::AppError::Internal(e.to_string()));
    out.write_record([
        "ID",
        "種別",
        "名称",
        "名称（カナ）",
        "住所",
        "電話番号",
        "FAX番号",
        "緯度",
        "経度",
        "医療機関コード",
        "介護保険事業所番号",
        "届出",
    ])
    .map_err(internal)?;
    for f in &facilities {
        let flags: Vec<String> = f
            .flags
            .iter()
            .map(|g| match g.since {
                Some(since) => format!("{}（{since}〜）", g.label_ja),
                None => g.label_ja.clone(),
            })
            .collect();
        let coordinate = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        // Every cell but the coordinates holds text from people or imported files, which a
        // spreadsheet must not run as a formula (`csv_text_cell`); the coordinates are numbers
        // we format ourselves, and a negative one must stay a number.
        let text = |s: &str| csv_text_cell(s).into_owned();
        out.write_record([
            f.id.to_string(),
            text(f.kind.label_ja()),
            text(&f.name),
            text(f.name_kana.as_deref().unwrap_or_default()),
            text(&f.address),
            text(f.phone.as_deref().unwrap_or_default()),
            text(f.fax.as_deref().unwrap_or_default()),
            coordinate(f.location.map(|l| l.latitude)),
            coordinate(f.location.map(|l| l.longitude)),
            text(f.medical_institution_code.as_deref().unwrap_or_default()),
            text(f.care_provider_number.as_deref().unwrap_or_default()),
            text(&flags.join("、")),
        ])
        .map_err(internal)?;
    }
    let bytes = out.into_inner().map_err(|e| fail(tsunagu_app::AppError::Internal(e.to_string())))?;
    let disposition = format!("attachment; filename=\"facilities-{}.csv\"", m.code);
    let mut response = (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response();
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}

/// One figure as published.
#[derive(Serialize, ToSchema)]
pub(crate) struct FigureJson {
    /// home_care_support_clinics, home_care_support_hospitals, home_nursing_stations or home_deaths.
    metric: String,
    /// The count, unless it is withheld or unknown.
    value: Option<i64>,
    /// A small count of people from the system is withheld: "fewer than this".
    fewer_than: Option<i64>,
    /// "own" (counted by the system) or "entered" (the municipality's statistics); null: nothing known.
    source: Option<String>,
    /// Counted over part of the period only.
    partial: bool,
}

/// A line of the figures table.
#[derive(Serialize, ToSchema)]
pub(crate) struct FigureLineJson {
    /// "now" (facilities today, home deaths so far this fiscal year) or "year".
    period: String,
    /// The fiscal year (April to March) the line is about.
    fiscal_year: i32,
    /// The day facilities are counted on (today, or the year's April 1st).
    as_of: String,
    /// One per metric, in the same order on every line.
    figures: Vec<FigureJson>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PublicFiguresJson {
    municipality_code: String,
    municipality_name: String,
    lines: Vec<FigureLineJson>,
}

/// The programme's figures: support clinics and hospitals, home nursing
/// stations (on April 1st of each fiscal year, and today) and home deaths (per
/// fiscal year) — from the system's own data where it covers the period,
/// otherwise as the municipality entered them. No sign-in.
#[utoipa::path(get, path = "/api/public/v1/m/{code}/figures", tag = "public",
    params(("code" = String, Path, description = "全国地方公共団体コード (6 digits)")),
    responses((status = 200, body = PublicFiguresJson), (status = 404, body = ApiError)))]
pub(crate) async fn public_figures(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    use tsunagu_app::public_pages::Period;
    use tsunagu_domain::public_pages::{FigureSource, Shown};
    let (m, figures) = state.app.public_figures(&code).await.map_err(|e| ApiError::from_app(e, &ctx))?;
    let lines = figures
        .lines
        .iter()
        .map(|line| {
            let (period, year, as_of) = match line.period {
                Period::Now(day, year) => ("now", year, day),
                Period::Year(year) => ("year", year, year.first_day()),
            };
            let values = figures
                .metrics
                .iter()
                .zip(&line.cells)
                .map(|(metric, cell)| FigureJson {
                    metric: metric.code().to_owned(),
                    value: cell.and_then(|f| match f.shown {
                        Shown::Count(n) => Some(n),
                        Shown::FewerThan(_) => None,
                    }),
                    fewer_than: cell.and_then(|f| match f.shown {
                        Shown::FewerThan(n) => Some(n),
                        Shown::Count(_) => None,
                    }),
                    source: cell.map(|f| if f.source == FigureSource::Own { "own" } else { "entered" }.to_owned()),
                    partial: cell.is_some_and(|f| f.partial),
                })
                .collect();
            FigureLineJson { period: period.to_owned(), fiscal_year: year.0, as_of: as_of.to_string(), figures: values }
        })
        .collect();
    let body = PublicFiguresJson { municipality_code: m.code, municipality_name: m.name, lines };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PublicEventJson {
    id: Uuid,
    title: String,
    /// RFC 3339, Japan's time.
    starts_at: String,
    ends_at: Option<String>,
    place: String,
    /// Markdown, as the municipality wrote it.
    description: Option<String>,
    cancelled: bool,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PublicEventsJson {
    municipality_code: String,
    municipality_name: String,
    /// Soonest first; cancelled ones stay, marked.
    upcoming: Vec<PublicEventJson>,
}

/// The municipality's coming public events (talks, consultations). No sign-in.
#[utoipa::path(get, path = "/api/public/v1/m/{code}/events", tag = "public",
    params(("code" = String, Path, description = "全国地方公共団体コード (6 digits)")),
    responses((status = 200, body = PublicEventsJson), (status = 404, body = ApiError)))]
pub(crate) async fn public_events(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let events = state.app.public_events(&code).await.map_err(|e| ApiError::from_app(e, &ctx))?;
    // In Japan's time, as the events are announced.
    let rfc3339 = |t: time::OffsetDateTime| super::rfc3339(t.to_offset(tsunagu_domain::clock::JST));
    let body = PublicEventsJson {
        municipality_code: events.municipality.code,
        municipality_name: events.municipality.name,
        upcoming: events
            .upcoming
            .into_iter()
            .map(|e| PublicEventJson {
                id: e.id,
                title: e.title,
                starts_at: rfc3339(e.starts_at),
                ends_at: e.ends_at.map(rfc3339),
                place: e.place,
                description: e.description,
                cancelled: e.cancelled,
            })
            .collect(),
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}
