//! The JSON API and its OpenAPI document, through HTTP, on both databases.

use crate::helpers::TestDb;
use crate::patients::{PATIENT, Team, add, consent, register, team};
use axum::http::StatusCode;

crate::on_both_databases!(the_api_shares_the_use_cases_and_the_rules, the_openapi_document_describes_the_api);

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
    for path in ["/api/v1/me", "/api/v1/patients", "/api/v1/patients/{patient}", "/api/v1/patients/{patient}/entries"] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"]["NewEntry"].is_object());
}
