//! The public resource map's pages, without signing in: the list with its
//! filters (a plain GET form: it works without JavaScript and reads well
//! with a screen reader) and a Leaflet map over it (`/static/public_map.js`
//! reads the markers from the public JSON API), a facility's page, and an A4
//! list grouped by area for printing.

use super::Chrome;
use crate::context::Ctx;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::{AppState, MapTiles};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tsunagu_app::AppError;
use tsunagu_app::public_map::{
    FlagFilter, PAGE_SIZE, PublicFacility, PublicFlag, PublicList, PublicMunicipality, PublicPrint, PublicQuery,
    PublicQueryForm,
};
use tsunagu_domain::facility::FacilityKind;
use uuid::Uuid;

/// The filters as they came (to fill the form again and build links).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct MapQuery {
    kind: String,
    flag: String,
    area: String,
    name: String,
    lat: String,
    lng: String,
    page: String,
    service: String,
    accepting: String,
}

impl MapQuery {
    fn form(&self) -> PublicQueryForm<'_> {
        PublicQueryForm {
            kind: &self.kind,
            flag: &self.flag,
            area: &self.area,
            name: &self.name,
            lat: &self.lat,
            lng: &self.lng,
            page: &self.page,
            limit: "",
            service: &self.service,
            accepting: &self.accepting,
            code: "",
        }
    }

    /// `kind=...&flag=...` of the filters that are set (not the page), for links.
    fn filters(&self, with_point: bool) -> String {
        let point = [("lat", &self.lat), ("lng", &self.lng)];
        [
            ("kind", &self.kind),
            ("flag", &self.flag),
            ("area", &self.area),
            ("name", &self.name),
            ("service", &self.service),
            ("accepting", &self.accepting),
        ]
        .into_iter()
        .chain(point.into_iter().filter(|_| with_point))
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// Percent-encodes a query value (UTF-8, everything but unreserved characters).
fn encode(value: &str) -> String {
    value.bytes().fold(String::with_capacity(value.len()), |mut out, b| {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        out
    })
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
}

/// The label of a flag in the reader's language.
fn flag_label(t: &Tr, flag: &PublicFlag) -> String {
    match t.lang {
        Lang::Ja => flag.label_ja.clone(),
        Lang::En => flag.label_en.clone(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "public_map.html")]
struct MapPage {
    t: Tr,
    c: Chrome,
    m: PublicMunicipality,
    q: MapQuery,
    /// None when the filters were refused (the error is in `c.error`).
    l: Option<PublicList>,
    kinds: &'static [FacilityKind],
    flags: &'static [FlagFilter],
    services: &'static [tsunagu_domain::registry::FacilityService],
    tiles: MapTiles,
    /// The JSON of the markers: the same filters, every page.
    markers: String,
    print: String,
    /// The same list as CSV.
    csv: String,
    previous: Option<String>,
    next: Option<String>,
}

impl MapPage {
    fn flag_label(&self, flag: &PublicFlag) -> String {
        flag_label(&self.t, flag)
    }

    fn facility_url(&self, f: &PublicFacility) -> String {
        format!("/m/{}/facilities/{}", self.m.code, f.id)
    }
}

/// `GET /m/{code}/map`: the filters, the map and the list.
pub(crate) async fn map(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<MapQuery>,
) -> Result<Response, WebError> {
    let mut c = ctx.chrome(None);
    // The list names its municipality; only refused filters need it looked up alone.
    let (status, m, l) = match PublicQuery::parse(&q.form(), PAGE_SIZE) {
        Ok(query) => {
            let l = state.app.public_facilities(&code, &query).await?;
            (StatusCode::OK, l.municipality.clone(), Some(l))
        }
        Err(e) => {
            let m = state.app.public_municipality(&code).await?;
            let (status, message) = ctx.form_error(AppError::Invalid(e))?;
            c.error = Some(message);
            (status, m, None)
        }
    };
    let base = format!("/m/{}/map", m.code);
    let page_link = |page: i64| {
        let filters = q.filters(true);
        let sep = if filters.is_empty() { "" } else { "&" };
        format!("{base}?{filters}{sep}page={page}")
    };
    let (previous, next) = match &l {
        Some(l) => {
            ((l.query.page > 1).then(|| page_link(l.query.page - 1)), l.has_next.then(|| page_link(l.query.page + 1)))
        }
        None => (None, None),
    };
    let markers = format!(
        "/api/public/v1/m/{}/facilities?{}{}limit={}",
        m.code,
        q.filters(false),
        if q.filters(false).is_empty() { "" } else { "&" },
        tsunagu_app::public_map::MAX_LIMIT
    );
    let page = MapPage {
        t: ctx.t,
        c,
        print: with_query(&format!("{base}/print"), &q.filters(false)),
        csv: with_query(&format!("/api/public/v1/m/{}/facilities.csv", m.code), &q.filters(false)),
        m,
        q,
        l,
        kinds: FacilityKind::ALL,
        flags: FlagFilter::ALL,
        services: tsunagu_domain::registry::FacilityService::ALL,
        tiles: state.config.map_tiles.clone(),
        markers,
        previous,
        next,
    };
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "public_facility.html")]
struct FacilityPage {
    t: Tr,
    c: Chrome,
    m: PublicMunicipality,
    f: PublicFacility,
    /// What the facility says about itself.
    profile: tsunagu_app::registry::ProfileView,
    tiles: MapTiles,
}

impl FacilityPage {
    fn flag_label(&self, flag: &PublicFlag) -> String {
        flag_label(&self.t, flag)
    }
}

/// `GET /m/{code}/facilities/{facility}`: one facility, with a small map.
pub(crate) async fn facility(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((code, facility)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let id: Uuid = super::parse_id(&ctx, &facility)?;
    let (m, f) = state.app.public_facility(&code, id).await?;
    let profile = state.app.public_profile(&code, id).await?;
    Ok(FacilityPage { t: ctx.t, c: ctx.chrome(None), m, f, profile, tiles: state.config.map_tiles.clone() }
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "public_print.html")]
struct PrintPage {
    t: Tr,
    c: Chrome,
    p: PublicPrint,
    /// The filters in words ("訪問看護ステーション・豊四季台"), or none.
    conditions: Vec<String>,
    back: String,
}

impl PrintPage {
    fn flag_label(&self, flag: &PublicFlag) -> String {
        flag_label(&self.t, flag)
    }
}

/// `GET /m/{code}/map/print`: every matching facility grouped by area, in large type for A4.
pub(crate) async fn print(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<MapQuery>,
) -> Result<Response, WebError> {
    let query = PublicQuery::parse(&q.form(), PAGE_SIZE).map_err(|e| ctx.fail(e.into()))?;
    let p = state.app.public_print(&code, &query).await?;
    let mut conditions: Vec<String> = Vec::new();
    conditions.extend(query.kind.map(|k| ctx.t.label(&k).to_owned()));
    conditions.extend(query.flag.map(|f| ctx.t.label(&f).to_owned()));
    conditions.extend(query.area.iter().map(|a| format!("{}: {a}", ctx.t.s("public.area"))));
    conditions.extend(query.name.iter().map(|n| format!("{}: {n}", ctx.t.s("public.name"))));
    let back = with_query(&format!("/m/{}/map", p.municipality.code), &q.filters(false));
    Ok(PrintPage { t: ctx.t, c: ctx.chrome(None), p, conditions, back }.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters_encoded() {
        let q = MapQuery {
            kind: "home_nursing_station".into(),
            area: "豊四季台".into(),
            name: "a&b=c".into(),
            lat: "35.86".into(),
            lng: "139.97".into(),
            ..MapQuery::default()
        };
        assert_eq!(
            q.filters(false),
            "kind=home_nursing_station&area=%E8%B1%8A%E5%9B%9B%E5%AD%A3%E5%8F%B0&name=a%26b%3Dc"
        );
        assert!(q.filters(true).ends_with("&lat=35.86&lng=139.97"));
        assert_eq!(MapQuery::default().filters(true), "");
        assert_eq!(with_query("/m/122173/map/print", ""), "/m/122173/map/print");
    }
}
