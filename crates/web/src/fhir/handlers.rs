//! The FHIR interactions: read and search for Patient, Observation and
//! CareTeam, create for Observation, and the CapabilityStatement.

use super::outcome::{FhirError, Issue, Resource};
use super::resources::{
    CARE_TEAM_SEARCH, COMMUNICATION_SEARCH, FACILITY_KINDS, LOCATION_SEARCH, OBSERVATION_SEARCH, ORGANIZATION_SEARCH,
    PATIENT_SEARCH, capability_statement, care_team, communication, distance_extension, entry_kind_of, location, names,
    observation, observation_id, organization, patient, searchset,
};
use super::search::{Params, bad_request, date_range, instant_range, reference_id};
use crate::AppState;
use crate::context::{client_address, language};
use crate::i18n::Tr;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::Value;
use tsunagu_app::fhir::{EntrySearch, FhirPost, PatientQuery, Posted};
use tsunagu_app::{RequestMeta, Session};
use tsunagu_domain::interop::{DIASTOLIC_LOINC, SYSTOLIC_LOINC, UCUM, VitalCode, VitalValue};
use tsunagu_domain::patient::Sex;
use uuid::Uuid;

/// The caller of a FHIR interaction that needs a token.
pub(crate) struct Caller {
    session: Session,
    meta: RequestMeta,
    t: Tr,
    base: String,
}

/// Where this server's FHIR API is, as the caller reached it (for fullUrl and links).
fn base_url(parts: &Parts, state: &AppState) -> String {
    fhir_base(&parts.headers, state)
}

/// The FHIR base URL from a request's headers (Host, and X-Forwarded-Proto behind a proxy).
pub(crate) fn fhir_base(headers: &HeaderMap, state: &AppState) -> String {
    let parts_headers = headers;
    let host = parts_headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .unwrap_or("localhost");
    let forwarded = parts_headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok());
    let scheme = match forwarded {
        Some(p @ ("http" | "https")) if state.config.behind_proxy => p,
        _ if state.config.secure_cookies => "https",
        _ => "http",
    };
    format!("{scheme}://{host}/fhir")
}

fn meta_of(parts: &Parts, state: &AppState) -> RequestMeta {
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
        Ok(Caller { session, meta: meta_of(parts, state), t, base: base_url(parts, state) })
    }
}

/// The base URL without a token (for the CapabilityStatement).
pub(crate) struct Base(String);

impl FromRequestParts<AppState> for Base {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Base(base_url(parts, state)))
    }
}

type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn pairs(query: Pairs) -> Result<Vec<(String, String)>, FhirError> {
    query.map(|Query(p)| p).map_err(|e| bad_request(vec![Issue::new("invalid", e.body_text(), None)]))
}

fn not_found(t: Tr) -> FhirError {
    FhirError::app(tsunagu_app::AppError::NotFound, t)
}

/// `GET /fhir/metadata`: what this server supports (no token needed).
pub(crate) async fn metadata(State(state): State<AppState>, Base(base): Base) -> Resource {
    Resource::ok(capability_statement(&base, state.app.now()))
}

/// `GET /fhir/Patient/{id}`.
pub(crate) async fn read_patient(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    let id: Uuid = id.parse().map_err(|_| not_found(caller.t))?;
    let record =
        state.app.fhir_patient(&caller.session, id, &caller.meta).await.map_err(|e| FhirError::app(e, caller.t))?;
    Ok(Resource::ok(patient(&record)))
}

/// `GET /fhir/Patient/{id}/$everything`: the whole record, for a transfer.
pub(crate) async fn patient_everything(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Pairs,
) -> Result<Resource, FhirError> {
    Params::parse(pairs(query)?, &[])?;
    let id: Uuid = id.parse().map_err(|_| not_found(caller.t))?;
    let export =
        state.app.fhir_export(&caller.session, id, &caller.meta).await.map_err(|e| FhirError::app(e, caller.t))?;
    Ok(Resource::ok(super::resources::everything(&caller.base, &export)))
}

/// `GET /fhir/Patient?...`: among the caller's own patients.
pub(crate) async fn search_patients(
    State(state): State<AppState>,
    caller: Caller,
    query: Pairs,
) -> Result<Resource, FhirError> {
    let params = Params::parse(pairs(query)?, &names(PATIENT_SEARCH))?;
    let (count, offset) = (params.count()?, params.offset()?);
    let ids = params.one("_id")?.map(|raw| raw.split(',').filter_map(|id| id.trim().parse().ok()).collect());
    let (born_from, born_to) = date_range("birthdate", &params.all("birthdate"))?;
    let sex = match params.one("gender")? {
        None => None,
        Some(code) => Some(
            Sex::parse(code)
                .map_err(|_| {
                    bad_request(vec![Issue::new("invalid", "gender: male | female | other | unknown", Some("gender"))])
                })?
                .code()
                .to_owned(),
        ),
    };
    let text = |name: &str| params.one(name).map(|v| v.map(str::to_owned));
    let query = PatientQuery {
        ids,
        name: text("name")?,
        family: text("family")?,
        given: text("given")?,
        born_from,
        born_to,
        sex,
        count,
        offset,
    };
    let page = state
        .app
        .fhir_search_patients(&caller.session, &query, &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, caller.t))?;
    let entries = page.items.iter().map(|p| (patient(p), "match")).collect();
    let next = page.has_next.then(|| params.at_offset(offset + count, count));
    let previous = (offset > 0).then(|| params.at_offset(offset.saturating_sub(count), count));
    Ok(Resource::ok(searchset(&caller.base, "Patient", &params.at_offset(offset, count), next, previous, entries)))
}

/// The patient a search is about (`patient` or `subject`), which it must name.
fn patient_param(params: &Params) -> Result<Option<Uuid>, FhirError> {
    let raw = match (params.one("patient")?, params.one("subject")?) {
        (Some(p), None) => reference_id("patient", p, "Patient")?,
        (None, Some(s)) => reference_id("subject", s, "Patient")?,
        _ => {
            return Err(bad_request(vec![Issue::new(
                "required",
                "patient（または subject）を一つ指定してください / give exactly one of patient or subject",
                Some("patient"),
            )]));
        }
    };
    // An id that cannot be tsunagu's matches nothing.
    Ok(raw.parse().ok())
}

/// `GET /fhir/Observation?patient=...`: the patient's measurements, newest first.
pub(crate) async fn search_observations(
    State(state): State<AppState>,
    caller: Caller,
    query: Pairs,
) -> Result<Resource, FhirError> {
    let params = Params::parse(pairs(query)?, &names(OBSERVATION_SEARCH))?;
    let (count, offset) = (params.count()?, params.offset()?);
    let patient_id = patient_param(&params)?;
    let codes: Option<Vec<VitalCode>> =
        params.one("code")?.map(|raw| raw.split(',').filter_map(|t| VitalCode::from_token(t.trim())).collect());
    let category = params.one("category")?.map(|raw| raw.rsplit('|').next().unwrap_or(raw).to_owned());
    let (since, until) = instant_range("date", &params.all("date"))?;
    let mut include_patient = false;
    for include in params.all("_include") {
        match include {
            "Observation:patient" | "Observation:subject" => include_patient = true,
            other => {
                return Err(bad_request(vec![Issue::new(
                    "not-supported",
                    format!("_include={other} には対応していません / unsupported"),
                    Some("_include"),
                )]));
            }
        }
    }
    let query_text = params.at_offset(offset, count);
    let Some(patient_id) = patient_id else {
        return Ok(Resource::ok(searchset(&caller.base, "Observation", &query_text, None, None, Vec::new())));
    };
    let t = caller.t;
    let search = EntrySearch { resource: "Observation", kind: None, since, until, count, offset };
    let page = state
        .app
        .fhir_entries(&caller.session, patient_id, &search, &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, t))?;
    let wanted = |code: &VitalCode| {
        codes.as_ref().is_none_or(|c| c.contains(code))
            && category.as_deref().is_none_or(|c| c == if code.is_vital_sign() { "vital-signs" } else { "survey" })
    };
    let mut entries: Vec<(Value, &str)> = page
        .items
        .iter()
        .flat_map(|m| VitalCode::ALL.into_iter().filter(wanted).filter_map(|code| observation(m, code)))
        .map(|o| (o, "match"))
        .collect();
    if include_patient && !entries.is_empty() {
        let record = state
            .app
            .fhir_patient(&caller.session, patient_id, &caller.meta)
            .await
            .map_err(|e| FhirError::app(e, t))?;
        entries.push((patient(&record), "include"));
    }
    let next = page.has_next.then(|| params.at_offset(offset + count, count));
    let previous = (offset > 0).then(|| params.at_offset(offset.saturating_sub(count), count));
    Ok(Resource::ok(searchset(&caller.base, "Observation", &query_text, next, previous, entries)))
}

/// `GET /fhir/Observation/{entry}-{code}`.
pub(crate) async fn read_observation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    let t = caller.t;
    let (entry, suffix) = id.split_at_checked(36).ok_or_else(|| not_found(t))?;
    let entry: Uuid = entry.parse().map_err(|_| not_found(t))?;
    let code = suffix.strip_prefix('-').and_then(VitalCode::from_suffix).ok_or_else(|| not_found(t))?;
    let m = state
        .app
        .fhir_entry(&caller.session, "Observation", entry, &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, t))?;
    observation(&m, code).map(Resource::ok).ok_or_else(|| not_found(t))
}

/// What a posted Observation says, once read.
#[derive(Debug, PartialEq)]
struct PostedMeasurement {
    patient: Uuid,
    code: VitalCode,
    value: VitalValue,
    unit: String,
    note: String,
}

fn invalid(expression: &str, diagnostics: &str) -> Issue {
    Issue::new("invalid", diagnostics, Some(expression))
}

/// A quantity's value and UCUM unit.
fn quantity(q: &Value, at: &str) -> Result<(f64, String), Issue> {
    let value =
        q["value"].as_f64().ok_or_else(|| invalid(&format!("{at}.value"), "数値が必要です / a number is required"))?;
    if q.get("system").is_some_and(|s| s != UCUM) {
        return Err(invalid(&format!("{at}.system"), "単位は UCUM で / units must be UCUM"));
    }
    let unit = q["code"]
        .as_str()
        .or(q["unit"].as_str())
        .ok_or_else(|| invalid(&format!("{at}.code"), "単位が必要です / a unit is required"))?;
    Ok((value, unit.to_owned()))
}

fn read_measurement(body: &Value) -> Result<PostedMeasurement, Vec<Issue>> {
    let mut issues = Vec::new();
    if body["resourceType"] != "Observation" {
        return Err(vec![invalid("Observation.resourceType", "Observation を送ってください / send an Observation")]);
    }
    if !matches!(body["status"].as_str(), Some("final" | "amended" | "corrected" | "preliminary")) {
        issues.push(invalid("Observation.status", "status: final | amended | corrected | preliminary"));
    }
    let codings = body["code"]["coding"].as_array().cloned().unwrap_or_default();
    let code = codings.iter().find_map(|c| {
        let (system, code) = (c["system"].as_str()?, c["code"].as_str()?);
        VitalCode::from_token(&format!("{system}|{code}"))
    });
    if code.is_none() {
        issues.push(invalid(
            "Observation.code",
            "対応するコード: LOINC 8310-5, 85354-9, 8867-4, 59408-5, 9279-1, 29463-7, 2339-0, 72514-3 / supported codes",
        ));
    }
    let patient = body["subject"]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Patient/"))
        .and_then(|id| id.parse::<Uuid>().ok());
    if patient.is_none() {
        issues.push(invalid("Observation.subject", "subject は Patient/{id} / subject must be Patient/{id}"));
    }
    let measured = match code {
        Some(VitalCode::BloodPressure) => {
            let components = body["component"].as_array().cloned().unwrap_or_default();
            let part = |loinc: &str| -> Result<(f64, String), Issue> {
                let c = components
                    .iter()
                    .find(|c| c["code"]["coding"].as_array().is_some_and(|cs| cs.iter().any(|x| x["code"] == loinc)))
                    .ok_or_else(|| {
                        invalid(
                            "Observation.component",
                            "収縮期と拡張期が必要です / systolic and diastolic are required",
                        )
                    })?;
                quantity(&c["valueQuantity"], "Observation.component.valueQuantity")
            };
            match (part(SYSTOLIC_LOINC), part(DIASTOLIC_LOINC)) {
                (Ok((s, unit)), Ok((d, unit2))) if unit == unit2 => {
                    let whole = |x: f64| (x.fract() == 0.0 && (0.0..=1000.0).contains(&x)).then_some(x as u16);
                    match (whole(s), whole(d)) {
                        (Some(s), Some(d)) => Some((VitalValue::Pressure(s, d), unit)),
                        _ => {
                            issues.push(invalid(
                                "Observation.component.valueQuantity.value",
                                "血圧は整数で / whole numbers",
                            ));
                            None
                        }
                    }
                }
                (Ok(_), Ok(_)) => {
                    issues.push(invalid(
                        "Observation.component.valueQuantity.code",
                        "単位をそろえてください / units differ",
                    ));
                    None
                }
                (Err(e), _) | (_, Err(e)) => {
                    issues.push(e);
                    None
                }
            }
        }
        Some(_) => match quantity(&body["valueQuantity"], "Observation.valueQuantity") {
            Ok((x, unit)) => Some((VitalValue::One(x), unit)),
            Err(e) => {
                issues.push(e);
                None
            }
        },
        None => None,
    };
    let mut note: Vec<String> = Vec::new();
    if let Some(at) = body.get("effectiveDateTime") {
        match at
            .as_str()
            .and_then(|s| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok())
        {
            Some(at) => note.push(format!("測定日時 {}", super::resources::instant(at).replace('T', " "))),
            None => {
                issues.push(invalid("Observation.effectiveDateTime", "日時を読めません / cannot read the date-time"))
            }
        }
    }
    for n in body["note"].as_array().into_iter().flatten() {
        if let Some(text) = n["text"].as_str() {
            note.push(text.to_owned());
        }
    }
    match (patient, code, measured) {
        (Some(patient), Some(code), Some((value, unit))) if issues.is_empty() => {
            Ok(PostedMeasurement { patient, code, value, unit, note: note.join("\n") })
        }
        _ => Err(issues),
    }
}

/// `POST /fhir/Observation`: a measurement from a device or an EHR becomes a
/// vitals entry on the patient's timeline.
pub(crate) async fn create_observation(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Resource, FhirError> {
    let t = caller.t;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !matches!(mime, "application/fhir+json" | "application/json") {
        return Err(FhirError::one(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
            "Content-Type は application/fhir+json / send application/fhir+json",
        ));
    }
    let json: Value = serde_json::from_slice(&body).map_err(|e| {
        bad_request(vec![Issue::new("structure", format!("JSON を読めません / invalid JSON: {e}"), None)])
    })?;
    let posted = read_measurement(&json).map_err(bad_request)?;
    let post = measurement_post(&posted, t)?;
    let post = with_identity(post, &json, &headers, "Observation")?;
    let mut done =
        state.app.fhir_post(&caller.session, &[post], &caller.meta).await.map_err(|e| FhirError::app(e, t))?;
    let posted_entry =
        done.pop().ok_or_else(|| FhirError::one(StatusCode::INTERNAL_SERVER_ERROR, "exception", "lost"))?;
    answer_post(&caller.base, &posted_entry, Some(posted.code))
}

/// The app's post for a read Observation: its value checked like the form's.
fn measurement_post(posted: &PostedMeasurement, t: Tr) -> Result<FhirPost, FhirError> {
    let vitals = posted.code.measurement(posted.value, &posted.unit).map_err(|e| {
        let expression =
            if e.code == "unit" { "Observation.valueQuantity.code" } else { "Observation.valueQuantity.value" };
        FhirError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![Issue::new("invalid", t.error(e.field, e.code), Some(expression))],
        )
    })?;
    FhirPost::measurement(posted.patient, vitals, &posted.note).map_err(|e| FhirError::app(e, t))
}

/// A resource's first identifier, as (system, value).
fn identifier_of(resource: &Value, what: &str) -> Result<Option<(String, String)>, FhirError> {
    let Some(first) = resource["identifier"].as_array().and_then(|ids| ids.first()) else {
        return Ok(None);
    };
    match (first["system"].as_str(), first["value"].as_str()) {
        (Some(system), Some(value))
            if !system.is_empty() && !value.is_empty() && system.len() <= 200 && value.len() <= 200 =>
        {
            Ok(Some((system.to_owned(), value.to_owned())))
        }
        _ => Err(bad_request(vec![Issue::new(
            "invalid",
            "identifier には system と value を / identifier needs system and value",
            Some(&format!("{what}.identifier")),
        )])),
    }
}

/// `If-None-Exist: identifier=system|value`: the only condition supported.
fn condition(raw: Option<&str>) -> Result<Option<(String, String)>, FhirError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        bad_request(vec![Issue::new(
            "not-supported",
            "If-None-Exist は identifier=system|value のみ / only identifier=system|value is supported",
            Some("If-None-Exist"),
        )])
    };
    let value = raw.strip_prefix("identifier=").ok_or_else(bad)?;
    let value = percent_decode(value).ok_or_else(bad)?;
    match value.split_once('|') {
        Some((system, v)) if !system.is_empty() && !v.is_empty() => Ok(Some((system.to_owned(), v.to_owned()))),
        _ => Err(bad()),
    }
}

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Adds the posted resource's identifier and the If-None-Exist condition
/// (which must name that same identifier) to a post.
fn with_identity(post: FhirPost, resource: &Value, headers: &HeaderMap, what: &str) -> Result<FhirPost, FhirError> {
    let header = headers.get("if-none-exist").and_then(|v| v.to_str().ok());
    with_condition(post, resource, header, what)
}

fn with_condition(
    mut post: FhirPost,
    resource: &Value,
    if_none_exist: Option<&str>,
    what: &str,
) -> Result<FhirPost, FhirError> {
    let own = identifier_of(resource, what)?;
    match condition(if_none_exist)? {
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

/// 201 with the new resource, or 200 with the one a condition found.
fn answer_post(base: &str, posted: &Posted, code: Option<VitalCode>) -> Result<Resource, FhirError> {
    let e = &posted.entry;
    let (body, location) = match code {
        Some(code) => {
            (observation(e, code), format!("{base}/Observation/{}/_history/{}", observation_id(e.id, code), e.version))
        }
        None => (Some(communication(e)), format!("{base}/Communication/{}/_history/{}", e.id, e.version)),
    };
    let body = body.ok_or_else(|| {
        FhirError::one(StatusCode::CONFLICT, "conflict", "the identifier belongs to another kind of entry")
    })?;
    let status = if posted.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(Resource { status, body, location: Some(location) })
}

/// The most entries one transaction Bundle may hold.
const MAX_TRANSACTION: usize = 100;

/// `POST /fhir` with a transaction Bundle of Observations and Communications
/// to create: every one or none (one database transaction), each with its
/// optional `request.ifNoneExist`.
pub(crate) async fn transaction(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Resource, FhirError> {
    let t = caller.t;
    let json = fhir_body(&headers, &body)?;
    if json["resourceType"] != "Bundle" {
        return Err(bad_request(vec![invalid("Bundle.resourceType", "Bundle を送ってください / send a Bundle")]));
    }
    match json["type"].as_str() {
        Some("transaction") => {}
        Some("batch") => {
            return Err(bad_request(vec![Issue::new(
                "not-supported",
                "batch には未対応（transaction を）/ batch is not supported, send a transaction",
                Some("Bundle.type"),
            )]));
        }
        _ => return Err(bad_request(vec![invalid("Bundle.type", "type: transaction")])),
    }
    let entries = json["entry"].as_array().cloned().unwrap_or_default();
    if entries.is_empty() || entries.len() > MAX_TRANSACTION {
        return Err(bad_request(vec![invalid(
            "Bundle.entry",
            &format!("1〜{MAX_TRANSACTION} 件 / 1 to {MAX_TRANSACTION} entries"),
        )]));
    }
    let mut posts = Vec::new();
    let mut codes = Vec::new();
    let mut failures: Vec<FhirError> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("Bundle.entry[{i}]");
        let resource = &entry["resource"];
        let (method, url) = (entry["request"]["method"].as_str(), entry["request"]["url"].as_str());
        let if_none_exist = entry["request"]["ifNoneExist"].as_str();
        let post = match (method, url, resource["resourceType"].as_str()) {
            (Some("POST"), Some("Observation"), Some("Observation")) => {
                read_measurement(resource).map_err(bad_request).and_then(|m| {
                    codes.push(Some(m.code));
                    measurement_post(&m, t)
                })
            }
            (Some("POST"), Some("Communication"), Some("Communication")) => {
                read_message(resource).map_err(bad_request).and_then(|m| {
                    codes.push(None);
                    FhirPost::note(m.patient, &m.kind, &m.text, m.reply_to).map_err(|e| FhirError::app(e, t))
                })
            }
            _ => Err(bad_request(vec![Issue::new(
                "not-supported",
                "POST の Observation か Communication のみ / only POST of Observation or Communication",
                Some("request"),
            )])),
        };
        match post.and_then(|p| with_condition(p, resource, if_none_exist, "Observation")) {
            Ok(p) => posts.push(p),
            Err(mut e) => {
                // Name the entry: `Observation.valueQuantity` becomes `Bundle.entry[1].resource.valueQuantity`.
                for issue in &mut e.issues {
                    issue.expression = Some(match issue.expression.as_deref() {
                        Some("request") => format!("{at}.request"),
                        Some(path) => format!("{at}.resource{}", path.find('.').map_or("", |d| &path[d..])),
                        None => format!("{at}.resource"),
                    });
                }
                failures.push(e);
            }
        }
    }
    if !failures.is_empty() {
        // Unreadable entries make it a bad request; otherwise values were refused (422).
        let status = if failures.iter().any(|f| f.status == StatusCode::BAD_REQUEST) {
            StatusCode::BAD_REQUEST
        } else {
            failures[0].status
        };
        return Err(FhirError::new(status, failures.into_iter().flat_map(|f| f.issues).collect()));
    }
    let done = state.app.fhir_post(&caller.session, &posts, &caller.meta).await.map_err(|e| FhirError::app(e, t))?;
    let mut response_entries = Vec::new();
    for (posted, code) in done.iter().zip(codes) {
        let answer = answer_post(&caller.base, posted, code)?;
        response_entries.push(serde_json::json!({
            "resource": answer.body,
            "response": {
                "status": if posted.created { "201 Created" } else { "200 OK" },
                "location": answer.location,
                "etag": format!("W/\"{}\"", posted.entry.version),
            },
        }));
    }
    Ok(Resource::ok(
        serde_json::json!({ "resourceType": "Bundle", "type": "transaction-response", "entry": response_entries }),
    ))
}

/// `GET /fhir/Communication?patient=...`: the patient's timeline, newest first.
pub(crate) async fn search_communications(
    State(state): State<AppState>,
    caller: Caller,
    query: Pairs,
) -> Result<Resource, FhirError> {
    let params = Params::parse(pairs(query)?, &names(COMMUNICATION_SEARCH))?;
    let (count, offset) = (params.count()?, params.offset()?);
    let patient_id = patient_param(&params)?;
    let kind = match params.one("category")? {
        None => None,
        Some(raw) => match entry_kind_of(raw) {
            Some(kind) => Some(kind),
            // A category tsunagu does not have matches nothing.
            None => {
                return Ok(Resource::ok(searchset(
                    &caller.base,
                    "Communication",
                    &params.at_offset(offset, count),
                    None,
                    None,
                    Vec::new(),
                )));
            }
        },
    };
    let (since, until) = instant_range("sent", &params.all("sent"))?;
    let query_text = params.at_offset(offset, count);
    let Some(patient_id) = patient_id else {
        return Ok(Resource::ok(searchset(&caller.base, "Communication", &query_text, None, None, Vec::new())));
    };
    let t = caller.t;
    let search = EntrySearch { resource: "Communication", kind, since, until, count, offset };
    let page = state
        .app
        .fhir_entries(&caller.session, patient_id, &search, &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, t))?;
    let entries = page.items.iter().map(|e| (communication(e), "match")).collect();
    let next = page.has_next.then(|| params.at_offset(offset + count, count));
    let previous = (offset > 0).then(|| params.at_offset(offset.saturating_sub(count), count));
    Ok(Resource::ok(searchset(&caller.base, "Communication", &query_text, next, previous, entries)))
}

/// `GET /fhir/Communication/{entry}`.
pub(crate) async fn read_communication(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    let t = caller.t;
    let entry: Uuid = id.parse().map_err(|_| not_found(t))?;
    let e = state
        .app
        .fhir_entry(&caller.session, "Communication", entry, &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, t))?;
    Ok(Resource::ok(communication(&e)))
}

/// What a posted Communication says, once read.
#[derive(Debug, PartialEq)]
struct PostedMessage {
    patient: Uuid,
    kind: String,
    text: String,
    reply_to: Option<Uuid>,
}

fn read_message(body: &Value) -> Result<PostedMessage, Vec<Issue>> {
    if body["resourceType"] != "Communication" {
        return Err(vec![invalid(
            "Communication.resourceType",
            "Communication を送ってください / send a Communication",
        )]);
    }
    let mut issues = Vec::new();
    if !matches!(body["status"].as_str(), Some("completed" | "in-progress")) {
        issues.push(invalid("Communication.status", "status: completed"));
    }
    let patient = body["subject"]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Patient/"))
        .and_then(|id| id.parse::<Uuid>().ok());
    if patient.is_none() {
        issues.push(invalid("Communication.subject", "subject は Patient/{id} / subject must be Patient/{id}"));
    }
    let texts: Vec<&str> =
        body["payload"].as_array().into_iter().flatten().filter_map(|p| p["contentString"].as_str()).collect();
    if texts.is_empty() {
        issues.push(invalid(
            "Communication.payload",
            "payload.contentString に本文を / the text goes in payload.contentString",
        ));
    }
    let category = body["category"].as_array().and_then(|c| c.first());
    let kind = match category {
        None => Some(tsunagu_domain::care::EntryKind::Message),
        Some(c) => c["coding"].as_array().into_iter().flatten().find_map(|x| {
            let code = x["code"].as_str()?;
            entry_kind_of(&format!("{}|{code}", x["system"].as_str().unwrap_or("")))
        }),
    };
    if kind.is_none() {
        issues.push(invalid(
            "Communication.category",
            "category: message | visit_record | medication_change | condition_change | urgent",
        ));
    }
    let reply_to = match body["inResponseTo"].as_array().and_then(|r| r.first()) {
        None => None,
        Some(r) => {
            let id = r["reference"]
                .as_str()
                .and_then(|r| r.strip_prefix("Communication/"))
                .and_then(|id| id.parse::<Uuid>().ok());
            if id.is_none() {
                issues.push(invalid("Communication.inResponseTo", "inResponseTo は Communication/{id}"));
            }
            id
        }
    };
    match (patient, kind) {
        (Some(patient), Some(kind)) if issues.is_empty() => {
            Ok(PostedMessage { patient, kind: kind.code().to_owned(), text: texts.join("\n"), reply_to })
        }
        _ => Err(issues),
    }
}

/// `POST /fhir/Communication`: an EHR posts to the patient's timeline.
pub(crate) async fn create_communication(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Resource, FhirError> {
    let t = caller.t;
    let json = fhir_body(&headers, &body)?;
    let posted = read_message(&json).map_err(bad_request)?;
    let post = FhirPost::note(posted.patient, &posted.kind, &posted.text, posted.reply_to)
        .map_err(|e| FhirError::app(e, t))?;
    let post = with_identity(post, &json, &headers, "Communication")?;
    let mut done =
        state.app.fhir_post(&caller.session, &[post], &caller.meta).await.map_err(|e| FhirError::app(e, t))?;
    let posted_entry =
        done.pop().ok_or_else(|| FhirError::one(StatusCode::INTERNAL_SERVER_ERROR, "exception", "lost"))?;
    answer_post(&caller.base, &posted_entry, None)
}

/// A posted body: FHIR JSON (or plain JSON), parsed.
fn fhir_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, FhirError> {
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

/// The language of a request without a session (the public registry).
pub(crate) struct Lang(Tr);

impl FromRequestParts<AppState> for Lang {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Lang(Tr { lang: language(&parts.headers, None) }))
    }
}

/// Which resource of the registry a handler answers with.
#[derive(Clone, Copy)]
enum Registry {
    Organization,
    Location,
}

async fn read_registry(state: &AppState, t: Tr, id: &str, what: Registry) -> Result<Resource, FhirError> {
    let id: Uuid = id.parse().map_err(|_| not_found(t))?;
    let (m, f) = state.app.public_facility_by_id(id).await.map_err(|e| FhirError::app(e, t))?;
    Ok(Resource::ok(match what {
        Registry::Organization => organization(&m, &f),
        Registry::Location => location(&m, &f),
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
    // A kind tsunagu does not have (or another system's code) matches nothing.
    let kind = match params.one("type")? {
        None => String::new(),
        Some(raw) => {
            let code = match raw.split_once('|') {
                Some((system, code)) if system.is_empty() || system == FACILITY_KINDS => Some(code),
                Some(_) => None,
                None => Some(raw),
            };
            match code.filter(|c| tsunagu_domain::facility::FacilityKind::parse(c).is_ok()) {
                Some(c) => c.to_owned(),
                None => {
                    let empty =
                        searchset(base, resource_type, &params.at_offset(offset, count), None, None, Vec::new());
                    return Ok(Resource::ok(empty));
                }
            }
        }
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
        ..Default::default()
    };
    let parsed = tsunagu_app::public_map::PublicQuery::parse(&form, count as i64).map_err(|e| {
        let field = match e.field {
            "kind" => "type",
            "latitude" | "longitude" => "near",
            other => other,
        };
        bad_request(vec![Issue::new("invalid", t.error(e.field, e.code), Some(field))])
    })?;
    let list = state.app.public_facilities(&code, &parsed).await.map_err(|e| FhirError::app(e, t))?;
    let within =
        |f: &&tsunagu_app::public_map::PublicFacility| limit.is_none_or(|l| f.distance_m.is_some_and(|d| d <= l));
    let shown: Vec<&tsunagu_app::public_map::PublicFacility> = list.facilities.iter().filter(within).collect();
    let cut = shown.len() < list.facilities.len();
    let mut bundle_entries = Vec::new();
    for f in &shown {
        let resource = match what {
            Registry::Organization => organization(&list.municipality, f),
            Registry::Location => location(&list.municipality, f),
        };
        bundle_entries.push((resource, "match"));
    }
    let next = (list.has_next && !cut).then(|| params.at_offset(offset + count, count));
    let previous = (offset > 0).then(|| params.at_offset(offset - count, count));
    let mut bundle = searchset(base, resource_type, &params.at_offset(offset, count), next, previous, bundle_entries);
    if let Some(entries) = bundle["entry"].as_array_mut() {
        for (entry, f) in entries.iter_mut().zip(&shown) {
            if let Some(d) = f.distance_m {
                entry["search"]["extension"] = distance_extension(d);
            }
        }
    }
    Ok(Resource::ok(bundle))
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

/// `GET /fhir/CareTeam/{patient}`: the team of one patient (its id is the patient's).
pub(crate) async fn read_care_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    let id: Uuid = id.parse().map_err(|_| not_found(caller.t))?;
    let team =
        state.app.fhir_care_team(&caller.session, id, &caller.meta).await.map_err(|e| FhirError::app(e, caller.t))?;
    Ok(Resource::ok(care_team(&team)))
}

/// `GET /fhir/CareTeam?patient=`.
pub(crate) async fn search_care_teams(
    State(state): State<AppState>,
    caller: Caller,
    query: Pairs,
) -> Result<Resource, FhirError> {
    let params = Params::parse(pairs(query)?, &names(CARE_TEAM_SEARCH))?;
    let (count, offset) = (params.count()?, params.offset()?);
    let query_text = params.at_offset(offset, count);
    let Some(patient_id) = patient_param(&params)? else {
        return Ok(Resource::ok(searchset(&caller.base, "CareTeam", &query_text, None, None, Vec::new())));
    };
    let entries = match state.app.fhir_care_team(&caller.session, patient_id, &caller.meta).await {
        Ok(team) if offset == 0 => vec![(care_team(&team), "match")],
        Ok(_) => Vec::new(),
        // Searching finds nothing where reading would say "not found".
        Err(tsunagu_app::AppError::NotFound) => Vec::new(),
        Err(e) => return Err(FhirError::app(e, caller.t)),
    };
    Ok(Resource::ok(searchset(&caller.base, "CareTeam", &query_text, None, None, entries)))
}

/// Anything else under `/fhir`: an OperationOutcome, not the HTML error page.
pub(crate) async fn unsupported(headers: HeaderMap) -> FhirError {
    let t = Tr { lang: language(&headers, None) };
    FhirError::new(
        StatusCode::NOT_FOUND,
        vec![Issue::new(
            "not-supported",
            match t.lang {
                crate::i18n::Lang::Ja => "この操作には対応していません（/fhir/metadata を参照）。",
                crate::i18n::Lang::En => "This interaction is not supported (see /fhir/metadata).",
            },
            None,
        )],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn temperature(value: Value) -> Value {
        json!({
            "resourceType": "Observation",
            "status": "final",
            "code": { "coding": [{ "system": "http://loinc.org", "code": "8310-5" }] },
            "subject": { "reference": "Patient/0192f3a0-0000-7000-8000-000000000001" },
            "valueQuantity": value,
        })
    }

    #[test]
    fn a_posted_temperature_is_read() {
        let m = read_measurement(&temperature(json!({ "value": 37.2, "unit": "Cel", "system": UCUM, "code": "Cel" })))
            .unwrap();
        assert_eq!((m.code, m.value, m.unit.as_str()), (VitalCode::Temperature, VitalValue::One(37.2), "Cel"));
    }

    #[test]
    fn a_posted_blood_pressure_needs_both_components() {
        let component = |code: &str, v: f64| json!({ "code": { "coding": [{ "system": "http://loinc.org", "code": code }] }, "valueQuantity": { "value": v, "code": "mm[Hg]", "system": UCUM } });
        let mut bp = temperature(Value::Null);
        bp["code"] = json!({ "coding": [{ "system": "http://loinc.org", "code": "85354-9" }] });
        bp["component"] = json!([component("8480-6", 128.0), component("8462-4", 76.0)]);
        assert_eq!(read_measurement(&bp).unwrap().value, VitalValue::Pressure(128, 76));
        bp["component"] = json!([component("8480-6", 128.0)]);
        assert_eq!(read_measurement(&bp).unwrap_err()[0].expression.as_deref(), Some("Observation.component"));
    }

    #[test]
    fn a_posted_note_is_read_with_its_kind_and_parent() {
        let parent = "0192f3a0-0000-7000-8000-000000000002";
        let note = json!({
            "resourceType": "Communication", "status": "completed",
            "category": [{ "coding": [{ "system": "urn:tsunagu:entry-kind", "code": "visit_record" }] }],
            "subject": { "reference": "Patient/0192f3a0-0000-7000-8000-000000000001" },
            "inResponseTo": [{ "reference": format!("Communication/{parent}") }],
            "payload": [{ "contentString": "訪問しました" }, { "contentString": "変わりなし" }],
        });
        let m = read_message(&note).unwrap();
        assert_eq!((m.kind.as_str(), m.text.as_str()), ("visit_record", "訪問しました\n変わりなし"));
        assert_eq!(m.reply_to.map(|r| r.to_string()).as_deref(), Some(parent));
        let mut bad = note.clone();
        bad["category"] = json!([{ "coding": [{ "system": "http://example.org", "code": "visit_record" }] }]);
        bad["payload"] = json!([]);
        let named: Vec<String> = read_message(&bad).unwrap_err().into_iter().filter_map(|i| i.expression).collect();
        assert_eq!(named, ["Communication.payload", "Communication.category"]);
    }

    #[test]
    fn every_problem_of_a_posted_observation_is_named() {
        let mut bad = temperature(json!({ "value": "warm", "unit": "Cel" }));
        bad["status"] = json!("registered");
        bad["subject"] = json!({ "reference": "Group/1" });
        let named: Vec<String> = read_measurement(&bad).unwrap_err().into_iter().filter_map(|i| i.expression).collect();
        assert_eq!(named, ["Observation.status", "Observation.subject", "Observation.valueQuantity.value"]);
        let wrong_system = temperature(json!({ "value": 37.0, "code": "Cel", "system": "http://example.org" }));
        assert_eq!(
            read_measurement(&wrong_system).unwrap_err()[0].expression.as_deref(),
            Some("Observation.valueQuantity.system")
        );
        assert!(read_measurement(&json!({ "resourceType": "Patient" })).is_err());
    }
}
