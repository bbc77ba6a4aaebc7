//! What the people *on* a care team get from every page of the router (the
//! route walk in `routes.rs` covers everyone else): the nurse who registered
//! the patient, the primary physician, a pharmacist on the team, and a family
//! member. Each GET route must answer as the table below says; a new route
//! starts as "everyone on the team may open it" and fails here until that is
//! true or the route is listed.

use crate::helpers::{Client, TestDb};
use crate::patients::{PATIENT, Team, add, consent, post, register, team};

crate::on_both_databases!(every_page_answers_each_team_role_as_the_policy_says);

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Role {
    Nurse,
    Physician,
    Pharmacist,
    Family,
}

/// The expected status of `GET pattern` for `role`.
fn expected(role: Role, pattern: &str) -> u16 {
    use Role::*;
    match pattern {
        // Signed-in people are sent home from the sign-in pages.
        "/" | "/sign-in" | "/sign-in/code" | "/sign-in/enrol" => 303,
        // Switching the language goes back to where one was.
        "/lang/{lang}" => 303,
        // Operational figures are for the monitoring system, not for people.
        "/metrics" => 404,
        // Administration is for admins only (none of these four is one).
        p if p.starts_with("/admin") => 403,
        // Registering patients and break-glass are for professionals; break-glass
        // for clinicians only.
        "/patients/new" if role == Family => 403,
        // A transfer export is the professionals' business.
        "/patients/{patient}/export" if role == Family => 403,
        "/break-glass" if matches!(role, Family | Pharmacist) => 403,
        // The entry measured here is for the team (not the family): its page,
        // its correction form, its history in the API and its photo.
        "/entries/{entry}" | "/entries/{entry}/correct" | "/api/v1/entries/{entry}" | "/attachments/{attachment}"
            if role == Family =>
        {
            404
        }
        // The FHIR API: its CapabilityStatement for anyone; the rest with an
        // API token, which family accounts cannot have; interactions it does
        // not support are "not found".
        "/fhir/metadata" | "/fhir/Organization" | "/fhir/Location" | "/fhir/HealthcareService" => 200,
        // Registry reads with a patient's id find no facility.
        "/fhir/Organization/{id}" | "/fhir/Location/{id}" | "/fhir/HealthcareService/{id}" => 404,
        // A patient's id is nobody's account.
        "/fhir/Practitioner/{id}" if role != Family => 404,
        "/fhir/{*rest}" => 404,
        p if p.starts_with("/fhir/") && role == Family => 401,
        _ => 200,
    }
}

async fn every_page_answers_each_team_role_as_the_policy_says(db: &TestDb) {
    let Team { t, mut nurse, doctor, .. } = team(db).await;
    let (pharmacist, _) = t.signed_in("ph.kobayashi", Some("122173"), "pharmacist", &[], None).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    add(&mut nurse, &patient, "ph.kobayashi", "pharmacist").await;
    let entry = post(&mut nurse, &patient, &[("kind", "urgent"), ("body", "チーム内の急変")]).await;
    let vitals = post(&mut nurse, &patient, &[("kind", "vitals"), ("temperature_c", "37.2")]).await;
    let visit = post(&mut nurse, &patient, &[("kind", "visit_record"), ("body", "定期訪問。変わりなし。")]).await;
    let (_, attachment) = crate::patients::post_with_photo(&mut nurse, &patient, "創部の写真").await;
    let mut family = crate::patients::invite_family(&t, &mut nurse, &patient).await;
    let for_family =
        post(&mut nurse, &patient, &[("kind", "message"), ("body", "ご家族へ"), ("audience", "family")]).await;
    assert_eq!(family.get(&format!("/entries/{for_family}")).await.status.as_u16(), 200, "what is shared with them");

    let ids = [
        ("{patient}", patient.clone()),
        ("{entry}", entry.clone()),
        ("{attachment}", attachment.clone()),
        ("{lang}", "ja".to_owned()),
        ("{file}", "app.css".to_owned()),
        ("{code}", "122173".to_owned()),
    ];
    // The FHIR routes' ids, and an API token for each professional.
    let fhir_path = |pattern: &str| match pattern {
        "/fhir/Patient" => "/fhir/Patient?name=%E6%9F%8F".to_owned(),
        "/fhir/Observation"
        | "/fhir/CareTeam"
        | "/fhir/Communication"
        | "/fhir/AuditEvent"
        | "/fhir/Encounter"
        | "/fhir/DocumentReference" => {
            format!("{pattern}?patient={patient}")
        }
        p if p.starts_with("/fhir/Observation/{id}") => {
            p.replace("{id}", &format!("{vitals}-bt")).replace("{vid}", "1")
        }
        p if p.starts_with("/fhir/Communication/{id}") => p.replace("{id}", &entry).replace("{vid}", "1"),
        "/fhir/Practitioner" => "/fhir/Practitioner?name=sato".to_owned(),
        "/fhir/DocumentReference/{id}" | "/fhir/Binary/{id}" => pattern.replace("{id}", &attachment),
        "/fhir/Encounter/{id}" => format!("/fhir/Encounter/{visit}"),
        "/fhir/{*rest}" => "/fhir/Medication".to_owned(),
        p => p.replace("{id}", &patient),
    };
    let mut tokens = std::collections::HashMap::new();
    for (role, login) in [(Role::Nurse, "ns.tanaka"), (Role::Physician, "dr.sato"), (Role::Pharmacist, "ph.kobayashi")]
    {
        let made = t.app.create_api_token_for(login, "matrix", "user/*.read", "30").await;
        tokens.insert(role, made.unwrap_or_else(|e| panic!("{login}: {e}")).token);
    }
    let mut people: Vec<(Role, Client)> =
        vec![(Role::Nurse, nurse), (Role::Physician, doctor), (Role::Pharmacist, pharmacist), (Role::Family, family)];
    let mut checked = 0;
    for (method, pattern) in tsunagu_web::routes() {
        // Routes of other kinds of ids (facilities, accounts, municipalities)
        // belong to the admin walk; sign-out would end the session mid-walk.
        if method != "GET" || pattern.contains("sign-out") {
            continue;
        }
        let path = ids.iter().fold(pattern.to_owned(), |p, (k, v)| p.replace(k, v));
        if path.contains('{') && !pattern.starts_with("/fhir/") {
            continue;
        }
        for (role, client) in people.iter_mut() {
            let status = if pattern.starts_with("/fhir/") {
                let auth = tokens.get(role).map(|token| format!("Bearer {token}")).unwrap_or_default();
                let headers: Vec<(&str, &str)> =
                    if auth.is_empty() { Vec::new() } else { vec![("authorization", auth.as_str())] };
                client.send_json("GET", &fhir_path(pattern), None, &headers).await.status.as_u16()
            } else {
                client.get(&path).await.status.as_u16()
            };
            assert_eq!(status, expected(*role, pattern), "{role:?} GET {pattern}");
            checked += 1;
        }
    }
    assert!(checked >= 80, "only {checked} answers checked");
}
