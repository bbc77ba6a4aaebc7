//! Importing government open data into the registry, on both databases: the
//! real 届出受理医療機関名簿 excerpt (CSV and xlsx give the same facilities),
//! idempotent re-imports, flags that end without losing their history,
//! closing what a newer file no longer lists, bad rows rejected one by one,
//! whole files refused when they are not what they claim, Shift_JIS accepted,
//! other municipalities' rows left alone.

use crate::admin::{facility, kashiwa, municipality};
use crate::helpers::{TestApp, TestDb};
use time::OffsetDateTime;
use tsunagu_app::registry::ImportReport;
use tsunagu_domain::ids::MunicipalityId;
use tsunagu_import::Source;

crate::on_both_databases!(
    the_notification_list_imports_once_and_keeps_its_history,
    care_offices_are_updated_closed_and_rejected_row_by_row,
    files_that_are_not_what_they_claim_import_nothing,
    admins_preview_then_apply_an_import_in_the_browser,
    an_unreadable_workbook_is_refused_with_a_reason_and_imports_nothing,
    a_facility_keeps_its_own_profile_current_with_history,
    the_two_medical_lists_make_one_facility_of_the_same_clinic,
);

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../import/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const STANDARDS_CSV: &str = "todokede_juri_ika_synthetic.csv";
const STANDARDS_XLSX: &str = "todokede_juri_ika_synthetic.xlsx";
const CARE_CSV: &str = "jigyosho_130_synthetic.csv";

async fn import(t: &TestApp, source: Source, name: &str, bytes: &[u8]) -> ImportReport {
    t.app
        .import_registry_from_shell(Some("122173"), source, name, bytes)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

async fn registry(t: &TestApp, m: MunicipalityId) -> Vec<tsunagu_store::RegistryFacility> {
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    tx.registry_facilities(m.0).await.unwrap_or_else(|e| panic!("{e}"))
}

/// Facilities holding a flag that starts with `prefix` on a day.
async fn flagged_on(t: &TestApp, m: MunicipalityId, prefix: &str, day: time::Date) -> i64 {
    let end = day.next_day().unwrap_or(day).midnight().assume_utc();
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    tx.count_flagged_on(m.0, prefix, day, end).await.unwrap_or_else(|e| panic!("{e}"))
}

fn today(t: &TestApp) -> time::Date {
    tsunagu_domain::clock::Clock::now(&t.clock).date()
}

async fn the_notification_list_imports_once_and_keeps_its_history(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let csv = fixture(STANDARDS_CSV);
    let first = import(&t, Source::FacilityStandards, STANDARDS_CSV, &csv).await;
    assert_eq!(first.refused, None);
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    // 23 rows (22 notifications) of 9 medical institutions, all in 柏市.
    assert_eq!((first.added, first.updated, first.unchanged, first.elsewhere), (9, 0, 0, 0), "{first:?}");
    let facilities = registry(&t, m).await;
    assert_eq!(facilities.len(), 9);
    let fukamachi = facilities.iter().find(|f| f.medical_institution_code.as_deref() == Some("1212190023"));
    let fukamachi = fukamachi.unwrap_or_else(|| panic!("見本台病院 by its 10-digit code: {facilities:?}"));
    assert_eq!(fukamachi.kind, "hospital", "it has beds");
    assert!(fukamachi.address.starts_with("千葉県柏市"), "{}", fukamachi.address);

    // 在宅療養支援診療所 (支援診２ since 2016-09, 支援診３ ...), counted on a day.
    let now = today(&t);
    let clinics_now = flagged_on(&t, m, "home_care_support_clinic", now).await;
    assert!(clinics_now >= 2, "{clinics_now}");
    let hospitals = flagged_on(&t, m, "home_care_support_hospital", now).await;
    assert!(hospitals >= 2, "見本台病院 and one more hold 支援病３: {hospitals}");
    let in_2005 = flagged_on(&t, m, "home_care_support_clinic", time::macros::date!(2005 - 04 - 01)).await;
    assert!(in_2005 < clinics_now, "flags start on their 算定開始年月日");

    // Importing the same list again changes nothing; the xlsx holds the same rows.
    let again = import(&t, Source::FacilityStandards, STANDARDS_CSV, &csv).await;
    assert_eq!((again.added, again.updated, again.unchanged, again.closed), (0, 0, 9, 0), "{again:?}");
    let xlsx = import(&t, Source::FacilityStandards, STANDARDS_XLSX, &fixture(STANDARDS_XLSX)).await;
    assert_eq!(xlsx.encoding, "xlsx");
    assert_eq!((xlsx.added, xlsx.updated, xlsx.unchanged), (0, 0, 9), "{xlsx:?}");
    assert_eq!(registry(&t, m).await.len(), 9, "never duplicated");

    // A newer list without 見本西医院's 支援診３: the flag ends, the clinic stays,
    // and the count for a past day is unchanged (the history is kept).
    let text = String::from_utf8(csv.clone()).unwrap_or_else(|e| panic!("{e}"));
    let newer: String =
        text.lines().filter(|l| !(l.contains("2190049") && l.contains("支援診"))).map(|l| format!("{l}\r\n")).collect();
    let before = flagged_on(&t, m, "home_care_support_clinic", now).await;
    t.clock.advance(time::Duration::days(1));
    let changed = import(&t, Source::FacilityStandards, "newer.csv", newer.as_bytes()).await;
    assert_eq!((changed.added, changed.updated, changed.unchanged), (0, 1, 8), "{changed:?}");
    let tomorrow = today(&t);
    assert_eq!(flagged_on(&t, m, "home_care_support_clinic", tomorrow).await, before - 1);
    assert_eq!(flagged_on(&t, m, "home_care_support_clinic", now).await, before, "yesterday is not rewritten");
    let tomita =
        registry(&t, m).await.into_iter().find(|f| f.medical_institution_code.as_deref() == Some("1212190049"));
    let tomita = tomita.unwrap_or_else(|| panic!("見本西医院"));
    assert!(tomita.closed_at.is_none());
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let history = tx.facility_history(tomita.id).await.unwrap_or_else(|e| panic!("{e}"));
    let changes: Vec<&str> = history.iter().map(|h| h.change.as_str()).collect();
    assert_eq!(changes, vec!["added", "flags"], "every change is kept");
    assert!(history[0].snapshot.contains("home_care_support_clinic_3"), "{}", history[0].snapshot);
    assert!(!history[1].snapshot.contains("home_care_support_clinic"), "{}", history[1].snapshot);
    // Each import is recorded and audited.
    let events = tx.recent_audit_events(m.0, 50).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(events.iter().filter(|e| e.action == "facilities_imported").count(), 4);
}

async fn care_offices_are_updated_closed_and_rejected_row_by_row(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let _ = municipality(&t, "122041", "船橋市").await;
    let csv = fixture(CARE_CSV);
    let first = import(&t, Source::CareOffices, CARE_CSV, &csv).await;
    assert_eq!(first.refused, None);
    // The row without a name is rejected with its line; the others are imported.
    let nameless = first.rejected.iter().find(|r| r.source_id.as_deref() == Some("1260000003"));
    let nameless = nameless.unwrap_or_else(|| panic!("{:?}", first.rejected));
    assert_eq!(nameless.line, 4, "the header is line 1");
    assert!(!nameless.message.is_empty());
    assert!(first.added >= 3, "{first:?}");
    let offices = registry(&t, m).await;
    assert_eq!(offices.len(), first.added);
    let sakura = offices.iter().find(|f| f.care_provider_number.as_deref() == Some("1260000001"));
    let sakura = sakura.unwrap_or_else(|| panic!("{offices:?}"));
    assert_eq!(sakura.kind, "home_nursing_station");
    assert_eq!(sakura.name, "架空訪問看護ステーションさくら（サンプル）", "trimmed");
    assert!(sakura.address.contains("見本ビル２階"), "方書 is part of the address: {}", sakura.address);
    let momiji = offices.iter().find(|f| f.care_provider_number.as_deref() == Some("1270000002"));
    let momiji = momiji.unwrap_or_else(|| panic!("{offices:?}"));
    assert_eq!((momiji.latitude, momiji.longitude), (None, None), "a coordinate of 0 means none");

    // The same file again: nothing new. Shift_JIS of the same rows: the same.
    let again = import(&t, Source::CareOffices, CARE_CSV, &csv).await;
    assert_eq!((again.added, again.updated, again.closed), (0, 0, 0), "{again:?}");
    let text = String::from_utf8(csv.clone()).unwrap_or_else(|e| panic!("{e}"));
    let (sjis, _, lossy) = encoding_rs::SHIFT_JIS.encode(text.trim_start_matches('\u{feff}'));
    assert!(!lossy);
    let from_sjis = import(&t, Source::CareOffices, "sjis.csv", &sjis).await;
    assert_eq!(from_sjis.encoding, "Shift_JIS");
    assert_eq!((from_sjis.added, from_sjis.updated), (0, 0), "{from_sjis:?}");

    // A newer file: さくら is gone and あおい opened (both 訪問看護), and one
    // other office has a new phone. さくら is closed (kept, not deleted).
    let aoi = "122173,8,千葉県,柏市,架空訪問看護ステーションあおい（サンプル）,カクウホウモンカンゴステーションアオイ,\
               訪問看護,千葉県柏市見本町８－８－８,,35.861,139.971,04-0000-0008,,0000000000000,架空福祉会（サンプル）,\
               1260000009,月～金,,0,,,,,合成データ";
    let newer: String = text
        .lines()
        .filter(|l| !l.contains("1260000001"))
        .map(|l| l.replace("04-0000-0005", "04-0000-9999"))
        .chain(std::iter::once(aoi.to_owned()))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let changed = import(&t, Source::CareOffices, "newer.csv", newer.as_bytes()).await;
    assert_eq!((changed.added, changed.updated, changed.closed), (1, 1, 1), "{changed:?}");
    let offices = registry(&t, m).await;
    let sakura = offices.iter().find(|f| f.care_provider_number.as_deref() == Some("1260000001"));
    assert!(sakura.is_some_and(|f| f.closed_at.is_some()), "closed, not deleted");
    assert_eq!(offices.len(), first.added + 1, "nothing duplicated");
    // Back in a later file: reopened.
    let reopened = import(&t, Source::CareOffices, CARE_CSV, &csv).await;
    assert_eq!(
        (reopened.updated, reopened.closed),
        (2, 1),
        "さくら back, けやき's phone back, あおい gone: {reopened:?}"
    );
    let sakura = registry(&t, m).await.into_iter().find(|f| f.care_provider_number.as_deref() == Some("1260000001"));
    assert!(sakura.is_some_and(|f| f.closed_at.is_none()));

    // Rows of another municipality go to it only when imported there.
    let elsewhere = text.replace("122173,", "122041,").replace("柏市", "船橋市");
    let into_kashiwa = import(&t, Source::CareOffices, "funabashi.csv", elsewhere.as_bytes()).await;
    assert_eq!(into_kashiwa.added, 0);
    assert!(into_kashiwa.elsewhere >= 3, "{into_kashiwa:?}");
}

async fn files_that_are_not_what_they_claim_import_nothing(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let audit_before = {
        let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
        tx.recent_audit_events(m.0, 100).await.unwrap_or_else(|e| panic!("{e}")).len()
    };
    // The notification list given as care offices: the wrong columns.
    let wrong = import(&t, Source::CareOffices, STANDARDS_CSV, &fixture(STANDARDS_CSV)).await;
    let why = wrong.refused.clone().unwrap_or_else(|| panic!("accepted: {wrong:?}"));
    assert!(!why.is_empty());
    assert!(!wrong.imported_anything());
    // Bytes that are neither UTF-8 nor Shift_JIS, and a "spreadsheet" that is not one.
    let garbage: Vec<u8> = (0..600u32).map(|i| (i * 37 % 256) as u8).collect();
    assert!(import(&t, Source::CareOffices, "garbage.csv", &garbage).await.refused.is_some());
    assert!(import(&t, Source::FacilityStandards, "fake.xlsx", b"PK not really").await.refused.is_some());
    assert!(import(&t, Source::MedicalInstitutions, "empty.csv", b"").await.refused.is_some());
    // Nothing was written, not even an import record.
    assert!(registry(&t, m).await.is_empty());
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tx.recent_audit_events(m.0, 100).await.unwrap_or_else(|e| panic!("{e}")).len(), audit_before);
    let _ = OffsetDateTime::now_utc();
}

async fn admins_preview_then_apply_an_import_in_the_browser(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let (mut nurse, _) = t.signed_in("ns.plain", Some("122173"), "nurse", &[], None).await;
    let page = admin.get("/admin/imports").await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    let csrf = page.input_value("csrf").unwrap_or_default();
    let xlsx = fixture(STANDARDS_XLSX);
    let files: &[(&str, &str, &str, &[u8])] = &[("file", STANDARDS_XLSX, "application/octet-stream", &xlsx)];
    let preview =
        admin.send_multipart("/admin/imports", &[("csrf", &csrf), ("source", "facility_standards")], files).await;
    assert_eq!(preview.status, axum::http::StatusCode::OK, "{}", preview.body);
    let counts =
        preview.body.split("id=\"report-counts\"").nth(1).and_then(|r| r.split("</table>").next()).unwrap_or_default();
    assert!(counts.contains("<th>追加</th><td class=\"num\">9</td>"), "{counts}");
    assert!(registry(&t, m).await.is_empty(), "a preview changes nothing");
    let apply =
        preview.body.split("action=\"/admin/imports/").nth(1).and_then(|r| r.split('/').next()).unwrap_or_default();
    assert_eq!(apply.len(), 36, "{}", preview.body);
    // Only the uploader applies it.
    let (mut other, _) =
        t.signed_in("city.admin2", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let stolen = other.submit("/admin/imports", &format!("/admin/imports/{apply}/apply"), &[]).await;
    assert_eq!(stolen.status, axum::http::StatusCode::NOT_FOUND);
    let applied = admin.submit("/admin/imports", &format!("/admin/imports/{apply}/apply"), &[]).await;
    assert_eq!(applied.status, axum::http::StatusCode::OK, "{}", applied.body);
    assert!(applied.body.contains("反映しました"));
    assert_eq!(registry(&t, m).await.len(), 9);
    let runs = admin.get("/admin/imports").await.body;
    let runs = runs.split("id=\"import-runs\"").nth(1).and_then(|r| r.split("</ul>").next()).unwrap_or_default();
    assert!(runs.contains(STANDARDS_XLSX), "{runs}");
    // Applied once: the staged file is gone.
    let twice = admin.submit("/admin/imports", &format!("/admin/imports/{apply}/apply"), &[]).await;
    assert_eq!(twice.status, axum::http::StatusCode::NOT_FOUND);
    // The wrong kind of file: refused with the reason, nothing to apply.
    let csrf = admin.get("/admin/imports").await.input_value("csrf").unwrap_or_default();
    let wrong = admin.send_multipart("/admin/imports", &[("csrf", &csrf), ("source", "care_offices")], files).await;
    assert!(wrong.by_id("refused").is_some(), "{}", wrong.body);
    assert!(!wrong.body.contains("/apply"));
    // A professional without an admin role may not import.
    assert_eq!(nurse.get("/admin/imports").await.status, axum::http::StatusCode::FORBIDDEN);
    let csrf = nurse
        .get("/home")
        .await
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let refused =
        nurse.send_multipart("/admin/imports", &[("csrf", &csrf), ("source", "facility_standards")], files).await;
    assert_eq!(refused.status, axum::http::StatusCode::FORBIDDEN);
    assert_eq!(registry(&t, m).await.len(), 9);
}

/// Random bytes named .xlsx, a workbook cut short, a zip that is no workbook: each is
/// answered 422 with the reason in Japanese on the upload page, nothing staged or imported.
async fn an_unreadable_workbook_is_refused_with_a_reason_and_imports_nothing(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let random: Vec<u8> = (0..50_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let signed: Vec<u8> = b"PK\x03\x04".iter().chain(&random).copied().collect();
    let real = fixture(STANDARDS_XLSX);
    let cut = &real[..real.len() / 2];
    for (what, bytes) in [("random", &random[..]), ("zip signature", &signed[..]), ("cut short", cut)] {
        let csrf = admin.get("/admin/imports").await.input_value("csrf").unwrap_or_default();
        let files: &[(&str, &str, &str, &[u8])] = &[("file", "meibo.xlsx", "application/octet-stream", bytes)];
        let reply =
            admin.send_multipart("/admin/imports", &[("csrf", &csrf), ("source", "facility_standards")], files).await;
        assert_eq!(reply.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", reply.body);
        let why = reply.by_id("refused").unwrap_or_else(|| panic!("{what}: no reason: {}", reply.body));
        assert!(why.contains("Excel（.xlsx）ファイルとして読み取れません"), "{what}: {why}");
        assert!(!reply.body.contains("/apply"), "{what}: nothing to apply");
    }
    assert!(registry(&t, m).await.is_empty(), "nothing imported");
}

async fn a_facility_keeps_its_own_profile_current_with_history(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let station = facility(&mut admin, m, "home_nursing_station", "訪問看護ステーションつなぐ").await;
    let (mut manager, _) = t.signed_in("ns.manager", Some("122173"), "nurse", &["facility_admin"], Some(station)).await;
    let (mut staff, _) = t.signed_in("ns.staff", Some("122173"), "nurse", &[], Some(station)).await;
    let page = format!("/admin/facilities/{}", station.0);
    let action = format!("{page}/profile");
    let saved = manager
        .submit(
            &page,
            &action,
            &[
                ("services", "ventilator"),
                ("services", "home_death"),
                ("accepting", "yes"),
                ("opening_hours", "24時間"),
                ("contact_person", "管理者 田中"),
            ],
        )
        .await;
    assert!(saved.redirects_to(&page), "{} {}", saved.status, saved.body);
    let shown = manager.get(&page).await.body;
    assert!(shown.contains("人工呼吸器") && shown.contains("在宅看取り"), "{shown}");
    let accepting = manager.get(&page).await.by_id("accepting").unwrap_or_default();
    assert_eq!(accepting, "受け入れ可");
    assert!(shown.contains("時点"), "the answer is dated");
    // Bad input: a clear error, nothing changed.
    let bad = manager.submit(&page, &action, &[("services", "teleportation"), ("accepting", "no")]).await;
    assert_eq!(bad.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("一覧から選んで"), "{}", bad.body);
    assert!(manager.get(&page).await.by_id("accepting").unwrap_or_default().contains("受け入れ可"));
    // Staff without the admin role cannot change it.
    let refused = staff.submit(&page, &action, &[("accepting", "no")]).await;
    assert_eq!(refused.status, axum::http::StatusCode::FORBIDDEN);
    // Every change is in the history, the first being the registration.
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let history = tx.facility_history(station.0).await.unwrap_or_else(|e| panic!("{e}"));
    let changes: Vec<&str> = history.iter().map(|h| h.change.as_str()).collect();
    assert_eq!(changes, vec!["added", "profile"]);
    assert!(history[1].snapshot.contains("ventilator"));
}

/// 医療情報ネット has no 医療機関コード and the 厚生局 list no 医療情報ネット ID:
/// the same clinic in both is found by address and name, and the map shows it
/// once, with the code, the flags and the coordinates; a neighbour at the same
/// address stays a facility of its own.
async fn the_two_medical_lists_make_one_facility_of_the_same_clinic(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let standards = import(&t, Source::FacilityStandards, STANDARDS_CSV, &fixture(STANDARDS_CSV)).await;
    assert_eq!(standards.added, 9);
    // Two rows in the 医療情報ネット layout (synthetic, modelled on the excerpt's 見本西医院):
    // the clinic itself, written as that list writes it, and a dental clinic at the same address.
    let header = String::from_utf8(fixture("02-1_clinic_facility_info_synthetic.csv"))
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let columns = header.split(',').count();
    let row = |id: &str, name: &str, kind: &str, address: &str| {
        let mut fields = vec![
            format!("\"{id}\""),
            format!("\"{name}\""),
            "\"\"".to_owned(),
            "\"\"".to_owned(),
            "\"\"".to_owned(),
            "\"\"".to_owned(),
            format!("\"{kind}\""),
            "\"12\"".to_owned(),
            "\"217\"".to_owned(),
            format!("\"{address}\""),
            "35.8640".to_owned(),
            "139.9770".to_owned(),
        ];
        fields.resize(columns, "\"\"".to_owned());
        fields.join(",")
    };
    let file = format!(
        "{header}\r\n{}\r\n{}\r\n",
        row("1221799990001", "医療法人社団見本会 見本西医院（サンプル）", "2", "千葉県柏市試験町4丁目6番1号"),
        row("1221799990002", "柏駅前歯科（サンプル）", "3", "千葉県柏市試験町4丁目6番1号"),
    );
    let navi = import(&t, Source::MedicalInstitutions, "02-1_clinic_facility_info_20261101.csv", file.as_bytes()).await;
    assert!(navi.rejected.is_empty(), "{:?}", navi.rejected);
    assert_eq!((navi.added, navi.updated), (1, 1), "the clinic joined its 厚生局 entry; the dentist is new: {navi:?}");
    let facilities = registry(&t, m).await;
    assert_eq!(facilities.len(), 10);
    let tomita: Vec<_> = facilities.iter().filter(|f| f.name.contains("見本西医院")).collect();
    assert_eq!(tomita.len(), 1, "one 見本西医院 on the map: {tomita:?}");
    assert_eq!(tomita[0].medical_institution_code.as_deref(), Some("1212190049"));
    assert_eq!(
        (tomita[0].latitude, tomita[0].longitude),
        (Some(35.864), Some(139.977)),
        "coordinates from 医療情報ネット"
    );
    // Importing either list again changes nothing and duplicates nothing.
    let again =
        import(&t, Source::MedicalInstitutions, "02-1_clinic_facility_info_20261101.csv", file.as_bytes()).await;
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 2), "{again:?}");
    let standards = import(&t, Source::FacilityStandards, STANDARDS_CSV, &fixture(STANDARDS_CSV)).await;
    assert_eq!((standards.added, standards.updated), (0, 0), "{standards:?}");
    assert_eq!(registry(&t, m).await.len(), 10);
}
