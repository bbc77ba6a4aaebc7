//! Every route of the router, walked for every kind of stranger: nobody gets
//! a page of someone else's municipality, and nothing answers with an error 500.
//! The list comes from the router's own table, so a new route cannot escape.

use crate::helpers::{Client, TestApp, TestDb};
use axum::http::StatusCode;

crate::on_both_databases!(every_route_refuses_strangers, uploads_from_strangers_are_refused_before_the_body_is_read);

/// Routes anyone may use without signing in.
const PUBLIC: &[&str] = &[
    "/",
    "/sign-in",
    "/invite",
    "/lang/{lang}",
    "/healthz",
    "/readyz",
    "/metrics",
    "/static/{file}",
    "/api/openapi.json",
    // The public resource map: a municipality's facilities, for anyone (no staff, no patients).
    "/m/{code}/map",
    "/m/{code}/map/print",
    "/m/{code}/facilities/{facility}",
    "/api/public/v1/m/{code}/facilities",
    "/api/public/v1/m/{code}/facilities.csv",
    "/static/vendor/{*file}",
    // The public pages: the municipality's figures, published articles and events.
    "/m/{code}",
    "/m/{code}/articles",
    "/m/{code}/articles/{article}",
    "/m/{code}/events",
    // The public consultation form (sending it is a write: rate-limited, no markup).
    "/m/{code}/consult",
    "/api/public/v1/m/{code}/figures",
    "/api/public/v1/m/{code}/events",
    // What the FHIR API supports, and the public registry in FHIR.
    "/fhir/metadata",
    "/fhir/Organization",
    "/fhir/Organization/{id}",
    "/fhir/Location",
    "/fhir/Location/{id}",
    "/fhir/HealthcareService",
    "/fhir/HealthcareService/{id}",
];

fn fill(path: &str, ids: &[(&str, String)]) -> String {
    ids.iter().fold(path.to_owned(), |p, (name, id)| p.replace(&format!("{{{name}}}"), id))
}

async fn every_route_refuses_strangers(db: &TestDb) {
    let t = TestApp::start(db).await;
    let kashiwa = crate::admin::kashiwa(&t).await;
    crate::admin::municipality(&t, "122203", "流山市").await;
    let (mut kashiwa_admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let clinic = crate::admin::facility(&mut kashiwa_admin, kashiwa, "clinic", "柏の秘密の診療所").await;
    let nurse_id = {
        t.signed_in("kashiwa.nurse", Some("122173"), "nurse", &[], Some(clinic)).await;
        crate::admin::account_id(&t, "kashiwa.nurse").await
    };
    // A patient of Kashiwa's, with an urgent entry, cared for by kashiwa.nurse only.
    let (mut nurse, _) = {
        let new = tsunagu_domain::account::NewAccount::parse("kashiwa.carer", "柏 看護", "", "", "nurse", &[])
            .unwrap_or_else(|e| panic!("{e}"));
        let issued =
            t.app.issue_account_from_shell(Some("122173"), &new, Some(clinic)).await.unwrap_or_else(|e| panic!("{e}"));
        let mut c = t.client();
        c.redeem(&issued.code, "kashiwa.carer", crate::helpers::PASSWORD).await;
        let secret = c.sign_in_and_enrol(&t, "kashiwa.carer", crate::helpers::PASSWORD).await;
        (c, secret)
    };
    let patient = crate::patients::register(
        &mut nurse,
        &[crate::patients::PATIENT, &[("family_name", "機密"), ("given_name", "患者")]].concat(),
    )
    .await;
    crate::patients::consent(&mut nurse, &patient).await;
    let entry = crate::patients::post(&mut nurse, &patient, &[("kind", "urgent"), ("body", "機密の急変")]).await;
    let (_, attachment) = crate::patients::post_with_photo(&mut nurse, &patient, "機密の写真").await;
    let page = nurse.get(&format!("/patients/{patient}")).await;
    let membership = page
        .body
        .split(&format!("/patients/{patient}/team/"))
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_default()
        .to_owned();
    // Kashiwa's draft article (public nowhere) and its event.
    let article_form = [("title", "柏の秘密の下書き"), ("body", "機密ではないが未公開")];
    assert!(
        kashiwa_admin.submit("/admin/public", "/admin/public/articles", &article_form).await.redirects_to("/admin")
    );
    let event_form = [
        ("title", "柏の催し"),
        ("date", "2030-01-10"),
        ("starts", "10:00"),
        ("ends", ""),
        ("place", "柏"),
        ("description", ""),
    ];
    assert!(kashiwa_admin.submit("/admin/public", "/admin/public/events", &event_form).await.redirects_to("/admin"));
    let public_admin = kashiwa_admin.get("/admin/public").await.body;
    let id_after = |prefix: &str| {
        public_admin.split(prefix).nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned()
    };
    let (article, event) = (id_after("/admin/public/articles/"), id_after("/admin/public/events/"));
    // A consultation at Kashiwa's coordination centre (its personal data is the centre's alone).
    let (mut centre, _) = t.signed_in("kashiwa.centre", Some("122173"), "social_worker", &["coordinator"], None).await;
    let recorded = centre
        .submit(
            "/centre/cases/new",
            "/centre/cases",
            &[
                ("channel", "phone"),
                ("requester_kind", "family"),
                ("requester_name", "機密 家族"),
                ("topics", "costs"),
                ("summary", "機密の相談"),
            ],
        )
        .await;
    let case = recorded
        .location
        .unwrap_or_default()
        .trim_start_matches("/centre/cases/")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(!case.is_empty(), "a case was recorded");
    let ids = [
        ("case", case),
        ("article", article),
        ("event", event),
        ("municipality", kashiwa.to_string()),
        ("facility", clinic.to_string()),
        ("account", nurse_id.to_string()),
        ("patient", patient.clone()),
        ("entry", entry.clone()),
        ("membership", membership),
        ("attachment", attachment.clone()),
        ("lang", "en".to_owned()),
        ("file", "app.css".to_owned()),
        ("code", "122173".to_owned()),
    ];

    let (other_admin, _) =
        t.signed_in("n.admin", Some("122203"), "municipal_officer", &["municipality_admin"], None).await;
    let (other_professional, _) = t.signed_in("n.nurse", Some("122203"), "nurse", &[], None).await;
    let (same_town_professional, _) = t.signed_in("k.pharm", Some("122173"), "pharmacist", &[], None).await;
    let other_station =
        crate::admin::facility(&mut kashiwa_admin, kashiwa, "home_nursing_station", "柏の別の訪問看護").await;
    let (other_facility_admin, _) =
        t.signed_in("other.head", Some("122173"), "nurse", &["facility_admin"], Some(other_station)).await;
    let same_town_admin = kashiwa_admin.clone();
    let strangers: Vec<(&str, Client)> = vec![
        ("anonymous", t.client()),
        ("other municipality's admin", other_admin),
        ("other municipality's professional", other_professional),
        ("same municipality, no admin role", same_town_professional),
        ("same municipality, another facility's admin", other_facility_admin),
        ("same municipality's admin, not on the team", same_town_admin),
    ];
    // Each signed-in stranger also holds an API token that may do everything
    // its owner may (the FHIR routes are called with it).
    let mut tokens = std::collections::HashMap::new();
    for (who, login) in [
        ("other municipality's admin", "n.admin"),
        ("other municipality's professional", "n.nurse"),
        ("same municipality, no admin role", "k.pharm"),
        ("same municipality, another facility's admin", "other.head"),
        ("same municipality's admin, not on the team", "city.admin"),
    ] {
        let made = t.app.create_api_token_for(login, "walk", "user/*.*", "30").await;
        tokens.insert(who, made.unwrap_or_else(|e| panic!("{login}: {e}")).token);
    }
    let nurse_text = nurse_id.to_string();
    // The urgent entry stands for every kind of entry (it has no temperature: its Observation is not found).
    let fhir_ids = crate::helpers::FhirIds {
        name: "%E6%A9%9F%E5%AF%86",
        patient: &patient,
        vitals: &entry,
        entry: &entry,
        visit: &entry,
        attachment: &attachment,
        practitioner: &nurse_text,
    };
    let fhir_path = |pattern: &str| crate::helpers::fhir_path(pattern, &fhir_ids);
    let observation = serde_json::json!({
        "resourceType": "Observation", "status": "final",
        "code": { "coding": [{ "system": "http://loinc.org", "code": "8310-5" }] },
        "subject": { "reference": format!("Patient/{patient}") },
        "valueQuantity": { "value": 36.5, "code": "Cel" },
    })
    .to_string();
    let transaction = serde_json::json!({
        "resourceType": "Bundle", "type": "transaction",
        "entry": [{ "resource": serde_json::from_str::<serde_json::Value>(&observation).unwrap_or_default(),
                    "request": { "method": "POST", "url": "Observation" } }],
    })
    .to_string();
    let message = serde_json::json!({
        "resourceType": "Communication", "status": "completed",
        "subject": { "reference": format!("Patient/{patient}") },
        "payload": [{ "contentString": "よそ者からの書き込み" }],
    })
    .to_string();

    let mut routes = tsunagu_web::routes();
    // Routes that end the stranger's session go last, so every other route is
    // walked signed in.
    routes.sort_by_key(|(_, path)| path.contains("sign-out"));
    assert!(routes.len() >= 30, "the route table is read from the router");
    for (who, client) in strangers {
        for (method, pattern) in &routes {
            let patient_route = pattern.contains("{patient}")
                || pattern.contains("{entry}")
                || pattern.contains("{attachment}")
                || pattern.contains("{case}");
            // Kashiwa's own admin legitimately administers Kashiwa's facilities and staff;
            // what it must not reach is a patient whose team it is not on.
            if who.starts_with("same municipality's admin") && !patient_route {
                continue;
            }
            let mut client = client.clone();
            let path = fill(pattern, &ids);
            let csrf = client.get("/home").await.input_value("csrf").unwrap_or_default();
            // The API is called as a client would: JSON, with the CSRF header, so
            // that what refuses the stranger is the access check, not the token.
            let fhir = pattern.starts_with("/fhir/");
            let reply = if fhir {
                let auth = tokens.get(who).map(|token| format!("Bearer {token}")).unwrap_or_default();
                let headers: Vec<(&str, &str)> =
                    if auth.is_empty() { Vec::new() } else { vec![("authorization", auth.as_str())] };
                let posted = if pattern.contains("Communication") {
                    &message
                } else if *pattern == "/fhir" {
                    &transaction
                } else {
                    &observation
                };
                let body = (*method == "POST").then_some(posted.as_str());
                client.send_json(method, &fhir_path(pattern), body, &headers).await
            } else if pattern.starts_with("/api/v1/") {
                let body = (*method == "POST").then_some("{}");
                client.send_json(method, &path, body, &[("x-csrf-token", &csrf)]).await
            } else {
                client.send(method, &path, &[("csrf", &csrf), ("enabled", "false"), ("facility_id", &ids[1].1)]).await
            };
            assert_ne!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{who} {method} {path}");
            // Everyone in Kashiwa may browse its facility directory (with each facility's staff).
            // And anyone may browse its public map, which lists its facilities (never their staff).
            // Colleagues' roles name where they work, as the directory does.
            let browsing_directory = (who.starts_with("same municipality")
                && *method == "GET"
                && (pattern.contains("/facilit") || pattern.starts_with("/fhir/PractitionerRole")))
                || (PUBLIC.contains(pattern) && pattern.contains("{code}"));
            if !browsing_directory {
                assert!(!reply.body.contains("柏の秘密の診療所"), "{who} {method} {path} saw Kashiwa's facility");
                assert!(!reply.body.contains("kashiwa.nurse"), "{who} {method} {path} saw Kashiwa's staff");
            }
            assert!(!reply.body.contains("柏の秘密の下書き"), "{who} {method} {path} saw Kashiwa's draft");
            assert!(
                !reply.body.contains("機密") && !reply.body.contains("ペニシリン"),
                "{who} {method} {path} saw the patient"
            );
            // A colleague of the same municipality may see the clinic nurse's role (not a patient's data).
            let colleague = who.starts_with("same municipality") && *pattern == "/fhir/PractitionerRole/{id}";
            let patient_route = patient_route || (fhir && *pattern != "/fhir/metadata" && !colleague);
            if patient_route
                && who != "anonymous"
                && !matches!(
                    *pattern,
                    "/fhir/Patient" | "/fhir/CareTeam" | "/fhir/Practitioner" | "/fhir/PractitionerRole"
                )
            {
                assert!(
                    matches!(
                        reply.status,
                        StatusCode::NOT_FOUND | StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY
                    ),
                    "{who} {method} {path}: {}",
                    reply.status
                );
            }
            let public = PUBLIC.contains(pattern);
            let own_pages = who != "anonymous"
                && (pattern.starts_with("/home")
                    || pattern.starts_with("/account")
                    || pattern.starts_with("/sign")
                    || *pattern == "/patients/new"
                    || (*pattern == "/break-glass" && *method == "GET")
                    || *pattern == "/api/v1/me"
                    // Searches one's own municipality only (tested in patients).
                    || *pattern == "/colleagues"
                    // One's own municipality's backup system and one's own absences.
                    || *pattern == "/backup"
                    // One's own municipality's discharge rules (its runners change them; tested in coordination).
                    || (*pattern == "/centre/rules" && *method == "GET")
                    // One's own municipality's consultation topics (its runners only; tested in coordination).
                    || (*pattern == "/centre/topics" && *method == "GET")
                    // The centre's requests to one's own facilities (none here: an empty list).
                    || *pattern == "/api/v1/coordination-requests"
                    || *pattern == "/absences"
                    // One's own municipality's imports (admins only; tested in registry).
                    || *pattern == "/admin/imports"
                    // One's own municipality's public pages (its admins only; tested in public_pages).
                    || (*pattern == "/admin/public" && *method == "GET")
                    // One's own municipality's export for analysis (its admins only; tested in analysis).
                    || (pattern.starts_with("/admin/analysis") && who == "other municipality's admin")
                    || *pattern == "/api/v1/physician-groups"
                    || *pattern == "/api/v1/absences"
                    || *pattern == "/api/v1/patients"
                    || *pattern == "/api/v1/notifications"
                    // Searches among one's own patients: an empty Bundle (checked above: nothing of the patient).
                    || (*pattern == "/fhir/Patient" || *pattern == "/fhir/CareTeam") && *method == "GET"
                    // Colleagues of one's own municipality, by name (none here is called sato),
                    // and their roles (another municipality's nurse: an empty Bundle).
                    || *pattern == "/fhir/Practitioner"
                    || *pattern == "/fhir/PractitionerRole");
            // A facility admin administers its own facility's staff: the
            // municipality's account list shows them only (that the clinic's
            // nurse is not in it is checked above).
            let own_facility = who.ends_with("another facility's admin")
                && *method == "GET"
                && *pattern == "/admin/m/{municipality}/accounts";
            if !public && !own_pages && !browsing_directory && !own_facility && !colleague {
                assert!(!reply.status.is_success(), "{who} {method} {path} answered {}", reply.status);
            }
        }
    }
    // Nothing the strangers did changed Kashiwa.
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let nurse = tx.account(nurse_id.0).await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("nurse gone"));
    assert_eq!(nurse.status, tsunagu_domain::account::AccountStatus::Active);
    assert_eq!(tx.memberships_of_account(nurse_id.0).await.map(|m| m.len()).unwrap_or(0), 1);
    let patient_id: uuid::Uuid = patient.parse().unwrap_or_default();
    let team = tx.team(patient_id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(team.iter().filter(|m| m.left_at.is_none()).count(), 1, "nobody joined or left the team");
    assert_eq!(tx.consents(patient_id).await.map(|c| c.len()).unwrap_or(0), 1);
    assert!(tx.consents(patient_id).await.unwrap_or_default().iter().all(|c| c.withdrawn_at.is_none()));
    let entry_id: uuid::Uuid = entry.parse().unwrap_or_default();
    let grant = crate::helpers::inspecting(patient_id);
    assert!(tx.acknowledgements(&grant, entry_id).await.unwrap_or_default().is_empty());
    assert_eq!(tx.entry_versions(&grant, entry_id).await.map(|v| v.len()).unwrap_or(0), 1);
}

/// The routes that take a multipart upload (photos, a consent scan, an open-data file).
const UPLOAD_ROUTES: &[&str] =
    &["/patients/{id}/entries", "/patients/{id}/consent", "/admin/imports", "/centre/cases/{id}/files"];

/// A stranger's upload is answered as soon as its headers are in, like any signed-in route
/// answers strangers (303 to the sign-in page), without waiting for the body: over a real
/// socket, the request declares 50 MB and sends a few bytes, and the answer must come
/// while the rest never does (before the fix the server sat reading it).
async fn uploads_from_strangers_are_refused_before_the_body_is_read(db: &TestDb) {
    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = TestApp::start(db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = t.router.clone();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    let patient = uuid::Uuid::now_v7().to_string();
    for (route, cookie) in UPLOAD_ROUTES.iter().flat_map(|r| [(r, ""), (r, "Cookie: tsunagu_session=forged\r\n")]) {
        let path = route.replace("{id}", &patient);
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{cookie}Content-Type: multipart/form-data; boundary=b\r\n\
             Content-Length: 50000000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nx\r\n\
             --b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\n\r\nPK"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            let mut buf = [0u8; 4096];
            while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        assert!(read.is_ok(), "{path} {cookie:?}: no answer while the body was still to come");
        let head = String::from_utf8_lossy(&answer).to_lowercase();
        assert!(head.starts_with("http/1.1 303"), "{path} {cookie:?}: {head}");
        // To sign in (saying the session ended when a session cookie came with it).
        let to =
            if cookie.is_empty() { "\r\nlocation: /sign-in\r\n" } else { "\r\nlocation: /sign-in?notice=expired\r\n" };
        assert!(head.contains(to), "{path} {cookie:?}: {head}");
    }
    server.abort();
}
