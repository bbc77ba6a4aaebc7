//! The access-control holes a probe found (issue 25), each closed as a class:
//! emergency grants that read and post only, urgent requests and replies that
//! stay with their audience, credentials whose end ends their API tokens,
//! facility admins who hold only their own accounts, throttling on the parsed
//! login, and refused attempts in the audit log. Both databases.

use crate::helpers::{PASSWORD, TestApp, TestDb};
use crate::patients::{PATIENT, Team, add, consent, post, register, team};
use axum::http::StatusCode;
use tsunagu_domain::clock::Clock;

crate::on_both_databases!(
    an_emergency_grant_reads_and_posts_but_never_joins_the_team,
    replies_counts_and_urgent_requests_stay_with_their_audience,
    credentials_that_end_take_their_api_tokens_with_them,
    a_facility_admin_holds_only_accounts_that_answer_to_them,
    throttling_keys_on_the_login_as_sign_in_reads_it,
    refused_attempts_on_a_record_are_audited_within_a_budget,
    a_role_that_does_not_fit_opens_nothing_more,
);

/// The audit events about `patient` with `action`, waiting up to two seconds
/// for those handed to the writer's next batch.
async fn events(t: &TestApp, patient: &str, action: &str, at_least: usize) -> Vec<serde_json::Value> {
    let target: uuid::Uuid = patient.parse().unwrap_or_default();
    for _ in 0..40 {
        let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
        let chain = {
            let row = tx.municipality_by_code("122173").await.unwrap_or_else(|e| panic!("{e}"));
            row.unwrap_or_else(|| panic!("no Kashiwa")).id
        };
        let found: Vec<serde_json::Value> = tx
            .recent_audit_events(chain, 1000)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .filter(|e| e.action == action)
            .filter(|e| {
                e.target_id == Some(target)
                    || serde_json::from_str::<serde_json::Value>(&e.details)
                        .is_ok_and(|d| d["patient"] == serde_json::Value::String(target.to_string()))
            })
            .map(|e| {
                let mut details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
                details["actor"] = serde_json::Value::String(e.actor_label.clone());
                details
            })
            .collect();
        drop(tx);
        if found.len() >= at_least {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Vec::new()
}

async fn an_emergency_grant_reads_and_posts_but_never_joins_the_team(db: &TestDb) {
    let Team { t, mut nurse, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    let page = format!("/patients/{patient}");
    let (mut covering, secret) = t.signed_in("dr.suzuki", Some("122173"), "physician", &[], None).await;
    crate::matrix::break_glass(&mut covering, &patient).await;
    let seen = covering.get(&page).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(!seen.body.contains(&format!("action=\"/patients/{patient}/team\"")), "no team form for a grant");
    post(&mut covering, &patient, &[("kind", "visit_record"), ("body", "代診で往診。")]).await;
    let marked = nurse.get(&page).await;
    assert!(marked.body.contains("緊急アクセスで記録"), "the team sees the post was made under the grant");
    assert_eq!(marked.body.matches("緊急アクセスで記録").count(), 1, "only that post");
    let posted = events(&t, &patient, "entry_posted", 1).await;
    assert!(posted.iter().any(|e| e["emergency"] == true && e["actor"] == "dr.suzuki"), "{posted:?}");

    // Into the team, by any door: himself, a colleague, a family member, a role.
    for (action, form) in [
        ("team", vec![("member", "dr.suzuki"), ("team_role", "primary_physician")]),
        ("team", vec![("member", "cm.yamamoto"), ("team_role", "care_manager")]),
        ("family", vec![("login_id", "kashiwa.niece"), ("name", "柏 姪"), ("relation", "姪")]),
        (
            "acp",
            vec![
                ("discussed_on", "2026-11-20"),
                ("participants", "本人"),
                ("place_of_care", "home"),
                ("place_of_death", "home"),
                ("treatment", "undecided"),
            ],
        ),
    ] {
        let reply = covering.submit(&page, &format!("{page}/{action}"), &form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{action}: {}", reply.body);
    }
    let api = covering.get("/home").await.input_value("csrf").unwrap_or_default();
    let joined = covering
        .send_json(
            "POST",
            &format!("/api/v1/patients/{patient}/team"),
            Some(r#"{"login_id":"dr.suzuki","team_role":"backup_physician"}"#),
            &[("x-csrf-token", &api)],
        )
        .await;
    assert_eq!(joined.status, StatusCode::FORBIDDEN);
    let team = crate::patients::scope_read_together(&t, &patient).await.team;
    assert_eq!(team.len(), 2, "the team is as it was");

    // The grant ends, and with it everything (nothing was kept through the team).
    t.clock.advance(time::Duration::hours(4) + time::Duration::minutes(1));
    covering.sign_in_with_totp(&t, "dr.suzuki", PASSWORD, &secret).await;
    assert_eq!(covering.get(&page).await.status, StatusCode::NOT_FOUND);
}

async fn replies_counts_and_urgent_requests_stay_with_their_audience(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, .. } = team(db).await;
    let (mut pharmacist, _) = t.signed_in("ph.kobayashi", Some("122173"), "pharmacist", &[], None).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    add(&mut nurse, &patient, "ph.kobayashi", "pharmacist").await;
    let page = format!("/patients/{patient}");
    let secret =
        post(&mut doctor, &patient, &[("kind", "message"), ("body", "医師間の申し送り"), ("audience", "physicians")])
            .await;
    // A reply to an entry one may not read is refused like one to an unknown entry.
    for reply_to in [secret.as_str(), "0190c0de-0000-7000-8000-000000000000"] {
        let reply = pharmacist
            .submit(&page, &format!("{page}/entries"), &[("kind", "message"), ("body", "返信"), ("reply_to", reply_to)])
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{reply_to}: {}", reply.body);
    }
    let csrf = pharmacist.get("/home").await.input_value("csrf").unwrap_or_default();
    let api = pharmacist
        .send_json(
            "POST",
            &format!("/api/v1/patients/{patient}/entries"),
            Some(&format!(r#"{{"kind":"message","body":"返信","reply_to":"{secret}"}}"#)),
            &[("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(api.status.as_u16() / 100, 4, "{}", api.body);
    assert!(!api.body.contains("医師間"), "{}", api.body);

    // A question answered among the physicians only is still unanswered for the others.
    let question = post(
        &mut pharmacist,
        &patient,
        &[("kind", "message"), ("body", "頓服の追加は可能ですか"), ("needs_reply", "true")],
    )
    .await;
    post(
        &mut doctor,
        &patient,
        &[("kind", "message"), ("body", "医師間で検討中"), ("audience", "physicians"), ("reply_to", &question)],
    )
    .await;
    let nurse_view = nurse.get(&page).await;
    assert!(nurse_view.body.contains("badge needs-reply"), "the hidden reply shows as none");
    assert!(!nurse_view.body.contains("医師間で検討中"));
    assert!(doctor.get(&page).await.body.contains("医師間で検討中"));

    // Urgent requests (the nurse's note, the physicians' numbers) are the professionals'.
    let mut family = crate::patients::invite_family(&t, &mut doctor, &patient).await;
    let request = crate::backup_system::raise(&mut nurse, &patient, "urgent_visit", "発熱39度、往診を").await;
    assert_eq!(family.get(&format!("/urgent/{request}")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(family.get(&format!("/api/v1/patients/{patient}/who-answers")).await.status, StatusCode::FORBIDDEN);
    let family_page = family.get(&page).await;
    assert_eq!(family_page.status, StatusCode::OK);
    assert!(!family_page.body.contains("発熱39度"), "neither the request nor its note");
    assert!(!family.get("/home").await.body.contains("発熱39度"));
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let son = crate::admin::account_id(&t, "kashiwa.son").await;
    let notices = tx.unread_notifications(son.0, 50).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(notices.iter().all(|n| !n.kind.starts_with("urgent")), "{notices:?}");
    drop(tx);
    assert_eq!(pharmacist.get(&format!("/urgent/{request}")).await.status, StatusCode::OK);
}

async fn credentials_that_end_take_their_api_tokens_with_them(db: &TestDb) {
    let Team { t, mut nurse, .. } = team(db).await;
    let (mut admin, _) =
        t.signed_in("tokens.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let id = crate::admin::account_id(&t, "ns.tanaka").await;
    let fhir = |token: String| {
        let mut client = t.client();
        async move {
            let auth = format!("Bearer {token}");
            let headers = [("authorization", auth.as_str())];
            client.send_json("GET", "/fhir/Patient?name=%E6%9F%8F", None, &headers).await.status
        }
    };
    let token = |name: &'static str| {
        let app = t.app.clone();
        async move {
            app.create_api_token_for("ns.tanaka", name, "user/*.read", "30")
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .token
        }
    };

    let everywhere = token("端末A").await;
    assert_eq!(fhir(everywhere.clone()).await, StatusCode::OK);
    let out = nurse.submit("/account", "/account/sign-out-everywhere", &[]).await;
    assert!(out.status.is_redirection(), "{} {}", out.status, out.body);
    assert_eq!(fhir(everywhere).await, StatusCode::UNAUTHORIZED, "signing out everywhere revokes tokens");

    let disabled = token("端末B").await;
    let admin_page = format!("/admin/accounts/{id}");
    let off = admin.submit(&admin_page, &format!("{admin_page}/status"), &[("enabled", "false")]).await;
    assert!(off.redirects_to(&admin_page));
    assert_eq!(fhir(disabled).await, StatusCode::UNAUTHORIZED, "disabling revokes tokens");
    let on = admin.submit(&admin_page, &format!("{admin_page}/status"), &[("enabled", "true")]).await;
    assert!(on.redirects_to(&admin_page));

    let reissued = token("電子カルテ").await;
    assert_eq!(fhir(reissued.clone()).await, StatusCode::OK);
    let slip = admin.submit(&admin_page, &format!("{admin_page}/reissue"), &[]).await;
    let code = slip.by_id("issued-code").unwrap_or_else(|| panic!("no code: {}", slip.body));
    assert_eq!(fhir(reissued).await, StatusCode::UNAUTHORIZED, "a reissue revokes tokens at once");

    // The owner is told which tokens ended, and why.
    let mut phone = t.client();
    phone.redeem(&code, "ns.tanaka", "a fresh pass phrase").await;
    phone.sign_in_and_enrol(&t, "ns.tanaka", "a fresh pass phrase").await;
    let account = phone.get("/account").await;
    for told in
        ["すべての端末からサインアウトしたため", "アカウントが停止されたため", "ID・パスワードが再発行されたため"]
    {
        assert!(account.body.contains(told), "{told}: {}", account.body);
    }
    let changed = token("スクリプト").await;
    let reply = phone
        .submit(
            "/account",
            "/account/password",
            &[("current_password", "a fresh pass phrase"), ("new_password", "another pass phrase")],
        )
        .await;
    assert!(reply.status.is_redirection(), "{} {}", reply.status, reply.body);
    assert_eq!(fhir(changed).await, StatusCode::UNAUTHORIZED, "a password change revokes tokens");
}

async fn a_facility_admin_holds_only_accounts_that_answer_to_them(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = crate::admin::kashiwa(&t).await;
    let (mut city, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let main = crate::admin::facility(&mut city, m, "home_nursing_station", "ステーション本店").await;
    let second = crate::admin::facility(&mut city, m, "clinic", "よその診療所").await;
    let (mut other_admin, _) =
        t.signed_in("clinic.head", Some("122173"), "physician", &["facility_admin"], Some(second)).await;
    let (mut own_admin, _) =
        t.signed_in("station.head", Some("122173"), "nurse", &["facility_admin"], Some(main)).await;
    t.signed_in("ns.two", Some("122173"), "nurse", &[], Some(main)).await;
    let id = crate::admin::account_id(&t, "ns.two").await;
    let page = format!("/admin/accounts/{id}");
    let added = city
        .submit(&page, &format!("{page}/memberships"), &[("facility_id", &second.to_string()), ("is_admin", "false")])
        .await;
    assert!(added.redirects_to(&page), "{} {}", added.status, added.body);

    // The second facility's admin sees the account but holds none of its credentials:
    // the page offers no button that would answer "forbidden".
    let seen = other_admin.get(&page).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(!seen.body.contains("/reissue") && !seen.body.contains("/status\""), "{}", seen.body);
    assert!(seen.body.contains("id=\"not-yours\""));
    assert!(
        seen.body.contains(&format!("/memberships/{second}/remove"))
            && !seen.body.contains(&format!("/memberships/{main}/remove"))
    );
    let own = own_admin.get(&page).await;
    assert!(own.body.contains("/reissue") && !own.body.contains(&format!("/memberships/{second}/remove")));
    let reissue = other_admin.submit("/home", &format!("{page}/reissue"), &[]).await;
    assert_eq!(reissue.status, StatusCode::FORBIDDEN);
    let disable = other_admin.submit("/home", &format!("{page}/status"), &[("enabled", "false")]).await;
    assert_eq!(disable.status, StatusCode::FORBIDDEN);
    let from_main = other_admin.submit("/home", &format!("{page}/memberships/{main}/remove"), &[]).await;
    assert_eq!(from_main.status, StatusCode::FORBIDDEN, "not their facility");
    // The main practice's admin does not remove the membership of a facility they do not run.
    let theirs = own_admin.submit("/home", &format!("{page}/memberships/{second}/remove"), &[]).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    // Each admin ends what is theirs.
    let mine = other_admin.submit("/home", &format!("{page}/memberships/{second}/remove"), &[]).await;
    assert!(mine.redirects_to("/admin/"), "{} {}", mine.status, mine.body);
    let slip = own_admin.submit(&page, &format!("{page}/reissue"), &[]).await;
    assert!(slip.by_id("issued-code").is_some(), "{}", slip.body);
}

async fn throttling_keys_on_the_login_as_sign_in_reads_it(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (_, secret) = t.signed_in("msw.watanabe", None, "clerk", &["operator"], None).await;
    // Full-width spellings are the same login: they count against its lock.
    let mut attacker = t.client();
    for spelling in
        ["ｍsw.watanabe", "ＭＳＷ.ＷＡＴＡＮＡＢＥ", "msw.watanabe", " Msw.Watanabe", "ｍｓｗ．ｗａｔａｎａｂｅ"]
    {
        let r =
            attacker.submit("/sign-in", "/sign-in", &[("login_id", spelling), ("password", "guess guess guess")]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{spelling}");
    }
    let mut owner = t.client();
    let locked = owner.submit("/sign-in", "/sign-in", &[("login_id", "msw.watanabe"), ("password", PASSWORD)]).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{}", locked.body);
    t.clock.advance(time::Duration::minutes(16));

    // Wrong second-factor codes count too, and a correct password does not wipe them.
    let mut thief = t.client();
    for round in 0..3 {
        let half = thief.submit("/sign-in", "/sign-in", &[("login_id", "msw.watanabe"), ("password", PASSWORD)]).await;
        if round < 2 {
            assert!(half.redirects_to("/sign-in/code"), "round {round}: {} {}", half.status, half.body);
        } else {
            assert_eq!(half.status, StatusCode::TOO_MANY_REQUESTS, "the password alone no longer opens the door");
            break;
        }
        for _ in 0..3 {
            let wrong = thief.submit("/sign-in/code", "/sign-in/code", &[("code", "000000")]).await;
            // Refused, or (once locked) sent back to sign in with the half-session ended.
            assert!(matches!(wrong.status.as_u16(), 401 | 429 | 303), "{}", wrong.status);
        }
    }
    let mut owner = t.client();
    let refused = owner.sign_in_with_totp(&t, "msw.watanabe", PASSWORD, &secret).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "locked for a while, even with the right code");
    t.clock.advance(time::Duration::minutes(16));
    let back = owner.sign_in_with_totp(&t, "msw.watanabe", PASSWORD, &secret).await;
    assert!(back.redirects_to("/home"), "{} {}", back.status, back.body);
}

async fn refused_attempts_on_a_record_are_audited_within_a_budget(db: &TestDb) {
    let Team { t, mut nurse, mut care_manager, .. } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    let page = format!("/patients/{patient}");
    assert_eq!(care_manager.get(&page).await.status, StatusCode::NOT_FOUND);
    let written = care_manager.submit("/home", &format!("{page}/entries"), &[("kind", "message"), ("body", "x")]).await;
    assert_eq!(written.status, StatusCode::NOT_FOUND);
    let refused = events(&t, &patient, "access_refused", 2).await;
    assert!(
        refused.iter().any(|e| e["actor"] == "cm.yamamoto" && e["attempt"] == "read" && e["refusal"] == "hidden"),
        "{refused:?}"
    );
    assert!(refused.iter().any(|e| e["attempt"] == "write"), "{refused:?}");
    // A member refused an action (family are not in this team: a nurse withdrawing
    // is allowed, a stranger's "forbidden" is "not found"), and a flood is bounded.
    for _ in 0..40 {
        care_manager.get(&page).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let all = events(&t, &patient, "access_refused", 1).await;
    let by_prober = all.iter().filter(|e| e["actor"] == "cm.yamamoto").count();
    assert!((30..=32).contains(&by_prober), "a minute's budget per account: {by_prober}");
    // The access history the family and the team see shows the attempts.
    let history = nurse.get(&format!("{page}/access")).await;
    assert!(history.body.contains("アクセスを拒否"), "{}", history.status);
}

/// A physician role held by a care manager (a row written before roles were
/// checked: the migration repairs such rows, and the application reads any it
/// meets as "other") does not open the physicians' entries.
async fn a_role_that_does_not_fit_opens_nothing_more(db: &TestDb) {
    let Team { t, mut nurse, mut doctor, mut care_manager } = team(db).await;
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    let cm = crate::admin::account_id(&t, "cm.yamamoto").await;
    let nurse_id = crate::admin::account_id(&t, "ns.tanaka").await;
    let mut tx = t.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    tx.insert_team_member(&tsunagu_store::NewTeamMember {
        id: uuid::Uuid::now_v7(),
        patient_id: patient.parse().unwrap_or_default(),
        account_id: cm.0,
        team_role: "backup_physician".to_owned(),
        added_by: nurse_id.0,
        joined_at: t.clock.now(),
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    // Adding the doctor goes through the application, which forgets what it kept of the record.
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    post(&mut doctor, &patient, &[("kind", "message"), ("body", "医師間の申し送り"), ("audience", "physicians")]).await;
    let page = care_manager.get(&format!("/patients/{patient}")).await;
    assert_eq!(page.status, StatusCode::OK, "still a member");
    assert!(!page.body.contains("医師間の申し送り"), "the physicians' entry stays theirs");
    assert!(doctor.get(&format!("/patients/{patient}")).await.body.contains("医師間の申し送り"));
}
