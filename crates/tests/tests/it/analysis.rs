//! The analysts' export: those who run the programme download one row per
//! patient with consent in force, with nothing that names or locates anyone;
//! small groups lose their area; every download is audited; nobody else gets it.

use crate::helpers::TestDb;
use crate::patients::{PATIENT, Team, add, consent, post, register, team};
use axum::http::StatusCode;

crate::on_both_databases!(the_analysts_export_names_nobody);

async fn the_analysts_export_names_nobody(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let who = |i: usize| -> Vec<(&str, String)> {
        let mut fields: Vec<(&str, String)> = PATIENT.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        fields.retain(|(k, _)| *k != "family_name" && *k != "family_name_kana");
        fields.push(("family_name", format!("秘匿{i}")));
        fields.push(("family_name_kana", "ヒトク".to_owned()));
        fields.push(("phone", "04-7100-1234".to_owned()));
        fields.push(("key_person", "柏 太郎（長男）".to_owned()));
        fields.push(("main_diagnoses", "末期の膵がん".to_owned()));
        // Seven in 北部, one alone in 南部.
        fields.push(("daily_living_area", if i == 7 { "南部" } else { "北部" }.to_owned()));
        fields
    };
    let mut shared = Vec::new();
    for i in 0..8 {
        let fields = who(i);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let patient = register(&mut nurse, &fields).await;
        consent(&mut nurse, &patient).await;
        shared.push(patient);
    }
    add(&mut nurse, &shared[0], "dr.sato", "primary_physician").await;
    post(&mut nurse, &shared[0], &[("kind", "visit_record"), ("body", "訪問しました。本文は書き出さない")]).await;
    post(&mut doctor, &shared[0], &[("kind", "message"), ("body", "往診予定")]).await;
    // Not in the export: no consent yet, and consent withdrawn.
    let fields = who(8);
    let unconsented: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    register(&mut nurse, &unconsented).await;
    let page = format!("/patients/{}", shared[1]);
    let withdrawn = nurse.submit(&page, &format!("{page}/consent/withdraw"), &[("reason", "本人の希望")]).await;
    assert!(withdrawn.redirects_to(&page));

    let (mut admin, _) =
        t.signed_in("analyst.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let explained = admin.get("/admin/analysis").await;
    assert_eq!(explained.status, StatusCode::OK);
    assert!(explained.body.contains("含まれないもの") && explained.body.contains("5人未満"), "{}", explained.body);
    let (status, content_type, bytes) = admin.get_bytes("/admin/analysis.csv").await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/csv; charset=utf-8"));
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap_or_default();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().cloned().unwrap_or_default();
    let rows: Vec<csv::StringRecord> = reader.records().filter_map(Result::ok).collect();
    assert_eq!(rows.len(), 7, "eight with consent, one withdrawn; the unconsented one is not there");
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    for secret in
        ["秘匿", "花子", "ヒトク", "ハナコ", "1938", "柏1-1-1", "04-7100", "太郎", "膵がん", "ペニシリン", "本文"]
    {
        assert!(!text.contains(secret), "{secret} is in the export");
    }
    // Six women of 88 in 北部; the one alone in 南部 loses her area, and then (alone
    // in any band) her age band too.
    let shown: Vec<(&str, &str, &str)> =
        rows.iter().map(|r| (&r[column("年齢区分")], &r[column("性別")], &r[column("日常生活圏域")])).collect();
    assert_eq!(shown.iter().filter(|s| **s == ("85〜89歳", "女性", "北部")).count(), 6, "{shown:?}");
    assert_eq!(shown.iter().filter(|s| **s == ("非表示", "女性", "")).count(), 1, "{shown:?}");
    let busy = rows.iter().find(|r| &r[column("記録件数（訪問記録）")] == "1").unwrap_or_else(|| panic!("{text}"));
    assert_eq!(&busy[column("記録件数（連絡）")], "1");
    assert_eq!(&busy[column("ケアチームの職種")], "主治医・訪問看護");
    assert_eq!(&busy[column("同意の年月")], "2026-11");

    // The download is in the municipality's audit log.
    let municipality = {
        let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
        tx.municipality_by_code("122173").await.unwrap_or_else(|e| panic!("{e}")).map(|m| m.id).unwrap_or_default()
    };
    let log = admin.get(&format!("/admin/m/{municipality}/audit")).await;
    assert!(log.body.contains("分析用データ（個人を特定しない）を書き出し"), "{}", log.body);

    // Nobody else: professionals, another municipality's admin, the installation's operator.
    for client in [&mut nurse, &mut doctor] {
        assert_eq!(client.get("/admin/analysis.csv").await.status, StatusCode::FORBIDDEN);
        assert_eq!(client.get("/admin/analysis").await.status, StatusCode::FORBIDDEN);
    }
    crate::admin::municipality(&t, "122203", "流山市").await;
    let (mut other, _) =
        t.signed_in("n.admin", Some("122203"), "municipal_officer", &["municipality_admin"], None).await;
    let theirs = other.get("/admin/analysis.csv").await;
    assert_eq!(theirs.status, StatusCode::OK, "their own municipality's export: empty");
    assert!(!theirs.body.contains("北部") && theirs.body.lines().count() == 1, "{}", theirs.body);
    let (mut operator, _) = t.signed_in("root.op", None, "clerk", &["operator"], None).await;
    assert_eq!(operator.get("/admin/analysis.csv").await.status, StatusCode::FORBIDDEN);
}
