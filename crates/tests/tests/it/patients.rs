//! The care-team information-sharing system through HTTP: registering a
//! patient, consent, the team, the timeline, read receipts, corrections,
//! urgent entries, withdrawal, leaving, search. Both databases.

use crate::helpers::{Client, TestApp, TestDb};
use axum::http::StatusCode;

crate::on_both_databases!(
    a_patient_without_a_primary_physician_is_flagged_on_home,
    a_patient_is_shared_only_after_consent_and_only_with_the_team,
    posting_and_reading_leave_read_receipts_and_unread_counts,
    unread_is_counted_among_the_newest_entries_and_urgent_ones_always,
    impossible_input_is_refused_and_changes_nothing,
    corrections_are_new_versions_that_keep_the_original,
    urgent_entries_come_first_until_acknowledged,
    withdrawal_of_consent_makes_the_record_read_only,
    leaving_the_team_ends_access,
    a_removal_reaches_another_instance_within_its_look_up_time,
    patients_are_found_by_name_or_kana_in_any_width,
    every_look_at_a_patient_is_audited,
    reads_at_the_same_moment_each_leave_their_own_audit_event_and_receipts,
    advance_care_plans_keep_every_revision,
    ending_care_records_the_outcome,
    the_record_prints_for_a_chosen_period,
    periods_at_the_ends_of_the_calendar_are_refused_not_panicked_on,
    entries_are_searched_by_any_japanese_term,
    vital_signs_show_as_a_trend,
    mentions_urgent_entries_and_new_teams_are_notified,
    break_glass_opens_a_record_for_a_while_and_tells_the_team,
    family_members_see_what_is_shared_with_them_and_who_read_the_record,
    photos_are_checked_stored_and_shown_only_to_the_team,
    the_timeline_filters_by_profession_author_and_period,
    colleagues_are_found_by_login_name_or_kana_within_the_municipality,
    replies_are_threaded_under_the_entry_they_answer,
    a_scanned_consent_form_is_kept_with_the_consent,
    a_kept_timeline_shows_every_change_at_once,
);

/// A tiny JPEG-looking file (the magic number is what is checked).
pub const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x02, 0x03];

/// Posts an entry with one photo; returns (entry id, attachment id).
pub async fn post_with_photo(client: &mut Client, patient: &str, body: &str) -> (String, String) {
    let page = format!("/patients/{patient}");
    let csrf = client.get(&page).await.input_value("csrf").unwrap_or_default();
    let reply = client
        .send_multipart(
            &format!("{page}/entries"),
            &[("csrf", &csrf), ("kind", "visit_record"), ("body", body)],
            &[("attachment", "褥瘡.jpg", "image/jpeg", JPEG)],
        )
        .await;
    assert!(reply.redirects_to(&page), "{} {}", reply.status, reply.body);
    let entry = reply.location.unwrap_or_default().split("#e-").nth(1).unwrap_or_default().to_owned();
    let timeline = client.get(&page).await;
    let attachment =
        timeline.body.split("/attachments/").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned();
    (entry, attachment)
}

pub struct Team {
    pub t: TestApp,
    pub nurse: Client,
    pub doctor: Client,
    pub care_manager: Client,
}

/// Kashiwa with a nurse, a doctor and a care manager, all signed in.
pub async fn team(db: &TestDb) -> Team {
    let t = TestApp::start(db).await;
    let m = crate::admin::kashiwa(&t).await;
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let station = crate::admin::facility(&mut admin, m, "home_nursing_station", "訪問看護ステーションつなぐ").await;
    let clinic = crate::admin::facility(&mut admin, m, "clinic", "つなぐ在宅クリニック").await;
    let (nurse, _) = t.signed_in("ns.tanaka", Some("122173"), "nurse", &[], Some(station)).await;
    let (doctor, _) = t.signed_in("dr.sato", Some("122173"), "physician", &[], Some(clinic)).await;
    let (care_manager, _) = t.signed_in("cm.yamamoto", Some("122173"), "care_manager", &[], None).await;
    Team { t, nurse, doctor, care_manager }
}

pub const PATIENT: &[(&str, &str)] = &[
    ("family_name", "柏"),
    ("given_name", "花子"),
    ("family_name_kana", "カシワ"),
    ("given_name_kana", "ハナコ"),
    ("birth_date", "1938-04-01"),
    ("sex", "female"),
    ("address", "千葉県柏市柏1-1-1"),
    ("care_level", "care_3"),
    ("special_care", "home_oxygen"),
    ("allergies", "ペニシリン"),
    ("team_role", "visiting_nurse"),
];

/// Registers a patient as `client`; returns its id.
pub async fn register(client: &mut Client, fields: &[(&str, &str)]) -> String {
    let reply = client.submit("/patients/new", "/patients", fields).await;
    assert!(reply.redirects_to("/patients/"), "{} {}", reply.status, reply.body);
    let location = reply.location.unwrap_or_default();
    location.split('/').nth(2).and_then(|s| s.split('?').next()).unwrap_or_default().to_owned()
}

pub async fn consent(client: &mut Client, patient: &str) {
    let page = format!("/patients/{patient}");
    let reply = client
        .submit(
            &page,
            &format!("{page}/consent"),
            &[("given_on", "2026-11-01"), ("method", "written"), ("scope", "ケアチーム内での共有")],
        )
        .await;
    assert!(reply.redirects_to(&page), "{} {}", reply.status, reply.body);
}

pub async fn add(client: &mut Client, patient: &str, login: &str, role: &str) {
    let page = format!("/patients/{patient}");
    let reply = client
        .submit(&page, &format!("{page}/team"), &[("member", &format!("{login} — 名前")), ("team_role", role)])
        .await;
    assert!(reply.redirects_to(&page), "{} {}", reply.status, reply.body);
}

/// The primary physician (who may: docs/security.md) invites the patient's son
/// (`kashiwa.son`), who redeems the code and signs in; returns his client.
pub async fn invite_family(t: &crate::helpers::TestApp, physician: &mut Client, patient: &str) -> Client {
    let page = format!("/patients/{patient}");
    let invited = physician
        .submit(
            &page,
            &format!("{page}/family"),
            &[("login_id", "kashiwa.son"), ("name", "柏 一郎"), ("relation", "長男")],
        )
        .await;
    assert_eq!(invited.status, StatusCode::OK, "{}", invited.body);
    let code = invited.by_id("issued-code").unwrap_or_else(|| panic!("no invitation code: {}", invited.body));
    let mut family = t.client();
    family.redeem(&code, "kashiwa.son", crate::helpers::PASSWORD).await;
    family.sign_in_and_enrol(t, "kashiwa.son", crate::helpers::PASSWORD).await;
    family
}

/// Posts an entry; returns its id.
pub async fn post(client: &mut Client, patient: &str, fields: &[(&str, &str)]) -> String {
    let page = format!("/patients/{patient}");
    let reply = client.submit(&page, &format!("{page}/entries"), fields).await;
    assert!(reply.redirects_to(&page), "{} {}", reply.status, reply.body);
    reply.location.unwrap_or_default().split("#e-").nth(1).unwrap_or_default().to_owned()
}

/// A team without a primary physician (主治医) is flagged on every member's
/// home until one joins, and again once they leave.
async fn a_patient_without_a_primary_physician_is_flagged_on_home(db: &TestDb) {
    let Team { mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    let flagged = |body: &str| {
        let list = body.split("id=\"patient-list\"").nth(1).unwrap_or_default();
        list.contains("主治医が未登録")
    };
    assert!(flagged(&nurse.get("/home").await.body), "no primary physician yet");
    add(&mut nurse, &patient, "dr.sato", "backup_physician").await;
    assert!(flagged(&doctor.get("/home").await.body), "a backup physician is not the primary");
    add(&mut nurse, &patient, "cm.yamamoto", "care_manager").await;
    let page = format!("/patients/{patient}");
    let shown = nurse.get(&page).await.body;
    // Dr Sato leaves; the nurse makes him primary by adding him again.
    let leave = doctor.get(&page).await;
    let form = leave.body.split("/remove\"").next().unwrap_or_default();
    let action = format!("{}/remove", &form[form.rfind("action=\"").map_or(0, |i| i + 8)..]);
    assert!(doctor.submit(&page, &action, &[]).await.status.is_redirection(), "{action} {shown}");
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    assert!(!flagged(&nurse.get("/home").await.body), "the primary physician joined");
    assert!(!flagged(&doctor.get("/home").await.body));

    // The primary physician leaving is asked to confirm first; nothing changes until then.
    let leave = doctor.get(&page).await.body;
    let own = leave.split("チームから外れる").next().unwrap_or_default();
    let from = own.rfind("action=\"").map_or(0, |i| i + 8);
    let action = own[from..].split('"').next().unwrap_or_default().to_owned();
    let asked = doctor.submit(&page, &action, &[]).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked.body.contains("主治医をチームから外しますか？")
            && asked.body.contains("name=\"confirmed\" value=\"yes\"")
    );
    assert!(!flagged(&nurse.get("/home").await.body), "not removed before confirming");
    let confirmed = doctor.submit(&page, &action, &[("confirmed", "yes")]).await;
    assert!(confirmed.status.is_redirection(), "{} {}", confirmed.status, confirmed.body);
    assert!(flagged(&nurse.get("/home").await.body), "left without a primary physician, and flagged");
}

async fn a_patient_is_shared_only_after_consent_and_only_with_the_team(db: &TestDb) {
    let Team { mut nurse, mut doctor, mut care_manager, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    let page = format!("/patients/{patient}");
    let own = nurse.get(&page).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        own.body.contains("柏 花子")
            && own.body.contains("ペニシリン")
            && own.body.contains("まだ同意が記録されていません"),
        "{}",
        own.body
    );
    assert!(!own.body.contains("id=\"compose\""), "nothing can be posted before consent");
    let early = nurse.submit(&page, &format!("{page}/entries"), &[("kind", "message"), ("body", "同意前")]).await;
    assert_eq!(early.status, StatusCode::FORBIDDEN);

    consent(&mut nurse, &patient).await;
    assert!(nurse.get(&page).await.body.contains("id=\"compose\""));
    // Not on the team: the patient does not exist for them.
    assert_eq!(doctor.get(&page).await.status, StatusCode::NOT_FOUND);
    assert!(!doctor.get("/home").await.body.contains("柏 花子"));
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let seen = doctor.get(&page).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body.contains("主治医"));
    assert!(doctor.get("/home").await.body.contains("柏 花子"));
    // The care manager is in the same municipality but not on the team.
    assert_eq!(care_manager.get(&page).await.status, StatusCode::NOT_FOUND);
    let sneaky = care_manager.submit("/home", &format!("{page}/entries"), &[("kind", "message"), ("body", "x")]).await;
    assert_eq!(sneaky.status, StatusCode::NOT_FOUND);
}

async fn posting_and_reading_leave_read_receipts_and_unread_counts(db: &TestDb) {
    let Team { mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let entry = post(
        &mut nurse,
        &patient,
        &[
            ("kind", "visit_record"),
            ("body", "訪問。食事量やや低下。"),
            ("temperature_c", "37.2"),
            ("systolic", "128"),
            ("diastolic", "76"),
            ("spo2", "96"),
            ("needs_reply", "true"),
        ],
    )
    .await;

    let home = doctor.get("/home").await;
    assert!(home.body.contains("未読 1") && home.body.contains("要返信 1"), "{}", home.body);
    // The team list says where each member works, with a number to call.
    let page = nurse.get(&format!("/patients/{patient}")).await.body;
    let team_card = page.split("id=\"team\"").nth(1).and_then(|s| s.split("</section>").next()).unwrap_or_default();
    assert!(
        team_card.contains("つなぐ在宅クリニック") && team_card.contains("href=\"tel:04-7100-0000\""),
        "{team_card}"
    );
    let page = doctor.get(&format!("/patients/{patient}")).await;
    assert!(page.body.contains("訪問。食事量やや低下。") && page.body.contains("体温 37.2℃ / 血圧 128/76 / SpO2 96%"));
    assert!(page.body.contains("class=\"entry kind-visit_record unread\""), "shown as new the first time");
    assert_eq!(page.by_id("latest-vitals").map(|v| v.starts_with("体温 37.2℃")), Some(true));
    let again = doctor.get(&format!("/patients/{patient}")).await;
    assert!(!again.body.contains("kind-visit_record unread"), "read after being shown");
    let home = doctor.get("/home").await.body;
    assert!(!home.contains("未読 1") && home.contains("要返信 1"), "read, but still waiting for an answer");
    assert!(!nurse.get("/home").await.body.contains("要返信"), "one's own questions are not counted");

    let receipts = nurse.get(&format!("/entries/{entry}")).await;
    assert_eq!(receipts.status, StatusCode::OK);
    assert!(receipts.body.contains("既読 1") && receipts.body.contains("dr.sato さん"), "{}", receipts.body);
    let vitals_only = doctor.get(&format!("/patients/{patient}?kind=vitals")).await;
    assert!(!vitals_only.body.contains("訪問。食事量やや低下。"), "the kind filter filters");
    let reply = post(
        &mut doctor,
        &patient,
        &[("kind", "message"), ("body", "了解しました。次回採血します。"), ("reply_to", &entry)],
    )
    .await;
    assert!(!reply.is_empty());
    assert!(!doctor.get("/home").await.body.contains("要返信"), "answered");
    assert!(nurse.get(&format!("/patients/{patient}")).await.body.contains("返信済み"));
}

/// The patient list's counts must not grow with the history: unread is
/// counted among the newest `UNREAD_WINDOW` (100) entries, while an urgent
/// entry or a question however far back is always counted.
async fn unread_is_counted_among_the_newest_entries_and_urgent_ones_always(db: &TestDb) {
    let Team { mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    post(&mut nurse, &patient, &[("kind", "urgent"), ("body", "転倒。右大腿部痛あり。")]).await;
    post(&mut nurse, &patient, &[("kind", "message"), ("body", "夜間の指示をお願いします"), ("needs_reply", "true")])
        .await;
    for n in 0..101 {
        post(&mut nurse, &patient, &[("kind", "message"), ("body", &format!("定期連絡 {n}"))]).await;
    }
    let home = doctor.get("/home").await.body;
    assert!(home.contains("未読 99+") && home.contains("急変 1") && home.contains("要返信 1"), "{home}");
    let listed = doctor.send_json("GET", "/api/v1/patients", None, &[]).await;
    assert!(listed.body.contains("\"unread\":100"), "{}", listed.body);
    // Reading the page marks its newest 50 read: 50 of the newest 100 remain
    // (103 entries are unread in all, the 3 oldest outside the window).
    assert_eq!(doctor.get(&format!("/patients/{patient}")).await.status, StatusCode::OK);
    let home = doctor.get("/home").await.body;
    assert!(home.contains("未読 50<") && home.contains("急変 1") && home.contains("要返信 1"), "{home}");
}

async fn impossible_input_is_refused_and_changes_nothing(db: &TestDb) {
    let Team { mut nurse, .. } = team(db).await;
    let mut bad = PATIENT.to_vec();
    bad[2] = ("family_name_kana", "柏");
    let refused = nurse.submit("/patients/new", "/patients", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("カタカナまたはひらがな") && refused.body.contains("value=\"花子\""),
        "clear message, form kept"
    );
    let mut future = PATIENT.to_vec();
    future[4] = ("birth_date", "2099-01-01");
    assert_eq!(nurse.submit("/patients/new", "/patients", &future).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nurse.get("/home").await.body.contains("担当の患者さんはまだいません"));

    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    let page = format!("/patients/{patient}");
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("kind", "vitals"), ("systolic", "80"), ("diastolic", "120")], "血圧の下（拡張期）は上（収縮期）より低い"),
        (&[("kind", "vitals"), ("temperature_c", "73")], "ありえない値"),
        (&[("kind", "vitals"), ("spo2", "101")], "ありえない値"),
        (&[("kind", "vitals")], "バイタルを1つ以上"),
        (&[("kind", "message"), ("body", "   ")], "内容を入力してください"),
        (&[("kind", "gossip"), ("body", "x")], "選択肢から選んでください"),
    ];
    for (fields, message) in cases {
        let reply = nurse.submit(&page, &format!("{page}/entries"), fields).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(reply.body.contains(message), "{fields:?}: {message}");
    }
    assert!(nurse.get(&page).await.body.contains("まだ記録はありません"), "nothing was posted");
}

async fn corrections_are_new_versions_that_keep_the_original(db: &TestDb) {
    let Team { mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let entry =
        post(&mut nurse, &patient, &[("kind", "vitals"), ("systolic", "182"), ("diastolic", "76"), ("body", "測定")])
            .await;
    let form = format!("/entries/{entry}/correct");
    let no_reason = nurse
        .submit(&form, &form, &[("kind", "vitals"), ("systolic", "128"), ("diastolic", "76"), ("body", "測定")])
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fixed = nurse
        .submit(
            &form,
            &form,
            &[
                ("kind", "vitals"),
                ("systolic", "128"),
                ("diastolic", "76"),
                ("body", "測定"),
                ("reason", "血圧の入力誤り"),
            ],
        )
        .await;
    assert!(fixed.redirects_to(&format!("/patients/{patient}")), "{} {}", fixed.status, fixed.body);
    let page = doctor.get(&format!("/patients/{patient}")).await;
    assert!(page.body.contains("血圧 128/76") && !page.body.contains("血圧 182/76") && page.body.contains("訂正あり"));
    let history = doctor.get(&format!("/entries/{entry}")).await;
    assert!(
        history.body.contains("血圧 182/76")
            && history.body.contains("血圧 128/76")
            && history.body.contains("血圧の入力誤り")
    );
    assert!(history.body.contains("第2版") && history.body.contains("第1版"), "versions are named as people say them");
    let theirs = doctor
        .submit(
            &format!("/entries/{entry}"),
            &form,
            &[("kind", "vitals"), ("systolic", "120"), ("diastolic", "70"), ("reason", "x")],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN, "only the author corrects");
}

async fn urgent_entries_come_first_until_acknowledged(db: &TestDb) {
    let Team { mut nurse, mut doctor, mut care_manager, .. } = team(db).await;
    let quiet =
        register(&mut nurse, &[PATIENT, &[("family_name", "相川"), ("family_name_kana", "アイカワ")]].concat()).await;
    let patient =
        register(&mut nurse, &[PATIENT, &[("family_name", "渡辺"), ("family_name_kana", "ワタナベ")]].concat()).await;
    for p in [&quiet, &patient] {
        consent(&mut nurse, p).await;
        add(&mut nurse, p, "dr.sato", "primary_physician").await;
    }
    add(&mut nurse, &patient, "cm.yamamoto", "care_manager").await;
    let urgent = post(
        &mut nurse,
        &patient,
        &[("kind", "urgent"), ("body", "SpO2 85%、呼吸苦あり。往診をお願いします。"), ("spo2", "85")],
    )
    .await;
    let home = doctor.get("/home").await;
    let first = home.body.find("渡辺 花子").unwrap_or(usize::MAX);
    let second = home.body.find("相川 花子").unwrap_or(0);
    assert!(first < second, "the urgent patient is listed first");
    assert!(home.body.contains("急変 1"));
    let ack = doctor.submit(&format!("/patients/{patient}"), &format!("/entries/{urgent}/acknowledge"), &[]).await;
    assert!(ack.redirects_to(&format!("/patients/{patient}")));
    assert!(!doctor.get("/home").await.body.contains("急変 1"));
    let detail = nurse.get(&format!("/entries/{urgent}")).await;
    assert!(detail.body.contains("確認済み") && detail.body.contains("dr.sato さん"));

    // The care manager does not answer for the doctor: she reads it, and reading clears it.
    assert!(care_manager.get("/home").await.body.contains("急変 1"));
    let page = care_manager.get(&format!("/patients/{patient}")).await;
    assert!(!page.body.contains(&format!("/entries/{urgent}/acknowledge")), "no 「対応します」 for her");
    assert!(page.body.contains("医師が対応 (1)"), "she sees a physician is on it");
    assert!(!care_manager.get("/home").await.body.contains("急変 1"), "read, so no longer waiting on her");
    let refused =
        care_manager.submit(&format!("/patients/{patient}"), &format!("/entries/{urgent}/acknowledge"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn withdrawal_of_consent_makes_the_record_read_only(db: &TestDb) {
    let Team { mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    post(&mut nurse, &patient, &[("kind", "message"), ("body", "撤回前の記録")]).await;
    let page = format!("/patients/{patient}");
    let withdrawn = doctor.submit(&page, &format!("{page}/consent/withdraw"), &[("reason", "ご家族の意向")]).await;
    assert!(withdrawn.redirects_to(&page));
    let view = nurse.get(&page).await;
    assert_eq!(view.status, StatusCode::OK);
    assert!(
        view.body.contains("閲覧のみ") && view.body.contains("撤回前の記録") && !view.body.contains("id=\"compose\"")
    );
    let blocked = nurse.submit(&page, &format!("{page}/entries"), &[("kind", "message"), ("body", "撤回後")]).await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
}

async fn leaving_the_team_ends_access(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    let page = format!("/patients/{patient}");
    let own_membership = |body: &str| {
        body.split(&format!("/patients/{patient}/team/")).nth(1).and_then(|s| s.split('/').next()).map(str::to_owned)
    };
    let alone = nurse.get(&page).await;
    let mine = own_membership(&alone.body).unwrap_or_default();
    let last = nurse.submit(&page, &format!("{page}/team/{mine}/remove"), &[]).await;
    assert_eq!(last.status, StatusCode::UNPROCESSABLE_ENTITY, "the last member cannot leave");
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let doctor_page = doctor.get(&page).await;
    let doctors = doctor_page
        .body
        .split(&format!("/patients/{patient}/team/"))
        .skip(1)
        .filter_map(|s| s.split('/').next())
        .find(|id| *id != mine)
        .map(str::to_owned)
        .unwrap_or_default();
    // The primary physician leaves: confirmed (the page asks first; see a_patient_without_a_primary_physician_is_flagged_on_home).
    let left = doctor.submit(&page, &format!("{page}/team/{doctors}/remove"), &[("confirmed", "yes")]).await;
    assert!(left.redirects_to(&page), "{} {}", left.status, left.body);
    assert_eq!(doctor.get(&page).await.status, StatusCode::NOT_FOUND, "access ends on leaving");
    assert!(!doctor.get("/home").await.body.contains("柏 花子"));
    let scope = scope_read_together(&t, &patient).await;
    assert_eq!(scope.team.iter().filter(|m| m.left_at.is_some()).count(), 1, "the one who left is still listed");
    assert_eq!(scope.consents.len(), 1);
}

/// A patient's scope as `StoreTx::patient_scope` reads it (one round trip on
/// SQLite), checked against the four queries it stands for, each on its own.
pub async fn scope_read_together(t: &TestApp, patient: &str) -> tsunagu_store::PatientScopeRows {
    let id = uuid::Uuid::parse_str(patient).unwrap_or_else(|e| panic!("{e}"));
    let now = tsunagu_domain::clock::Clock::now(&t.clock);
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let together = tx.patient_scope(id, now).await.unwrap_or_else(|e| panic!("{e}"));
    let one_by_one = tsunagu_store::PatientScopeRows {
        patient: tx.patient(id).await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("no patient")),
        consents: tx.consents(id).await.unwrap_or_else(|e| panic!("{e}")),
        team: tx.team(id).await.unwrap_or_else(|e| panic!("{e}")),
        grants: tx.active_break_glass(id, now).await.unwrap_or_else(|e| panic!("{e}")),
    };
    assert_eq!(together.as_ref(), Some(&one_by_one));
    assert_eq!(tx.patient_scope(uuid::Uuid::now_v7(), now).await.unwrap_or_else(|e| panic!("{e}")), None);
    one_by_one
}

/// Who may read a record is kept for the look-up time: the instance that
/// removed a member forgets at once, another instance once its copy expires.
async fn a_removal_reaches_another_instance_within_its_look_up_time(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let page = format!("/patients/{patient}");
    let doctor_page = doctor.get(&page).await;
    let nurse_page = nurse.get(&page).await;
    let membership_ids = |body: &str| -> Vec<String> {
        body.split(&format!("/patients/{patient}/team/"))
            .skip(1)
            .filter_map(|s| s.split('/').next())
            .map(str::to_owned)
            .collect()
    };
    let nurses = membership_ids(&nurse_page.body);
    let doctors = membership_ids(&doctor_page.body)
        .into_iter()
        .find(|id| nurses.first().is_none_or(|n| n != id))
        .unwrap_or_default();
    let token = doctor.cookies.get("tsunagu_session").cloned().unwrap_or_default();
    let settings = tsunagu_app::Settings {
        session_cache: std::time::Duration::from_millis(300),
        ..tsunagu_app::Settings::default()
    };
    let other = tsunagu_app::App::new(t.store.clone(), std::sync::Arc::new(t.clock.clone()), settings);
    let meta = tsunagu_app::RequestMeta::default();
    let id = uuid::Uuid::parse_str(&patient).unwrap_or_else(|e| panic!("{e}"));
    let session = other.session(&token).await.ok().flatten().unwrap_or_else(|| panic!("the doctor's session"));
    assert!(other.fhir_patient(&session, id, &meta).await.is_ok(), "the other instance reads and keeps the scope");

    // The primary physician leaves: confirmed (the page asks first; see a_patient_without_a_primary_physician_is_flagged_on_home).
    let left = doctor.submit(&page, &format!("{page}/team/{doctors}/remove"), &[("confirmed", "yes")]).await;
    assert!(left.redirects_to(&page), "{} {}", left.status, left.body);
    assert_eq!(doctor.get(&page).await.status, StatusCode::NOT_FOUND, "here at once");
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    let session = other.session(&token).await.ok().flatten().unwrap_or_else(|| panic!("still signed in"));
    assert!(
        matches!(other.fhir_patient(&session, id, &meta).await, Err(tsunagu_app::AppError::NotFound)),
        "and on the other instance once its look-up expired"
    );
}

async fn patients_are_found_by_name_or_kana_in_any_width(db: &TestDb) {
    let Team { mut nurse, .. } = team(db).await;
    register(&mut nurse, PATIENT).await;
    register(
        &mut nurse,
        &[
            PATIENT,
            &[
                ("family_name", "佐藤"),
                ("family_name_kana", "サトウ"),
                ("given_name", "一郎"),
                ("given_name_kana", "イチロウ"),
            ],
        ]
        .concat(),
    )
    .await;
    for (query, finds_kashiwa) in
        [("柏", true), ("ｶｼﾜ", true), ("かしわ", true), ("カシワハナコ", true), ("さとう", false)]
    {
        let found = nurse.get(&format!("/home?q={}", encode(query))).await;
        assert_eq!(found.body.contains("柏 花子"), finds_kashiwa, "{query}");
        assert_eq!(found.body.contains("佐藤 一郎"), query == "さとう", "{query}");
    }
}

async fn every_look_at_a_patient_is_audited(db: &TestDb) {
    let Team { t, mut nurse, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    let entry = post(&mut nurse, &patient, &[("kind", "message"), ("body", "監査")]).await;
    nurse.get(&format!("/patients/{patient}")).await;
    nurse.get(&format!("/entries/{entry}")).await;
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let m = tx
        .municipality_by_code("122173")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no kashiwa"));
    let events = tx.recent_audit_events(m.id, 100).await.unwrap_or_else(|e| panic!("{e}"));
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    for expected in ["patient_registered", "consent_recorded", "entry_posted", "patient_viewed", "entry_viewed"] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let patient_id: uuid::Uuid = patient.parse().unwrap_or_default();
    assert!(
        events
            .iter()
            .any(|e| e.action == "patient_viewed" && e.target_id == Some(patient_id) && e.actor_label == "ns.tanaka")
    );
    drop(tx);
    assert!(t.app.verify_audit().await.map(|r| r.is_intact()).unwrap_or(false));
}

/// Reads that finish together are written together (`read_traces.rs`): each
/// still gets its own audit event, in one unbroken chain, and its receipts.
async fn reads_at_the_same_moment_each_leave_their_own_audit_event_and_receipts(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let entries = [
        post(&mut doctor, &patient, &[("kind", "message"), ("body", "一つ目")]).await,
        post(&mut doctor, &patient, &[("kind", "message"), ("body", "二つ目")]).await,
    ];
    let patient_id: uuid::Uuid = patient.parse().unwrap_or_default();
    let viewed = |t: &TestApp| {
        let store = t.store.clone();
        async move {
            let mut tx = store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
            let m = tx.municipality_by_code("122173").await.unwrap_or_else(|e| panic!("{e}"));
            let m = m.unwrap_or_else(|| panic!("no kashiwa"));
            let events = tx.audit_events_for_target(m.id, patient_id, 1_000).await.unwrap_or_else(|e| panic!("{e}"));
            events.iter().filter(|e| e.action == "patient_viewed" && e.actor_label == "ns.tanaka").count()
        }
    };
    let before = viewed(&t).await;
    let reads = 24;
    let mut tasks = Vec::new();
    for i in 0..reads {
        let mut client = nurse.clone();
        // The JSON record and the page: both record the read and its receipts.
        let path = if i % 2 == 0 { format!("/api/v1/patients/{patient}") } else { format!("/patients/{patient}") };
        tasks.push(tokio::spawn(async move { client.get(&path).await.status }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap_or_else(|e| panic!("{e}")), StatusCode::OK);
    }
    assert_eq!(viewed(&t).await - before, reads, "one audit event per read");
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let account = tx.account_by_login("ns.tanaka").await.unwrap_or_else(|e| panic!("{e}"));
    let nurse_id = account.unwrap_or_else(|| panic!("no nurse")).id;
    for entry in &entries {
        let id: uuid::Uuid = entry.parse().unwrap_or_default();
        let grant = crate::helpers::inspecting(patient_id);
        let receipts = tx.read_receipts(&grant, id).await.unwrap_or_else(|e| panic!("{e}"));
        let by_nurse = receipts.iter().filter(|r| r.account_id == nurse_id).count();
        assert_eq!(by_nurse, 1, "the nurse's read of {entry} is recorded once: {receipts:?}");
    }
    drop(tx);
    assert!(t.app.verify_audit().await.map(|r| r.is_intact()).unwrap_or(false));
}

async fn advance_care_plans_keep_every_revision(db: &TestDb) {
    let Team { mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let acp = format!("/patients/{patient}/acp");
    let first = [
        ("discussed_on", "2026-10-01"),
        ("participants", "本人、長女、主治医"),
        ("place_of_care", "home"),
        ("place_of_death", "hospital"),
        ("treatment", "limited"),
        ("wishes", "できるだけ家にいたい"),
    ];
    let nobody = nurse
        .submit(
            &acp,
            &acp,
            &[
                ("discussed_on", "2026-10-01"),
                ("place_of_care", "home"),
                ("place_of_death", "home"),
                ("treatment", "limited"),
            ],
        )
        .await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nobody.body.contains("参加者"));
    assert!(nurse.submit(&acp, &acp, &first).await.redirects_to(&format!("/patients/{patient}")));
    let second = [
        ("discussed_on", "2026-11-20"),
        ("participants", "本人、長女、訪問看護師"),
        ("place_of_care", "home"),
        ("place_of_death", "home"),
        ("treatment", "comfort_only"),
        ("wishes", "最期まで家で過ごしたい"),
    ];
    assert!(doctor.submit(&acp, &acp, &second).await.redirects_to(&format!("/patients/{patient}")));
    let page = nurse.get(&format!("/patients/{patient}")).await;
    assert!(
        page.body.contains("最期まで家で過ごしたい") && !page.body.contains("できるだけ家にいたい"),
        "the page shows the current plan"
    );
    let history = nurse.get(&acp).await;
    assert!(
        history.body.contains("最期まで家で過ごしたい") && history.body.contains("できるだけ家にいたい"),
        "every revision is kept"
    );
    assert!(history.body.find("2026-11-20").unwrap_or(usize::MAX) < history.body.rfind("2026-10-01").unwrap_or(0));
}

async fn ending_care_records_the_outcome(db: &TestDb) {
    let Team { mut nurse, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    let page = format!("/patients/{patient}");
    let missing = nurse
        .submit(
            &page,
            &format!("{page}/status"),
            &[("status", "ended"), ("outcome", ""), ("outcome_date", "2026-11-20")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("終了の理由"));
    let ended = nurse
        .submit(
            &page,
            &format!("{page}/status"),
            &[("status", "ended"), ("outcome", "home_death"), ("outcome_date", "2026-11-20")],
        )
        .await;
    assert!(ended.redirects_to(&page));
    assert!(nurse.get(&page).await.body.contains("・終了</p>"));
}

async fn the_record_prints_for_a_chosen_period(db: &TestDb) {
    let Team { t, mut nurse, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    post(&mut nurse, &patient, &[("kind", "visit_record"), ("body", "印刷される記録"), ("pulse", "72")]).await;
    let today = tsunagu_domain::clock::Clock::now(&t.clock).to_offset(tsunagu_domain::clock::JST).date();
    let printed =
        nurse.get(&format!("/patients/{patient}/print?from={}&to={today}", today - time::Duration::days(7))).await;
    assert_eq!(printed.status, StatusCode::OK);
    assert!(
        printed.body.contains("在宅療養記録")
            && printed.body.contains("印刷される記録")
            && printed.body.contains("脈拍 72")
    );
    let earlier = nurse.get(&format!("/patients/{patient}/print?from=2020-01-01&to=2020-12-31")).await;
    assert!(!earlier.body.contains("印刷される記録"), "only the chosen period");
    let backwards = nurse.get(&format!("/patients/{patient}/print?from=2026-12-01&to=2026-01-01")).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn entries_are_searched_by_any_japanese_term(db: &TestDb) {
    let Team { mut nurse, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    post(&mut nurse, &patient, &[("kind", "visit_record"), ("body", "仙骨部に褥瘡あり。DESIGN-R d2。")]).await;
    post(&mut nurse, &patient, &[("kind", "message"), ("body", "明日の訪問は午後に変更します。")]).await;
    post(&mut nurse, &patient, &[("kind", "message"), ("body", "食事摂取100%")]).await;
    for (term, finds_ulcer, finds_visit, finds_meal) in [
        ("褥瘡", true, false, false),
        ("褥", true, false, false),
        ("訪問", false, true, false),
        ("design-r", true, false, false),
        ("100%", false, false, true),
        ("%", false, false, true),
        ("_", false, false, false),
    ] {
        let page = nurse.get(&format!("/patients/{patient}?q={}", encode(term))).await;
        assert_eq!(page.status, StatusCode::OK);
        let timeline = page.body.split("id=\"timeline\"").nth(1).unwrap_or_default();
        assert_eq!(timeline.contains("仙骨部に褥瘡あり"), finds_ulcer, "{term}");
        assert_eq!(timeline.contains("明日の訪問は午後"), finds_visit, "{term}");
        assert_eq!(timeline.contains("食事摂取100%"), finds_meal, "{term}");
    }
}

async fn vital_signs_show_as_a_trend(db: &TestDb) {
    let Team { mut nurse, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    post(&mut nurse, &patient, &[("kind", "vitals"), ("temperature_c", "36.6"), ("spo2", "97")]).await;
    assert!(
        !nurse.get(&format!("/patients/{patient}")).await.body.contains("id=\"vitals-trend\""),
        "one measurement is not a trend"
    );
    post(
        &mut nurse,
        &patient,
        &[("kind", "visit_record"), ("body", "発熱あり"), ("temperature_c", "38.2"), ("spo2", "93")],
    )
    .await;
    let page = nurse.get(&format!("/patients/{patient}")).await;
    assert!(page.body.contains("id=\"vitals-trend\""));
    assert!(page.body.contains("体温 <strong>38.2℃</strong>") && page.body.contains("SpO2 <strong>93%</strong>"));
    post(&mut nurse, &patient, &[("kind", "vitals"), ("temperature_c", "36.9"), ("spo2", "96")]).await;
    let messages_only = nurse.get(&format!("/patients/{patient}?kind=message")).await;
    assert!(
        messages_only.body.contains("id=\"vitals-trend\"")
            && messages_only.body.contains("体温 <strong>36.9℃</strong>"),
        "the trend is drawn from every vital-signs entry, whatever the timeline shows"
    );
}

async fn mentions_urgent_entries_and_new_teams_are_notified(db: &TestDb) {
    let Team { mut nurse, mut doctor, mut care_manager, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let home = doctor.get("/home").await;
    assert!(home.body.contains("id=\"notifications\"") && home.body.contains("あなたをケアチームに追加しました"));
    doctor.get(&format!("/patients/{patient}")).await;
    assert!(
        !doctor.get("/home").await.body.contains("id=\"notifications\""),
        "opening the patient clears its notifications"
    );

    post(&mut nurse, &patient, &[("kind", "message"), ("body", "@dr.sato 先生、眠剤の件ご確認ください。")]).await;
    assert!(doctor.get("/home").await.body.contains("あなた宛てに書き込みました"));
    add(&mut nurse, &patient, "cm.yamamoto", "care_manager").await;
    care_manager.get(&format!("/patients/{patient}")).await;
    post(&mut nurse, &patient, &[("kind", "urgent"), ("body", "転倒。右大腿部痛あり。")]).await;
    assert!(doctor.get("/home").await.body.contains("急変を投稿しました"));
    assert!(care_manager.get("/home").await.body.contains("急変を投稿しました"));
    assert!(
        !nurse.get("/home").await.body.contains("急変を投稿しました"),
        "authors are not notified of their own entries"
    );

    // Someone who leaves the team no longer sees its notifications.
    let page = care_manager.get(&format!("/patients/{patient}")).await;
    let own = page
        .body
        .split("<li>")
        .find(|li| li.contains("チームから外れる"))
        .and_then(|li| li.split(&format!("/patients/{patient}/team/")).nth(1))
        .and_then(|s| s.split('/').next())
        .unwrap_or_default()
        .to_owned();
    post(&mut nurse, &patient, &[("kind", "urgent"), ("body", "再度の急変")]).await;
    let left = care_manager
        .submit(&format!("/patients/{patient}"), &format!("/patients/{patient}/team/{own}/remove"), &[])
        .await;
    assert!(left.redirects_to(&format!("/patients/{patient}")), "{} {}", left.status, left.body);
    assert_eq!(care_manager.get(&format!("/patients/{patient}")).await.status, StatusCode::NOT_FOUND);
    assert!(!care_manager.get("/home").await.body.contains("急変を投稿しました"));
}

async fn break_glass_opens_a_record_for_a_while_and_tells_the_team(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, mut care_manager } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    doctor.get(&format!("/patients/{patient}")).await;
    let (mut covering, secret) = t.signed_in("dr.suzuki", Some("122173"), "physician", &[], None).await;
    let page = format!("/patients/{patient}");
    assert_eq!(covering.get(&page).await.status, StatusCode::NOT_FOUND);

    let form = |name: &'static str, birth: &'static str, reason: &'static str| {
        [("name", name), ("birth_date", birth), ("reason_kind", "covering_physician"), ("reason", reason)]
    };
    let not_a_clinician =
        care_manager.submit("/break-glass", "/break-glass", &form("柏 花子", "1938-04-01", "夜間の発熱で往診")).await;
    assert_eq!(not_a_clinician.status, StatusCode::FORBIDDEN);
    let wrong_birth =
        covering.submit("/break-glass", "/break-glass", &form("柏 花子", "1938-04-02", "夜間の発熱で往診")).await;
    assert_eq!(wrong_birth.status, StatusCode::NOT_FOUND);
    assert!(wrong_birth.body.contains("見つかりません"));
    let part_of_name =
        covering.submit("/break-glass", "/break-glass", &form("柏花", "1938-04-01", "夜間の発熱で往診")).await;
    assert_eq!(part_of_name.status, StatusCode::NOT_FOUND, "the full name is needed, not a fragment");
    let no_reason = covering.submit("/break-glass", "/break-glass", &form("柏 花子", "1938-04-01", "急ぎ")).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(covering.get(&page).await.status, StatusCode::NOT_FOUND, "refused attempts grant nothing");

    let opened = covering
        .submit("/break-glass", "/break-glass", &form("ｶｼﾜ ﾊﾅｺ", "1938-04-01", "主治医不在のため夜間の発熱で往診"))
        .await;
    assert!(opened.redirects_to(&page), "{} {}", opened.status, opened.body);
    let seen = covering.get(&page).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body.contains("id=\"break-glass-banner\"") && seen.body.contains("ペニシリン"));
    post(&mut covering, &patient, &[("kind", "visit_record"), ("body", "代診で往診。38.0℃、解熱剤で経過観察。")]).await;
    assert!(nurse.get("/home").await.body.contains("チーム外から緊急閲覧しました"));
    assert!(doctor.get("/home").await.body.contains("チーム外から緊急閲覧しました"));

    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let m =
        tx.municipality_by_code("122173").await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("kashiwa"));
    let events = tx.recent_audit_events(m.id, 200).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(events.iter().any(|e| e.action == "break_glass_granted"
        && e.details.contains("主治医不在")
        && e.actor_label == "dr.suzuki"));
    assert!(
        events.iter().filter(|e| e.action == "break_glass_refused").count() >= 2,
        "refused lookups are audited too"
    );
    drop(tx);

    assert!(nurse.get(&page).await.body.contains("代診で往診"));
    assert_eq!(scope_read_together(&t, &patient).await.grants.len(), 1, "the grant in force");
    t.clock.advance(time::Duration::hours(4) + time::Duration::minutes(1));
    let again = covering.sign_in_with_totp(&t, "dr.suzuki", crate::helpers::PASSWORD, &secret).await;
    assert!(again.redirects_to("/home"));
    assert_eq!(covering.get(&page).await.status, StatusCode::NOT_FOUND, "the grant expires");
    assert!(scope_read_together(&t, &patient).await.grants.is_empty(), "an expired grant is not in the scope");
}

async fn family_members_see_what_is_shared_with_them_and_who_read_the_record(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let page = format!("/patients/{patient}");
    let internal =
        post(&mut nurse, &patient, &[("kind", "visit_record"), ("body", "チーム内の申し送り：疼痛増強")]).await;
    post(
        &mut nurse,
        &patient,
        &[("kind", "message"), ("body", "本日の訪問は穏やかに過ごされました"), ("audience", "family")],
    )
    .await;
    post(&mut nurse, &patient, &[("kind", "vitals"), ("temperature_c", "37.8"), ("spo2", "94")]).await;
    post(&mut nurse, &patient, &[("kind", "vitals"), ("temperature_c", "37.6"), ("spo2", "95")]).await;
    doctor.get(&page).await;

    let mut family = invite_family(&t, &mut doctor, &patient).await;
    let home = family.get("/home").await;
    assert!(home.body.contains("柏 花子") && !home.body.contains("患者さんを登録"));
    let seen = family.get(&page).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body.contains("本日の訪問は穏やかに過ごされました"), "what is shared with the family");
    assert!(!seen.body.contains("疼痛増強"), "not what is for the team only");
    assert!(
        !seen.body.contains("37.8℃") && !seen.body.contains("37.6℃") && !seen.body.contains("id=\"vitals-trend\""),
        "nor the team's vital signs, in the timeline or the trend"
    );
    assert!(
        !seen.body.contains("メンバーを追加") && !seen.body.contains("同意の撤回"),
        "family do not manage the team"
    );
    assert_eq!(family.get(&format!("/entries/{internal}")).await.status, StatusCode::NOT_FOUND);
    let team_change = family
        .submit(&page, &format!("{page}/team"), &[("member", "cm.yamamoto"), ("team_role", "care_manager")])
        .await;
    assert_eq!(team_change.status, StatusCode::FORBIDDEN);
    let urgent = family.submit(&page, &format!("{page}/entries"), &[("kind", "urgent"), ("body", "x")]).await;
    assert_eq!(urgent.status, StatusCode::UNPROCESSABLE_ENTITY);

    post(
        &mut family,
        &patient,
        &[("kind", "message"), ("body", "先生だけに相談です：父の痛み止めについて"), ("audience", "physicians")],
    )
    .await;
    post(
        &mut family,
        &patient,
        &[("kind", "message"), ("body", "皆さまいつもありがとうございます"), ("audience", "family")],
    )
    .await;
    let nurse_view = nurse.get(&page).await;
    assert!(
        nurse_view.body.contains("皆さまいつもありがとうございます") && !nurse_view.body.contains("先生だけに相談です")
    );
    let doctor_view = doctor.get(&page).await;
    assert!(doctor_view.body.contains("先生だけに相談です") && doctor_view.body.contains("医師のみ"));
    assert!(doctor.get("/home").await.body.contains("柏 花子"));

    let log = family.get(&format!("{page}/access")).await;
    assert_eq!(log.status, StatusCode::OK);
    let rows = log.body.split("id=\"access-log\"").nth(1).unwrap_or_default();
    assert!(
        rows.contains("ns.tanaka さん") && rows.contains("dr.sato さん") && rows.contains("患者記録を閲覧"),
        "{rows}"
    );
}

async fn photos_are_checked_stored_and_shown_only_to_the_team(db: &TestDb) {
    let Team { mut nurse, mut doctor, mut care_manager, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let (_, attachment) = post_with_photo(&mut nurse, &patient, "仙骨部の褥瘡、写真添付").await;
    assert!(!attachment.is_empty());
    let (status, content_type, bytes) = doctor.get_bytes(&format!("/attachments/{attachment}")).await;
    assert_eq!((status, content_type.as_str(), bytes.as_slice()), (StatusCode::OK, "image/jpeg", JPEG));
    let (status, _, bytes) = care_manager.get_bytes(&format!("/attachments/{attachment}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_ne!(bytes.as_slice(), JPEG);

    let page = format!("/patients/{patient}");
    let csrf = nurse.get(&page).await.input_value("csrf").unwrap_or_default();
    let fields = [("csrf", csrf.as_str()), ("kind", "message"), ("body", "偽装ファイル")];
    let disguised = nurse
        .send_multipart(
            &format!("{page}/entries"),
            &fields,
            &[("attachment", "photo.jpg", "image/jpeg", b"<html><script>alert(1)</script>")],
        )
        .await;
    assert_eq!(disguised.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(disguised.body.contains("JPEG・PNGの写真とPDFだけ"));
    let renamed = nurse
        .send_multipart(&format!("{page}/entries"), &fields, &[("attachment", "script.exe", "image/jpeg", JPEG)])
        .await;
    assert_eq!(renamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let too_big = vec![0xFFu8; 10 * 1024 * 1024 + 1];
    let big = nurse
        .send_multipart(&format!("{page}/entries"), &fields, &[("attachment", "big.jpg", "image/jpeg", &too_big)])
        .await;
    assert_eq!(big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!nurse.get(&page).await.body.contains("偽装ファイル"), "refused uploads post nothing");
}

async fn the_timeline_filters_by_profession_author_and_period(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    post(&mut nurse, &patient, &[("kind", "message"), ("body", "看護からの連絡")]).await;
    post(&mut doctor, &patient, &[("kind", "message"), ("body", "医師からの指示")]).await;
    let timeline = |body: &str| body.split("id=\"timeline\"").nth(1).unwrap_or_default().to_owned();
    let by_physicians = nurse.get(&format!("/patients/{patient}?profession=physician")).await;
    let shown = timeline(&by_physicians.body);
    assert!(shown.contains("医師からの指示") && !shown.contains("看護からの連絡"));
    // The author filter lists the team; choosing the doctor shows only theirs.
    let page = nurse.get(&format!("/patients/{patient}")).await.body;
    let authors = page.split("id=\"filter-author\"").nth(1).unwrap_or_default().split("</select>").next().unwrap();
    let doctor_id = authors
        .split("<option value=\"")
        .find(|o| o.contains("dr.sato さん"))
        .and_then(|o| o.split('"').next())
        .expect("the doctor is offered as an author");
    let by_doctor = nurse.get(&format!("/patients/{patient}?author={doctor_id}")).await;
    let shown = timeline(&by_doctor.body);
    assert!(shown.contains("医師からの指示") && !shown.contains("看護からの連絡"));
    let api = nurse.get(&format!("/api/v1/patients/{patient}?author={doctor_id}")).await;
    assert!(api.body.contains("医師からの指示") && !api.body.contains("看護からの連絡"), "{}", api.body);
    assert_eq!(
        nurse.get(&format!("/patients/{patient}?author=someone")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let today = tsunagu_domain::clock::Clock::now(&t.clock).to_offset(tsunagu_domain::clock::JST).date();
    let this_period = nurse.get(&format!("/patients/{patient}?from={today}&to={today}")).await;
    assert!(timeline(&this_period.body).contains("看護からの連絡"));
    let last_year = nurse.get(&format!("/patients/{patient}?from=2020-01-01&to=2020-12-31")).await;
    let shown = timeline(&last_year.body);
    assert!(!shown.contains("看護からの連絡") && !shown.contains("医師からの指示"));
    assert_eq!(
        nurse.get(&format!("/patients/{patient}?from=yesterday")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        nurse.get(&format!("/patients/{patient}?profession=astronaut")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

async fn colleagues_are_found_by_login_name_or_kana_within_the_municipality(db: &TestDb) {
    let Team { t, mut nurse, .. } = team(db).await;
    let options = |body: &str| body.matches("<option").count();
    let by_login = nurse.get("/colleagues?member=DR.").await;
    assert_eq!(by_login.status, StatusCode::OK);
    assert!(by_login.body.contains("value=\"dr.sato — dr.sato さん\""), "{}", by_login.body);
    assert!(by_login.body.contains("医師"), "the profession helps to tell people apart");
    assert_eq!(options(&by_login.body), 1);
    // Full-width letters and hiragana for names kept in katakana.
    assert!(nurse.get("/colleagues?member=%EF%BD%84%EF%BD%92").await.body.contains("dr.sato"), "ｄｒ");
    let by_kana = nurse.get("/colleagues?member=%E3%81%A6%E3%81%99%E3%81%A8").await.body; // てすと
    assert!(by_kana.contains("dr.sato") && by_kana.contains("cm.yamamoto"));
    assert_eq!(options(&nurse.get("/colleagues?member=").await.body), 0, "nothing until something is typed");
    assert_eq!(options(&nurse.get("/colleagues?member=%25").await.body), 0, "LIKE wildcards are literal");
    // Another municipality's professional finds nobody from Kashiwa.
    crate::admin::municipality(&t, "122203", "流山市").await;
    let (mut stranger, _) = t.signed_in("ns.nagareyama", Some("122203"), "nurse", &[], None).await;
    let elsewhere = stranger.get("/colleagues?member=dr").await;
    assert_eq!(options(&elsewhere.body), 0, "{}", elsewhere.body);
    assert!(!t.client().get("/colleagues?member=dr").await.status.is_success(), "anonymous people find nobody");
}

async fn replies_are_threaded_under_the_entry_they_answer(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let question = post(
        &mut nurse,
        &patient,
        &[("kind", "message"), ("body", "夜間の疼痛時の指示をお願いします"), ("needs_reply", "true")],
    )
    .await;
    t.clock.advance(time::Duration::minutes(5));
    post(&mut nurse, &patient, &[("kind", "visit_record"), ("body", "入浴介助。皮膚状態良好")]).await;
    t.clock.advance(time::Duration::minutes(5));

    // "Reply" opens the compose form for that entry.
    let form = doctor.get(&format!("/patients/{patient}?reply_to={question}")).await;
    let banner = form.by_id("replying-to").unwrap_or_default();
    assert!(banner.contains("夜間の疼痛時の指示"), "{banner}");
    assert_eq!(form.input_value("reply_to").as_deref(), Some(question.as_str()));
    let answer = post(
        &mut doctor,
        &patient,
        &[("kind", "message"), ("body", "レスキュー1回追加可。改善なければ連絡を"), ("reply_to", &question)],
    )
    .await;

    // The answer sits under the question, and the conversation comes first.
    let page = nurse.get(&format!("/patients/{patient}")).await.body;
    let at = |needle: &str| page.find(needle).unwrap_or_else(|| panic!("{needle} is not on the page"));
    let (q, replies, a, bath) =
        (at("夜間の疼痛時の指示"), at("class=\"replies\""), at("レスキュー1回追加可"), at("入浴介助"));
    assert!(q < replies && replies < a, "the answer is in the question's replies");
    assert!(a < bath, "the thread with the newest reply comes before the older visit record");
    assert!(page.contains(&format!("id=\"e-{answer}\" class=\"entry reply")));

    // A reply must answer an entry of the same patient.
    let other = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &other).await;
    let page = format!("/patients/{other}");
    let wrong = nurse
        .submit(&page, &format!("{page}/entries"), &[("kind", "message"), ("body", "x"), ("reply_to", &question)])
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("返信先の記録が見つかりません"));
}

async fn a_scanned_consent_form_is_kept_with_the_consent(db: &TestDb) {
    let Team { mut nurse, mut doctor, mut care_manager, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    let page = format!("/patients/{patient}");
    let csrf = nurse.get(&page).await.input_value("csrf").unwrap_or_default();
    let fields = [
        ("csrf", csrf.as_str()),
        ("given_on", "2026-11-01"),
        ("method", "written"),
        ("proxy_name", "柏 一郎"),
        ("proxy_relation", "長男"),
        ("scope", "ケアチーム内での共有"),
    ];
    // A file that is not what it claims changes nothing: consent stays pending.
    let disguised = nurse
        .send_multipart(
            &format!("{page}/consent"),
            &fields,
            &[("attachment", "consent.pdf", "application/pdf", b"MZ\x90\x00")],
        )
        .await;
    assert_eq!(disguised.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nurse.get(&page).await.body.contains("まだ同意が記録されていません"));

    let pdf: &[u8] = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF";
    let recorded = nurse
        .send_multipart(&format!("{page}/consent"), &fields, &[("attachment", "同意書.pdf", "application/pdf", pdf)])
        .await;
    assert!(recorded.redirects_to(&page), "{} {}", recorded.status, recorded.body);
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    // The team finds the form from the consent line, as an entry with the file.
    let seen = doctor.get(&page).await;
    let link = seen
        .body
        .split("\" id=\"consent-document-link\"")
        .next()
        .and_then(|before| before.rsplit("/entries/").next())
        .unwrap_or_default()
        .to_owned();
    assert!(seen.body.contains("同意書を見る"), "{}", seen.body);
    let entry = doctor.get(&format!("/entries/{link}")).await;
    assert_eq!(entry.status, StatusCode::OK);
    let file = entry
        .body
        .split("href=\"/attachments/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let (status, content_type, bytes) = doctor.get_bytes(&format!("/attachments/{file}")).await;
    assert_eq!((status, content_type.as_str(), bytes.as_slice()), (StatusCode::OK, "application/pdf", pdf));
    // Outside the team it does not exist.
    assert_eq!(care_manager.get_bytes(&format!("/attachments/{file}")).await.0, StatusCode::NOT_FOUND);
}

/// A patient page's timeline is kept for a moment per reader
/// (`cache/timelines.rs`): every change to what it shows must show on the next
/// read at once, for the one who made it and for everyone else on the team.
async fn a_kept_timeline_shows_every_change_at_once(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let id = uuid::Uuid::parse_str(&patient).unwrap_or_else(|e| panic!("{e}"));
    let as_app = |client: &Client| client.cookies.get("tsunagu_session").cloned().unwrap_or_default();
    let (nurse_token, doctor_token) = (as_app(&nurse), as_app(&doctor));
    let app = t.app.clone();
    let page_of = move |token: String| {
        let app = app.clone();
        async move {
            let session = app.session(&token).await.ok().flatten().unwrap_or_else(|| panic!("signed in"));
            let query = tsunagu_app::patients::TimelineQuery::default();
            let page = app
                .patient_page(
                    &session,
                    tsunagu_domain::ids::PatientId(id),
                    &query,
                    &tsunagu_app::RequestMeta::default(),
                )
                .await;
            page.unwrap_or_else(|e| panic!("{e}"))
        }
    };
    let entry_in = |page: &tsunagu_app::patients::PatientPage, entry: &str| {
        page.timeline.iter().find(|e| e.id.to_string() == entry).cloned()
    };

    let question =
        post(&mut nurse, &patient, &[("kind", "message"), ("body", "疼痛時の指示を"), ("needs_reply", "true")]).await;
    let first = page_of(doctor_token.clone()).await;
    assert!(entry_in(&first, &question).is_some_and(|e| e.was_unread), "new to the doctor");
    let seen = page_of(doctor_token.clone()).await;
    assert!(entry_in(&seen, &question).is_some_and(|e| !e.was_unread), "the doctor's own receipt shows at once");
    let nurse_before = page_of(nurse_token.clone()).await;
    assert_eq!(entry_in(&nurse_before, &question).map(|e| e.read_count), Some(1));

    // A post by someone else.
    page_of(doctor_token.clone()).await;
    page_of(nurse_token.clone()).await;
    t.clock.advance(time::Duration::minutes(1));
    let visit = post(&mut nurse, &patient, &[("kind", "visit_record"), ("body", "訪問。血圧安定")]).await;
    let authors = page_of(nurse_token.clone()).await;
    assert_eq!(entry_in(&authors, &visit).map(|e| e.read_count), Some(0), "the author's own post, unread yet");
    // Another member's receipt, on the page the author has just read.
    let doctors = page_of(doctor_token.clone()).await;
    assert!(entry_in(&doctors, &visit).is_some_and(|e| e.was_unread), "a new entry, at once");
    let seen = entry_in(&page_of(nurse_token.clone()).await, &visit).map(|e| e.read_count);
    assert_eq!(seen, Some(1), "the author sees it read");

    // A correction.
    page_of(doctor_token.clone()).await;
    let form = format!("/entries/{visit}/correct");
    let fixed = nurse
        .submit(&form, &form, &[("kind", "visit_record"), ("body", "訪問。血圧やや高め"), ("reason", "記載誤り")])
        .await;
    assert!(fixed.redirects_to(&format!("/patients/{patient}")), "{} {}", fixed.status, fixed.body);
    let corrected = entry_in(&page_of(doctor_token.clone()).await, &visit);
    assert!(corrected.is_some_and(|e| e.corrected && e.body == "訪問。血圧やや高め"));

    // A reply, counted under the question on the asker's page.
    page_of(nurse_token.clone()).await;
    t.clock.advance(time::Duration::minutes(1));
    post(&mut doctor, &patient, &[("kind", "message"), ("body", "頓用で対応を"), ("reply_to", &question)]).await;
    assert_eq!(entry_in(&page_of(nurse_token.clone()).await, &question).map(|e| e.reply_count), Some(1));

    // An acknowledgement of an urgent entry, for the one who acknowledged and the author.
    t.clock.advance(time::Duration::minutes(1));
    let urgent = post(&mut nurse, &patient, &[("kind", "urgent"), ("body", "SpO2 88%"), ("spo2", "88")]).await;
    page_of(doctor_token.clone()).await;
    page_of(doctor_token.clone()).await;
    page_of(nurse_token.clone()).await;
    let ack = doctor.submit(&format!("/patients/{patient}"), &format!("/entries/{urgent}/acknowledge"), &[]).await;
    assert!(ack.redirects_to(&format!("/patients/{patient}")));
    assert!(entry_in(&page_of(doctor_token.clone()).await, &urgent).is_some_and(|e| e.acknowledged_by_me));
    assert_eq!(entry_in(&page_of(nurse_token.clone()).await, &urgent).map(|e| e.acknowledgement_count), Some(1));

    // A photo.
    page_of(doctor_token.clone()).await;
    t.clock.advance(time::Duration::minutes(1));
    let (photo_entry, _) = post_with_photo(&mut nurse, &patient, "仙骨部の発赤").await;
    assert_eq!(entry_in(&page_of(doctor_token.clone()).await, &photo_entry).map(|e| e.attachments.len()), Some(1));

    // An ACP revision.
    page_of(doctor_token.clone()).await;
    let acp = format!("/patients/{patient}/acp");
    let recorded = nurse
        .submit(
            &acp,
            &acp,
            &[
                ("discussed_on", "2026-10-01"),
                ("participants", "本人、長女、主治医"),
                ("place_of_care", "home"),
                ("place_of_death", "home"),
                ("treatment", "limited"),
                ("wishes", "最期まで家で過ごしたい"),
            ],
        )
        .await;
    assert!(recorded.status.is_redirection(), "{} {}", recorded.status, recorded.body);
    let with_acp = page_of(doctor_token.clone()).await;
    assert_eq!(with_acp.acp.and_then(|a| a.wishes).as_deref(), Some("最期まで家で過ごしたい"));

    // A filtered read is never answered with the kept unfiltered page.
    let session = t.app.session(&doctor_token).await.ok().flatten().unwrap_or_else(|| panic!("signed in"));
    let urgent_only = tsunagu_app::patients::TimelineQuery { kind: "urgent", ..Default::default() };
    let filtered = t
        .app
        .patient_page(&session, tsunagu_domain::ids::PatientId(id), &urgent_only, &tsunagu_app::RequestMeta::default())
        .await;
    let filtered = filtered.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(filtered.timeline.iter().map(|e| e.id.to_string()).collect::<Vec<_>>(), vec![urgent]);
}

/// A period typed at the ends of the calendar (the timeline's filter, the
/// printed record) is read with checked arithmetic: the last day there is
/// (whose end is the next midnight) is searched as usual instead of a panic
/// adding a day to it, and a day whose midnight UTC cannot hold is refused as
/// out of range; the page answers as usual afterwards.
async fn periods_at_the_ends_of_the_calendar_are_refused_not_panicked_on(db: &TestDb) {
    let Team { mut nurse, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    for query in ["?to=9999-12-31", "?from=2026-01-01&to=9999-12-31", "/print?from=2026-01-01&to=9999-12-31"] {
        let reply = nurse.get(&format!("/patients/{patient}{query}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
    }
    for query in ["?from=-9999-01-01", "?from=-9999-01-01&to=9999-12-31", "/print?from=-9999-01-01&to=2026-01-01"] {
        let reply = nurse.get(&format!("/patients/{patient}{query}")).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", reply.body);
        assert!(reply.body.contains("開始日が範囲外です。"), "{query}: {}", reply.body);
    }
    assert_eq!(nurse.get(&format!("/patients/{patient}")).await.status, StatusCode::OK);
}
