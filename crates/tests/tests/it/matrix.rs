//! What the people *on* a care team get from every page of the router (the
//! route walk in `routes.rs` covers everyone else): the nurse who registered
//! the patient, the primary physician, a pharmacist on the team, and a family
//! member. Each GET route must answer as the table below says; a new route
//! starts as "everyone on the team may open it" and fails here until that is
//! true or the route is listed. Each POST route on a patient's record, sent
//! with a valid body, must be done or refused for each role as the policy
//! says; a new one fails here until it is listed.

use crate::helpers::{Client, TestDb};
use crate::patients::{PATIENT, Team, add, consent, post, register, team};

crate::on_both_databases!(
    every_page_answers_each_team_role_as_the_policy_says,
    every_write_answers_each_team_role_as_the_policy_says
);

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Role {
    Nurse,
    Physician,
    Pharmacist,
    Family,
    /// A physician outside the team who broke the glass (invariant 1): reads
    /// and posts, nothing else.
    Emergency,
}

/// A physician outside the team opens the record by break-glass; returns them signed in.
async fn emergency_physician(t: &crate::helpers::TestApp, patient: &str) -> Client {
    let (mut covering, _) = t.signed_in("dr.kinkyu", Some("122173"), "physician", &[], None).await;
    break_glass(&mut covering, patient).await;
    covering
}

/// `covering` opens the test patient's record by break-glass, as the covering physician.
pub(crate) async fn break_glass(covering: &mut Client, patient: &str) {
    let form = [
        ("name", "柏 花子"),
        ("birth_date", "1938-04-01"),
        ("reason_kind", "covering_physician"),
        ("reason", "主治医不在のため夜間の往診"),
    ];
    let opened = covering.submit("/break-glass", "/break-glass", &form).await;
    assert!(opened.redirects_to(&format!("/patients/{patient}")), "{} {}", opened.status, opened.body);
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
        // The coordination centre's desk is its coordinators'; discharge
        // requests come from hospitals' staff (nobody here is either).
        "/centre"
        | "/centre/cases/new"
        | "/centre/reports"
        | "/centre/reports.csv"
        | "/discharge"
        | "/discharge/new"
        | "/centre/topics"
        | "/api/v1/centre/cases"
        | "/api/v1/centre/reports" => 403,
        // An urgent request's id is no request to a candidate facility.
        "/coordination/{request}" => 404,
        // A case's files are the desk's (and the walk's id is no file's).
        "/centre/files/{file}" => 404,
        // Who answers now (with the on-call physicians' numbers) and urgent
        // requests are the professionals'.
        "/api/v1/patients/{patient}/who-answers" | "/urgent/{request}" | "/api/v1/urgent-requests/{request}"
            if role == Family =>
        {
            403
        }
        // An emergency grant is no membership: the team's lists are not theirs.
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
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let (pharmacist, _) = t.signed_in("ph.kobayashi", Some("122173"), "pharmacist", &[], None).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    add(&mut nurse, &patient, "ph.kobayashi", "pharmacist").await;
    let entry = post(&mut nurse, &patient, &[("kind", "urgent"), ("body", "チーム内の急変")]).await;
    let vitals = post(&mut nurse, &patient, &[("kind", "vitals"), ("temperature_c", "37.2")]).await;
    let visit = post(&mut nurse, &patient, &[("kind", "visit_record"), ("body", "定期訪問。変わりなし。")]).await;
    let (_, attachment) = crate::patients::post_with_photo(&mut nurse, &patient, "創部の写真").await;
    let mut family = crate::patients::invite_family(&t, &mut doctor, &patient).await;
    let for_family =
        post(&mut nurse, &patient, &[("kind", "message"), ("body", "ご家族へ"), ("audience", "family")]).await;
    assert_eq!(family.get(&format!("/entries/{for_family}")).await.status.as_u16(), 200, "what is shared with them");
    let request = crate::backup_system::raise(&mut nurse, &patient, "urgent_visit", "発熱39度、往診を").await;
    let emergency = emergency_physician(&t, &patient).await;

    let ids = [
        ("{patient}", patient.clone()),
        ("{entry}", entry.clone()),
        ("{attachment}", attachment.clone()),
        ("{request}", request.clone()),
        ("{lang}", "ja".to_owned()),
        ("{file}", "app.css".to_owned()),
        ("{code}", "122173".to_owned()),
    ];
    // The FHIR routes' ids, and an API token for each professional.
    let doctor_id = crate::admin::account_id(&t, "dr.sato").await;
    let doctor_id = doctor_id.to_string();
    let fhir_ids = crate::helpers::FhirIds {
        name: "%E6%9F%8F",
        patient: &patient,
        vitals: &vitals,
        entry: &entry,
        visit: &visit,
        attachment: &attachment,
        practitioner: &doctor_id,
    };
    let fhir_path = |pattern: &str| crate::helpers::fhir_path(pattern, &fhir_ids);
    let mut tokens = std::collections::HashMap::new();
    for (role, login) in [
        (Role::Nurse, "ns.tanaka"),
        (Role::Physician, "dr.sato"),
        (Role::Pharmacist, "ph.kobayashi"),
        (Role::Emergency, "dr.kinkyu"),
    ] {
        let made = t.app.create_api_token_for(login, "matrix", "user/*.read", "30").await;
        tokens.insert(role, made.unwrap_or_else(|e| panic!("{login}: {e}")).token);
    }
    let mut people: Vec<(Role, Client)> = vec![
        (Role::Nurse, nurse),
        (Role::Physician, doctor),
        (Role::Pharmacist, pharmacist),
        (Role::Family, family),
        (Role::Emergency, emergency),
    ];
    let mut checked = 0;
    let mut wrong = Vec::new();
    let mut answered = std::collections::BTreeSet::new();
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
            let want = expected(*role, pattern);
            if status != want {
                wrong.push(format!("{role:?} GET {pattern}: {status}, expected {want}"));
            }
            answered.insert(("get", pattern, status));
            checked += 1;
        }
    }
    wrong.extend(undocumented(&t, &answered).await);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= 80, "only {checked} answers checked");
}

/// The answers of the JSON API (`/api/v1`) seen in a walk that its OpenAPI
/// document does not list for the operation (a client must be told every
/// answer it can get).
async fn undocumented(
    t: &crate::helpers::TestApp,
    answered: &std::collections::BTreeSet<(&'static str, &'static str, u16)>,
) -> Vec<String> {
    let doc = t.client().get("/api/openapi.json").await;
    let doc: serde_json::Value = serde_json::from_str(&doc.body).unwrap_or_default();
    answered
        .iter()
        .filter(|(_, pattern, _)| pattern.starts_with("/api/v1/"))
        .filter(|(method, pattern, status)| doc["paths"][*pattern][*method]["responses"][status.to_string()].is_null())
        .map(|(method, pattern, status)| {
            format!("{method} {pattern} answers {status}, which its document does not list")
        })
        .collect()
}

/// How a write of a patient's record must answer one role.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Answer {
    /// Done (2xx or a redirect back): the first of the roles that may.
    Done,
    /// Refused before anything changed: 403, or 404 where the role may not
    /// even see the thing (or 401 on the FHIR API without a token).
    Refused,
}

/// The expected answer of `POST pattern` (with a valid body) for `role`, in
/// this test's situation: consent is in force, the nurse wrote the entries, the
/// urgent entry and the pictures are for the team only, and the urgent request
/// was raised by the nurse. `None`: a route this test does not know, which
/// fails it until it is listed.
fn expected_write(role: Role, pattern: &str) -> Option<Answer> {
    use Answer::*;
    use Role::*;
    // Whoever reads the record as a clinician: members and emergency grants.
    let professional = if role == Family { Refused } else { Done };
    // Acting for the team: its professional members; an emergency grant is no membership.
    let member = if matches!(role, Family | Emergency) { Refused } else { Done };
    // Removing another member and inviting family: the primary physician (the
    // care manager, the member's facility admin and the centre are not in this team).
    let lead = if role == Physician { Done } else { Refused };
    Some(match pattern {
        // Everyone on the team writes to the timeline; family members to the
        // team or the doctor (what they write is marked as theirs); an
        // emergency grant posts too (marked as such in the audit log).
        "/patients/{patient}/entries" | "/api/v1/patients/{patient}/entries" => Done,
        // Consent is in force: recording it again is nobody's business until
        // it is withdrawn.
        "/patients/{patient}/consent" | "/api/v1/patients/{patient}/consent" => Refused,
        // Acting for the team: professionals on it, never family, never an emergency grant.
        "/patients/{patient}/consent/withdraw"
        | "/api/v1/patients/{patient}/consent/withdrawal"
        | "/patients/{patient}/team"
        | "/api/v1/patients/{patient}/team"
        | "/patients/{patient}/acp"
        | "/api/v1/patients/{patient}/acp"
        | "/patients/{patient}/status"
        | "/api/v1/patients/{patient}/status"
        | "/patients/{patient}/urgent-requests"
        | "/api/v1/patients/{patient}/urgent-requests"
        | "/patients/{patient}/backup-hospital" => member,
        // Removing someone else, inviting family: the team's leads (docs/security.md).
        "/patients/{patient}/team/{membership}/remove"
        | "/api/v1/patients/{patient}/team/{membership}/removal"
        | "/patients/{patient}/family" => lead,
        // A correction is its author's (the nurse's); the entry is not the
        // family's to see at all.
        "/entries/{entry}/correct" | "/api/v1/entries/{entry}/corrections" => {
            if role == Nurse {
                Done
            } else {
                Refused
            }
        }
        // "I will respond" on the urgent entry: a physician — the team's, or one
        // covering by an emergency grant; the others read it (the family cannot
        // even see it).
        "/entries/{entry}/acknowledge" | "/api/v1/entries/{entry}/acknowledgement" => {
            if matches!(role, Physician | Emergency) { Done } else { Refused }
        }
        // "I'll take it": a physician of the team (or one the escalation called).
        "/urgent/{request}/acknowledge" | "/api/v1/urgent-requests/{request}/acknowledgement" => {
            if role == Physician {
                Done
            } else {
                Refused
            }
        }
        // Asking the hospitals at once, recording the outcome: the team's professionals.
        "/urgent/{request}/hospitals"
        | "/api/v1/urgent-requests/{request}/hospital-request"
        | "/urgent/{request}/outcome"
        | "/api/v1/urgent-requests/{request}/outcome" => member,
        // Answering as a hospital: staff of a hospital the escalation called (none here).
        "/urgent/{request}/answer" | "/api/v1/urgent-requests/{request}/hospital-answer" => Refused,
        // A candidate facility's answer to the centre: an urgent request's id is none.
        "/coordination/{request}/answer" | "/api/v1/coordination-requests/{request}/answer" => Refused,
        // The FHIR API writes with a token, which family accounts cannot have.
        "/fhir" | "/fhir/Observation" | "/fhir/Communication" => professional,
        _ => return None,
    })
}

/// Routes that can be done only once (the first role that may do it does
/// it; the others are not asked), and go last because they change what the
/// others may do.
const ONCE: &[&str] = &[
    "/patients/{patient}/team/{membership}/remove",
    "/api/v1/patients/{patient}/team/{membership}/removal",
    "/urgent/{request}/outcome",
    "/api/v1/urgent-requests/{request}/outcome",
    "/patients/{patient}/consent/withdraw",
    "/api/v1/patients/{patient}/consent/withdrawal",
];

/// A valid body for each write: a form for the pages, JSON for the API and FHIR.
/// `{role}` is replaced by the role's name where two roles must not collide.
fn valid_body(pattern: &str, patient: &str, hospital: &str) -> String {
    let observation = serde_json::json!({
        "resourceType": "Observation", "status": "final",
        "code": { "coding": [{ "system": "http://loinc.org", "code": "8310-5" }] },
        "subject": { "reference": format!("Patient/{patient}") },
        "effectiveDateTime": "2026-11-20T10:00:00+09:00",
        "valueQuantity": { "value": 36.8, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel" },
    });
    let body = match pattern {
        "/patients/{patient}/entries" => "kind=message&body={role}からの連絡",
        "/api/v1/patients/{patient}/entries" => r#"{"kind":"message","body":"{role}からの連絡"}"#,
        "/patients/{patient}/consent" => "given_on=2026-11-02&method=written&scope=チーム内",
        "/api/v1/patients/{patient}/consent" => r#"{"given_on":"2026-11-02","method":"written","scope":"チーム内"}"#,
        "/patients/{patient}/consent/withdraw" => "reason=ご本人の希望",
        "/api/v1/patients/{patient}/consent/withdrawal" => r#"{"reason":"ご本人の希望"}"#,
        "/patients/{patient}/team" => "member=cm.yamamoto&team_role=care_manager",
        "/api/v1/patients/{patient}/team" => r#"{"login_id":"pt.ito","team_role":"rehabilitation"}"#,
        "/patients/{patient}/team/{membership}/remove" => "",
        "/api/v1/patients/{patient}/team/{membership}/removal" => "{}",
        "/patients/{patient}/acp" => {
            "discussed_on=2026-11-20&participants={role}&place_of_care=home&place_of_death=home&treatment=undecided"
        }
        "/api/v1/patients/{patient}/acp" => {
            r#"{"discussed_on":"2026-11-20","participants":"{role}","place_of_care":"home","place_of_death":"home","treatment":"undecided"}"#
        }
        "/patients/{patient}/status" => "status=in_hospital",
        "/api/v1/patients/{patient}/status" => r#"{"status":"in_hospital"}"#,
        "/patients/{patient}/family" => "login_id=family.{role}&name=柏 家族&relation=長女",
        "/patients/{patient}/urgent-requests" => "kind=urgent_visit&note={role}: 発熱39度",
        "/api/v1/patients/{patient}/urgent-requests" => r#"{"kind":"urgent_visit","note":"{role}: 発熱39度"}"#,
        "/patients/{patient}/backup-hospital" => return format!("hospital={hospital}"),
        "/entries/{entry}/correct" => "kind=urgent&body=チーム内の急変(訂正)&reason=誤記",
        "/api/v1/entries/{entry}/corrections" => r#"{"kind":"urgent","body":"チーム内の急変(訂正)","reason":"誤記"}"#,
        "/entries/{entry}/acknowledge" | "/urgent/{request}/acknowledge" | "/urgent/{request}/hospitals" => "",
        "/api/v1/entries/{entry}/acknowledgement"
        | "/api/v1/urgent-requests/{request}/acknowledgement"
        | "/api/v1/urgent-requests/{request}/hospital-request" => "{}",
        "/urgent/{request}/answer" => "answer=accept&reason=",
        "/coordination/{request}/answer" => "answer=accept",
        "/api/v1/coordination-requests/{request}/answer" => r#"{"answer":"accept"}"#,
        "/api/v1/urgent-requests/{request}/hospital-answer" => r#"{"accept":true}"#,
        "/urgent/{request}/outcome" => "outcome=managed_at_home&note=",
        "/api/v1/urgent-requests/{request}/outcome" => r#"{"outcome":"managed_at_home"}"#,
        "/fhir/Observation" => return observation.to_string(),
        "/fhir/Communication" => {
            return serde_json::json!({
                "resourceType": "Communication", "status": "completed",
                "subject": { "reference": format!("Patient/{patient}") },
                "payload": [{ "contentString": "電子カルテからの連絡" }],
            })
            .to_string();
        }
        "/fhir" => {
            return serde_json::json!({
                "resourceType": "Bundle", "type": "transaction",
                "entry": [{ "resource": observation, "request": { "method": "POST", "url": "Observation" } }],
            })
            .to_string();
        }
        _ => "",
    };
    body.to_owned()
}

async fn every_write_answers_each_team_role_as_the_policy_says(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let (pharmacist, _) = t.signed_in("ph.kobayashi", Some("122173"), "pharmacist", &[], None).await;
    // Joins through the API's team route (the pages' route adds the care manager).
    t.signed_in("pt.ito", Some("122173"), "physical_therapist", &[], None).await;
    let (mut admin, _) =
        t.signed_in("matrix.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let kashiwa = {
        let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
        let row = tx.municipality_by_code("122173").await.unwrap_or_else(|e| panic!("{e}"));
        tsunagu_domain::ids::MunicipalityId(row.unwrap_or_else(|| panic!("no Kashiwa")).id)
    };
    let hospital = crate::admin::facility(&mut admin, kashiwa, "hospital", "柏の後方支援病院").await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    add(&mut nurse, &patient, "ph.kobayashi", "pharmacist").await;
    let entry = post(&mut nurse, &patient, &[("kind", "urgent"), ("body", "チーム内の急変")]).await;
    let family = crate::patients::invite_family(&t, &mut doctor, &patient).await;
    let request =
        crate::backup_system::raise(&mut nurse, &patient, "urgent_visit", "発熱39度、往診をお願いします").await;
    let emergency = emergency_physician(&t, &patient).await;
    let mut tokens = std::collections::HashMap::new();
    for (role, login) in [
        (Role::Nurse, "ns.tanaka"),
        (Role::Physician, "dr.sato"),
        (Role::Pharmacist, "ph.kobayashi"),
        (Role::Emergency, "dr.kinkyu"),
    ] {
        let made = t.app.create_api_token_for(login, "matrix", "user/*.*", "30").await;
        tokens.insert(role, made.unwrap_or_else(|e| panic!("{login}: {e}")).token);
    }
    // The refused go first, so that what they try is tried before anyone changed anything.
    let mut people: Vec<(Role, Client)> = vec![
        (Role::Emergency, emergency),
        (Role::Family, family),
        (Role::Pharmacist, pharmacist),
        (Role::Physician, doctor),
        (Role::Nurse, nurse),
    ];

    // A team role fits the person: nobody on the team gives a physician role to
    // a non-physician (which would open the physicians' entries), nor makes a
    // family account a professional.
    for (role, client) in people.iter_mut() {
        let tries =
            [("cm.yamamoto", "backup_physician"), ("pt.ito", "primary_physician"), ("kashiwa.son", "visiting_nurse")];
        for (login, team_role) in tries {
            let page = format!("/patients/{patient}");
            let csrf = client.get("/home").await.input_value("csrf").unwrap_or_default();
            let form = [("csrf", csrf.as_str()), ("member", login), ("team_role", team_role)];
            let reply = client.send("POST", &format!("{page}/team"), &form).await;
            assert!(matches!(reply.status.as_u16(), 400 | 403 | 404 | 422), "{role:?} made {login} {team_role}");
        }
        assert!(current_membership(&t, &patient, "cm.yamamoto").await.is_none(), "{role:?}");
        assert!(current_membership(&t, &patient, "pt.ito").await.is_none(), "{role:?}");
    }

    let mut routes: Vec<_> = tsunagu_web::routes()
        .into_iter()
        .filter(|(method, pattern)| {
            *method == "POST"
                && (["{patient}", "{entry}", "{membership}", "{request}"].iter().any(|id| pattern.contains(id))
                    || pattern.starts_with("/fhir"))
        })
        .collect();
    routes.sort_by_key(|(_, pattern)| ONCE.iter().position(|p| p == pattern));
    let mut checked = 0;
    let mut answered = std::collections::BTreeSet::new();
    for (_, pattern) in routes {
        let body_template = valid_body(pattern, &patient, &hospital.to_string());
        let once = ONCE.contains(&pattern);
        let mut done_by = None;
        // The membership removed is the care manager's (who joined through the
        // team route, or joins again here).
        let membership = if pattern.contains("{membership}") {
            if current_membership(&t, &patient, "cm.yamamoto").await.is_none() {
                let (_, nurse) = people.iter_mut().find(|(role, _)| *role == Role::Nurse).unwrap_or_else(|| panic!());
                add(nurse, &patient, "cm.yamamoto", "care_manager").await;
            }
            current_membership(&t, &patient, "cm.yamamoto").await.unwrap_or_default()
        } else {
            String::new()
        };
        // The pages withdrew consent just before: it is given again, to be withdrawn here.
        if pattern == "/api/v1/patients/{patient}/consent/withdrawal" {
            let (_, nurse) = people.iter_mut().find(|(role, _)| *role == Role::Nurse).unwrap_or_else(|| panic!());
            consent(nurse, &patient).await;
        }
        // A request's outcome closes it: each outcome route closes its own.
        let request = if once && pattern.contains("{request}") {
            let (_, nurse) = people.iter_mut().find(|(role, _)| *role == Role::Nurse).unwrap_or_else(|| panic!());
            crate::backup_system::raise(nurse, &patient, "admission", "呼吸苦増悪、入院の相談").await
        } else {
            request.clone()
        };
        for (role, client) in people.iter_mut() {
            let Some(answer) = expected_write(*role, pattern) else {
                panic!("POST {pattern}: add it to expected_write and valid_body")
            };
            if once && done_by.is_some() {
                continue;
            }
            let path = pattern
                .replace("{patient}", &patient)
                .replace("{entry}", &entry)
                .replace("{request}", &request)
                .replace("{membership}", &membership);
            let body = body_template.replace("{role}", &format!("{role:?}"));
            let reply = if pattern.starts_with("/fhir") {
                let auth = tokens.get(role).map(|token| format!("Bearer {token}")).unwrap_or_default();
                let headers: Vec<(&str, &str)> =
                    if auth.is_empty() { Vec::new() } else { vec![("authorization", auth.as_str())] };
                client.send_json("POST", &path, Some(&body), &headers).await
            } else {
                let csrf = client.get("/home").await.input_value("csrf").unwrap_or_default();
                if pattern.starts_with("/api/") {
                    client.send_json("POST", &path, Some(&body), &[("x-csrf-token", &csrf)]).await
                } else {
                    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
                    form.extend(body.split('&').filter(|p| !p.is_empty()).filter_map(|p| p.split_once('=')));
                    client.send("POST", &path, &form).await
                }
            };
            let status = reply.status.as_u16();
            answered.insert(("post", pattern, status));
            match answer {
                Answer::Refused => assert!(
                    matches!(status, 401 | 403 | 404),
                    "{role:?} POST {pattern} must be refused, answered {status}: {}",
                    reply.body
                ),
                Answer::Done if done_by.is_none() => {
                    assert!(
                        matches!(status, 200 | 201 | 204 | 303),
                        "{role:?} POST {pattern}: {status} {}",
                        reply.body
                    );
                    done_by = Some(*role);
                }
                // Others who may do it again: not refused (it may already be done).
                Answer::Done => assert!(
                    !matches!(status, 401 | 403 | 404 | 500),
                    "{role:?} POST {pattern} (after {done_by:?}): {status} {}",
                    reply.body
                ),
            }
            checked += 1;
        }
    }
    let missing = undocumented(&t, &answered).await;
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    assert!(checked >= 100, "only {checked} answers checked");
}

/// The care-team membership of `login` on `patient` while it is active.
async fn current_membership(t: &crate::helpers::TestApp, patient: &str, login: &str) -> Option<String> {
    let account = crate::admin::account_id(t, login).await;
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let team = tx.team(patient.parse().unwrap_or_default()).await.unwrap_or_else(|e| panic!("{e}"));
    team.iter().find(|m| m.account_id == account.0 && m.left_at.is_none()).map(|m| m.id.to_string())
}
