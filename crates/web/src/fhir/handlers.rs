//! The FHIR interactions on patient data (read and search for Patient,
//! Observation, Communication and CareTeam; create for Observation and
//! Communication, one by one or in a transaction Bundle; `$everything`), the
//! CapabilityStatement, and the answer for anything else.

use super::caller::{Base, Caller, Pairs, not_found, pairs};
use super::outcome::{FhirError, Issue, Resource};
use super::posted::{fhir_body, read_measurement, read_message, rejected, with_condition, with_identity};
use super::resources::{
    CARE_TEAM_SEARCH, COMMUNICATION_SEARCH, OBSERVATION_SEARCH, PATIENT_SEARCH, capability_statement, care_team,
    communication, entry_kind_of, names, observation, observation_id, patient, searchset, tree,
};
use super::search::{Params, bad_request, date_range, instant_range, oldest_first, reference_id};
use crate::AppState;
use crate::context::language;
use crate::i18n::Tr;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use tsunagu_app::fhir::{
    EntrySearch, FhirPost, Page, PatientQuery, PatientSort, Posted, TimelineEntry, TimelineResource,
};
use tsunagu_domain::ids::{EntryId, PatientId};
use tsunagu_domain::interop::VitalCode;
use tsunagu_domain::patient::Sex;
use uuid::Uuid;

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
    let export = state
        .app
        .fhir_export(&caller.session, PatientId(id), &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, caller.t))?;
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
    // `_id`, or the identifier every Patient carries (`urn:ietf:rfc:3986|urn:uuid:{id}`).
    let from_identifier = params.one("identifier")?.map(|raw| {
        raw.split(',')
            .filter_map(|token| {
                token.trim().strip_prefix("urn:ietf:rfc:3986|").unwrap_or(token.trim()).strip_prefix("urn:uuid:")
            })
            .filter_map(|id| id.parse().ok())
            .collect::<Vec<Uuid>>()
    });
    let by_id =
        params.one("_id")?.map(|raw| raw.split(',').filter_map(|id| id.trim().parse().ok()).collect::<Vec<Uuid>>());
    let ids = match (by_id, from_identifier) {
        (Some(a), Some(b)) => Some(a.into_iter().filter(|id| b.contains(id)).collect()),
        (a, b) => a.or(b),
    };
    let (updated_since, updated_until) = instant_range("_lastUpdated", &params.all("_lastUpdated"))?;
    let (sort, descending) = match params.one("_sort")? {
        None => (PatientSort::Kana, false),
        Some(raw) => {
            let (descending, key) = raw.strip_prefix('-').map_or((false, raw), |k| (true, k));
            let sort = match key {
                "name" | "family" => PatientSort::Kana,
                "birthdate" => PatientSort::BirthDate,
                "_lastUpdated" => PatientSort::LastUpdated,
                _ => {
                    return Err(bad_request(vec![Issue::new(
                        "not-supported",
                        "_sort: name | birthdate | _lastUpdated（- で降順）/ one of these, - for descending",
                        Some("_sort"),
                    )]));
                }
            };
            (sort, descending)
        }
    };
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
        updated_since,
        updated_until,
        sort,
        descending,
        count,
        offset,
    };
    let page = state
        .app
        .fhir_search_patients(&caller.session, &query, &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, caller.t))?;
    let entries = page.items.iter().map(|p| (patient(p), "match")).collect();
    let (next, previous) = params.neighbours(offset, count, page.has_next);
    Ok(Resource::ok(searchset(&caller.base, "Patient", &params.at_offset(offset, count), next, previous, entries)))
}

/// An optional reference parameter: `None` if absent, `Some(None)` if it
/// names no id tsunagu could have (matches nothing), else the id.
fn reference_param(params: &Params, param: &str, resource: &str) -> Result<Option<Option<Uuid>>, FhirError> {
    Ok(match params.one(param)? {
        Some(raw) => Some(reference_id(param, raw, resource)?.parse().ok()),
        None => None,
    })
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
    let search = entry_search(&params, TimelineResource::Observation, "date", None)?;
    let (count, offset) = (search.count, search.offset);
    let patient_id = patient_param(&params)?;
    let codes: Option<Vec<VitalCode>> =
        params.one("code")?.map(|raw| raw.split(',').filter_map(|t| VitalCode::from_token(t.trim())).collect());
    let category = params.one("category")?.map(|raw| raw.rsplit('|').next().unwrap_or(raw).to_owned());
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
        return Ok(no_match(&caller.base, "Observation", &query_text));
    };
    let page = timeline_page(&state, &caller, patient_id, &search).await?;
    let t = caller.t;
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
        entries.push((tree(patient(&record)), "include"));
    }
    let (next, previous) = params.neighbours(offset, count, page.has_next);
    Ok(Resource::ok(searchset(&caller.base, "Observation", &query_text, next, previous, entries)))
}

/// `GET /fhir/Observation/{entry}-{code}`.
pub(crate) async fn read_observation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    let (m, code) = read_entry(&state, &caller, TimelineResource::Observation, &id).await?;
    code.and_then(|code| observation(&m, code)).map(Resource::ok).ok_or_else(|| not_found(caller.t))
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
    let json = fhir_body(&headers, &body)?;
    let posted = read_measurement(&json).map_err(rejected)?;
    let post = measurement_post(&posted, t)?;
    let post = with_identity(post, &json, &headers, "Observation")?;
    let mut done =
        state.app.fhir_post(&caller.session, &[post], &caller.meta).await.map_err(|e| FhirError::app(e, t))?;
    let posted_entry =
        done.pop().ok_or_else(|| FhirError::one(StatusCode::INTERNAL_SERVER_ERROR, "exception", "lost"))?;
    let (status, body, location) = answer_post(&caller.base, &posted_entry, Some(posted.code))?;
    Ok(Resource::new(status, body, Some(location)))
}

/// The app's post for a read Observation: its value checked like the form's.
fn measurement_post(posted: &tsunagu_domain::fhir_input::PostedMeasurement, t: Tr) -> Result<FhirPost, FhirError> {
    let vitals = posted.code.measurement(posted.value, &posted.unit).map_err(|e| {
        let expression =
            if e.code == "unit" { "Observation.valueQuantity.code" } else { "Observation.valueQuantity.value" };
        FhirError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![Issue::new("invalid", t.error(e.field, e.code), Some(expression))],
        )
    })?;
    FhirPost::measurement(PatientId(posted.patient), vitals, &posted.note).map_err(|e| FhirError::app(e, t))
}

/// A created entry as its resource with 201, or the one `If-None-Exist` found
/// with 200, and the version's location.
fn answer_post(base: &str, posted: &Posted, code: Option<VitalCode>) -> Result<(StatusCode, Value, String), FhirError> {
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
    Ok((status, body, location))
}

/// The most entries one transaction or batch Bundle may hold.
const MAX_TRANSACTION: usize = 100;

/// `POST /fhir` with a Bundle of Observations and Communications to create,
/// each with its optional `request.ifNoneExist`: a `transaction` writes every
/// one or none (one database transaction); a `batch` writes each on its own
/// and answers for each (a device's backlog, where one bad reading must not
/// hold back the rest).
pub(crate) async fn transaction(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Resource, FhirError> {
    let t = caller.t;
    let json = fhir_body(&headers, &body)?;
    if json["resourceType"] != "Bundle" {
        return Err(bad_request(vec![Issue::new(
            "invalid",
            "Bundle を送ってください / send a Bundle",
            Some("Bundle.resourceType"),
        )]));
    }
    let batch = match json["type"].as_str() {
        Some("transaction") => false,
        Some("batch") => true,
        _ => return Err(bad_request(vec![Issue::new("invalid", "type: transaction | batch", Some("Bundle.type"))])),
    };
    let entries = json["entry"].as_array().cloned().unwrap_or_default();
    if entries.is_empty() || entries.len() > MAX_TRANSACTION {
        return Err(bad_request(vec![Issue::new(
            "invalid",
            format!("1〜{MAX_TRANSACTION} 件 / 1 to {MAX_TRANSACTION} entries"),
            Some("Bundle.entry"),
        )]));
    }
    let read: Vec<Result<(FhirPost, Option<VitalCode>), FhirError>> =
        entries.iter().enumerate().map(|(i, entry)| bundle_entry(i, entry, t)).collect();
    if batch {
        return Ok(answer_batch(&state, &caller, read).await);
    }
    let mut posts = Vec::new();
    let mut codes = Vec::new();
    let mut failures: Vec<FhirError> = Vec::new();
    for entry in read {
        match entry {
            Ok((post, code)) => {
                posts.push(post);
                codes.push(code);
            }
            Err(e) => failures.push(e),
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
        response_entries.push(response_entry(&caller.base, posted, code)?);
    }
    Ok(Resource::ok(
        serde_json::json!({ "resourceType": "Bundle", "type": "transaction-response", "entry": response_entries }),
    ))
}

/// One entry of a posted Bundle read as a post, its problems named by where
/// they are (`Observation.valueQuantity` becomes `Bundle.entry[1].resource.valueQuantity`).
fn bundle_entry(i: usize, entry: &Value, t: Tr) -> Result<(FhirPost, Option<VitalCode>), FhirError> {
    let resource = &entry["resource"];
    let (method, url) = (entry["request"]["method"].as_str(), entry["request"]["url"].as_str());
    let if_none_exist = entry["request"]["ifNoneExist"].as_str();
    let post = match (method, url, resource["resourceType"].as_str()) {
        (Some("POST"), Some("Observation"), Some("Observation")) => read_measurement(resource)
            .map_err(rejected)
            .and_then(|m| measurement_post(&m, t).map(|p| (p, Some(m.code)))),
        (Some("POST"), Some("Communication"), Some("Communication")) => {
            read_message(resource).map_err(rejected).and_then(|m| {
                FhirPost::note(PatientId(m.patient), &m.kind, &m.text, m.reply_to)
                    .map(|p| (p, None))
                    .map_err(|e| FhirError::app(e, t))
            })
        }
        _ => Err(bad_request(vec![Issue::new(
            "not-supported",
            "POST の Observation か Communication のみ / only POST of Observation or Communication",
            Some("request"),
        )])),
    };
    post.and_then(|(p, code)| {
        let what = p.resource().name();
        with_condition(p, resource, if_none_exist, what).map(|p| (p, code))
    })
    .map_err(|mut e| {
        let at = format!("Bundle.entry[{i}]");
        for issue in &mut e.issues {
            issue.expression = Some(match issue.expression.as_deref() {
                Some("request") => format!("{at}.request"),
                Some(path) => format!("{at}.resource{}", path.find('.').map_or("", |d| &path[d..])),
                None => format!("{at}.resource"),
            });
        }
        e
    })
}

/// A created (or, with `ifNoneExist`, found) entry as a Bundle response entry.
fn response_entry(base: &str, posted: &Posted, code: Option<VitalCode>) -> Result<Value, FhirError> {
    let (_, resource, location) = answer_post(base, posted, code)?;
    Ok(serde_json::json!({
        "resource": resource,
        "response": {
            "status": if posted.created { "201 Created" } else { "200 OK" },
            "location": location,
            "etag": format!("W/\"{}\"", posted.entry.version),
        },
    }))
}

/// A batch: each readable entry posted as a use case of its own (its own
/// access check, audit event and transaction); each answered with its status,
/// and a refused one with its OperationOutcome.
async fn answer_batch(
    state: &AppState,
    caller: &Caller,
    read: Vec<Result<(FhirPost, Option<VitalCode>), FhirError>>,
) -> Resource {
    let failed = |e: FhirError| {
        let status = format!("{} {}", e.status.as_u16(), e.status.canonical_reason().unwrap_or_default());
        serde_json::json!({ "response": { "status": status, "outcome": super::outcome::operation_outcome(&e.issues, "error") } })
    };
    let mut response_entries = Vec::with_capacity(read.len());
    for entry in read {
        let answered = match entry {
            Ok((post, code)) => {
                match state.app.fhir_post(&caller.session, std::slice::from_ref(&post), &caller.meta).await {
                    Ok(done) => match done.first() {
                        Some(posted) => response_entry(&caller.base, posted, code),
                        None => Err(FhirError::one(StatusCode::INTERNAL_SERVER_ERROR, "exception", "lost")),
                    },
                    Err(e) => Err(FhirError::app(e, caller.t)),
                }
            }
            Err(e) => Err(e),
        };
        response_entries.push(answered.unwrap_or_else(failed));
    }
    Resource::ok(serde_json::json!({ "resourceType": "Bundle", "type": "batch-response", "entry": response_entries }))
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
            None => return Ok(no_match(&caller.base, "Communication", &params.at_offset(offset, count))),
        },
    };
    let search = entry_search(&params, TimelineResource::Communication, "sent", kind)?;
    let query_text = params.at_offset(offset, count);
    let Some(patient_id) = patient_id else {
        return Ok(no_match(&caller.base, "Communication", &query_text));
    };
    let page = timeline_page(&state, &caller, patient_id, &search).await?;
    let entries = page.items.iter().map(|e| (communication(e), "match")).collect();
    let (next, previous) = params.neighbours(offset, count, page.has_next);
    Ok(Resource::ok(searchset(&caller.base, "Communication", &query_text, next, previous, entries)))
}

/// `GET /fhir/Communication/{entry}`.
pub(crate) async fn read_communication(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    let (e, _) = read_entry(&state, &caller, TimelineResource::Communication, &id).await?;
    Ok(Resource::ok(communication(&e)))
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
    let posted = read_message(&json).map_err(rejected)?;
    let post = FhirPost::note(PatientId(posted.patient), &posted.kind, &posted.text, posted.reply_to)
        .map_err(|e| FhirError::app(e, t))?;
    let post = with_identity(post, &json, &headers, "Communication")?;
    let mut done =
        state.app.fhir_post(&caller.session, &[post], &caller.meta).await.map_err(|e| FhirError::app(e, t))?;
    let posted_entry =
        done.pop().ok_or_else(|| FhirError::one(StatusCode::INTERNAL_SERVER_ERROR, "exception", "lost"))?;
    let (status, body, location) = answer_post(&caller.base, &posted_entry, None)?;
    Ok(Resource::new(status, body, Some(location)))
}

/// `GET /fhir/CareTeam/{patient}`: the team of one patient (its id is the patient's).
pub(crate) async fn read_care_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    let id: Uuid = id.parse().map_err(|_| not_found(caller.t))?;
    let team = state
        .app
        .fhir_care_team(&caller.session, PatientId(id), &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, caller.t))?;
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
        return Ok(no_match(&caller.base, "CareTeam", &query_text));
    };
    let entries = match state.app.fhir_care_team(&caller.session, PatientId(patient_id), &caller.meta).await {
        Ok(team) if offset == 0 => vec![(care_team(&team), "match")],
        Ok(_) => Vec::new(),
        // Searching finds nothing where reading would say "not found".
        Err(tsunagu_app::AppError::NotFound) => Vec::new(),
        Err(e) => return Err(FhirError::app(e, caller.t)),
    };
    Ok(Resource::ok(searchset(&caller.base, "CareTeam", &query_text, None, None, entries)))
}

/// An entry id and (for an Observation id, `{entry}-{code}`) its measurement.
fn entry_of(id: &str, resource: TimelineResource, t: Tr) -> Result<(Uuid, Option<VitalCode>), FhirError> {
    if resource != TimelineResource::Observation {
        return Ok((id.parse().map_err(|_| not_found(t))?, None));
    }
    let (entry, suffix) = id.split_at_checked(36).ok_or_else(|| not_found(t))?;
    let code = suffix.strip_prefix('-').and_then(VitalCode::from_suffix).ok_or_else(|| not_found(t))?;
    Ok((entry.parse().map_err(|_| not_found(t))?, Some(code)))
}

/// What the timeline's searches share: paging, order (`_sort` on `date`, the
/// resource's date parameter), that date's range and `_lastUpdated`.
fn entry_search(
    params: &Params,
    resource: TimelineResource,
    date: &'static str,
    kind: Option<tsunagu_domain::care::EntryKind>,
) -> Result<EntrySearch, FhirError> {
    let (since, until) = instant_range(date, &params.all(date))?;
    Ok(EntrySearch {
        resource,
        kind,
        since,
        until,
        updated: instant_range("_lastUpdated", &params.all("_lastUpdated"))?,
        count: params.count()?,
        offset: params.offset()?,
        oldest_first: oldest_first(params, date)?,
    })
}

/// A page of a patient's timeline as the use case reads it.
async fn timeline_page(
    state: &AppState,
    caller: &Caller,
    patient: Uuid,
    search: &EntrySearch,
) -> Result<Page<TimelineEntry>, FhirError> {
    state
        .app
        .fhir_entries(&caller.session, PatientId(patient), search, &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, caller.t))
}

/// One timeline entry read as `resource` (with the measurement an Observation id names).
async fn read_entry(
    state: &AppState,
    caller: &Caller,
    resource: TimelineResource,
    id: &str,
) -> Result<(TimelineEntry, Option<VitalCode>), FhirError> {
    let (entry, code) = entry_of(id, resource, caller.t)?;
    let found = state
        .app
        .fhir_entry(&caller.session, resource, EntryId(entry), &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, caller.t))?;
    Ok((found, code))
}

/// An empty search result (nothing can match).
fn no_match(base: &str, resource_type: &str, query: &str) -> Resource {
    Resource::ok(searchset(base, resource_type, query, None, None, Vec::<(Value, &str)>::new()))
}

/// One version as its resource, if it holds that measurement (or is a Communication).
fn version_resource(e: &TimelineEntry, code: Option<VitalCode>) -> Option<Value> {
    match code {
        Some(code) => observation(e, code),
        None => Some(communication(e)),
    }
}

async fn history_of(
    state: &AppState,
    caller: &Caller,
    resource: TimelineResource,
    id: &str,
) -> Result<Vec<(Value, i64, time::OffsetDateTime)>, FhirError> {
    let t = caller.t;
    let (entry, code) = entry_of(id, resource, t)?;
    let versions = state
        .app
        .fhir_entry_history(&caller.session, resource, EntryId(entry), &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, t))?;
    let found: Vec<_> =
        versions.iter().filter_map(|v| version_resource(v, code).map(|r| (r, v.version, v.edited_at))).collect();
    if found.is_empty() {
        return Err(not_found(t));
    }
    Ok(found)
}

/// `GET /fhir/{Observation|Communication}/{id}/_history`: every version, newest first.
async fn history(
    state: &AppState,
    caller: &Caller,
    resource: TimelineResource,
    id: &str,
) -> Result<Resource, FhirError> {
    let versions = history_of(state, caller, resource, id).await?;
    let resource = resource.name();
    let entries: Vec<Value> = versions
        .into_iter()
        .map(|(r, version, at)| {
            let url = format!("{}/{resource}/{id}/_history/{version}", caller.base);
            serde_json::json!({
                "fullUrl": format!("{}/{resource}/{id}", caller.base),
                "resource": r,
                "request": { "method": if version == 1 { "POST" } else { "PUT" }, "url": format!("{resource}/{id}") },
                "response": { "status": if version == 1 { "201" } else { "200" }, "location": url, "lastModified": super::resources::instant(at) },
            })
        })
        .collect();
    Ok(Resource::ok(serde_json::json!({
        "resourceType": "Bundle",
        "type": "history",
        "total": entries.len(),
        "link": [{ "relation": "self", "url": format!("{}/{resource}/{id}/_history", caller.base) }],
        "entry": entries,
    })))
}

/// `GET /fhir/{Observation|Communication}/{id}/_history/{vid}`: one version (vread).
async fn vread(
    state: &AppState,
    caller: &Caller,
    resource: TimelineResource,
    id: &str,
    vid: &str,
) -> Result<Resource, FhirError> {
    let wanted: i64 = vid.parse().map_err(|_| not_found(caller.t))?;
    let versions = history_of(state, caller, resource, id).await?;
    versions
        .into_iter()
        .find(|(_, v, _)| *v == wanted)
        .map(|(r, _, _)| Resource::ok(r))
        .ok_or_else(|| not_found(caller.t))
}

pub(crate) async fn observation_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    history(&state, &caller, TimelineResource::Observation, &id).await
}

pub(crate) async fn communication_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    history(&state, &caller, TimelineResource::Communication, &id).await
}

pub(crate) async fn observation_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, vid)): Path<(String, String)>,
) -> Result<Resource, FhirError> {
    vread(&state, &caller, TimelineResource::Observation, &id, &vid).await
}

pub(crate) async fn communication_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, vid)): Path<(String, String)>,
) -> Result<Resource, FhirError> {
    vread(&state, &caller, TimelineResource::Communication, &id, &vid).await
}

/// `GET /fhir/Encounter?patient=...`: the patient's visits, newest first.
pub(crate) async fn search_encounters(
    State(state): State<AppState>,
    caller: Caller,
    query: Pairs,
) -> Result<Resource, FhirError> {
    let params = Params::parse(pairs(query)?, &names(super::resources::ENCOUNTER_SEARCH))?;
    let search = entry_search(&params, TimelineResource::Encounter, "date", None)?;
    let (count, offset) = (search.count, search.offset);
    let patient_id = patient_param(&params)?;
    let query_text = params.at_offset(offset, count);
    let Some(patient_id) = patient_id else {
        return Ok(no_match(&caller.base, "Encounter", &query_text));
    };
    let page = timeline_page(&state, &caller, patient_id, &search).await?;
    let entries = page.items.iter().map(|e| (super::resources::encounter(e), "match")).collect();
    let (next, previous) = params.neighbours(offset, count, page.has_next);
    Ok(Resource::ok(searchset(&caller.base, "Encounter", &query_text, next, previous, entries)))
}

/// `GET /fhir/Encounter/{entry}`: one visit record.
pub(crate) async fn read_encounter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    let (e, _) = read_entry(&state, &caller, TimelineResource::Encounter, &id).await?;
    Ok(Resource::ok(super::resources::encounter(&e)))
}

/// `GET /fhir/DocumentReference?patient=`: the photos and PDFs of the timeline.
pub(crate) async fn search_documents(
    State(state): State<AppState>,
    caller: Caller,
    query: Pairs,
) -> Result<Resource, FhirError> {
    let params = Params::parse(pairs(query)?, &names(super::resources::DOCUMENT_SEARCH))?;
    let (count, offset) = (params.count()?, params.offset()?);
    let query_text = params.at_offset(offset, count);
    // An attachment never changes: `date` (when it was attached) and `_lastUpdated` are one time.
    let ranges =
        [instant_range("date", &params.all("date"))?, instant_range("_lastUpdated", &params.all("_lastUpdated"))?];
    let Some(patient_id) = patient_param(&params)? else {
        return Ok(no_match(&caller.base, "DocumentReference", &query_text));
    };
    let mut found = state
        .app
        .fhir_documents(&caller.session, PatientId(patient_id), &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, caller.t))?;
    found.retain(|d| {
        ranges
            .iter()
            .all(|(since, until)| since.is_none_or(|s| d.created_at >= s) && until.is_none_or(|u| d.created_at < u))
    });
    let entries = found
        .iter()
        .skip(offset)
        .take(count)
        .map(|d| (super::resources::document_reference(&caller.base, d), "match"))
        .collect();
    let (next, previous) = params.neighbours(offset, count, found.len() > offset + count);
    Ok(Resource::ok(searchset(&caller.base, "DocumentReference", &query_text, next, previous, entries)))
}

/// `GET /fhir/DocumentReference/{id}`.
pub(crate) async fn read_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    let id: Uuid = id.parse().map_err(|_| not_found(caller.t))?;
    let d =
        state.app.fhir_document(&caller.session, id, &caller.meta).await.map_err(|e| FhirError::app(e, caller.t))?;
    Ok(Resource::ok(super::resources::document_reference(&caller.base, &d)))
}

/// `GET /fhir/Binary/{id}`: an attachment's bytes, as stored.
pub(crate) async fn read_binary(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::response::Response, FhirError> {
    use axum::response::IntoResponse;
    let id: Uuid = id.parse().map_err(|_| not_found(caller.t))?;
    let (content_type, _, bytes) =
        state.app.attachment(&caller.session, id, &caller.meta).await.map_err(|e| FhirError::app(e, caller.t))?;
    Ok(([(axum::http::header::CONTENT_TYPE, content_type)], bytes).into_response())
}

/// `GET /fhir/Practitioner/{id}`: a colleague of the caller's municipality.
pub(crate) async fn read_practitioner(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    let id: Uuid = id.parse().map_err(|_| not_found(caller.t))?;
    let found = state.app.fhir_practitioner(&caller.session, id).await.map_err(|e| FhirError::app(e, caller.t))?;
    Ok(Resource::ok(super::resources::practitioner(&found)))
}

/// `GET /fhir/Practitioner?name=`: colleagues by name, kana or login ID.
pub(crate) async fn search_practitioners(
    State(state): State<AppState>,
    caller: Caller,
    query: Pairs,
) -> Result<Resource, FhirError> {
    let params = Params::parse(pairs(query)?, &names(super::resources::PRACTITIONER_SEARCH))?;
    let (count, offset) = (params.count()?, params.offset()?);
    let Some(name) = params.one("name")? else {
        return Err(bad_request(vec![Issue::new("required", "name を指定してください / give a name", Some("name"))]));
    };
    let found = state.app.fhir_practitioners(&caller.session, name).await.map_err(|e| FhirError::app(e, caller.t))?;
    let entries = found.iter().skip(offset).take(count).map(|p| (super::resources::practitioner(p), "match")).collect();
    let (next, previous) = params.neighbours(offset, count, found.len() > offset + count);
    Ok(Resource::ok(searchset(&caller.base, "Practitioner", &params.at_offset(offset, count), next, previous, entries)))
}

/// `GET /fhir/PractitionerRole?practitioner=` (a colleague's roles) and
/// `?organization=` (a facility's staff: the roles held there); both together
/// narrow to one colleague's role at that facility.
pub(crate) async fn search_practitioner_roles(
    State(state): State<AppState>,
    caller: Caller,
    query: Pairs,
) -> Result<Resource, FhirError> {
    let params = Params::parse(pairs(query)?, &names(super::resources::PRACTITIONER_ROLE_SEARCH))?;
    let (count, offset) = (params.count()?, params.offset()?);
    let query_text = params.at_offset(offset, count);
    let practitioner = reference_param(&params, "practitioner", "Practitioner")?;
    let organization = reference_param(&params, "organization", "Organization")?;
    if practitioner.is_none() && organization.is_none() {
        return Err(bad_request(vec![Issue::new(
            "required",
            "practitioner か organization を指定してください / give a practitioner or an organization",
            Some("practitioner"),
        )]));
    }
    // An id that cannot be tsunagu's matches nothing.
    if practitioner == Some(None) || organization == Some(None) {
        return Ok(no_match(&caller.base, "PractitionerRole", &query_text));
    }
    let (practitioner, organization) = (practitioner.flatten(), organization.flatten());
    let found = match (practitioner, organization) {
        (Some(id), _) => match state.app.fhir_practitioner_roles(&caller.session, id).await {
            Ok(found) => vec![found],
            // Nobody the caller may see: an empty result, as a search answers.
            Err(tsunagu_app::AppError::NotFound) => Vec::new(),
            Err(e) => return Err(FhirError::app(e, caller.t)),
        },
        (None, Some(facility)) => {
            state.app.fhir_facility_staff(&caller.session, facility).await.map_err(|e| FhirError::app(e, caller.t))?
        }
        (None, None) => Vec::new(),
    };
    let at = organization.map(|f| format!("Organization/{f}"));
    let roles: Vec<_> = found
        .iter()
        .flat_map(super::resources::practitioner_roles)
        .filter(|role| at.as_deref().is_none_or(|at| role["organization"]["reference"] == at))
        .collect();
    Ok(page_of(&caller, &params, "PractitionerRole", &query_text, roles, (offset, count)))
}

/// `GET /fhir/PractitionerRole/{practitioner}-{n}`.
pub(crate) async fn read_practitioner_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    let practitioner = leading_uuid(&id, caller.t)?;
    let found = state
        .app
        .fhir_practitioner_roles(&caller.session, practitioner)
        .await
        .map_err(|e| FhirError::app(e, caller.t))?;
    the_one(super::resources::practitioner_roles(&found), &id, caller.t)
}

/// `GET /fhir/AuditEvent?patient=`: who read the patient's record (the access history).
pub(crate) async fn search_audit_events(
    State(state): State<AppState>,
    caller: Caller,
    query: Pairs,
) -> Result<Resource, FhirError> {
    let params = Params::parse(pairs(query)?, &names(super::resources::AUDIT_EVENT_SEARCH))?;
    let (count, offset) = (params.count()?, params.offset()?);
    let query_text = params.at_offset(offset, count);
    let raw = match (params.one("patient")?, params.one("entity")?) {
        (Some(p), None) => reference_id("patient", p, "Patient")?,
        (None, Some(e)) => reference_id("entity", e, "Patient")?,
        _ => {
            return Err(bad_request(vec![Issue::new(
                "required",
                "patient を一つ指定してください / give one patient",
                Some("patient"),
            )]));
        }
    };
    let (since, until) = instant_range("date", &params.all("date"))?;
    let Ok(patient_id) = raw.parse::<Uuid>() else {
        return Ok(no_match(&caller.base, "AuditEvent", &query_text));
    };
    let (_, mut events) = state
        .app
        .access_history(&caller.session, PatientId(patient_id), &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, caller.t))?;
    // Who read the record since a given time (a portal or an EHR checking again).
    events.retain(|a| since.is_none_or(|s| a.at >= s) && until.is_none_or(|u| a.at < u));
    let has_next = events.len() > offset + count;
    let entries = events
        .iter()
        .skip(offset)
        .take(count)
        .map(|a| (super::resources::audit_event(patient_id, a), "match"))
        .collect();
    let (next, previous) = params.neighbours(offset, count, has_next);
    Ok(Resource::ok(searchset(&caller.base, "AuditEvent", &query_text, next, previous, entries)))
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

/// The patient's consents to sharing and advance care plans (newest first in
/// each) as Consent resources, with their ids (`{patient}-consent-{n}`,
/// `{patient}-acp-{n}`, numbered from the oldest).
fn consent_resources(record: &tsunagu_app::fhir::ConsentRecord) -> Vec<Value> {
    let (consents, plans) = (record.consents.len(), record.acp.len());
    let sharing =
        record.consents.iter().enumerate().map(|(i, c)| super::resources::consent(record.patient, consents - i, c));
    let acp = record
        .acp
        .iter()
        .enumerate()
        .map(|(i, a)| super::resources::advance_care_plan(record.patient, plans - i, i == 0, a));
    sharing.chain(acp).collect()
}

/// `GET /fhir/Consent?patient=`: consent to sharing (LOINC 59284-0) and every
/// revision of the advance care plan (75320-2), optionally by category and status.
pub(crate) async fn search_consents(
    State(state): State<AppState>,
    caller: Caller,
    query: Pairs,
) -> Result<Resource, FhirError> {
    let params = Params::parse(pairs(query)?, &names(super::resources::CONSENT_SEARCH))?;
    let (count, offset) = (params.count()?, params.offset()?);
    let category = match params.one("category")? {
        None => None,
        Some(raw) => match raw.rsplit('|').next() {
            Some(code @ ("59284-0" | "75320-2"))
                if raw.split_once('|').is_none_or(|(s, _)| s.is_empty() || s == tsunagu_domain::interop::LOINC) =>
            {
                Some(code)
            }
            _ => {
                return Err(bad_request(vec![Issue::new(
                    "not-supported",
                    "category: 59284-0（情報共有への同意）| 75320-2（人生会議）",
                    Some("category"),
                )]));
            }
        },
    };
    let status = match params.one("status")? {
        None => None,
        Some(s @ ("active" | "inactive")) => Some(s),
        Some(_) => {
            return Err(bad_request(vec![Issue::new("not-supported", "status: active | inactive", Some("status"))]));
        }
    };
    let query_text = params.at_offset(offset, count);
    let Some(patient_id) = patient_param(&params)? else {
        return Ok(no_match(&caller.base, "Consent", &query_text));
    };
    let record = state
        .app
        .fhir_consents(&caller.session, PatientId(patient_id), &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, caller.t))?;
    let matching: Vec<Value> = consent_resources(&record)
        .into_iter()
        .filter(|c| category.is_none_or(|code| c["category"][0]["coding"][0]["code"] == code))
        .filter(|c| status.is_none_or(|s| c["status"] == s))
        .collect();
    Ok(page_of(&caller, &params, "Consent", &query_text, matching, (offset, count)))
}

/// `GET /fhir/Consent/{patient}-consent-{n}` or `.../{patient}-acp-{n}`.
pub(crate) async fn read_consent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Resource, FhirError> {
    let patient = leading_uuid(&id, caller.t)?;
    let record = state
        .app
        .fhir_consents(&caller.session, PatientId(patient), &caller.meta)
        .await
        .map_err(|e| FhirError::app(e, caller.t))?;
    the_one(consent_resources(&record), &id, caller.t)
}

/// A search answered from a list already in memory: the page asked for, with its links.
fn page_of(
    caller: &Caller,
    params: &Params,
    resource_type: &str,
    query_text: &str,
    all: Vec<Value>,
    (offset, count): (usize, usize),
) -> Resource {
    let has_next = all.len() > offset + count;
    let entries = all.into_iter().skip(offset).take(count).map(|r| (r, "match")).collect();
    let (next, previous) = params.neighbours(offset, count, has_next);
    Resource::ok(searchset(&caller.base, resource_type, query_text, next, previous, entries))
}

/// The UUID an id begins with (a patient's, a practitioner's: 36 characters);
/// what follows names one of theirs.
fn leading_uuid(id: &str, t: Tr) -> Result<Uuid, FhirError> {
    id.get(..36).and_then(|p| p.parse::<Uuid>().ok()).ok_or_else(|| not_found(t))
}

/// The resource with `id` among `candidates`, or "not found".
fn the_one(candidates: Vec<Value>, id: &str, t: Tr) -> Result<Resource, FhirError> {
    candidates.into_iter().find(|r| r["id"] == id).map(Resource::ok).ok_or_else(|| not_found(t))
}
