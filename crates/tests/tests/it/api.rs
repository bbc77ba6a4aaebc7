//! The JSON API and its OpenAPI document, through HTTP, on both databases.

use crate::helpers::TestDb;
use crate::patients::{PATIENT, Team, add, consent, register, team};
use axum::http::StatusCode;

crate::on_both_databases!(
    the_api_shares_the_use_cases_and_the_rules,
    the_openapi_document_describes_the_api,
    request_bodies_name_their_required_fields_and_codes,
    a_whole_care_team_works_through_the_api
);

fn json(reply: &crate::helpers::Reply) -> serde_json::Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", reply.body))
}

async fn the_api_shares_the_use_cases_and_the_rules(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, mut care_manager } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;

    let mut anonymous = t.client();
    let refused = anonymous.send_json("GET", "/api/v1/patients", None, &[]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(json(&refused)["code"], "unauthenticated");

    let me = json(&nurse.send_json("GET", "/api/v1/me", None, &[]).await);
    assert_eq!(me["login_id"], "ns.tanaka");
    let csrf = me["csrf_token"].as_str().unwrap_or_default().to_owned();
    let list = json(&nurse.send_json("GET", "/api/v1/patients?q=%E3%81%8B%E3%81%97%E3%82%8F", None, &[]).await);
    assert_eq!(list[0]["patient"]["name"], "柏 花子");
    assert_eq!(list[0]["consent"], "active");

    let path = format!("/api/v1/patients/{patient}/entries");
    let body = r#"{"kind":"vitals","body":"APIから","vitals":{"systolic":128,"diastolic":76,"spo2":96}}"#;
    let no_token = nurse.send_json("POST", &path, Some(body), &[]).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert_eq!(json(&no_token)["code"], "csrf");
    let impossible = r#"{"kind":"vitals","vitals":{"systolic":80,"diastolic":120}}"#;
    let bad = nurse.send_json("POST", &path, Some(impossible), &[("x-csrf-token", &csrf)]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = json(&bad);
    assert_eq!((bad["code"].as_str(), bad["field"].as_str()), (Some("not_below_systolic"), Some("diastolic")));
    assert!(bad["message"].as_str().unwrap_or_default().contains("血圧"));
    let malformed = nurse.send_json("POST", &path, Some("{not json"), &[("x-csrf-token", &csrf)]).await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let created = nurse.send_json("POST", &path, Some(body), &[("x-csrf-token", &csrf)]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = json(&created)["id"].as_str().unwrap_or_default().to_owned();

    let record = json(&doctor.send_json("GET", &format!("/api/v1/patients/{patient}"), None, &[]).await);
    assert_eq!(record["timeline"][0]["id"], id.as_str());
    assert_eq!(record["timeline"][0]["vitals"]["spo2"], 96);
    assert_eq!(record["timeline"][0]["was_unread"], true);
    let again = json(&doctor.send_json("GET", &format!("/api/v1/patients/{patient}"), None, &[]).await);
    assert_eq!(again["timeline"][0]["was_unread"], false, "reading through the API leaves a read receipt too");

    let stranger = care_manager.send_json("GET", &format!("/api/v1/patients/{patient}"), None, &[]).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    assert!(!stranger.body.contains("柏"));
}

async fn the_openapi_document_describes_the_api(db: &TestDb) {
    let t = crate::helpers::TestApp::start(db).await;
    let mut c = t.client();
    let doc = c.get("/api/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = json(&doc);
    assert!(doc["openapi"].as_str().unwrap_or_default().starts_with("3.1"));
    // Every API route of the router is in the document: it cannot drift.
    for (method, path) in tsunagu_web::routes().into_iter().filter(|(_, p)| p.starts_with("/api/v1/")) {
        let operation = &doc["paths"][path][method.to_lowercase()];
        assert!(operation.is_object(), "{method} {path} is documented");
    }
    assert!(doc["components"]["schemas"]["NewEntry"].is_object());
}

/// A client (say, a nursing station's own software) does everything a nurse
/// does on the pages: register, consent, team, entries, corrections, urgent
/// acknowledgement, ACP, status, notifications, withdrawal.
async fn a_whole_care_team_works_through_the_api(db: &TestDb) {
    let Team { mut nurse, mut doctor, mut care_manager, .. } = team(db).await;
    let token = |c: &serde_json::Value| c["csrf_token"].as_str().unwrap_or_default().to_owned();
    let csrf = token(&json(&nurse.send_json("GET", "/api/v1/me", None, &[]).await));
    let doctor_csrf = token(&json(&doctor.send_json("GET", "/api/v1/me", None, &[]).await));
    let h = [("x-csrf-token", csrf.as_str())];
    let dh = [("x-csrf-token", doctor_csrf.as_str())];

    let bad_patient =
        r#"{"family_name":"柏","given_name":"次郎","family_name_kana":"Kashiwa","birth_date":"1940-02-30"}"#;
    let refused = nurse.send_json("POST", "/api/v1/patients", Some(bad_patient), &h).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(json(&nurse.send_json("GET", "/api/v1/patients", None, &[]).await).as_array().is_some_and(Vec::is_empty));
    let new_patient = r#"{"family_name":"柏","given_name":"次郎","family_name_kana":"かしわ","given_name_kana":"じろう",
        "birth_date":"1940-02-03","sex":"male","address":"千葉県柏市柏1-1-1","care_level":"care_2",
        "special_care":["home_oxygen"],"team_role":"visiting_nurse"}"#;
    let created = nurse.send_json("POST", "/api/v1/patients", Some(new_patient), &h).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let created = json(&created);
    assert_eq!((created["name"].as_str(), created["special_care"][0].as_str()), (Some("柏 次郎"), Some("home_oxygen")));
    let patient = created["id"].as_str().unwrap_or_default().to_owned();
    let p = format!("/api/v1/patients/{patient}");

    // Before consent nobody else may join; consent needs a date.
    let no_date = nurse.send_json("POST", &format!("{p}/consent"), Some(r#"{"method":"written"}"#), &h).await;
    assert_eq!(
        (no_date.status, json(&no_date)["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("given_on"))
    );
    let consent = r#"{"given_on":"2026-11-01","method":"written","scope":"在宅療養チーム内"}"#;
    assert_eq!(
        nurse.send_json("POST", &format!("{p}/consent"), Some(consent), &h).await.status,
        StatusCode::NO_CONTENT
    );
    let unknown = nurse
        .send_json("POST", &format!("{p}/team"), Some(r#"{"login_id":"nobody","team_role":"pharmacist"}"#), &h)
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let add_doctor = r#"{"login_id":"dr.sato","team_role":"primary_physician"}"#;
    assert_eq!(
        nurse.send_json("POST", &format!("{p}/team"), Some(add_doctor), &h).await.status,
        StatusCode::NO_CONTENT
    );

    // An urgent entry: the doctor is notified, reads the history, acknowledges.
    let urgent = r#"{"kind":"urgent","body":"SpO2 88%、呼吸苦あり。至急連絡ください。"}"#;
    let posted = nurse.send_json("POST", &format!("{p}/entries"), Some(urgent), &h).await;
    let entry = json(&posted)["id"].as_str().unwrap_or_default().to_owned();
    let bell = json(&doctor.send_json("GET", "/api/v1/notifications", None, &[]).await);
    assert_eq!((bell[0]["kind"].as_str(), bell[0]["entry_id"].as_str()), (Some("urgent"), Some(entry.as_str())));
    let e = format!("/api/v1/entries/{entry}");
    assert_eq!(
        doctor.send_json("POST", &format!("{e}/acknowledgement"), None, &dh).await.status,
        StatusCode::NO_CONTENT
    );
    let history = json(&doctor.send_json("GET", &e, None, &[]).await);
    assert_eq!(history["acknowledgements"][0]["name"], "dr.sato さん");
    assert_eq!(history["patient_id"], patient.as_str());

    // A correction keeps the first version.
    let fix = r#"{"kind":"urgent","body":"SpO2 86%、呼吸苦あり。至急連絡ください。","reason":"数値の誤り"}"#;
    let no_reason =
        nurse.send_json("POST", &format!("{e}/corrections"), Some(r#"{"kind":"urgent","body":"x"}"#), &h).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let corrected = nurse.send_json("POST", &format!("{e}/corrections"), Some(fix), &h).await;
    assert_eq!(corrected.status, StatusCode::CREATED, "{}", corrected.body);
    let history = json(&nurse.send_json("GET", &e, None, &[]).await);
    let versions = history["versions"].as_array().cloned().unwrap_or_default();
    assert_eq!(versions.len(), 2);
    assert!(versions[0]["body"].as_str().unwrap_or_default().contains("86%"));
    assert!(versions[1]["body"].as_str().unwrap_or_default().contains("88%"));
    assert_eq!(versions[0]["reason"], "数値の誤り");

    // The advance care plan: revisions kept, an impossible date refused.
    let acp = r#"{"discussed_on":"2026-11-20","participants":"本人、長男、主治医、訪問看護","place_of_care":"home",
        "place_of_death":"home","treatment":"comfort_only","proxy_name":"柏 一郎","proxy_relation":"長男"}"#;
    assert_eq!(doctor.send_json("POST", &format!("{p}/acp"), Some(acp), &dh).await.status, StatusCode::NO_CONTENT);
    let future = r#"{"discussed_on":"2099-01-01","place_of_care":"home"}"#;
    assert_eq!(
        doctor.send_json("POST", &format!("{p}/acp"), Some(future), &dh).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let plans = json(&nurse.send_json("GET", &format!("{p}/acp"), None, &[]).await);
    assert_eq!((plans[0]["place_of_death"].as_str(), plans.as_array().map(Vec::len)), (Some("home"), Some(1)));

    // Outsiders get "not found" from every new endpoint.
    for (method, path) in [("GET", format!("{p}/acp")), ("GET", e.clone()), ("POST", format!("{e}/acknowledgement"))] {
        let reply = care_manager.send_json(method, &path, None, &[]).await;
        assert!(
            matches!(reply.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{method} {path}: {}",
            reply.status
        );
        assert!(!reply.body.contains("呼吸苦") && !reply.body.contains("長男"));
    }

    // The doctor leaves the team through its membership id, and loses access.
    let record = json(&nurse.send_json("GET", &p, None, &[]).await);
    let membership = record["team"]
        .as_array()
        .and_then(|t| t.iter().find(|m| m["display_name"] == "dr.sato さん"))
        .and_then(|m| m["membership_id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let leave = doctor.send_json("POST", &format!("{p}/team/{membership}/removal"), None, &dh).await;
    assert_eq!(leave.status, StatusCode::NO_CONTENT, "{}", leave.body);
    assert_eq!(doctor.send_json("GET", &p, None, &[]).await.status, StatusCode::NOT_FOUND);

    // Ending care needs an outcome; then withdrawal makes the record read-only.
    let no_outcome = nurse.send_json("POST", &format!("{p}/status"), Some(r#"{"status":"ended"}"#), &h).await;
    assert_eq!(no_outcome.status, StatusCode::UNPROCESSABLE_ENTITY);
    let hospital = r#"{"status":"in_hospital"}"#;
    assert_eq!(
        nurse.send_json("POST", &format!("{p}/status"), Some(hospital), &h).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(json(&nurse.send_json("GET", &p, None, &[]).await)["patient"]["status"], "in_hospital");
    let withdraw = r#"{"reason":"ご本人の希望により撤回"}"#;
    let w = nurse.send_json("POST", &format!("{p}/consent/withdrawal"), Some(withdraw), &h).await;
    assert_eq!(w.status, StatusCode::NO_CONTENT, "{}", w.body);
    let after = nurse.send_json("POST", &format!("{p}/entries"), Some(r#"{"kind":"message","body":"追記"}"#), &h).await;
    assert!(!after.status.is_success(), "a withdrawn record is read-only: {}", after.status);
    assert_eq!(json(&nurse.send_json("GET", &p, None, &[]).await)["consent"], "withdrawn");
}

/// The body schema of an operation, with `$ref`s to components resolved.
/// A request body's schema, with the parts of an `allOf` (a flattened struct)
/// merged into one object: their properties and their required fields.
fn body_schema(doc: &serde_json::Value, operation: &serde_json::Value) -> Option<serde_json::Value> {
    fn resolve(doc: &serde_json::Value, schema: &serde_json::Value) -> Option<serde_json::Value> {
        let schema = match schema["$ref"].as_str() {
            Some(r) => r.strip_prefix("#/components/schemas/").map(|name| &doc["components"]["schemas"][name])?,
            None => schema,
        };
        let Some(parts) = schema["allOf"].as_array() else {
            return schema.is_object().then(|| schema.clone());
        };
        let mut merged = serde_json::json!({ "type": "object", "properties": {}, "required": [] });
        for part in parts {
            let part = resolve(doc, part)?;
            for (k, v) in part["properties"].as_object().into_iter().flatten() {
                merged["properties"][k] = v.clone();
            }
            for r in part["required"].as_array().into_iter().flatten() {
                if let Some(list) = merged["required"].as_array_mut() {
                    list.push(r.clone());
                }
            }
        }
        Some(merged)
    }
    resolve(doc, &operation["requestBody"]["content"]["application/json"]["schema"])
}

/// The OpenAPI document is honest about bodies and answers: bodies name the
/// fields the server needs and the codes it accepts (the domain's), `{}` is
/// refused wherever fields are required and required fields are named wherever
/// `{}` is refused; every signed-in operation lists 401 (and strangers get it),
/// every write 403, every path with an id 404. (The role matrix checks that
/// every answer it sees from `/api/v1` is listed.)
async fn request_bodies_name_their_required_fields_and_codes(db: &TestDb) {
    let Team { t, mut nurse, .. } = team(db).await;
    let doc = json(&t.client().get("/api/openapi.json").await);
    let absence = body_schema(&doc, &doc["paths"]["/api/v1/absences"]["post"]).unwrap_or_default();
    let required: Vec<&str> =
        absence["required"].as_array().into_iter().flatten().filter_map(serde_json::Value::as_str).collect();
    for field in ["starts_at", "ends_at", "reason"] {
        assert!(required.contains(&field), "{field} is required: {absence}");
    }
    let reason = &absence["properties"]["reason"];
    let reason = match reason["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &doc["components"]["schemas"][name],
        None => reason,
    };
    let codes: Vec<&str> =
        reason["enum"].as_array().into_iter().flatten().filter_map(serde_json::Value::as_str).collect();
    let domain: Vec<&str> = tsunagu_domain::on_call::AbsenceReason::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(codes, domain, "{reason}");

    // The team role's codes are the domain's, family excepted (family join by invitation).
    let team = body_schema(&doc, &doc["paths"]["/api/v1/patients/{patient}/team"]["post"]).unwrap_or_default();
    let roles: Vec<&str> =
        team["properties"]["team_role"]["enum"].as_array().into_iter().flatten().filter_map(|v| v.as_str()).collect();
    let domain: Vec<&str> = tsunagu_domain::care::TeamRole::ALL
        .iter()
        .filter(|r| **r != tsunagu_domain::care::TeamRole::Family)
        .map(|r| r.code())
        .collect();
    assert_eq!(roles, domain, "{team}");

    let me = json(&nurse.send_json("GET", "/api/v1/me", None, &[]).await);
    let csrf = me["csrf_token"].as_str().unwrap_or_default().to_owned();
    let some_id = uuid::Uuid::now_v7().to_string();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let Some(schema) = body_schema(&doc, operation) else { continue };
            let Some(required) = schema["required"].as_array() else { continue };
            assert!(!required.is_empty(), "{method} {path}: an empty required list");
            let mut concrete = path.clone();
            while let (Some(a), Some(b)) = (concrete.find('{'), concrete.find('}')) {
                concrete.replace_range(a..=b, &some_id);
            }
            let reply =
                nurse.send_json(&method.to_uppercase(), &concrete, Some("{}"), &[("x-csrf-token", &csrf)]).await;
            assert!(reply.status.is_client_error(), "{method} {path} with {{}}: {} {}", reply.status, reply.body);
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} bodies with required fields");

    // The converse, with real ids: a body the server refuses as incomplete (422
    // for `{}`) names what it needs; one it takes as it is names nothing.
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    let entry = crate::patients::post(&mut nurse, &patient, &[("kind", "urgent"), ("body", "急変")]).await;
    let request = crate::backup_system::raise(&mut nurse, &patient, "urgent_visit", "発熱").await;
    let ids = [("{patient}", patient.as_str()), ("{entry}", entry.as_str()), ("{request}", request.as_str())];
    let mut judged = 0;
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let Some(operation) = item.get("post") else { continue };
        let Some(schema) = body_schema(&doc, operation) else { continue };
        let concrete = ids.iter().fold(path.clone(), |p, (k, v)| p.replace(k, v));
        let concrete = match (concrete.find('{'), concrete.find('}')) {
            (Some(a), Some(b)) => format!("{}{some_id}{}", &concrete[..a], &concrete[b + 1..]),
            _ => concrete,
        };
        let reply = nurse.send_json("POST", &concrete, Some("{}"), &[("x-csrf-token", &csrf)]).await;
        let required = schema["required"].as_array().map_or(0, Vec::len);
        match reply.status.as_u16() {
            422 => assert!(required > 0, "POST {path} refuses {{}} but its schema requires nothing: {}", reply.body),
            200..=299 => assert_eq!(required, 0, "POST {path} takes {{}} but its schema requires fields"),
            _ => continue,
        }
        judged += 1;
    }
    assert!(judged >= 10, "only {judged} bodies judged");

    // Every operation of the signed-in API says it answers 401, every write 403
    // (the CSRF token, the policy), and a stranger does get 401.
    let mut anonymous = t.client();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for (method, operation) in item.as_object().into_iter().flatten() {
            let responses = &operation["responses"];
            assert!(!responses["401"].is_null(), "{method} {path} does not list 401");
            if method != "get" {
                assert!(!responses["403"].is_null(), "{method} {path} does not list 403");
            }
            if path.contains('{') {
                assert!(!responses["404"].is_null(), "{method} {path} does not list 404");
            }
            let concrete =
                path.replace("{patient}", &patient).replace("{entry}", &entry).replace("{request}", &request);
            let body = (method != "get").then_some("{}");
            let reply = anonymous.send_json(&method.to_uppercase(), &concrete, body, &[]).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path} for a stranger");
        }
    }
}
