//! The FHIR API through HTTP, on both databases: an EHR-like client with a
//! token finds a patient by kana, reads the team, posts vital signs that
//! appear in the timeline; and every rule of the pages holds for tokens.

use crate::helpers::{Client, Reply, TestDb};
use crate::patients::{PATIENT, Team, add, consent, register, team};
use axum::http::StatusCode;
use serde_json::Value;

crate::on_both_databases!(
    an_ehr_finds_a_patient_reads_the_team_and_posts_vitals,
    tokens_reach_no_further_than_their_owner_and_scopes,
    searches_are_checked_and_paged,
    retried_posts_make_one_entry_and_transactions_are_all_or_nothing_batches_each_on_its_own,
    the_public_registry_answers_without_a_token,
    each_token_has_its_own_request_budget,
    consents_and_care_plans_are_read_as_consent_resources,
    a_colleague_s_roles_name_profession_and_facility,
    dates_beyond_the_calendar_are_refused_on_every_date_search
);

fn json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", reply.status, reply.body))
}

/// Makes a token on the account page, ticking `scopes` (patient, team, vitals_read, vitals_write).
async fn make_token(client: &mut Client, name: &str, scopes: &[&str]) -> String {
    make_token_for(client, name, scopes, "90").await
}

async fn make_token_for(client: &mut Client, name: &str, scopes: &[&str], days: &str) -> String {
    let mut form: Vec<(String, String)> = vec![("name".into(), name.into()), ("valid_days".into(), days.into())];
    form.extend(scopes.iter().map(|s| (format!("scope_{s}"), "on".to_owned())));
    let form: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let reply = client.submit("/account", "/account/api-tokens", &form).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?} {}", reply.location, reply.body);
    let token = reply.input_value("token").unwrap_or_default();
    assert!(token.starts_with("tsunagu_"), "{}", reply.body);
    token
}

async fn fhir(t: &crate::helpers::TestApp, method: &str, path: &str, token: &str, body: Option<&str>) -> Reply {
    let auth = format!("Bearer {token}");
    let mut client = t.client();
    let headers: Vec<(&str, &str)> = if token.is_empty() {
        vec![("host", "tsunagu.test")]
    } else {
        vec![("authorization", &auth), ("host", "tsunagu.test")]
    };
    client.send_json(method, path, body, &headers).await
}

fn temperature(patient: &str, value: f64) -> String {
    serde_json::json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs" }] }],
        "code": { "coding": [{ "system": "http://loinc.org", "code": "8310-5" }] },
        "subject": { "reference": format!("Patient/{patient}") },
        "effectiveDateTime": "2026-11-29T09:30:00+09:00",
        "valueQuantity": { "value": value, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel" },
        "note": [{ "text": "体温計から自動送信" }],
    })
    .to_string()
}

fn entries(bundle: &Value) -> Vec<Value> {
    bundle["entry"].as_array().cloned().unwrap_or_default()
}

async fn an_ehr_finds_a_patient_reads_the_team_and_posts_vitals(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let token =
        make_token(&mut doctor, "つなぐ在宅クリニック電子カルテ", &["patient", "team", "vitals_read", "vitals_write"])
            .await;

    // The CapabilityStatement needs no token and says what is supported.
    let metadata = fhir(&t, "GET", "/fhir/metadata", "", None).await;
    assert_eq!(metadata.status, StatusCode::OK);
    let cs = json(&metadata);
    assert_eq!((cs["resourceType"].as_str(), cs["fhirVersion"].as_str()), (Some("CapabilityStatement"), Some("4.0.1")));
    let types: Vec<&str> =
        cs["rest"][0]["resource"].as_array().into_iter().flatten().filter_map(|r| r["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "Organization",
            "Location",
            "HealthcareService",
            "Patient",
            "Observation",
            "Communication",
            "Encounter",
            "DocumentReference",
            "Binary",
            "Practitioner",
            "PractitionerRole",
            "AuditEvent",
            "CareTeam",
            "Consent"
        ]
    );

    // Found by kana typed in hiragana; JP Core names: kanji (IDE) and kana (SYL).
    let found = fhir(&t, "GET", "/fhir/Patient?name=%E3%81%8B%E3%81%97%E3%82%8F", &token, None).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let bundle = json(&found);
    assert_eq!((bundle["type"].as_str(), entries(&bundle).len()), (Some("searchset"), 1));
    let p = &entries(&bundle)[0]["resource"];
    assert_eq!(p["id"], patient.as_str());
    assert_eq!(entries(&bundle)[0]["fullUrl"], format!("http://tsunagu.test/fhir/Patient/{patient}").as_str());
    assert_eq!(p["name"][0]["text"], "柏 花子");
    assert_eq!(p["name"][0]["extension"][0]["valueCode"], "IDE");
    assert_eq!(p["name"][1]["text"], "カシワ ハナコ");
    assert_eq!((p["name"][1]["family"].as_str(), p["name"][1]["given"][0].as_str()), (Some("カシワ"), Some("ハナコ")));
    assert_eq!(p["name"][1]["extension"][0]["valueCode"], "SYL");
    assert_eq!((p["gender"].as_str(), p["birthDate"].as_str()), (Some("female"), Some("1938-04-01")));
    let read = fhir(&t, "GET", &format!("/fhir/Patient/{patient}"), &token, None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(json(&read)["meta"]["profile"][0], "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient");

    // The team, with roles and phone numbers.
    let teams = json(&fhir(&t, "GET", &format!("/fhir/CareTeam?patient=Patient/{patient}"), &token, None).await);
    let care_team = &entries(&teams)[0]["resource"];
    assert_eq!(care_team["status"], "active");
    let roles: Vec<&str> = care_team["participant"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["role"][0]["coding"][0]["code"].as_str())
        .collect();
    assert!(roles.contains(&"primary_physician") && roles.contains(&"visiting_nurse"), "{roles:?}");

    // Each member is a Practitioner the token may look up (with that scope), colleagues by name too.
    let colleague_token = make_token(&mut doctor, "職員検索", &["colleagues"]).await;
    let member = care_team["contained"][0]["practitioner"]["reference"].as_str().unwrap_or_default().to_owned();
    let practitioner = json(&fhir(&t, "GET", &format!("/fhir/{member}"), &colleague_token, None).await);
    assert_eq!(practitioner["resourceType"], "Practitioner", "{practitioner}");
    assert!(practitioner["name"][0]["text"].as_str().unwrap_or("").ends_with("さん"));
    assert_eq!(
        fhir(&t, "GET", &format!("/fhir/{member}"), &token, None).await.status,
        StatusCode::FORBIDDEN,
        "not in its scopes"
    );
    let sato = json(&fhir(&t, "GET", "/fhir/Practitioner?name=sato", &colleague_token, None).await);
    assert_eq!(entries(&sato)[0]["resource"]["qualification"][0]["code"]["coding"][0]["code"], "physician");
    crate::admin::municipality(&t, "122203", "流山市").await;
    t.signed_in("n.nurse", Some("122203"), "nurse", &[], None).await;
    let elsewhere = crate::admin::account_id(&t, "n.nurse").await;
    let hidden = fhir(&t, "GET", &format!("/fhir/Practitioner/{elsewhere}"), &colleague_token, None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "another municipality's staff");
    assert!(
        entries(&json(&fhir(&t, "GET", "/fhir/Practitioner?name=n.nurse", &colleague_token, None).await)).is_empty()
    );

    // Vital signs posted by the EHR land on the timeline, for the nurse to read.
    let posted = fhir(&t, "POST", "/fhir/Observation", &token, Some(&temperature(&patient, 37.8))).await;
    assert_eq!(posted.status, StatusCode::CREATED, "{}", posted.body);
    let observation = json(&posted);
    let id = observation["id"].as_str().unwrap_or_default().to_owned();
    assert!(posted.location.as_deref().is_some_and(|l| l.ends_with(&format!("/Observation/{id}/_history/1"))));
    assert_eq!(observation["valueQuantity"]["value"], 37.8);
    let record = json(&nurse.send_json("GET", &format!("/api/v1/patients/{patient}"), None, &[]).await);
    assert_eq!(record["timeline"][0]["vitals"]["temperature_c"], 37.8);
    assert!(record["timeline"][0]["body"].as_str().unwrap_or("").contains("体温計から自動送信"));

    // An implausible value is refused and changes nothing.
    let refused = fhir(&t, "POST", "/fhir/Observation", &token, Some(&temperature(&patient, 48.0))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(json(&refused)["resourceType"], "OperationOutcome");
    let after = json(&nurse.send_json("GET", &format!("/api/v1/patients/{patient}"), None, &[]).await);
    assert_eq!(after["timeline"].as_array().map(Vec::len), record["timeline"].as_array().map(Vec::len));

    // Searching observations, with the patient included; reading one.
    let search =
        format!("/fhir/Observation?patient={patient}&code=http://loinc.org|8310-5&_include=Observation:patient");
    let bundle = json(&fhir(&t, "GET", &search, &token, None).await);
    let modes: Vec<String> =
        entries(&bundle).iter().filter_map(|e| e["search"]["mode"].as_str().map(str::to_owned)).collect();
    assert_eq!(modes, ["match", "include"]);
    assert_eq!(entries(&bundle)[0]["resource"]["id"], id.as_str());
    let one = fhir(&t, "GET", &format!("/fhir/Observation/{id}"), &token, None).await;
    assert_eq!((one.status, json(&one)["code"]["coding"][0]["code"].as_str()), (StatusCode::OK, Some("8310-5")));
    // Newest first is the order, and saying so is accepted; oldest first on
    // request (an EHR catching up from a date); another order is refused by name.
    let newest = json(&fhir(&t, "GET", &format!("{search}&_sort=-date"), &token, None).await);
    assert_eq!(entries(&newest), entries(&bundle));
    let again = fhir(&t, "POST", "/fhir/Observation", &token, Some(&temperature(&patient, 36.9))).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let all = format!("/fhir/Observation?patient={patient}&code=8310-5");
    let when = |b: &serde_json::Value| -> Vec<String> {
        entries(b).iter().filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned)).collect()
    };
    let newest = when(&json(&fhir(&t, "GET", &format!("{all}&_sort=-date"), &token, None).await));
    let oldest = when(&json(&fhir(&t, "GET", &format!("{all}&_sort=date"), &token, None).await));
    assert!(newest.len() >= 2, "two temperatures to order: {newest:?}");
    assert_eq!(oldest, newest.iter().rev().cloned().collect::<Vec<_>>(), "oldest first is the reverse");
    for (resource, sort) in
        [("Observation", "-code"), ("Observation", "code"), ("Communication", "-date"), ("Encounter", "sent")]
    {
        let reply = fhir(&t, "GET", &format!("/fhir/{resource}?patient={patient}&_sort={sort}"), &token, None).await;
        assert_eq!(
            (reply.status, json(&reply)["issue"][0]["expression"][0].as_str()),
            (StatusCode::BAD_REQUEST, Some("_sort")),
            "{resource} {sort}"
        );
    }
    // (This token may not read notes: past the parameters, the scope refuses it.)
    let sent = fhir(&t, "GET", &format!("/fhir/Communication?patient={patient}&_sort=-sent"), &token, None).await;
    assert_eq!(sent.status, StatusCode::FORBIDDEN, "{}", sent.body);

    // A correction on the page is a new version; the old one stays readable (vread, history).
    t.clock.advance(time::Duration::minutes(10));
    let before_correction = tsunagu_domain::clock::Clock::now(&t.clock) - time::Duration::seconds(1);
    let entry = id.split_at(36).0.to_owned();
    let fix = [("kind", "vitals"), ("temperature_c", "37.6"), ("body", "体温計から自動送信"), ("reason", "再測定")];
    let corrected =
        doctor.submit(&format!("/entries/{entry}/correct"), &format!("/entries/{entry}/correct"), &fix).await;
    assert!(corrected.status.is_redirection(), "{} {}", corrected.status, corrected.body);
    let now = json(&fhir(&t, "GET", &format!("/fhir/Observation/{id}"), &token, None).await);
    assert_eq!(
        (now["valueQuantity"]["value"].as_f64(), now["status"].as_str(), now["meta"]["versionId"].as_str()),
        (Some(37.6), Some("amended"), Some("2"))
    );
    let first = json(&fhir(&t, "GET", &format!("/fhir/Observation/{id}/_history/1"), &token, None).await);
    assert_eq!(first["valueQuantity"]["value"], 37.8);
    let history = json(&fhir(&t, "GET", &format!("/fhir/Observation/{id}/_history"), &token, None).await);
    assert_eq!((history["type"].as_str(), history["total"].as_u64()), (Some("history"), Some(2)));
    // What changed since an EHR last looked (`_lastUpdated`): the corrected
    // measurement only, though it was written before the other temperature.
    let stamp = |at: time::OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default().replace('+', "%2B")
    };
    let since = format!("{all}&_lastUpdated=gt{}", stamp(before_correction));
    assert_eq!(when(&json(&fhir(&t, "GET", &since, &token, None).await)), std::slice::from_ref(&id));
    let until = format!("{all}&_lastUpdated=lt{}", stamp(before_correction));
    let unchanged = when(&json(&fhir(&t, "GET", &until, &token, None).await));
    assert!(!unchanged.contains(&id) && unchanged.len() + 1 == newest.len(), "{unchanged:?} {newest:?}");
    let bad = fhir(&t, "GET", &format!("{all}&_lastUpdated=yesterday"), &token, None).await;
    assert_eq!(
        (bad.status, json(&bad)["issue"][0]["expression"][0].as_str()),
        (StatusCode::BAD_REQUEST, Some("_lastUpdated"))
    );
    assert_eq!(
        fhir(&t, "GET", &format!("/fhir/Observation/{id}/_history/3"), &token, None).await.status,
        StatusCode::NOT_FOUND
    );

    // Notes: the EHR posts a visit record in answer to the nurse's message;
    // the timeline shows it, and the timeline reads back as Communications.
    let question = crate::patients::post(
        &mut nurse,
        &patient,
        &[("kind", "message"), ("body", "明日の往診の時間を教えてください")],
    )
    .await;
    let notes = make_token(&mut doctor, "カルテ連携（記録）", &["notes_read", "notes_write"]).await;
    let answer = serde_json::json!({
        "resourceType": "Communication", "status": "completed",
        "category": [{ "coding": [{ "system": "urn:tsunagu:entry-kind", "code": "visit_record" }] }],
        "subject": { "reference": format!("Patient/{patient}") },
        "inResponseTo": [{ "reference": format!("Communication/{question}") }],
        "payload": [{ "contentString": "往診は10時です。下肢の浮腫は軽減。" }],
    })
    .to_string();
    let created = fhir(&t, "POST", "/fhir/Communication", &notes, Some(&answer)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let record = json(&nurse.send_json("GET", &format!("/api/v1/patients/{patient}"), None, &[]).await);
    assert_eq!(
        (record["timeline"][0]["kind"].as_str(), record["timeline"][0]["reply_to"].as_str()),
        (Some("visit_record"), Some(question.as_str()))
    );
    let timeline = json(
        &fhir(&t, "GET", &format!("/fhir/Communication?patient={patient}&category=visit_record"), &notes, None).await,
    );
    assert_eq!(entries(&timeline).len(), 1);
    assert_eq!(entries(&timeline)[0]["resource"]["payload"][0]["contentString"], "往診は10時です。下肢の浮腫は軽減。");
    let all = json(&fhir(&t, "GET", &format!("/fhir/Communication?patient={patient}"), &notes, None).await);
    assert!(
        entries(&all)
            .iter()
            .any(|e| e["resource"]["payload"][0]["contentString"].as_str().unwrap_or("").starts_with("体温 37.6")),
        "vital signs read as a line too"
    );
    let visits = json(&fhir(&t, "GET", &format!("/fhir/Encounter?patient={patient}"), &notes, None).await);
    assert_eq!(entries(&visits).len(), 1, "the visit record is an Encounter");
    let visit = &entries(&visits)[0]["resource"];
    assert_eq!((visit["class"]["code"].as_str(), visit["status"].as_str()), (Some("HH"), Some("finished")));
    // Changed since the correction: the corrected measurement's line and the
    // notes written after it, not the temperature left as it was.
    let changed = json(
        &fhir(
            &t,
            "GET",
            &format!("/fhir/Communication?patient={patient}&_lastUpdated=gt{}", stamp(before_correction)),
            &notes,
            None,
        )
        .await,
    );
    let lines: Vec<String> = entries(&changed)
        .iter()
        .filter_map(|e| e["resource"]["payload"][0]["contentString"].as_str().map(str::to_owned))
        .collect();
    assert!(lines.iter().any(|l| l.starts_with("体温 37.6")) && lines.len() == 3, "{lines:?}");
    assert!(!lines.iter().any(|l| l.starts_with("体温 36.9")), "{lines:?}");
    let old_visits = format!("/fhir/Encounter?patient={patient}&_lastUpdated=lt{}", stamp(before_correction));
    assert!(entries(&json(&fhir(&t, "GET", &old_visits, &notes, None).await)).is_empty());
    let visit_id = visit["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(fhir(&t, "GET", &format!("/fhir/Encounter/{visit_id}"), &notes, None).await.status, StatusCode::OK);
    assert_eq!(
        fhir(&t, "GET", &format!("/fhir/Encounter/{question}"), &notes, None).await.status,
        StatusCode::NOT_FOUND,
        "a message is no visit"
    );
    let vitals_as_note = serde_json::json!({
        "resourceType": "Communication", "status": "completed",
        "category": [{ "coding": [{ "code": "vitals" }] }],
        "subject": { "reference": format!("Patient/{patient}") },
        "payload": [{ "contentString": "37.0" }],
    })
    .to_string();
    let refused = fhir(&t, "POST", "/fhir/Communication", &notes, Some(&vitals_as_note)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "vital signs come as Observations: {}", refused.body);

    // Photos and PDFs: described as DocumentReferences, their bytes at Binary/{id}.
    let (_, photo) = crate::patients::post_with_photo(&mut nurse, &patient, "創部の写真").await;
    let documents_token = make_token(&mut doctor, "画像連携", &["documents"]).await;
    let documents =
        json(&fhir(&t, "GET", &format!("/fhir/DocumentReference?patient={patient}"), &documents_token, None).await);
    let described = &entries(&documents)[0]["resource"];
    assert_eq!(described["id"], photo.as_str());
    // New since a time (an EHR importing wound photos): by `date` or `_lastUpdated`.
    let photo_at = described["date"].as_str().unwrap_or_default().replace('+', "%2B");
    for (search, expected) in [("date=ge", 1), ("date=gt", 0), ("_lastUpdated=ge", 1), ("_lastUpdated=lt", 0)] {
        let path = format!("/fhir/DocumentReference?patient={patient}&{search}{photo_at}");
        assert_eq!(entries(&json(&fhir(&t, "GET", &path, &documents_token, None).await)).len(), expected, "{search}");
    }
    let url = described["content"][0]["attachment"]["url"].as_str().unwrap_or_default().to_owned();
    assert!(url.ends_with(&format!("/fhir/Binary/{photo}")), "{url}");
    let auth = format!("Bearer {documents_token}");
    let (status, content_type, bytes) = {
        let mut c = t.client();
        let reply =
            c.send_json("GET", &format!("/fhir/Binary/{photo}"), None, &[("authorization", auth.as_str())]).await;
        (
            reply.status,
            described["content"][0]["attachment"]["contentType"].as_str().unwrap_or_default().to_owned(),
            reply.body.len(),
        )
    };
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("image/") && bytes > 0);
    assert_eq!(
        fhir(&t, "GET", &format!("/fhir/Binary/{photo}"), &token, None).await.status,
        StatusCode::FORBIDDEN,
        "not in its scopes"
    );

    // The whole record for a transfer: one Bundle, through FHIR and from the page.
    let acp = [
        ("discussed_on", "2026-11-20"),
        ("participants", "本人、長女、主治医"),
        ("place_of_care", "home"),
        ("place_of_death", "home"),
        ("treatment", "comfort_only"),
    ];
    let saved = doctor.submit(&format!("/patients/{patient}/acp"), &format!("/patients/{patient}/acp"), &acp).await;
    assert!(saved.status.is_redirection(), "{} {}", saved.status, saved.body);
    let everything = fhir(&t, "GET", &format!("/fhir/Patient/{patient}/$everything"), &token, None).await;
    assert_eq!(everything.status, StatusCode::FORBIDDEN, "the export needs every read scope: {}", everything.body);
    let reader = make_token(&mut doctor, "転院先への送付", &["patient", "team", "vitals_read", "notes_read"]).await;
    let bundle = json(&fhir(&t, "GET", &format!("/fhir/Patient/{patient}/$everything"), &reader, None).await);
    let types: std::collections::BTreeSet<String> =
        entries(&bundle).iter().filter_map(|e| e["resource"]["resourceType"].as_str().map(str::to_owned)).collect();
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        ["CareTeam", "Communication", "Consent", "DocumentReference", "Encounter", "Observation", "Patient"]
    );
    let acp_text = entries(&bundle)
        .iter()
        .find(|e| e["resource"]["scope"]["coding"][0]["code"] == "adr")
        .and_then(|e| e["resource"]["text"]["div"].as_str().map(str::to_owned))
        .unwrap_or_default();
    assert!(acp_text.contains("延命治療は望まず"), "{acp_text}");
    let (status, content_type, bytes) = nurse.get_bytes(&format!("/patients/{patient}/export")).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "application/fhir+json; charset=utf-8"));
    let downloaded: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    assert_eq!(downloaded["entry"][0]["resource"]["id"], patient.as_str());

    // The patient's access history names the token, on the page and as AuditEvents.
    let history = nurse.get(&format!("/patients/{patient}/access")).await;
    assert!(history.body.contains("つなぐ在宅クリニック電子カルテ"), "{}", history.body);
    let no_scope = fhir(&t, "GET", &format!("/fhir/AuditEvent?patient={patient}"), &token, None).await;
    assert_eq!(no_scope.status, StatusCode::FORBIDDEN);
    let auditor = make_token(&mut nurse, "閲覧履歴の確認", &["access"]).await;
    let events =
        json(&fhir(&t, "GET", &format!("/fhir/AuditEvent?patient={patient}&_count=100"), &auditor, None).await);
    let who: Vec<String> = entries(&events)
        .iter()
        .filter_map(|e| e["resource"]["agent"][0]["who"]["display"].as_str().map(str::to_owned))
        .collect();
    assert!(who.iter().any(|w| w.contains("つなぐ在宅クリニック電子カルテ")), "{who:?}");
    // Who read it since a time: none after now, all of them since the day began.
    let read_since = |prefix: &str, at: time::OffsetDateTime| {
        let at = at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default().replace('+', "%2B");
        format!("/fhir/AuditEvent?patient={patient}&_count=100&date={prefix}{at}")
    };
    t.clock.advance(time::Duration::minutes(5));
    let now = tsunagu_domain::clock::Clock::now(&t.clock);
    let later = json(&fhir(&t, "GET", &read_since("gt", now), &auditor, None).await);
    assert!(entries(&later).is_empty(), "{later}");
    let today = json(&fhir(&t, "GET", &read_since("ge", now - time::Duration::days(1)), &auditor, None).await);
    assert!(entries(&today).len() >= entries(&events).len(), "the reads so far, and the searches since");
    let bad = fhir(&t, "GET", &format!("/fhir/AuditEvent?patient={patient}&date=soon"), &auditor, None).await;
    assert_eq!((bad.status, json(&bad)["issue"][0]["expression"][0].as_str()), (StatusCode::BAD_REQUEST, Some("date")));
}

async fn tokens_reach_no_further_than_their_owner_and_scopes(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, mut care_manager } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;

    // No token, a made-up one: 401 with a challenge.
    for token in ["", "tsunagu_not-a-real-token", "Basic abc"] {
        let reply = fhir(&t, "GET", &format!("/fhir/Patient/{patient}"), token, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(json(&reply)["issue"][0]["code"], "login");
        assert!(!reply.body.contains("柏"));
    }

    // Someone outside the team: not found, nothing in searches, no writes.
    let outsider = make_token(&mut care_manager, "script", &["patient", "team", "vitals_read", "vitals_write"]).await;
    let hidden = fhir(&t, "GET", &format!("/fhir/Patient/{patient}"), &outsider, None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert!(!hidden.body.contains("柏"));
    let none = json(&fhir(&t, "GET", "/fhir/Patient?name=%E6%9F%8F", &outsider, None).await);
    assert!(entries(&none).is_empty());
    let teams = json(&fhir(&t, "GET", &format!("/fhir/CareTeam?patient={patient}"), &outsider, None).await);
    assert!(entries(&teams).is_empty());
    let write = fhir(&t, "POST", "/fhir/Observation", &outsider, Some(&temperature(&patient, 36.5))).await;
    assert_eq!(write.status, StatusCode::NOT_FOUND);
    assert_eq!(
        fhir(&t, "GET", &format!("/fhir/Observation?patient={patient}"), &outsider, None).await.status,
        StatusCode::NOT_FOUND
    );

    // A read-only token may not write, nor read what its scopes leave out.
    let read_only = make_token(&mut doctor, "閲覧のみ", &["patient"]).await;
    assert_eq!(fhir(&t, "GET", &format!("/fhir/Patient/{patient}"), &read_only, None).await.status, StatusCode::OK);
    let write = fhir(&t, "POST", "/fhir/Observation", &read_only, Some(&temperature(&patient, 36.5))).await;
    assert_eq!((write.status, json(&write)["issue"][0]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let team = fhir(&t, "GET", &format!("/fhir/CareTeam/{patient}"), &read_only, None).await;
    assert_eq!(team.status, StatusCode::FORBIDDEN);

    // A token without scopes is refused at the form, and changes nothing.
    let refused = doctor.submit("/account", "/account/api-tokens", &[("name", "空"), ("valid_days", "90")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("許可することを一つ以上選んでください"));

    // Revoked: refused at once, though the token was just in use.
    let writer = make_token(&mut doctor, "体温計", &["vitals_write"]).await;
    let before = fhir(&t, "POST", "/fhir/Observation", &writer, Some(&temperature(&patient, 36.6))).await;
    assert_eq!(before.status, StatusCode::CREATED, "{}", before.body);
    let account = doctor.get("/account").await;
    let marker = "/account/api-tokens/";
    let revoke_paths: Vec<String> = account
        .body
        .match_indices(marker)
        .filter_map(|(i, _)| account.body[i..].split('"').next().map(str::to_owned))
        .collect();
    assert_eq!(revoke_paths.len(), 2, "two live tokens listed");
    // Newest first: the thermometer's token.
    let revoked = doctor.submit("/account", &revoke_paths[0], &[]).await;
    assert!(revoked.redirects_to("/account?notice=token_revoked"), "{}", revoked.status);
    let after = fhir(&t, "POST", "/fhir/Observation", &writer, Some(&temperature(&patient, 36.5))).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(fhir(&t, "GET", &format!("/fhir/Patient/{patient}"), &read_only, None).await.status, StatusCode::OK);

    // After withdrawal the team reads but cannot write, through FHIR too.
    let writer = make_token_for(&mut doctor, "一年", &["patient", "vitals_write"], "366").await;
    let page = format!("/patients/{patient}");
    let withdraw = nurse.submit(&page, &format!("{page}/consent/withdraw"), &[("reason", "撤回")]).await;
    assert!(withdraw.redirects_to(&page), "{:?}", withdraw.location);
    let write = fhir(&t, "POST", "/fhir/Observation", &writer, Some(&temperature(&patient, 36.5))).await;
    assert_eq!(write.status, StatusCode::FORBIDDEN, "{}", write.body);
    assert_eq!(fhir(&t, "GET", &format!("/fhir/Patient/{patient}"), &writer, None).await.status, StatusCode::OK);

    // Expired after its days (90), while a year's token still works.
    t.clock.advance(time::Duration::days(91));
    assert_eq!(
        fhir(&t, "GET", &format!("/fhir/Patient/{patient}"), &read_only, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(fhir(&t, "GET", &format!("/fhir/Patient/{patient}"), &writer, None).await.status, StatusCode::OK);
}

async fn searches_are_checked_and_paged(db: &TestDb) {
    let Team { t, mut nurse, .. } = team(db).await;
    for (given, kana, born) in
        [("一郎", "イチロウ", "1940-01-02"), ("二郎", "ジロウ", "1945-06-07"), ("三郎", "サブロウ", "1950-10-11")]
    {
        let fields: Vec<(&str, &str)> = PATIENT
            .iter()
            .map(|(k, v)| match *k {
                "given_name" => (*k, given),
                "given_name_kana" => (*k, kana),
                "birth_date" => (*k, born),
                "sex" => (*k, "male"),
                _ => (*k, *v),
            })
            .collect();
        let patient = register(&mut nurse, &fields).await;
        consent(&mut nurse, &patient).await;
    }
    let token = make_token(&mut nurse, "集計スクリプト", &["patient"]).await;

    // Unknown parameters and bad values are refused, each one named.
    let refused = fhir(&t, "GET", "/fhir/Patient?nickname=x&_summary=true", &token, None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let outcome = json(&refused);
    let named: Vec<&str> =
        outcome["issue"].as_array().into_iter().flatten().filter_map(|i| i["expression"][0].as_str()).collect();
    assert_eq!(named.len(), 2, "{}", refused.body);
    for bad in ["birthdate=1940-13", "gender=man", "_count=0", "birthdate=sa1940"] {
        let reply = fhir(&t, "GET", &format!("/fhir/Patient?{bad}"), &token, None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Dates with prefixes, gender, family and given.
    let count = |b: &Value| entries(b).len();
    assert_eq!(count(&json(&fhir(&t, "GET", "/fhir/Patient?birthdate=ge1945", &token, None).await)), 2);
    assert_eq!(
        count(&json(&fhir(&t, "GET", "/fhir/Patient?birthdate=lt1945-06-07&gender=male", &token, None).await)),
        1
    );
    assert_eq!(count(&json(&fhir(&t, "GET", "/fhir/Patient?gender=female", &token, None).await)), 0);
    assert_eq!(
        count(&json(
            &fhir(
                &t,
                "GET",
                "/fhir/Patient?family=%E3%82%AB%E3%82%B7%E3%83%AF&given=%E3%81%98%E3%82%8D%E3%81%86",
                &token,
                None
            )
            .await
        )),
        1
    );

    // Sorted by birth date either way, by when changed; found by the identifier every Patient carries.
    let given =
        |b: &Value, i: usize| entries(b)[i]["resource"]["name"][0]["given"][0].as_str().unwrap_or_default().to_owned();
    let oldest_first = json(&fhir(&t, "GET", "/fhir/Patient?_sort=birthdate", &token, None).await);
    assert_eq!((given(&oldest_first, 0), given(&oldest_first, 2)), ("一郎".to_owned(), "三郎".to_owned()));
    let youngest_first = json(&fhir(&t, "GET", "/fhir/Patient?_sort=-birthdate", &token, None).await);
    assert_eq!(given(&youngest_first, 0), "三郎");
    assert_eq!(fhir(&t, "GET", "/fhir/Patient?_sort=shoe_size", &token, None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        count(&json(&fhir(&t, "GET", "/fhir/Patient?_lastUpdated=ge2000&_sort=-_lastUpdated", &token, None).await)),
        3
    );
    assert_eq!(count(&json(&fhir(&t, "GET", "/fhir/Patient?_lastUpdated=lt2000", &token, None).await)), 0);
    let id = entries(&oldest_first)[1]["resource"]["id"].as_str().unwrap_or_default().to_owned();
    let by_identifier = json(
        &fhir(&t, "GET", &format!("/fhir/Patient?identifier=urn:ietf:rfc:3986%7Curn:uuid:{id}"), &token, None).await,
    );
    assert_eq!((count(&by_identifier), given(&by_identifier, 0)), (1, "二郎".to_owned()));

    // Paging: two, then one, with next and previous links.
    let first = json(&fhir(&t, "GET", "/fhir/Patient?family=%E6%9F%8F&_count=2", &token, None).await);
    assert_eq!(count(&first), 2);
    let next = first["link"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["relation"] == "next")
        .and_then(|l| l["url"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(next.starts_with("http://tsunagu.test/fhir/Patient?") && next.contains("_offset=2"), "{next}");
    let path = next.trim_start_matches("http://tsunagu.test");
    let second = json(&fhir(&t, "GET", path, &token, None).await);
    assert_eq!(count(&second), 1);
    assert!(second["link"].as_array().into_iter().flatten().all(|l| l["relation"] != "next"));
    assert!(second["link"].as_array().into_iter().flatten().any(|l| l["relation"] == "previous"));
    let ids: std::collections::HashSet<String> = entries(&first)
        .iter()
        .chain(entries(&second).iter())
        .filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 3, "every patient once");

    // Unsupported interactions answer with an OperationOutcome.
    let unknown = fhir(&t, "GET", "/fhir/Medication/1", &token, None).await;
    assert_eq!(
        (unknown.status, json(&unknown)["resourceType"].as_str()),
        (StatusCode::NOT_FOUND, Some("OperationOutcome"))
    );
    let text = fhir(&t, "POST", "/fhir/Observation", &token, Some("{not json")).await;
    assert_eq!((text.status, json(&text)["issue"][0]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("structure")));
}

async fn the_public_registry_answers_without_a_token(db: &TestDb) {
    let t = crate::public_map::kashiwa_with_registry(db).await;

    // Organizations by name, as JP_Organization; the care office's number as an identifier.
    let found = fhir(&t, "GET", "/fhir/Organization?name=%E3%81%95%E3%81%8F%E3%82%89", "", None).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let bundle = json(&found);
    let sakura = entries(&bundle)
        .into_iter()
        .map(|e| e["resource"].clone())
        .find(|o| o["name"].as_str().unwrap_or("").contains("さくら"))
        .unwrap_or_default();
    let identifiers: Vec<&str> =
        sakura["identifier"].as_array().into_iter().flatten().filter_map(|i| i["value"].as_str()).collect();
    assert!(identifiers.contains(&"1260000001"), "{sakura}");
    assert_eq!(sakura["type"][0]["coding"][0]["code"], "home_nursing_station");

    // A clinic of the 届出受理名簿: its 医療機関コード split into JP Core's extensions.
    let clinics = json(&fhir(&t, "GET", "/fhir/Organization?type=clinic&_count=50", "", None).await);
    let coded = entries(&clinics)
        .into_iter()
        .map(|e| e["resource"].clone())
        .find(|o| o["extension"].is_array())
        .unwrap_or_default();
    let code = coded["identifier"][0]["value"].as_str().unwrap_or_default().to_owned();
    assert_eq!(code.len(), 10, "{coded}");
    let extensions = coded["extension"].as_array().cloned().unwrap_or_default();
    assert!(extensions[0]["url"].as_str().unwrap_or("").ends_with("JP_Organization_PrefectureNo"));
    assert_eq!(extensions[0]["valueCoding"]["code"].as_str(), Some(&code[..2]));
    assert_eq!(extensions[2]["valueIdentifier"]["value"].as_str(), Some(&code[3..]));
    let other_kind = json(&fhir(&t, "GET", "/fhir/Organization?type=http://example.org|clinic", "", None).await);
    assert!(entries(&other_kind).is_empty(), "another system's code matches nothing");

    // Found by its 医療機関コード (with JP Core's system, or bare) or by the care office's number.
    let id_of = |b: &Value| {
        entries(b).iter().filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned)).collect::<Vec<_>>()
    };
    let system = "http://jpfhir.jp/fhir/Common/IdSystem/insurance-medical-institution-no";
    for query in [format!("identifier={system}|{code}"), format!("identifier={code}")] {
        let found = json(&fhir(&t, "GET", &format!("/fhir/Organization?{query}"), "", None).await);
        assert_eq!(id_of(&found), [coded["id"].as_str().unwrap_or_default().to_owned()], "{query}");
    }
    let office = json(
        &fhir(&t, "GET", "/fhir/Organization?identifier=urn:tsunagu:care-provider-number|1260000001", "", None).await,
    );
    assert_eq!(id_of(&office), [sakura["id"].as_str().unwrap_or_default().to_owned()]);
    let elsewhere =
        json(&fhir(&t, "GET", &format!("/fhir/Organization?identifier=http://example.org|{code}"), "", None).await);
    assert!(entries(&elsewhere).is_empty());
    let malformed = fhir(&t, "GET", "/fhir/Organization?identifier=12-34", "", None).await;
    assert_eq!(
        (malformed.status, json(&malformed)["issue"][0]["expression"][0].as_str()),
        (StatusCode::BAD_REQUEST, Some("identifier"))
    );

    // Locations nearest first, within the distance asked, with how far.
    let near = json(&fhir(&t, "GET", "/fhir/Location?near=35.8676|139.9758|1|km", "", None).await);
    let first = &entries(&near)[0];
    assert!(first["resource"]["name"].as_str().unwrap_or("").contains("さくら"), "{first}");
    assert_eq!(first["search"]["extension"][0]["valueDistance"]["value"], 0);
    assert!(
        entries(&near)
            .iter()
            .all(|e| e["search"]["extension"][0]["valueDistance"]["value"].as_i64().unwrap_or(i64::MAX) <= 1000)
    );
    let id = first["resource"]["id"].as_str().unwrap_or_default().to_owned();
    let location = json(&fhir(&t, "GET", &format!("/fhir/Location/{id}"), "", None).await);
    assert_eq!(location["position"]["latitude"], 35.8676);
    assert_eq!(location["managingOrganization"]["reference"], format!("Organization/{id}").as_str());
    let organization = fhir(&t, "GET", &format!("/fhir/Organization/{id}"), "", None).await;
    assert_eq!(organization.status, StatusCode::OK);
    let missing = fhir(&t, "GET", "/fhir/Organization/00000000-0000-7000-8000-000000000000", "", None).await;
    assert_eq!(
        (missing.status, json(&missing)["resourceType"].as_str()),
        (StatusCode::NOT_FOUND, Some("OperationOutcome"))
    );
    let bad = fhir(&t, "GET", "/fhir/Location?near=91|139", "", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // What a facility offers and whether it takes new patients, by its own account.
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let profile = [
        ("services", "ventilator"),
        ("services", "home_death"),
        ("accepting", "yes"),
        ("opening_hours", "月〜金 9:00〜17:00"),
    ];
    let page = format!("/admin/facilities/{id}");
    assert!(admin.submit(&page, &format!("{page}/profile"), &profile).await.redirects_to(&page));
    let service = json(&fhir(&t, "GET", &format!("/fhir/HealthcareService/{id}"), "", None).await);
    let mut offered: Vec<&str> =
        service["type"].as_array().into_iter().flatten().filter_map(|c| c["coding"][0]["code"].as_str()).collect();
    offered.sort_unstable();
    assert_eq!(offered, ["home_death", "ventilator"], "{service}");
    assert_eq!(service["characteristic"][0]["coding"][0]["code"], "yes");
    assert_eq!(service["providedBy"]["reference"], format!("Organization/{id}").as_str());
    let ventilators =
        json(&fhir(&t, "GET", "/fhir/HealthcareService?service-type=ventilator&characteristic=yes", "", None).await);
    assert_eq!(entries(&ventilators).len(), 1);
    assert_eq!(entries(&ventilators)[0]["resource"]["id"], id.as_str());
    let nobody = json(&fhir(&t, "GET", "/fhir/HealthcareService?service-type=paediatric", "", None).await);
    assert!(entries(&nobody).is_empty());
    let unknown = json(&fhir(&t, "GET", "/fhir/HealthcareService?service-type=teleportation", "", None).await);
    assert!(entries(&unknown).is_empty(), "an unknown service matches nothing");
    let refused = fhir(&t, "GET", "/fhir/HealthcareService?characteristic=wheelchair", "", None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    // With a second municipality the city must be named (by name or code).
    crate::admin::municipality(&t, "122203", "流山市").await;
    let unnamed = fhir(&t, "GET", "/fhir/Organization", "", None).await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unnamed.body);
    for city in ["%E6%9F%8F%E5%B8%82", "122173"] {
        let named =
            json(&fhir(&t, "GET", &format!("/fhir/Organization?address-city={city}&_count=100"), "", None).await);
        assert!(entries(&named).len() >= 2, "{city}");
    }
    let nagareyama = json(&fhir(&t, "GET", "/fhir/Organization?address-city=122203", "", None).await);
    assert!(entries(&nagareyama).is_empty());
}

fn with_identifier(observation: &str, system: &str, value: &str) -> String {
    let mut v: Value = serde_json::from_str(observation).unwrap_or_default();
    v["identifier"] = serde_json::json!([{ "system": system, "value": value }]);
    v.to_string()
}

async fn timeline_length(nurse: &mut Client, patient: &str) -> usize {
    json(&nurse.send_json("GET", &format!("/api/v1/patients/{patient}"), None, &[]).await)["timeline"]
        .as_array()
        .map_or(0, Vec::len)
}

async fn retried_posts_make_one_entry_and_transactions_are_all_or_nothing_batches_each_on_its_own(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, mut care_manager } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let token = make_token(&mut doctor, "体温計", &["vitals_write", "vitals_read", "notes_write"]).await;
    let auth = format!("Bearer {token}");
    let device = "urn:example:thermometer-42";

    // A device retries a post (the answer was lost): one entry, the same resource back.
    let body = with_identifier(&temperature(&patient, 37.1), device, "m-0001");
    let headers = [("authorization", auth.as_str()), ("if-none-exist", "identifier=urn:example:thermometer-42|m-0001")];
    let before = timeline_length(&mut nurse, &patient).await;
    let first = t.client().send_json("POST", "/fhir/Observation", Some(&body), &headers).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = t.client().send_json("POST", "/fhir/Observation", Some(&body), &headers).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(json(&first)["id"], json(&again)["id"]);
    assert_eq!(timeline_length(&mut nurse, &patient).await, before + 1);
    // Without the condition a taken identifier is a conflict, and changes nothing.
    let plain = fhir(&t, "POST", "/fhir/Observation", &token, Some(&body)).await;
    assert_eq!((plain.status, json(&plain)["issue"][0]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")));
    assert_eq!(timeline_length(&mut nurse, &patient).await, before + 1);
    let other_condition = [("authorization", auth.as_str()), ("if-none-exist", "_lastUpdated=gt2026")];
    let refused = t.client().send_json("POST", "/fhir/Observation", Some(&body), &other_condition).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    // A transaction: a blood pressure and a note, together.
    let pressure = serde_json::json!({
        "resourceType": "Observation", "status": "final",
        "code": { "coding": [{ "system": "http://loinc.org", "code": "85354-9" }] },
        "subject": { "reference": format!("Patient/{patient}") },
        "component": [
            { "code": { "coding": [{ "system": "http://loinc.org", "code": "8480-6" }] }, "valueQuantity": { "value": 150, "code": "mm[Hg]" } },
            { "code": { "coding": [{ "system": "http://loinc.org", "code": "8462-4" }] }, "valueQuantity": { "value": 92, "code": "mm[Hg]" } },
        ],
    });
    let note = serde_json::json!({
        "resourceType": "Communication", "status": "completed",
        "subject": { "reference": format!("Patient/{patient}") },
        "payload": [{ "contentString": "血圧が高めです。降圧薬の確認をお願いします。" }],
    });
    let bundle = |entries: Vec<Value>| {
        serde_json::json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries }).to_string()
    };
    let post = |url: &str, resource: &Value, condition: Option<&str>| {
        let mut request = serde_json::json!({ "method": "POST", "url": url });
        if let Some(c) = condition {
            request["ifNoneExist"] = serde_json::json!(c);
        }
        serde_json::json!({ "resource": resource, "request": request })
    };
    let mut identified = pressure.clone();
    identified["identifier"] = serde_json::json!([{ "system": device, "value": "bp-7" }]);
    let together = bundle(vec![
        post("Observation", &identified, Some("identifier=urn:example:thermometer-42|bp-7")),
        post("Communication", &note, None),
    ]);
    let before = timeline_length(&mut nurse, &patient).await;
    let done = fhir(&t, "POST", "/fhir", &token, Some(&together)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let response = json(&done);
    assert_eq!(response["type"], "transaction-response");
    let statuses: Vec<&str> =
        response["entry"].as_array().into_iter().flatten().filter_map(|e| e["response"]["status"].as_str()).collect();
    assert_eq!(statuses, ["201 Created", "201 Created"]);
    assert_eq!(timeline_length(&mut nurse, &patient).await, before + 2);

    // One bad entry: nothing of the transaction is written, and each problem is named.
    let mut implausible = pressure.clone();
    implausible["component"][0]["valueQuantity"]["value"] = serde_json::json!(400);
    let mixed = bundle(vec![post("Communication", &note, None), post("Observation", &implausible, None)]);
    let refused = fhir(&t, "POST", "/fhir", &token, Some(&mixed)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(timeline_length(&mut nurse, &patient).await, before + 2, "all or nothing");
    let broken = bundle(vec![
        post("Communication", &serde_json::json!({ "resourceType": "Communication" }), None),
        post("Patient", &note, None),
    ]);
    let refused = json(&fhir(&t, "POST", "/fhir", &token, Some(&broken)).await);
    let named: Vec<&str> =
        refused["issue"].as_array().into_iter().flatten().filter_map(|i| i["expression"][0].as_str()).collect();
    assert!(
        named.iter().any(|e| e.starts_with("Bundle.entry[0].resource")) && named.contains(&"Bundle.entry[1].request"),
        "{named:?}"
    );

    // Sent again (a retry): the conditional entry is found, the note is new.
    let retry = json(&fhir(&t, "POST", "/fhir", &token, Some(&together)).await);
    let statuses: Vec<&str> =
        retry["entry"].as_array().into_iter().flatten().filter_map(|e| e["response"]["status"].as_str()).collect();
    assert_eq!(statuses, ["200 OK", "201 Created"]);

    // Someone outside the team: not found, and nothing written.
    let outsider = make_token(&mut care_manager, "script", &["vitals_write", "notes_write"]).await;
    let before = timeline_length(&mut nurse, &patient).await;
    let hidden = fhir(&t, "POST", "/fhir", &outsider, Some(&together)).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
    assert_eq!(timeline_length(&mut nurse, &patient).await, before);

    // A batch: each entry on its own. The device's backlog with one implausible
    // reading, one already sent, and one unreadable: the good ones are written,
    // each entry answered with its own status.
    let batch = |entries: Vec<Value>| {
        serde_json::json!({ "resourceType": "Bundle", "type": "batch", "entry": entries }).to_string()
    };
    let mut later = identified.clone();
    later["identifier"] = serde_json::json!([{ "system": device, "value": "bp-8" }]);
    let backlog = batch(vec![
        post("Observation", &later, Some("identifier=urn:example:thermometer-42|bp-8")),
        post("Observation", &implausible, None),
        post("Observation", &identified, Some("identifier=urn:example:thermometer-42|bp-7")),
        post("Patient", &note, None),
    ]);
    let before = timeline_length(&mut nurse, &patient).await;
    let answered = fhir(&t, "POST", "/fhir", &token, Some(&backlog)).await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    let answered = json(&answered);
    assert_eq!(answered["type"], "batch-response");
    let statuses: Vec<&str> =
        answered["entry"].as_array().into_iter().flatten().filter_map(|e| e["response"]["status"].as_str()).collect();
    assert_eq!(statuses, ["201 Created", "422 Unprocessable Entity", "200 OK", "400 Bad Request"]);
    assert_eq!(answered["entry"][1]["response"]["outcome"]["resourceType"], "OperationOutcome");
    assert_eq!(answered["entry"][3]["response"]["outcome"]["issue"][0]["expression"][0], "Bundle.entry[3].request");
    assert_eq!(timeline_length(&mut nurse, &patient).await, before + 1, "only the new reading is written");
    // Outside the team, each entry is not found, and nothing is written.
    let hidden = json(&fhir(&t, "POST", "/fhir", &outsider, Some(&backlog)).await);
    assert_eq!(hidden["entry"][0]["response"]["status"], "404 Not Found");
    assert_eq!(timeline_length(&mut nurse, &patient).await, before + 1);
}

async fn each_token_has_its_own_request_budget(db: &TestDb) {
    use tower::ServiceExt;
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    let busy = make_token(&mut nurse, "同期スクリプト", &["patient"]).await;
    let other = make_token(&mut doctor, "別の連携", &["patient"]).await;
    let config = tsunagu_web::WebConfig {
        secure_cookies: false,
        token_limit: Some(tsunagu_web::TokenLimit { per_minute: 60, burst: 3 }),
        ..Default::default()
    };
    let router = tsunagu_web::router(t.app.clone(), config);
    let call = |token: String, from: [u8; 4]| {
        let router = router.clone();
        async move {
            let mut request = axum::http::Request::builder()
                .uri("/fhir/Patient?name=%E6%9F%8F")
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap_or_else(|e| panic!("{e}"));
            request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((from, 40000))));
            let response = router.oneshot(request).await.unwrap_or_else(|e| match e {});
            (response.status(), response.headers().get("retry-after").cloned())
        }
    };
    // A burst of three, from two addresses: the budget is the token's, not the address's.
    for from in [[192, 0, 2, 1], [192, 0, 2, 2], [192, 0, 2, 1]] {
        assert_eq!(call(busy.clone(), from).await.0, StatusCode::OK);
    }
    let (status, retry) = call(busy.clone(), [192, 0, 2, 3]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some(), "says when to come back");
    assert_eq!(call(other, [192, 0, 2, 1]).await.0, StatusCode::OK, "another token has its own budget");
}

/// The consent to sharing and every revision of the advance care plan, as
/// Consent resources: searched by patient, category and status, read by id,
/// withdrawal shown, audited, and hidden from anyone outside the team.
async fn consents_and_care_plans_are_read_as_consent_resources(db: &TestDb) {
    let Team { t, mut nurse, mut care_manager, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    let page = format!("/patients/{patient}");
    for (on, place) in [("2026-11-10", "home"), ("2026-11-20", "hospital")] {
        let form = [
            ("discussed_on", on),
            ("participants", "本人、長女"),
            ("place_of_care", "home"),
            ("place_of_death", place),
            ("treatment", "comfort_only"),
        ];
        let reply = nurse.submit(&format!("{page}/acp"), &format!("{page}/acp"), &form).await;
        assert!(reply.redirects_to(&page), "{} {}", reply.status, reply.body);
    }
    let token = make_token(&mut nurse, "同意の確認", &["consent"]).await;
    let all = json(&fhir(&t, "GET", &format!("/fhir/Consent?patient={patient}"), &token, None).await);
    let found = entries(&all);
    let ids: Vec<&str> = found.iter().filter_map(|e| e["resource"]["id"].as_str()).collect();
    assert_eq!(
        ids,
        [format!("{patient}-consent-1"), format!("{patient}-acp-2"), format!("{patient}-acp-1")],
        "the consent, then the plans newest first"
    );
    let statuses: Vec<&str> = found.iter().filter_map(|e| e["resource"]["status"].as_str()).collect();
    assert_eq!(statuses, ["active", "active", "inactive"], "only the newest plan is in force");
    assert!(found[1]["resource"]["text"]["div"].as_str().unwrap_or_default().contains("病院"), "{}", found[1]);

    // By category and status.
    let plans = json(
        &fhir(&t, "GET", &format!("/fhir/Consent?patient={patient}&category=http://loinc.org|75320-2"), &token, None)
            .await,
    );
    assert_eq!(entries(&plans).len(), 2);
    let current = json(
        &fhir(&t, "GET", &format!("/fhir/Consent?patient={patient}&category=75320-2&status=active"), &token, None)
            .await,
    );
    assert_eq!(entries(&current).len(), 1);
    for bad in ["category=12345-6", "status=proposed", "purpose=x"] {
        let reply = fhir(&t, "GET", &format!("/fhir/Consent?patient={patient}&{bad}"), &token, None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {}", reply.body);
    }

    // One by id; a withdrawal ends the consent's period and makes it inactive.
    let withdraw = nurse.submit(&page, &format!("{page}/consent/withdraw"), &[("reason", "ご本人の希望")]).await;
    assert!(withdraw.redirects_to(&page));
    let one = fhir(&t, "GET", &format!("/fhir/Consent/{patient}-consent-1"), &token, None).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    let one = json(&one);
    assert_eq!((one["status"].as_str(), one["provision"]["period"]["end"].is_string()), (Some("inactive"), true));
    for missing in [format!("{patient}-consent-2"), format!("{patient}-acp-9"), "not-a-patient-consent-1".to_owned()] {
        assert_eq!(
            fhir(&t, "GET", &format!("/fhir/Consent/{missing}"), &token, None).await.status,
            StatusCode::NOT_FOUND
        );
    }

    // Each read is in the record's access history.
    let history = nurse.get(&format!("{page}/access")).await;
    assert!(history.body.contains("同意の確認"), "the token's name is in the access history");

    // Outside the team: nothing, even with every scope; a token without the scope: refused.
    let outsider = make_token(&mut care_manager, "script", &["patient", "consent"]).await;
    let hidden = fhir(&t, "GET", &format!("/fhir/Consent?patient={patient}"), &outsider, None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert!(!hidden.body.contains("本人、長女"));
    let unscoped = make_token(&mut nurse, "基本情報のみ", &["patient"]).await;
    assert_eq!(
        fhir(&t, "GET", &format!("/fhir/Consent?patient={patient}"), &unscoped, None).await.status,
        StatusCode::FORBIDDEN
    );
}

/// PractitionerRole: a colleague's profession at each facility they work at,
/// and a facility's staff, for colleagues of the same municipality only.
async fn a_colleague_s_roles_name_profession_and_facility(db: &TestDb) {
    let Team { t, mut nurse, .. } = team(db).await;
    let sato = crate::admin::account_id(&t, "dr.sato").await;
    let yamamoto = crate::admin::account_id(&t, "cm.yamamoto").await;
    let token = make_token(&mut nurse, "名簿", &["colleagues"]).await;

    let found =
        json(&fhir(&t, "GET", &format!("/fhir/PractitionerRole?practitioner=Practitioner/{sato}"), &token, None).await);
    let roles = entries(&found);
    assert_eq!(roles.len(), 1, "{found}");
    let role = &roles[0]["resource"];
    assert_eq!(role["id"], format!("{sato}-1"));
    assert_eq!(role["practitioner"]["reference"], format!("Practitioner/{sato}"));
    assert_eq!(role["organization"]["display"], "つなぐ在宅クリニック");
    assert_eq!(role["code"][0]["coding"][0]["code"], "physician");
    let one = fhir(&t, "GET", &format!("/fhir/PractitionerRole/{sato}-1"), &token, None).await;
    assert_eq!((one.status, json(&one)), (StatusCode::OK, role.clone()));
    assert_eq!(
        fhir(&t, "GET", &format!("/fhir/PractitionerRole/{sato}-2"), &token, None).await.status,
        StatusCode::NOT_FOUND
    );

    // Someone who works at no registered facility: one role, without an organization.
    let free = json(&fhir(&t, "GET", &format!("/fhir/PractitionerRole?practitioner={yamamoto}"), &token, None).await);
    let free = entries(&free);
    assert_eq!((free.len(), free[0]["resource"]["id"].as_str()), (1, Some(format!("{yamamoto}-0").as_str())));
    assert!(free[0]["resource"].get("organization").is_none());

    // A facility's staff: the roles held there, by whoever works there.
    let clinic = role["organization"]["reference"].as_str().unwrap().to_owned();
    let staff = json(&fhir(&t, "GET", &format!("/fhir/PractitionerRole?organization={clinic}"), &token, None).await);
    let staff = entries(&staff);
    assert!(staff.iter().any(|r| r["resource"]["id"] == format!("{sato}-1")), "{staff:?}");
    assert!(staff.iter().all(|r| r["resource"]["organization"]["reference"] == clinic.as_str()));
    assert!(!staff.iter().any(|r| r["resource"]["practitioner"]["reference"] == format!("Practitioner/{yamamoto}")));
    // Both together: one colleague's role at that facility, or none.
    let both = format!("/fhir/PractitionerRole?practitioner={sato}&organization={clinic}");
    assert_eq!(entries(&json(&fhir(&t, "GET", &both, &token, None).await)).len(), 1);
    let elsewhere = format!("/fhir/PractitionerRole?practitioner={yamamoto}&organization={clinic}");
    assert!(entries(&json(&fhir(&t, "GET", &elsewhere, &token, None).await)).is_empty());
    let unknown = format!("/fhir/PractitionerRole?organization=Organization/{}", uuid::Uuid::now_v7());
    assert!(entries(&json(&fhir(&t, "GET", &unknown, &token, None).await)).is_empty());

    // Bad searches are named; another municipality's professional finds nobody here.
    for bad in ["", "?name=sato", "?practitioner=Patient/x/y", "?organization=Organization/x/y"] {
        let reply = fhir(&t, "GET", &format!("/fhir/PractitionerRole{bad}"), &token, None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {}", reply.body);
    }
    crate::admin::municipality(&t, "122203", "流山市").await;
    let (mut stranger, _) = t.signed_in("n.nurse", Some("122203"), "nurse", &[], None).await;
    let theirs = make_token(&mut stranger, "名簿", &["colleagues"]).await;
    let none = json(&fhir(&t, "GET", &format!("/fhir/PractitionerRole?practitioner={sato}"), &theirs, None).await);
    assert!(entries(&none).is_empty());
    let none = json(&fhir(&t, "GET", &format!("/fhir/PractitionerRole?organization={clinic}"), &theirs, None).await);
    assert!(entries(&none).is_empty());
    assert_eq!(
        fhir(&t, "GET", &format!("/fhir/PractitionerRole/{sato}-1"), &theirs, None).await.status,
        StatusCode::NOT_FOUND
    );
    // A token without the colleagues' scope may not look.
    let narrow = make_token(&mut nurse, "患者のみ", &["patient"]).await;
    let refused = fhir(&t, "GET", &format!("/fhir/PractitionerRole?practitioner={sato}"), &narrow, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = fhir(&t, "GET", &format!("/fhir/PractitionerRole?organization={clinic}"), &narrow, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// Dates at or past the ends of what the server can count with (year 9999,
/// negative years, more than nine digits of a second, offsets that carry the
/// instant past the year's end) are a 400 with an OperationOutcome naming the
/// parameter on every search that takes a date, never a panic; and the server
/// answers normally afterwards.
async fn dates_beyond_the_calendar_are_refused_on_every_date_search(db: &TestDb) {
    let Team { t, mut nurse, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    let token =
        make_token(&mut nurse, "日付の境界", &["patient", "vitals_read", "notes_read", "documents", "access"]).await;
    let searches: &[(&str, &[&str])] = &[
        ("Patient?", &["birthdate", "_lastUpdated"]),
        ("Observation?patient={p}&", &["date", "_lastUpdated"]),
        ("Communication?patient={p}&", &["sent", "_lastUpdated"]),
        ("Encounter?patient={p}&", &["date", "_lastUpdated"]),
        ("DocumentReference?patient={p}&", &["date", "_lastUpdated"]),
        ("AuditEvent?patient={p}&", &["date"]),
    ];
    let values = [
        "9999",
        "le9999-12-31",
        "gt9999-12-31",
        "ge9999-12-31",
        "gt9999-12-31T23:59:59.999999999Z",
        "9999-12-31T23:59:59.999999999Z",
        "2026-11-29T10:00:00.99999999999999999999999999Z",
        "9999-12-31T23:59:59.99999999999999999999999999Z",
        "9998-12-31T23:59:59-23:59",
        "0000-01-01T00:00:00%2B09:00",
        "lt0000",
        "-0001",
        "lt-0001-01-01",
        "10000",
        "99999-12-31",
        "%2B10000-01-01",
        "ge10000-01-01T00:00:00Z",
    ];
    for (search, params) in searches {
        let search = search.replace("{p}", &patient);
        for param in *params {
            for value in values {
                let path = format!("/fhir/{search}{param}={value}");
                let reply = fhir(&t, "GET", &path, &token, None).await;
                assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}: {}", reply.body);
                let outcome = json(&reply);
                assert_eq!(outcome["resourceType"], "OperationOutcome", "{path}: {}", reply.body);
                assert_eq!(outcome["issue"][0]["severity"], "error", "{path}: {}", reply.body);
                assert_eq!(outcome["issue"][0]["expression"][0].as_str(), Some(*param), "{path}: {}", reply.body);
            }
            // The last year allowed is searched as usual, and the server still answers.
            let path = format!("/fhir/{search}{param}=le9998-12-31");
            let reply = fhir(&t, "GET", &path, &token, None).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
            assert_eq!(json(&reply)["resourceType"], "Bundle", "{path}");
        }
    }
    let read = fhir(&t, "GET", &format!("/fhir/Patient/{patient}"), &token, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
}
