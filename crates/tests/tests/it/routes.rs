//! Every route of the router, walked for every kind of stranger: nobody gets
//! a page of someone else's municipality, and nothing answers with an error 500.
//! The list comes from the router's own table, so a new route cannot escape.

use crate::helpers::{Client, TestApp, TestDb};
use axum::http::StatusCode;

crate::on_both_databases!(every_route_refuses_strangers);

/// Routes anyone may use without signing in.
const PUBLIC: &[&str] =
    &["/", "/sign-in", "/invite", "/lang/{lang}", "/healthz", "/readyz", "/metrics", "/static/{file}"];

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
    let ids = [
        ("municipality", kashiwa.to_string()),
        ("facility", clinic.to_string()),
        ("account", nurse_id.to_string()),
        ("lang", "en".to_owned()),
        ("file", "app.css".to_owned()),
    ];

    let (other_admin, _) =
        t.signed_in("n.admin", Some("122203"), "municipal_officer", &["municipality_admin"], None).await;
    let (other_professional, _) = t.signed_in("n.nurse", Some("122203"), "nurse", &[], None).await;
    let (same_town_professional, _) = t.signed_in("k.pharm", Some("122173"), "pharmacist", &[], None).await;
    let strangers: Vec<(&str, Client)> = vec![
        ("anonymous", t.client()),
        ("other municipality's admin", other_admin),
        ("other municipality's professional", other_professional),
        ("same municipality, no admin role", same_town_professional),
    ];

    let routes = tsunagu_web::routes();
    assert!(routes.len() >= 30, "the route table is read from the router");
    for (who, client) in strangers {
        for (method, pattern) in &routes {
            let mut client = client.clone();
            let path = fill(pattern, &ids);
            let csrf = client.get("/home").await.input_value("csrf").unwrap_or_default();
            let reply =
                client.send(method, &path, &[("csrf", &csrf), ("enabled", "false"), ("facility_id", &ids[1].1)]).await;
            assert_ne!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{who} {method} {path}");
            assert!(!reply.body.contains("柏の秘密の診療所"), "{who} {method} {path} saw Kashiwa's facility");
            assert!(!reply.body.contains("kashiwa.nurse"), "{who} {method} {path} saw Kashiwa's staff");
            let public = PUBLIC.contains(pattern);
            let browsing_directory =
                who.starts_with("same municipality") && *method == "GET" && pattern.contains("/facilit");
            let own_pages = who != "anonymous"
                && (pattern.starts_with("/home") || pattern.starts_with("/account") || pattern.starts_with("/sign"));
            if !public && !own_pages && !browsing_directory {
                assert!(!reply.status.is_success(), "{who} {method} {path} answered {}", reply.status);
            }
        }
    }
    // Nothing the strangers did changed Kashiwa.
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let nurse = tx.account(nurse_id.0).await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("nurse gone"));
    assert_eq!(nurse.status, "active");
    assert_eq!(tx.memberships_of_account(nurse_id.0).await.map(|m| m.len()).unwrap_or(0), 1);
}
