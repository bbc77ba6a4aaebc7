//! The public resource map, without signing in, on both databases: the real
//! 届出受理医療機関名簿 excerpt and the synthetic care-office file imported into
//! Kashiwa, then listed, filtered (kind, flag, area, name), paged, sorted by
//! distance from a point, shown one by one and printed by area; closed
//! facilities and other municipalities' never shown; bad coordinates refused
//! with 422; the JSON API documented, open to other sites and limited per
//! address; the map's CSP and its vendored scripts.

use crate::admin::{kashiwa, municipality};
use crate::helpers::{Reply, TestApp, TestDb};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;
use tower::ServiceExt;
use tsunagu_app::public_map::format_distance;
use tsunagu_domain::facility::Location;
use tsunagu_import::Source;

crate::on_both_databases!(
    anyone_lists_and_filters_the_facilities_without_signing_in,
    the_list_sorts_by_distance_from_a_point,
    a_facility_page_shows_its_flags_and_closed_ones_are_gone,
    other_municipalities_and_bad_input_stay_out,
    the_json_api_is_documented_open_and_limited,
    citizens_find_those_accepting_new_patients_and_offering_a_service,
    the_list_downloads_as_csv,
    names_that_look_like_formulas_are_not_run_by_a_spreadsheet,
    furigana_with_a_long_vowel_mark_is_found_however_typed,
    nearest_first_from_memory_gives_what_sql_gives_and_follows_changes,
);

const STANDARDS_CSV: &str = "todokede_juri_ika_synthetic.csv";
const CARE_CSV: &str = "jigyosho_130_synthetic.csv";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../import/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn import(t: &TestApp, code: &str, source: Source, name: &str, bytes: &[u8]) {
    let report = t
        .app
        .import_registry_from_shell(Some(code), source, name, bytes)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(report.imported_anything(), "{report:?}");
}

/// Kashiwa with the 9 institutions of the notification list and the care offices.
pub(crate) async fn kashiwa_with_registry(db: &TestDb) -> TestApp {
    let t = TestApp::start(db).await;
    kashiwa(&t).await;
    import(&t, "122173", Source::FacilityStandards, STANDARDS_CSV, &fixture(STANDARDS_CSV)).await;
    import(&t, "122173", Source::CareOffices, CARE_CSV, &fixture(CARE_CSV)).await;
    t
}

/// A query value, percent-encoded.
fn q(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", reply.body))
}

fn names(list: &Value) -> Vec<String> {
    list["facilities"]
        .as_array()
        .map(|a| a.iter().map(|f| f["name"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

/// The names in the server-rendered list (`<ol id="results">`), in order.
fn listed(page: &Reply) -> Vec<String> {
    let Some(list) = page.body.split("<ol id=\"results\"").nth(1).and_then(|s| s.split("</ol>").next()) else {
        return Vec::new();
    };
    list.split("<h3><a href=\"")
        .skip(1)
        .filter_map(|item| item.split_once("\">").and_then(|(_, rest)| rest.split("</a>").next()))
        .map(str::to_owned)
        .collect()
}

async fn public_json(t: &TestApp, path: &str) -> Value {
    let reply = t.client().send_json("GET", path, None, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    json(&reply)
}

async fn id_of(t: &TestApp, code: &str, name: &str) -> String {
    let list = public_json(t, &format!("/api/public/v1/m/{code}/facilities?name={}", q(name))).await;
    list["facilities"][0]["id"].as_str().unwrap_or_else(|| panic!("{name} not in {list}")).to_owned()
}

async fn audit_count(t: &TestApp) -> usize {
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let mut n = 0;
    for head in tx.audit_heads().await.unwrap_or_else(|e| panic!("{e}")) {
        n += tx.audit_events_after(head.chain, 0, 100_000).await.map(|e| e.len()).unwrap_or_default();
    }
    n
}

async fn anyone_lists_and_filters_the_facilities_without_signing_in(db: &TestDb) {
    let t = kashiwa_with_registry(db).await;
    let audited = audit_count(&t).await;
    let mut citizen = t.client();
    let page = citizen.get("/m/122173/map").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>柏市 在宅医療・介護の資源マップ</h1>"), "{}", page.body);
    // The list is in the HTML (no script needed): a GET form of filters, and every facility.
    assert!(page.body.contains("<form method=\"get\" action=\"/m/122173/map\" id=\"filters\""));
    assert!(page.body.contains("<label for=\"kind\">") && page.body.contains("<label for=\"area\">"));
    let all = listed(&page);
    assert!(all.contains(&"見本医院（サンプル）".to_owned()), "{all:?}");
    assert!(all.contains(&"架空訪問看護ステーションさくら（サンプル）".to_owned()), "{all:?}");
    assert!(!all.iter().any(|n| n.is_empty()));
    let total = public_json(&t, "/api/public/v1/m/122173/facilities").await["total"].as_i64().unwrap_or_default();
    assert!(total >= 12, "9 institutions and the care offices: {total}");
    assert_eq!(all.len() as i64, total.min(20));
    assert!(page.body.contains("href=\"tel:0400001001\""), "a phone link for 見本医院（サンプル）");
    assert!(
        page.body.contains("id=\"map\"") && page.body.contains("data-markers=\"/api/public/v1/m/122173/facilities?")
    );
    assert!(page.body.contains("<script src=\"/static/public_map.js\" defer></script>"));
    assert!(!page.body.contains("<script>"), "no inline script");

    // By kind: only the nursing stations.
    let stations = listed(&citizen.get("/m/122173/map?kind=home_nursing_station").await);
    assert!(!stations.is_empty());
    assert!(stations.iter().all(|n| n.contains("訪問看護ステーション")), "{stations:?}");
    // By flag: the support clinics of the list (支援診２・３), not 見本医院（サンプル） nor the hospitals.
    let clinics = listed(&citizen.get("/m/122173/map?flag=home_care_support_clinic").await);
    for name in [
        "医療法人社団　見本会　見本西医院（サンプル）",
        "医療法人社団見本会　見本南医院（サンプル）",
        "見本台診療所（サンプル）",
        "見本まことクリニック（サンプル）",
    ] {
        assert!(clinics.contains(&name.to_owned()), "{name} in {clinics:?}");
    }
    assert!(!clinics.iter().any(|n| n.contains("山口") || n.contains("病院")), "{clinics:?}");
    let hospitals = listed(&citizen.get("/m/122173/map?flag=home_care_support_hospital").await);
    assert_eq!(hospitals.len(), 2, "見本台病院 and 見本記念病院: {hospitals:?}");
    let palliative = listed(&citizen.get("/m/122173/map?flag=enhanced_palliative").await);
    assert_eq!(palliative, vec!["医療法人社団見本会見本在宅クリニック（サンプル）".to_owned()]);
    // By area (the address) and by name or its reading (hiragana finds the katakana furigana).
    let area = listed(&citizen.get(&format!("/m/122173/map?area={}", q("試験台"))).await);
    assert_eq!(area, vec!["見本台診療所（サンプル）".to_owned()]);
    let by_reading = listed(&citizen.get(&format!("/m/122173/map?name={}", q("さくら"))).await);
    assert_eq!(by_reading, vec!["架空訪問看護ステーションさくら（サンプル）".to_owned()]);
    let combined = format!("/m/122173/map?kind=clinic&flag=home_care_support_clinic&area={}", q("試験原"));
    let combined = listed(&citizen.get(&combined).await);
    assert_eq!(combined.len(), 2, "見本南医院 and 見本在宅クリニック, both in 試験原: {combined:?}");
    // Wildcards are text: "%" matches only a "%".
    let none = citizen.get(&format!("/m/122173/map?area={}", q("%"))).await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(listed(&none).is_empty());
    assert!(none.body.contains("条件に合う施設はありません"));
    // The form keeps what was asked.
    let kept = citizen.get("/m/122173/map?kind=pharmacy").await;
    assert!(kept.body.contains("<option value=\"pharmacy\" selected>"));

    // English on request.
    let mut english = t.client();
    english.cookies.insert(tsunagu_web::LANG_COOKIE.to_owned(), "en".to_owned());
    let en = english.get("/m/122173/map?flag=home_care_support_hospital").await;
    assert!(en.body.contains("Home care resource map") && en.body.contains("Home care support hospital"));

    // Printing: every facility, grouped by the town part of the address.
    let print = citizen.get("/m/122173/map/print").await;
    assert_eq!(print.status, StatusCode::OK);
    for area in ["試験台", "試験原", "見本町", "試験心"] {
        assert!(print.body.contains(&format!("<h2>{area} <small>")), "{area}: {}", print.body);
    }
    assert!(print.body.contains("data-print") && print.body.contains("見本まことクリニック（サンプル）"));
    let print = citizen.get("/m/122173/map/print?kind=home_nursing_station").await;
    assert!(print.body.contains("訪問看護ステーション") && !print.body.contains("見本医院（サンプル）"));

    // Public reads leave no trace in the audit log (there is nobody to account for).
    assert_eq!(audit_count(&t).await, audited);
}

async fn the_list_sorts_by_distance_from_a_point(db: &TestDb) {
    let t = kashiwa_with_registry(db).await;
    // Facilities farther away, so that the search has to widen its box: 18 km,
    // 95 km and 400 km from the care offices.
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let m = {
        let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
        tx.municipality_by_code("122173").await.ok().flatten().map(|m| m.id).unwrap_or_else(|| panic!("no Kashiwa"))
    };
    let page = format!("/admin/m/{m}/facilities");
    for (name, lat, lng) in [
        ("遠くの訪問看護ステーション", "35.70", "139.97"),
        ("とても遠い訪問看護ステーション", "35.00", "139.90"),
        ("はるか遠い訪問看護ステーション", "34.70", "135.50"),
    ] {
        let form = [
            ("kind", "home_nursing_station"),
            ("name", name),
            ("address", "千葉県柏市柏1-1"),
            ("latitude", lat),
            ("longitude", lng),
        ];
        let reply = admin.submit(&page, &page, &form).await;
        assert!(reply.redirects_to("/admin/facilities/"), "{} {}", reply.status, reply.body);
    }

    let sakura = Location { latitude: 35.8676, longitude: 139.9758 };
    let near = |extra: &str| format!("/api/public/v1/m/122173/facilities?lat=35.8676&lng=139.9758{extra}");
    let list = public_json(&t, &near("")).await;
    let found = names(&list);
    assert_eq!(found.first().map(String::as_str), Some("架空訪問看護ステーションさくら（サンプル）"), "{found:?}");
    assert_eq!(list["facilities"][0]["distance_m"], 0.0);
    // Nearest first, by exact distance; the farthest last; none without coordinates.
    let distances: Vec<f64> =
        list["facilities"].as_array().into_iter().flatten().map(|f| f["distance_m"].as_f64().unwrap_or(-1.0)).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert_eq!(found.last().map(String::as_str), Some("はるか遠い訪問看護ステーション"));
    for f in list["facilities"].as_array().into_iter().flatten() {
        let at = Location {
            latitude: f["latitude"].as_f64().unwrap_or(0.0),
            longitude: f["longitude"].as_f64().unwrap_or(0.0),
        };
        let expected = sakura.distance_m(&at).round();
        assert_eq!(f["distance_m"].as_f64(), Some(expected), "{}", f["name"]);
    }
    // Every located facility, and only those; not counted (nearest first says "the next page" instead).
    let everything = public_json(&t, "/api/public/v1/m/122173/facilities?limit=2000").await;
    let facilities = everything["facilities"].as_array().cloned().unwrap_or_default();
    let located = facilities.iter().filter(|f| f["latitude"].is_f64()).count();
    assert!(facilities.len() >= located + 9, "the notification list has no coordinates");
    assert_eq!(found.len(), located);
    assert_eq!((list.get("total"), list.get("pages"), list["has_next"].as_bool()), (None, None, Some(false)), "{list}");

    // Pages of the nearest are slices of the whole order.
    let second = public_json(&t, &near("&limit=2&page=2")).await;
    assert_eq!(names(&second), found[2..4].to_vec());
    assert_eq!(second["has_next"].as_bool(), Some(true));
    let last_page = found.len().div_ceil(2);
    let last = public_json(&t, &near(&format!("&limit=2&page={last_page}"))).await;
    assert_eq!(names(&last), found[(last_page - 1) * 2..].to_vec());
    assert_eq!(last["has_next"].as_bool(), Some(false));
    // With a kind: only nursing stations, still nearest first; the near one is
    // found in the first box, the far ones only as the box widens.
    let stations = names(&public_json(&t, &near("&kind=home_nursing_station&limit=2")).await);
    assert_eq!(
        stations,
        vec!["架空訪問看護ステーションさくら（サンプル）".to_owned(), "遠くの訪問看護ステーション".to_owned()]
    );
    let all_stations = names(&public_json(&t, &near("&kind=home_nursing_station")).await);
    assert_eq!(all_stations.len(), 4, "{all_stations:?}");
    assert_eq!(
        all_stations[2..],
        ["とても遠い訪問看護ステーション".to_owned(), "はるか遠い訪問看護ステーション".to_owned()]
    );

    // The page: nearest first with the distance, and the point kept in the form and the links.
    let mut citizen = t.client();
    let page = citizen.get("/m/122173/map?kind=home_nursing_station&lat=35.8676&lng=139.9758").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(listed(&page), all_stations);
    assert!(page.body.contains("（近い順）"));
    assert!(page.body.contains("<p class=\"distance\">ここから約 0 m</p>"), "{}", page.body);
    let far = format_distance(sakura.distance_m(&Location { latitude: 35.70, longitude: 139.97 }));
    assert!(far.ends_with(" km"), "{far}");
    assert!(page.body.contains(&format!("ここから約 {far}")), "{far}: {}", page.body);
    assert!(page.body.contains("value=\"35.8676\"") && page.body.contains("data-lat=\"35.8676\""));
}

async fn a_facility_page_shows_its_flags_and_closed_ones_are_gone(db: &TestDb) {
    let t = kashiwa_with_registry(db).await;
    let mut citizen = t.client();
    let fukamachi = id_of(&t, "122173", "見本台病院").await;
    let page = citizen.get(&format!("/m/122173/facilities/{fukamachi}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1 id=\"facility-name\">医療法人　見本台病院（サンプル）</h1>"));
    assert_eq!(page.by_id("facility-kind").as_deref(), Some("病院"));
    assert!(page.by_id("facility-address").is_some_and(|a| a.contains("柏市試験町")), "{}", page.body);
    assert!(page.body.contains("href=\"tel:0400001002\""));
    assert_eq!(page.by_id("facility-fax").as_deref(), Some("04-0000-2002"));
    let flags = page.body.split("<ul class=\"flags\" id=\"flags\">").nth(1).unwrap_or_default();
    assert!(
        flags.contains("在宅療養支援病院") && flags.contains("2022-10-01"),
        "支援病３ since 令和4年10月1日: {flags}"
    );
    assert!(flags.contains("在宅時医学総合管理料"), "{flags}");
    assert!(page.body.contains("位置情報はありません"), "the notification list has no coordinates");
    // Other notifications are listed apart.
    let furuta = id_of(&t, "122173", "見本南医院").await;
    let page = citizen.get(&format!("/m/122173/facilities/{furuta}")).await;
    let others = page.body.split("id=\"other-flags\">").nth(1).unwrap_or_default();
    assert!(others.contains("機能強化"), "{}", page.body);
    // A facility with coordinates gets a small map.
    let sakura = id_of(&t, "122173", "さくら").await;
    let page = citizen.get(&format!("/m/122173/facilities/{sakura}")).await;
    assert!(page.body.contains("data-lat=\"35.8676\"") && page.body.contains("data-single=\"true\""));

    // A newer file of 訪問看護 lists あおい but no longer さくら: さくら is closed,
    // so gone from the map, its page, the printout and the API.
    let text = String::from_utf8(fixture(CARE_CSV)).unwrap_or_else(|e| panic!("{e}"));
    let aoi = "122173,8,千葉県,柏市,架空訪問看護ステーションあおい（サンプル）,,訪問看護,千葉県柏市見本町８－８－８,,\
               35.861,139.971,04-0000-0008,,0000000000000,架空福祉会（サンプル）,1260000009,月～金,,0,,,,,合成データ";
    let newer: String = text
        .lines()
        .filter(|l| !l.contains("1260000001"))
        .chain(std::iter::once(aoi))
        .map(|l| format!("{l}\r\n"))
        .collect();
    import(&t, "122173", Source::CareOffices, "newer.csv", newer.as_bytes()).await;
    assert!(citizen.get("/m/122173/map").await.body.contains("あおい（サンプル）"));
    assert_eq!(citizen.get(&format!("/m/122173/facilities/{sakura}")).await.status, StatusCode::NOT_FOUND);
    let list = citizen.get("/m/122173/map").await;
    assert!(!list.body.contains("さくら（サンプル）"), "a closed facility is never listed");
    assert!(!citizen.get("/m/122173/map/print").await.body.contains("さくら（サンプル）"));
    let near = public_json(&t, "/api/public/v1/m/122173/facilities?lat=35.8676&lng=139.9758").await;
    assert!(!names(&near).iter().any(|n| n.contains("さくら")), "{near}");
    // A malformed or unknown id is simply not found.
    assert_eq!(citizen.get("/m/122173/facilities/not-an-id").await.status, StatusCode::NOT_FOUND);
    let unknown = uuid::Uuid::now_v7();
    assert_eq!(citizen.get(&format!("/m/122173/facilities/{unknown}")).await.status, StatusCode::NOT_FOUND);
}

async fn other_municipalities_and_bad_input_stay_out(db: &TestDb) {
    let t = kashiwa_with_registry(db).await;
    municipality(&t, "122203", "流山市").await;
    let text = String::from_utf8(fixture(CARE_CSV)).unwrap_or_else(|e| panic!("{e}"));
    let nagareyama = text.replace("122173,", "122203,").replace("柏市", "流山市").replace("さくら", "ながれやま");
    import(&t, "122203", Source::CareOffices, "nagareyama.csv", nagareyama.as_bytes()).await;

    let mut citizen = t.client();
    let kashiwa_page = citizen.get("/m/122173/map").await;
    assert!(!kashiwa_page.body.contains("流山市") && !kashiwa_page.body.contains("ながれやま"));
    let kashiwa_near = public_json(&t, "/api/public/v1/m/122173/facilities?lat=35.8676&lng=139.9758").await;
    assert!(!names(&kashiwa_near).iter().any(|n| n.contains("ながれやま")), "{kashiwa_near}");
    let nagareyama_page = citizen.get("/m/122203/map").await;
    assert!(nagareyama_page.body.contains("ながれやま"));
    assert!(!nagareyama_page.body.contains("柏市") && !nagareyama_page.body.contains("見本医院（サンプル）"));
    // A facility of Nagareyama is not found under Kashiwa's address, and the other way round.
    let theirs = id_of(&t, "122203", "ながれやま").await;
    assert_eq!(citizen.get(&format!("/m/122173/facilities/{theirs}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(citizen.get(&format!("/m/122203/facilities/{theirs}")).await.status, StatusCode::OK);
    let ours = id_of(&t, "122173", "見本医院（サンプル）").await;
    assert_eq!(citizen.get(&format!("/m/122203/facilities/{ours}")).await.status, StatusCode::NOT_FOUND);
    // Unknown and malformed municipality codes.
    for path in ["/m/122211/map", "/m/abc/map", "/m/122173x/map/print", "/api/public/v1/m/999999/facilities"] {
        assert_eq!(citizen.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }

    // Bad coordinates and filters: 422 with the reason, in the page and in the API.
    let page = citizen.get("/m/122173/map?lat=91&lng=139.9").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("緯度") && page.body.contains("日本国内の値ではありません"), "{}", page.body);
    assert!(page.body.contains("<form method=\"get\""), "the form stays to be corrected");
    assert!(!page.body.contains("id=\"map\""), "no map of a refused search");
    assert!(listed(&page).is_empty());
    for (query, field, code) in [
        ("lat=91&lng=139.9", "latitude", "outside_japan"),
        ("lat=35.86&lng=", "longitude", "number"),
        ("lat=abc&lng=139.9", "latitude", "number"),
        ("lat=35.86&lng=0.1", "longitude", "outside_japan"),
        ("lat=NaN&lng=139.9", "latitude", "outside_japan"),
        ("kind=spaceport", "kind", "unknown"),
        ("flag=secret", "flag", "unknown"),
        ("page=0", "page", "out_of_range"),
        ("limit=100000", "limit", "out_of_range"),
    ] {
        let reply =
            t.client().send_json("GET", &format!("/api/public/v1/m/122173/facilities?{query}"), None, &[]).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let body = json(&reply);
        assert_eq!((body["field"].as_str(), body["code"].as_str()), (Some(field), Some(code)), "{query}");
        assert!(!body["message"].as_str().unwrap_or_default().is_empty());
        if !query.starts_with("limit") {
            let page = citizen.get(&format!("/m/122173/map?{query}")).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "page {query}");
        }
    }
    assert_eq!(citizen.get("/m/122173/map/print?lat=1&lng=1").await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_json_api_is_documented_open_and_limited(db: &TestDb) {
    let t = kashiwa_with_registry(db).await;
    let reply = t.client().send_json("GET", "/api/public/v1/m/122173/facilities?limit=5&page=2", None, &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let page = json(&reply);
    assert_eq!(
        (page["municipality_code"].as_str(), page["municipality_name"].as_str()),
        (Some("122173"), Some("柏市"))
    );
    assert_eq!((page["page"].as_i64(), page["per_page"].as_i64()), (Some(2), Some(5)));
    let total = page["total"].as_i64().unwrap_or_default();
    assert_eq!(page["pages"].as_i64(), Some((total + 4) / 5));
    assert_eq!(page["has_next"].as_bool(), Some(total > 10));
    assert_eq!(page["facilities"].as_array().map(Vec::len), Some(5));
    let first = public_json(&t, "/api/public/v1/m/122173/facilities?limit=10").await;
    assert_eq!(names(&page), names(&first)[5..10].to_vec(), "page 2 follows page 1");
    // What a facility says: public data only.
    let fukamachi = public_json(&t, &format!("/api/public/v1/m/122173/facilities?name={}", q("見本台"))).await;
    let f = &fukamachi["facilities"][0];
    assert_eq!((f["kind"].as_str(), f["kind_label"].as_str()), (Some("hospital"), Some("病院")));
    assert_eq!(f["fax"], "04-0000-2002");
    assert!(f["url"].as_str().is_some_and(|u| u.starts_with("/m/122173/facilities/")));
    let flag = f["flags"].as_array().and_then(|a| a.iter().find(|g| g["code"] == "home_care_support_hospital_3"));
    let flag = flag.unwrap_or_else(|| panic!("{f}"));
    assert_eq!((flag["since"].as_str(), flag["home_care"].as_bool()), (Some("2022-10-01"), Some(true)));
    let keys: Vec<&String> = f.as_object().map(|o| o.keys().collect()).unwrap_or_default();
    for secret in ["medical_institution_code", "care_provider_number", "created_at", "municipality_id"] {
        assert!(!keys.iter().any(|k| *k == secret), "{secret} is not public: {keys:?}");
    }

    // The OpenAPI document describes it.
    let doc = json(&t.client().get("/api/openapi.json").await);
    let op = &doc["paths"]["/api/public/v1/m/{code}/facilities"]["get"];
    assert!(op.is_object(), "documented");
    assert!(doc["components"]["schemas"]["PublicFacilityList"].is_object());

    // Any site may read it; the map page allows the tile server's images, other pages do not.
    let router =
        tsunagu_web::router(t.app.clone(), tsunagu_web::WebConfig { secure_cookies: false, ..Default::default() });
    let response = call(&router, "GET", "/api/public/v1/m/122173/facilities", [192, 0, 2, 10]).await;
    assert_eq!(response.0, StatusCode::OK);
    assert_eq!(response.1.get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"));
    let csp = |headers: &axum::http::HeaderMap| {
        headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    let map = call(&router, "GET", "/m/122173/map", [192, 0, 2, 10]).await;
    assert!(csp(&map.1).contains("img-src 'self' data: https://cyberjapandata.gsi.go.jp;"), "{}", csp(&map.1));
    assert!(csp(&map.1).contains("script-src 'self';"));
    let sign_in = call(&router, "GET", "/sign-in", [192, 0, 2, 10]).await;
    assert!(!csp(&sign_in.1).contains("gsi.go.jp"));
    // The vendored map scripts and their licences are served; nothing else is under /static/vendor.
    let mut c = t.client();
    let (status, mime, body) = c.get_bytes("/static/vendor/leaflet/leaflet.js").await;
    assert_eq!((status, mime.as_str()), (StatusCode::OK, "text/javascript; charset=utf-8"));
    assert!(String::from_utf8_lossy(&body).contains("1.9.4"));
    for path in [
        "/static/vendor/leaflet/images/marker-icon.png",
        "/static/vendor/leaflet/LICENSE",
        "/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
        "/static/vendor/leaflet.markercluster/MIT-LICENCE.txt",
        "/static/public_map.js",
        "/static/public.css",
    ] {
        assert_eq!(c.get_bytes(path).await.0, StatusCode::OK, "{path}");
    }
    for path in ["/static/vendor/leaflet/../../Cargo.toml", "/static/vendor/leaflet", "/static/vendor/x.js"] {
        assert_eq!(c.get_bytes(path).await.0, StatusCode::NOT_FOUND, "{path}");
    }

    // Public reads are limited per address (generously in production; 3 here),
    // not for the local machine, and not other pages.
    let limited = tsunagu_web::WebConfig {
        secure_cookies: false,
        public_read_limit: Some(tsunagu_web::PublicReadLimit { per_minute: 60, burst: 3 }),
        ..Default::default()
    };
    let router = tsunagu_web::router(t.app.clone(), limited);
    for path in ["/m/122173/map", "/api/public/v1/m/122173/facilities", "/m/122173/map/print"] {
        assert_eq!(call(&router, "GET", path, [192, 0, 2, 20]).await.0, StatusCode::OK, "{path}");
    }
    let refused = call(&router, "GET", "/api/public/v1/m/122173/facilities", [192, 0, 2, 20]).await;
    assert_eq!(refused.0, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.1.get("retry-after").is_some());
    assert_eq!(call(&router, "GET", "/m/122173/map", [192, 0, 2, 21]).await.0, StatusCode::OK, "another address");
    assert_eq!(call(&router, "GET", "/sign-in", [192, 0, 2, 20]).await.0, StatusCode::OK, "not a public read");
    assert_eq!(call(&router, "GET", "/static/public.css", [192, 0, 2, 20]).await.0, StatusCode::OK);
    for _ in 0..10 {
        assert_eq!(call(&router, "GET", "/m/122173/map", [127, 0, 0, 1]).await.0, StatusCode::OK, "loopback");
    }
}

/// One request straight to a router, from `address`.
async fn call(
    router: &axum::Router,
    method: &str,
    path: &str,
    address: [u8; 4],
) -> (StatusCode, axum::http::HeaderMap) {
    let mut request = Request::builder().method(method).uri(path).body(Body::empty()).unwrap_or_else(|e| panic!("{e}"));
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from((address, 40000))));
    let response = router.clone().oneshot(request).await.unwrap_or_else(|e| match e {});
    (response.status(), response.headers().clone())
}

async fn citizens_find_those_accepting_new_patients_and_offering_a_service(db: &TestDb) {
    let t = kashiwa_with_registry(db).await;
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let sakura = id_of(&t, "122173", "さくら").await;
    let momiji = id_of(&t, "122173", "もみじ").await;
    // Asked before anyone says so: nobody accepts. The answer is kept a while
    // (public data); a change made on this instance shows at once, on
    // another instance once its copy has expired.
    let accepting_now = "/api/public/v1/m/122173/facilities?accepting=yes";
    assert!(names(&public_json(&t, accepting_now).await).is_empty());
    let settings = tsunagu_app::Settings {
        public_cache: std::time::Duration::from_millis(300),
        ..tsunagu_app::Settings::default()
    };
    let other = tsunagu_app::App::new(t.store.clone(), std::sync::Arc::new(t.clock.clone()), settings);
    let form = tsunagu_app::public_map::PublicQueryForm { accepting: "yes", ..Default::default() };
    let query = tsunagu_app::public_map::PublicQuery::parse(&form, 100).unwrap_or_else(|e| panic!("{e}"));
    let on_other = |list: tsunagu_app::public_map::PublicList| list.facilities.len();
    assert_eq!(other.public_facilities("122173", &query).await.map(on_other).ok(), Some(0));
    for (id, form) in [
        (&sakura, vec![("services", "ventilator"), ("services", "home_death"), ("accepting", "yes")]),
        (&momiji, vec![("services", "home_death"), ("accepting", "no")]),
    ] {
        let page = format!("/admin/facilities/{id}");
        let saved = admin.submit(&page, &format!("{page}/profile"), &form).await;
        assert!(saved.redirects_to(&page), "{} {}", saved.status, saved.body);
    }
    let accepting = names(&public_json(&t, accepting_now).await);
    assert_eq!(accepting.len(), 1, "{accepting:?}");
    assert!(accepting[0].contains("さくら"), "{accepting:?}");
    assert_eq!(other.public_facilities("122173", &query).await.map(on_other).ok(), Some(0), "the other's copy");
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    assert_eq!(other.public_facilities("122173", &query).await.map(on_other).ok(), Some(1), "expired, read again");
    let ventilator = names(&public_json(&t, "/api/public/v1/m/122173/facilities?service=ventilator").await);
    assert_eq!(ventilator, accepting);
    let home_death = names(&public_json(&t, "/api/public/v1/m/122173/facilities?service=home_death").await);
    assert_eq!(home_death.len(), 2, "{home_death:?}");
    // The nearest station accepting new patients, from a point, on the page without JavaScript.
    let mut citizen = t.client();
    let page = citizen.get("/m/122173/map?kind=home_nursing_station&accepting=yes&lat=35.86&lng=139.97").await;
    assert_eq!(page.status, StatusCode::OK);
    let found = listed(&page);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("さくら"), "{found:?}");
    // Its public page says so too, with the date it was confirmed.
    let detail = citizen.get(&format!("/m/122173/facilities/{sakura}")).await;
    assert_eq!(
        detail.by_id("facility-accepting").as_deref().map(|a| a.starts_with("受け入れ可")),
        Some(true),
        "{}",
        detail.body
    );
    assert!(detail.body.contains("人工呼吸器"));
    // Bad choices are refused clearly.
    let bad = t.client().send_json("GET", "/api/public/v1/m/122173/facilities?service=teleportation", None, &[]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = citizen.get("/m/122173/map?accepting=perhaps").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// The whole list as CSV for a spreadsheet, with the same filters as the JSON.
async fn the_list_downloads_as_csv(db: &TestDb) {
    let t = kashiwa_with_registry(db).await;
    let json_total = public_json(&t, "/api/public/v1/m/122173/facilities").await["total"].as_i64().unwrap_or(-1);
    let (status, content_type, bytes) = t.client().get_bytes("/api/public/v1/m/122173/facilities.csv").await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/csv; charset=utf-8"));
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM, as the government's own files, so Excel reads it");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header: Vec<String> = reader.headers().map(|h| h.iter().map(str::to_owned).collect()).unwrap_or_default();
    assert_eq!(header[..3], ["ID", "種別", "名称"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap_or_else(|e| panic!("{e}"))).collect();
    assert_eq!(rows.len() as i64, json_total, "every facility, in one file");
    let sakura = rows.iter().find(|r| r[2].contains("さくら")).unwrap_or_else(|| panic!("さくら"));
    assert_eq!((&sakura[1], &sakura[7], &sakura[10]), ("訪問看護ステーション", "35.8676", "1260000001"));
    let coded = rows.iter().find(|r| !r[9].is_empty()).unwrap_or_else(|| panic!("a 医療機関コード"));
    assert_eq!(coded[9].len(), 10);
    assert!(rows.iter().any(|r| r[11].contains("在宅療養支援")), "the notifications");

    let (_, _, stations) =
        t.client().get_bytes("/api/public/v1/m/122173/facilities.csv?kind=home_nursing_station").await;
    let stations = csv::Reader::from_reader(&stations[3..]).records().count();
    assert!(stations >= 1 && (stations as i64) < json_total);
    let (bad, _, _) = t.client().get_bytes("/api/public/v1/m/122173/facilities.csv?kind=castle").await;
    assert_eq!(bad, StatusCode::UNPROCESSABLE_ENTITY);
    let (unknown, _, _) = t.client().get_bytes("/api/public/v1/m/999999/facilities.csv").await;
    assert_eq!(unknown, StatusCode::NOT_FOUND);
    let page = t.client().get("/m/122173/map").await;
    assert!(page.body.contains("/api/public/v1/m/122173/facilities.csv"), "the map offers the download");
}

/// A name (or address) from an imported file that a spreadsheet would read as a formula
/// comes out of the CSV with a leading `'`; coordinates stay numbers.
async fn names_that_look_like_formulas_are_not_run_by_a_spreadsheet(db: &TestDb) {
    let t = TestApp::start(db).await;
    kashiwa(&t).await;
    let header = String::from_utf8_lossy(&fixture(CARE_CSV)).lines().next().unwrap_or_default().to_owned();
    let row = |no: u32, name: &str, address: &str, number: &str| {
        let name = name.replace('"', "\"\"");
        format!(
            "122173,{no},千葉県,柏市,\"{name}\",カナ,訪問看護,{address},,35.8676,139.9758,04-0000-0001,,0000000000000,\
             架空福祉会,{number},月～金,,0,,,,,合成データ"
        )
    };
    let file = [
        header,
        row(1, "=HYPERLINK(\"http://x\")", "千葉県柏市見本町１－２－３", "1260000101"),
        row(2, "@SUM(1+1)", "千葉県柏市見本町２", "1260000102"),
        row(3, "+81 訪問看護", "=1+2 千葉県柏市", "1260000103"),
    ]
    .join("\r\n");
    import(&t, "122173", Source::CareOffices, "formulas.csv", file.as_bytes()).await;
    let (status, _, bytes) = t.client().get_bytes("/api/public/v1/m/122173/facilities.csv").await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap_or_else(|e| panic!("{e}"))).collect();
    let names: Vec<&str> = rows.iter().map(|r| &r[2]).collect();
    for expected in ["'=HYPERLINK(\"http://x\")", "'@SUM(1+1)", "'+81 訪問看護"] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert!(rows.iter().any(|r| &r[4] == "'=1+2 千葉県柏市"), "the address too");
    assert!(rows.iter().all(|r| !r.iter().any(|cell| cell.starts_with(['=', '+', '-', '@']))));
    assert!(rows.iter().all(|r| &r[7] == "35.8676"), "coordinates are left as numbers");
}

/// ステーション in the furigana: found by hiragana with ー, half-width ｰ, or with spaces.
async fn furigana_with_a_long_vowel_mark_is_found_however_typed(db: &TestDb) {
    let t = kashiwa_with_registry(db).await;
    for typed in ["すてーしょんさくら", "ｽﾃｰｼｮﾝｻｸﾗ", "すてーしょん　さくら"] {
        let list = public_json(&t, &format!("/api/public/v1/m/122173/facilities?name={}", q(typed))).await;
        let found = names(&list);
        assert!(found.iter().any(|n| n.contains("さくら")), "{typed}: {found:?}");
    }
}

/// "Nearest first" answered from the in-memory nearby index gives exactly
/// what SQL gives (same facilities, order, distances and pages), and a
/// registry change is seen at once, before and after the index is rebuilt.
async fn nearest_first_from_memory_gives_what_sql_gives_and_follows_changes(db: &TestDb) {
    use tsunagu_app::public_map::{PublicQuery, PublicQueryForm};
    let t = kashiwa_with_registry(db).await;
    let sql_only = tsunagu_app::App::new(
        t.store.clone(),
        std::sync::Arc::new(t.clock.clone()),
        tsunagu_app::Settings { public_cache: std::time::Duration::ZERO, ..tsunagu_app::Settings::default() },
    );
    let ask = |kind: &'static str,
               service: &'static str,
               accepting: &'static str,
               area: &'static str,
               page: &'static str| {
        move |lat: &str, lng: &str| {
            let form =
                PublicQueryForm { kind, service, accepting, area, page, lat, lng, limit: "2", ..Default::default() };
            PublicQuery::parse(&form, 20).unwrap_or_else(|e| panic!("{e}"))
        }
    };
    let queries = [
        ask("", "", "", "", ""),
        ask("", "", "", "", "2"),
        ask("home_nursing_station", "", "", "", ""),
        ask("", "", "", "豊四季", ""),
        ask("", "ventilator", "yes", "", ""),
    ];
    let points = [("35.8676", "139.9758"), ("35.90", "139.93"), ("35.80", "140.05"), ("43.06", "141.35")];
    let compare = |label: &'static str| {
        let (t, sql_only) = (&t, &sql_only);
        let queries = &queries;
        async move {
            assert!(t.app.nearby_index_size("122173").is_some(), "{label}: the index is fresh");
            for query in queries {
                for (lat, lng) in points {
                    let q = query(lat, lng);
                    let from_memory = t.app.public_facilities("122173", &q).await.unwrap_or_else(|e| panic!("{e}"));
                    let from_sql = sql_only.public_facilities("122173", &q).await.unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!(from_memory, from_sql, "{label}: {q:?}");
                }
            }
        }
    };
    assert_eq!(t.app.nearby_index_size("122173"), None, "built only when wanted");
    t.app.prepare_nearby_index("122173").await.unwrap_or_else(|e| panic!("{e}"));
    let every = PublicQueryForm { lat: "35.8676", lng: "139.9758", limit: "2000", ..Default::default() };
    let every = PublicQuery::parse(&every, 20).unwrap_or_else(|e| panic!("{e}"));
    let located = sql_only.public_facilities("122173", &every).await.map(|l| l.facilities.len()).ok();
    assert_eq!(t.app.nearby_index_size("122173"), located, "every located open facility");
    compare("as imported").await;

    // A facility admin says さくら takes new patients and has a ventilator:
    // the index is forgotten at once, the answer (from SQL meanwhile) says so.
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let sakura = id_of(&t, "122173", "さくら").await;
    let page = format!("/admin/facilities/{sakura}");
    let saved =
        admin.submit(&page, &format!("{page}/profile"), &[("services", "ventilator"), ("accepting", "yes")]).await;
    assert!(saved.redirects_to(&page), "{} {}", saved.status, saved.body);
    assert_eq!(t.app.nearby_index_size("122173"), None, "a registry write forgets the index");
    let accepting = queries[4]("35.8676", "139.9758");
    let seen = |list: tsunagu_app::public_map::PublicList| list.facilities.iter().any(|f| f.id.to_string() == sakura);
    assert_eq!(t.app.public_facilities("122173", &accepting).await.map(seen).ok(), Some(true));
    t.app.prepare_nearby_index("122173").await.unwrap_or_else(|e| panic!("{e}"));
    compare("after the change").await;
    assert_eq!(t.app.public_facilities("122173", &accepting).await.map(seen).ok(), Some(true));
}
