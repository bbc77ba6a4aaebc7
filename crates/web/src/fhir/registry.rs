//! The public resource registry in FHIR: Organization and Location, read and
//! searched without a token (rate-limited per address like the public map).

use super::caller::{Pairs, not_found, pairs};
use super::outcome::{FhirError, Issue, Resource};
use super::resources::{
    ACCEPTING, CARE_PROVIDER_NUMBERS, FACILITY_KINDS, FACILITY_SERVICES, HEALTHCARE_SERVICE_SEARCH, LOCATION_SEARCH,
    MEDICAL_INSTITUTION_NUMBERS, ORGANIZATION_SEARCH, distance_extension, healthcare_service, location, names,
    organization, searchset,
};
use super::search::{Params, bad_request};
use super::{Base, Lang};
use crate::AppState;
use crate::i18n::Tr;
use axum::extract::{Path, State};
use uuid::Uuid;

/// Which resource of the registry a handler answers with.
#[derive(Clone, Copy)]
enum Registry {
    Organization,
    Location,
    HealthcareService,
}

async fn read_registry(state: &AppState, t: Tr, id: &str, what: Registry) -> Result<Resource, FhirError> {
    let id: Uuid = id.parse().map_err(|_| not_found(t))?;
    let (m, f) = state.app.public_facility_by_id(id).await.map_err(|e| FhirError::app(e, t))?;
    Ok(Resource::ok(match what {
        Registry::Organization => organization(&m, &f),
        Registry::Location => location(&m, &f),
        Registry::HealthcareService => {
            // The facility was just found open in its municipality: its profile only.
            let profiles = state.app.public_profiles(&[f.id]).await.map_err(|e| FhirError::app(e, t))?;
            let profile = profiles.into_iter().next().ok_or_else(|| not_found(t))?;
            healthcare_service(&m, &f, &profile)
        }
    }))
}

/// `GET /fhir/Organization/{id}`: a facility of the public registry (no token).
pub(crate) async fn read_organization(
    State(state): State<AppState>,
    Lang(t): Lang,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    read_registry(&state, t, &id, Registry::Organization).await
}

/// `GET /fhir/Location/{id}`: where a facility of the public registry is (no token).
pub(crate) async fn read_location(
    State(state): State<AppState>,
    Lang(t): Lang,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    read_registry(&state, t, &id, Registry::Location).await
}

/// `near=latitude|longitude|distance|unit`: the point and the farthest distance in metres.
fn near_param(raw: &str) -> Result<((String, String), Option<f64>), FhirError> {
    let bad = || {
        bad_request(vec![Issue::new(
            "invalid",
            "near=緯度|経度|距離|単位（km または m） / near=latitude|longitude|distance|unit",
            Some("near"),
        )])
    };
    let parts: Vec<&str> = raw.split('|').collect();
    let (lat, lng) = match parts.as_slice() {
        [lat, lng, ..] => (lat.trim().to_owned(), lng.trim().to_owned()),
        _ => return Err(bad()),
    };
    let limit = match parts.get(2).map(|d| d.trim()).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => {
            let value: f64 = d.parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0).ok_or_else(bad)?;
            let factor = match parts.get(3).map(|u| u.trim()).unwrap_or("km") {
                "km" | "" => 1000.0,
                "m" => 1.0,
                _ => return Err(bad()),
            };
            Some(value * factor)
        }
    };
    Ok(((lat, lng), limit))
}

async fn search_registry(
    state: &AppState,
    t: Tr,
    base: &str,
    query: Pairs,
    what: Registry,
) -> Result<Resource, FhirError> {
    let (table, resource_type) = match what {
        Registry::Organization => (ORGANIZATION_SEARCH, "Organization"),
        Registry::Location => (LOCATION_SEARCH, "Location"),
        Registry::HealthcareService => (HEALTHCARE_SERVICE_SEARCH, "HealthcareService"),
    };
    let params = Params::parse(pairs(query)?, &names(table))?;
    let (count, offset) = (params.count()?, params.offset()?);
    if offset % count != 0 {
        return Err(bad_request(vec![Issue::new(
            "invalid",
            "_offset は _count の倍数で / _offset must be a multiple of _count",
            Some("_offset"),
        )]));
    }
    let no_match = || {
        Resource::ok(searchset(
            base,
            resource_type,
            &params.at_offset(offset, count),
            None,
            None,
            Vec::<(serde_json::Value, &str)>::new(),
        ))
    };
    // A kind tsunagu does not have (or another system's code) matches nothing.
    let kind = match params.one("type")? {
        None => String::new(),
        Some(raw) => {
            match own_code(raw, FACILITY_KINDS).filter(|c| tsunagu_domain::facility::FacilityKind::parse(c).is_ok()) {
                Some(c) => c.to_owned(),
                None => return Ok(no_match()),
            }
        }
    };
    // A service or an answer tsunagu does not have matches nothing, as a kind does.
    let service = match params.one("service-type")? {
        None => String::new(),
        Some(raw) => match own_code(raw, FACILITY_SERVICES)
            .filter(|c| tsunagu_domain::registry::FacilityService::parse(c).is_ok())
        {
            Some(c) => c.to_owned(),
            None => {
                return Ok(no_match());
            }
        },
    };
    let accepting = match params.one("characteristic")? {
        None => "",
        Some(raw) if own_code(raw, ACCEPTING) == Some("yes") => "yes",
        Some(_) => {
            return Err(bad_request(vec![Issue::new(
                "not-supported",
                "characteristic は urn:tsunagu:accepting-new-patients|yes のみ / only accepting-new-patients|yes",
                Some("characteristic"),
            )]));
        }
    };
    // 医療機関コード or 介護保険事業所番号; another system's identifier matches nothing.
    let identifier = match params.one("identifier")? {
        None => "",
        Some(raw) => match raw.split_once('|') {
            None => raw,
            Some((system, value))
                if system.is_empty() || system == MEDICAL_INSTITUTION_NUMBERS || system == CARE_PROVIDER_NUMBERS =>
            {
                value
            }
            Some(_) => {
                return Ok(no_match());
            }
        },
    };
    let (point, limit) = match params.one("near")? {
        Some(raw) => {
            let (p, l) = near_param(raw)?;
            (Some(p), l)
        }
        None => (None, None),
    };
    let code = state.app.public_registry_code(params.one("address-city")?).await.map_err(|e| FhirError::app(e, t))?;
    let page = (offset / count + 1).to_string();
    let limit_text = count.to_string();
    let (lat, lng) = point.clone().unwrap_or_default();
    let form = tsunagu_app::public_map::PublicQueryForm {
        kind: &kind,
        name: params.one("name")?.unwrap_or(""),
        lat: &lat,
        lng: &lng,
        page: &page,
        limit: &limit_text,
        service: &service,
        accepting,
        code: identifier,
        ..Default::default()
    };
    let parsed = tsunagu_app::public_map::PublicQuery::parse(&form, count as i64).map_err(|e| {
        let field = match e.field {
            "kind" => "type",
            "latitude" | "longitude" => "near",
            "code" => "identifier",
            other => other,
        };
        bad_request(vec![Issue::new("invalid", t.error(e.field, e.code), Some(field))])
    })?;
    let list = state.app.public_facilities(&code, &parsed).await.map_err(|e| FhirError::app(e, t))?;
    let within = |f: &&tsunagu_app::public_map::Listed| limit.is_none_or(|l| f.distance_m.is_some_and(|d| d <= l));
    let shown: Vec<&tsunagu_app::public_map::Listed> = list.facilities.iter().filter(within).collect();
    let cut = shown.len() < list.facilities.len();
    let bundle_entries: Vec<(serde_json::Value, &'static str)> = match what {
        Registry::Organization => shown.iter().map(|f| (organization(&list.municipality, f), "match")).collect(),
        Registry::Location => shown.iter().map(|f| (location(&list.municipality, f), "match")).collect(),
        Registry::HealthcareService => {
            // The profiles of the whole page in one query.
            let ids: Vec<Uuid> = shown.iter().map(|f| f.id).collect();
            let profiles = state.app.public_profiles(&ids).await.map_err(|e| FhirError::app(e, t))?;
            shown.iter().zip(&profiles).map(|(f, p)| (healthcare_service(&list.municipality, f, p), "match")).collect()
        }
    };
    let (next, previous) = params.neighbours(offset, count, list.has_next && !cut);
    let mut bundle = searchset(base, resource_type, &params.at_offset(offset, count), next, previous, bundle_entries);
    for (index, f) in shown.iter().enumerate() {
        if let Some(d) = f.distance_m {
            bundle.extend_search(index, distance_extension(d));
        }
    }
    Ok(Resource::ok(bundle))
}

/// The code of a token in `system` (`code`, `|code` or `system|code`); another system's is none.
fn own_code<'a>(raw: &'a str, system: &str) -> Option<&'a str> {
    match raw.split_once('|') {
        Some((s, code)) if s.is_empty() || s == system => Some(code),
        Some(_) => None,
        None => Some(raw),
    }
}

/// `GET /fhir/HealthcareService/{id}`: what a facility offers (no token).
pub(crate) async fn read_healthcare_service(
    State(state): State<AppState>,
    Lang(t): Lang,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    read_registry(&state, t, &id, Registry::HealthcareService).await
}

/// `GET /fhir/HealthcareService?...`: who offers what, who takes new patients (no token).
pub(crate) async fn search_healthcare_services(
    State(state): State<AppState>,
    Lang(t): Lang,
    Base(base): Base,
    query: Pairs,
) -> Result<Resource, FhirError> {
    search_registry(&state, t, &base, query, Registry::HealthcareService).await
}

/// `GET /fhir/Organization?...`: the public registry (no token).
pub(crate) async fn search_organizations(
    State(state): State<AppState>,
    Lang(t): Lang,
    Base(base): Base,
    query: Pairs,
) -> Result<Resource, FhirError> {
    search_registry(&state, t, &base, query, Registry::Organization).await
}

/// `GET /fhir/Location?...`: the public registry, nearest first with `near` (no token).
pub(crate) async fn search_locations(
    State(state): State<AppState>,
    Lang(t): Lang,
    Base(base): Base,
    query: Pairs,
) -> Result<Resource, FhirError> {
    search_registry(&state, t, &base, query, Registry::Location).await
}
