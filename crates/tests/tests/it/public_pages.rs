//! The public pages (item キ), on both databases: the municipality writes
//! articles (Markdown, sanitised; drafts unseen), announces, changes and
//! cancels events, and enters figures; citizens read them without signing in;
//! the figures come from the registry and the patients' outcomes where the
//! system covers the period, small counts of people withheld; only the
//! municipality's admins and coordinators write, only their own pages, and
//! every write is audited.

use crate::admin::{kashiwa, municipality};
use crate::helpers::{Client, Reply, TestApp, TestDb};
use axum::http::StatusCode;
use serde_json::Value;
use tsunagu_domain::clock::Clock;
use tsunagu_domain::public_pages::FiscalYear;
use tsunagu_import::Source;

crate::on_both_databases!(
    articles_are_written_by_the_city_and_read_by_anyone_once_published,
    events_are_announced_changed_and_cancelled,
    figures_come_from_the_systems_data_or_the_citys_statistics,
    only_the_municipality_writes_its_pages,
);

async fn city_admin(t: &TestApp) -> Client {
    kashiwa(t).await;
    t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await.0
}

fn json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

/// The id at the end of the first link to `prefix` in a page.
fn first_id(body: &str, prefix: &str) -> String {
    body.split(prefix).nth(1).and_then(|s| s.split(['"', '#', '?']).next()).unwrap_or_default().to_owned()
}

async fn audit_count(t: &TestApp, action: &str) -> usize {
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let m = tx.municipality_by_code("122173").await.unwrap_or_else(|e| panic!("{e}")).map(|m| m.id);
    let events = tx.recent_audit_events(m.unwrap_or_default(), 1_000).await.unwrap_or_else(|e| panic!("{e}"));
    events.iter().filter(|e| e.action == action).count()
}

async fn articles_are_written_by_the_city_and_read_by_anyone_once_published(db: &TestDb) {
    let t = TestApp::start(db).await;
    let mut admin = city_admin(&t).await;
    let mut citizen = t.client();

    // A draft: not on the public pages, its address "not found".
    let body = "# 在宅医療とは\n\n通院が難しくなっても、**自宅で**医療を受けられます。\n\n<script>alert('x')</script>\n\n[危ないリンク](javascript:alert(1)) [市のサイト](https://www.city.kashiwa.lg.jp/)";
    let draft = admin
        .submit("/admin/public", "/admin/public/articles", &[("title", "在宅医療を知っていますか"), ("body", body)])
        .await;
    assert!(draft.redirects_to("/admin/public"), "{} {}", draft.status, draft.body);
    let listing = admin.get("/admin/public").await;
    assert!(listing.body.contains("在宅医療を知っていますか") && listing.body.contains("下書き"), "{}", listing.body);
    let id = first_id(&listing.body, "/admin/public/articles/");
    assert!(!citizen.get("/m/122173").await.body.contains("在宅医療を知っていますか"));
    assert_eq!(citizen.get(&format!("/m/122173/articles/{id}")).await.status, StatusCode::NOT_FOUND);

    // Published: listed on the home page, rendered, with raw HTML and bad links made harmless.
    let edit = format!("/admin/public/articles/{id}");
    let published = admin
        .submit(&edit, &edit, &[("title", "在宅医療を知っていますか"), ("body", body), ("published", "yes")])
        .await;
    assert!(published.redirects_to("/admin/public"), "{} {}", published.status, published.body);
    let home = citizen.get("/m/122173").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains(&format!("/m/122173/articles/{id}")), "{}", home.body);
    let page = citizen.get(&format!("/m/122173/articles/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h2>在宅医療とは</h2>"), "{}", page.body);
    assert!(page.body.contains("<strong>自宅で</strong>"));
    assert!(page.body.contains("&lt;script&gt;alert") && !page.body.contains("<script>alert"), "{}", page.body);
    assert!(!page.body.contains("javascript:"), "{}", page.body);
    assert!(page.body.contains("<a href=\"https://www.city.kashiwa.lg.jp/\">市のサイト</a>"));
    let all = citizen.get("/m/122173/articles").await;
    assert!(all.body.contains("在宅医療を知っていますか"));

    // A correction keeps the first publication date; an empty title is refused and changes nothing.
    let refused = admin.submit(&edit, &edit, &[("title", " "), ("body", "本文"), ("published", "yes")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("題名"), "{}", refused.body);
    assert!(citizen.get(&format!("/m/122173/articles/{id}")).await.body.contains("在宅医療を知っていますか"));
    let corrected = admin
        .submit(&edit, &edit, &[("title", "在宅医療を知っていますか（改訂）"), ("body", body), ("published", "yes")])
        .await;
    assert!(corrected.redirects_to("/admin/public"));
    assert!(citizen.get(&format!("/m/122173/articles/{id}")).await.body.contains("（改訂）"));

    // Withdrawn: gone again.
    let withdrawn = admin.submit(&edit, &edit, &[("title", "在宅医療を知っていますか"), ("body", body)]).await;
    assert!(withdrawn.redirects_to("/admin/public"));
    assert_eq!(citizen.get(&format!("/m/122173/articles/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(audit_count(&t, "article_saved").await, 4, "each save is audited, the refused one not");
    // An unknown municipality has no pages.
    assert_eq!(citizen.get("/m/999999").await.status, StatusCode::NOT_FOUND);
}

async fn events_are_announced_changed_and_cancelled(db: &TestDb) {
    let t = TestApp::start(db).await;
    let mut admin = city_admin(&t).await;
    let mut citizen = t.client();
    let today = t.clock.now().to_offset(tsunagu_domain::clock::JST).date();
    let next_week = (today + time::Duration::days(7)).to_string();
    let last_week = (today - time::Duration::days(7)).to_string();

    let event = [
        ("title", "在宅医療市民講座「家で最期まで」"),
        ("date", next_week.as_str()),
        ("starts", "13:30"),
        ("ends", "15:00"),
        ("place", "柏市役所 本庁舎 5階"),
        ("description", "申込は不要です。\n\n- 講師: 在宅医\n- 定員: 80名"),
    ];
    let created = admin.submit("/admin/public", "/admin/public/events", &event).await;
    assert!(created.redirects_to("/admin/public"), "{} {}", created.status, created.body);
    let past = [
        ("title", "先月の相談会"),
        ("date", last_week.as_str()),
        ("starts", "10:00"),
        ("ends", ""),
        ("place", "沼南庁舎"),
        ("description", ""),
    ];
    assert!(admin.submit("/admin/public", "/admin/public/events", &past).await.redirects_to("/admin/public"));

    // Bad times are refused, nothing added.
    for (field, value) in [("ends", "13:00"), ("starts", "25:00"), ("date", "来週"), ("place", "")] {
        let bad: Vec<(&str, &str)> = event.iter().map(|(k, v)| (*k, if *k == field { value } else { *v })).collect();
        let reply = admin.submit("/admin/public", "/admin/public/events", &bad).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}");
    }

    let home = citizen.get("/m/122173").await;
    assert!(home.body.contains("在宅医療市民講座「家で最期まで」"), "{}", home.body);
    assert!(home.body.contains("13:30〜15:00") && home.body.contains("柏市役所 本庁舎 5階"));
    assert!(home.body.contains("<li>講師: 在宅医</li>"), "the description is Markdown");
    assert!(!home.body.contains("先月の相談会"), "the home page shows what is coming");
    let events = citizen.get("/m/122173/events").await;
    assert!(events.body.contains("先月の相談会") && events.body.contains("終了した催し"));
    let api = json(&citizen.get("/api/public/v1/m/122173/events").await);
    assert_eq!(api["upcoming"].as_array().map(Vec::len), Some(1), "{api}");
    assert_eq!(api["upcoming"][0]["starts_at"], format!("{next_week}T13:30:00+09:00"));
    assert_eq!(api["upcoming"][0]["cancelled"], false);

    // Changed, then cancelled: still listed, marked 中止.
    let listing = admin.get("/admin/public").await;
    let id = first_id(&listing.body, "/admin/public/events/");
    let edit = format!("/admin/public/events/{id}");
    let moved: Vec<(&str, &str)> = event.iter().map(|(k, v)| (*k, if *k == "starts" { "14:00" } else { *v })).collect();
    assert!(admin.submit(&edit, &edit, &moved).await.redirects_to("/admin/public"));
    assert!(citizen.get("/m/122173").await.body.contains("14:00〜15:00"));
    let cancelled = admin.submit(&edit, &format!("{edit}/cancellation"), &[]).await;
    assert!(cancelled.redirects_to("/admin/public"), "{} {}", cancelled.status, cancelled.body);
    let home = citizen.get("/m/122173").await;
    assert!(home.body.contains("badge cancelled") && home.body.contains("在宅医療市民講座"), "{}", home.body);
    assert_eq!(json(&citizen.get("/api/public/v1/m/122173/events").await)["upcoming"][0]["cancelled"], true);
    assert_eq!(audit_count(&t, "public_event_saved").await, 4);
}

async fn figures_come_from_the_systems_data_or_the_citys_statistics(db: &TestDb) {
    let t = TestApp::start(db).await;
    let mut admin = city_admin(&t).await;
    let mut citizen = t.client();
    // Nothing yet.
    assert!(citizen.get("/m/122173").await.body.contains("まだ数値がありません"));

    // The registry: the real 届出受理医療機関名簿 excerpt (support clinics and hospitals).
    let path = format!("{}/../import/tests/fixtures/todokede_juri_ika_synthetic.csv", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let report = t
        .app
        .import_registry_from_shell(Some("122173"), Source::FacilityStandards, "standards.csv", &bytes)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.imported_anything());
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let m = tx.municipality_by_code("122173").await.ok().flatten().map(|m| m.id).unwrap_or_default();
    let today = t.clock.now().to_offset(tsunagu_domain::clock::JST).date();
    let at = t.clock.now();
    let clinics = tx.count_flagged_on(m, "home_care_support_clinic", today, at).await.unwrap_or_else(|e| panic!("{e}"));
    let hospitals = tx.count_flagged_on(m, "home_care_support_hospital", today, at).await.unwrap_or_default();
    drop(tx);
    assert!(clinics > 0 && hospitals > 0, "the excerpt has support clinics and hospitals");

    // Two patients end their care at home this year: a count of people under 5, withheld.
    let (mut nurse, _) = t.signed_in("kashiwa.nurse", Some("122173"), "nurse", &[], None).await;
    for name in ["一郎", "二郎"] {
        let patient =
            crate::patients::register(&mut nurse, &[crate::patients::PATIENT, &[("given_name", name)]].concat()).await;
        crate::patients::consent(&mut nurse, &patient).await;
        let page = format!("/patients/{patient}");
        let ended = nurse
            .submit(
                &page,
                &format!("{page}/status"),
                &[("status", "ended"), ("outcome", "home_death"), ("outcome_date", &today.to_string())],
            )
            .await;
        assert!(ended.redirects_to(&page), "{} {}", ended.status, ended.body);
    }

    let figures = json(&citizen.get("/api/public/v1/m/122173/figures").await);
    let now = &figures["lines"][0];
    assert_eq!(now["period"], "now");
    let cell = |line: &Value, metric: &str| {
        line["figures"].as_array().into_iter().flatten().find(|f| f["metric"] == metric).cloned().unwrap_or_default()
    };
    assert_eq!(cell(now, "home_care_support_clinics")["value"].as_i64(), Some(clinics), "{figures}");
    assert_eq!(cell(now, "home_care_support_clinics")["source"], "own");
    assert_eq!(cell(now, "home_care_support_hospitals")["value"].as_i64(), Some(hospitals));
    let deaths = cell(now, "home_deaths");
    assert_eq!((deaths["value"].as_i64(), deaths["fewer_than"].as_i64()), (None, Some(5)), "{deaths}");
    assert_eq!(deaths["partial"], true, "the year is under way");
    let home = citizen.get("/m/122173").await;
    assert!(home.body.contains("5未満†"), "{}", home.body);
    assert!(!home.body.contains("一郎") && !home.body.contains("二郎"), "no patient on a public page");

    // The city's statistics for a year before the system: shown, marked; bad entries refused.
    let fy2016 = [("metric", "home_care_support_clinics"), ("year", "平成28"), ("value", "24"), ("note", "市の調べ")];
    let entered = admin.submit("/admin/public", "/admin/public/figures", &fy2016).await;
    assert!(entered.redirects_to("/admin/public"), "{} {}", entered.status, entered.body);
    for bad in [("year", "来年度"), ("value", "-3"), ("value", "たくさん"), ("metric", "happiness")] {
        let form: Vec<(&str, &str)> = fy2016.iter().map(|(k, v)| (*k, if *k == bad.0 { bad.1 } else { *v })).collect();
        let reply = admin.submit("/admin/public", "/admin/public/figures", &form).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    }
    let this_year = FiscalYear::of(today);
    let figures = json(&citizen.get("/api/public/v1/m/122173/figures").await);
    let lines = figures["lines"].as_array().cloned().unwrap_or_default();
    let fy = |year: i32| lines.iter().find(|l| l["period"] == "year" && l["fiscal_year"] == year).cloned();
    let line_2016 = fy(2016).unwrap_or_else(|| panic!("2016 is shown: {figures}"));
    assert_eq!(cell(&line_2016, "home_care_support_clinics")["value"].as_i64(), Some(24));
    assert_eq!(cell(&line_2016, "home_care_support_clinics")["source"], "entered");
    assert!(cell(&line_2016, "home_deaths")["source"].is_null(), "nothing known of 2016's deaths");
    assert!(lines.len() as i32 <= tsunagu_app::public_pages::FIGURE_YEARS + 1);
    assert!(fy(2017).is_none(), "a year nothing is known of is left out");
    let home = citizen.get("/m/122173").await;
    assert!(home.body.contains("平成28年度") && home.body.contains("24*") && home.body.contains("市の調べ"));

    // The city's count for this year's deaths beats the system's partial one.
    let year = this_year.0.to_string();
    let ours = [("metric", "home_deaths"), ("year", year.as_str()), ("value", "41"), ("note", "人口動態統計")];
    assert!(admin.submit("/admin/public", "/admin/public/figures", &ours).await.redirects_to("/admin/public"));
    let figures = json(&citizen.get("/api/public/v1/m/122173/figures").await);
    assert_eq!(cell(&figures["lines"][0], "home_deaths")["value"].as_i64(), Some(41));
    let removed = admin
        .submit("/admin/public", "/admin/public/figures/removal", &[("metric", "home_deaths"), ("year", &year)])
        .await;
    assert!(removed.redirects_to("/admin/public"));
    let figures = json(&citizen.get("/api/public/v1/m/122173/figures").await);
    assert_eq!(cell(&figures["lines"][0], "home_deaths")["fewer_than"].as_i64(), Some(5));

    // A year and a half on, the year that began after the import is the system's own, whole.
    t.clock.advance(time::Duration::days(550));
    let later = t.clock.now().to_offset(tsunagu_domain::clock::JST).date();
    let complete_year = FiscalYear(FiscalYear::of(later).0 - 1);
    let figures = json(&citizen.get("/api/public/v1/m/122173/figures").await);
    let lines = figures["lines"].as_array().cloned().unwrap_or_default();
    let line = lines
        .iter()
        .find(|l| l["fiscal_year"] == complete_year.0 && l["period"] == "year")
        .cloned()
        .unwrap_or_default();
    assert_eq!(cell(&line, "home_care_support_clinics")["value"].as_i64(), Some(clinics), "{figures}");
    assert_eq!(cell(&line, "home_care_support_clinics")["partial"], false);
    let deaths = cell(&line, "home_deaths");
    assert_eq!((deaths["value"].as_i64(), deaths["partial"].as_bool()), (Some(0), Some(false)), "{deaths}");
    assert_eq!(audit_count(&t, "figure_entered").await, 3);
}

async fn only_the_municipality_writes_its_pages(db: &TestDb) {
    let t = TestApp::start(db).await;
    let mut admin = city_admin(&t).await;
    municipality(&t, "122203", "流山市").await;
    let article = [("title", "柏市からのお知らせ"), ("body", "本文"), ("published", "yes")];
    assert!(admin.submit("/admin/public", "/admin/public/articles", &article).await.redirects_to("/admin/public"));
    let id = first_id(&admin.get("/admin/public").await.body, "/admin/public/articles/");

    // The coordination centre writes too.
    let (mut coordinator, _) =
        t.signed_in("kashiwa.center", Some("122173"), "municipal_officer", &["coordinator"], None).await;
    assert_eq!(coordinator.get("/admin/public").await.status, StatusCode::OK);
    // A professional does not; another municipality's admin writes its own pages, never Kashiwa's.
    let (mut nurse, _) = t.signed_in("kashiwa.nurse", Some("122173"), "nurse", &[], None).await;
    assert_eq!(nurse.get("/admin/public").await.status, StatusCode::FORBIDDEN);
    let refused = nurse.submit("/home", "/admin/public/articles", &article).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let (mut other, _) =
        t.signed_in("nagareyama.admin", Some("122203"), "municipal_officer", &["municipality_admin"], None).await;
    let theirs = other.get("/admin/public").await;
    assert!(theirs.body.contains("流山市") && !theirs.body.contains("柏市からのお知らせ"), "{}", theirs.body);
    let edit = format!("/admin/public/articles/{id}");
    assert_eq!(other.get(&edit).await.status, StatusCode::NOT_FOUND);
    let hijack =
        other.submit("/admin/public", &edit, &[("title", "乗っ取り"), ("body", "x"), ("published", "yes")]).await;
    assert_eq!(hijack.status, StatusCode::NOT_FOUND);
    // Kashiwa's article is not Nagareyama's.
    assert_eq!(t.client().get(&format!("/m/122203/articles/{id}")).await.status, StatusCode::NOT_FOUND);
    assert!(t.client().get(&format!("/m/122173/articles/{id}")).await.body.contains("柏市からのお知らせ"));
    // Without a session: sign in first.
    let anonymous = t.client().send("GET", "/admin/public", &[]).await;
    assert!(anonymous.status.is_redirection() || anonymous.status == StatusCode::UNAUTHORIZED, "{}", anonymous.status);
}
