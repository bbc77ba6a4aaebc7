//! Sign-in with a password and a second factor, sessions, CSRF, invitations.

use crate::helpers::{PASSWORD, TestApp, TestDb};
use axum::http::StatusCode;

crate::on_both_databases!(
    first_sign_in_enrols_a_second_factor_which_is_then_required,
    second_factors_are_sealed_in_the_database,
    a_totp_code_is_accepted_only_once,
    recovery_codes_work_once_each,
    refusals_do_not_reveal_whether_the_account_exists,
    repeated_failures_lock_the_account_for_a_while,
    idle_sessions_expire_and_sign_out_everywhere_ends_all,
    forms_without_the_csrf_token_change_nothing,
    every_page_form_is_refused_without_the_token,
    an_error_page_speaks_the_users_language,
    signing_in_again_returns_to_the_page_left,
    the_session_token_changes_at_sign_in,
    invitation_codes_are_checked_and_single_use,
    disabled_accounts_cannot_sign_in,
    changing_the_password_needs_the_current_one,
    the_interface_speaks_english_on_request,
    the_language_switch_never_sends_the_browser_off_the_site,
    a_sign_out_reaches_another_instance_within_its_look_up_time,
);

async fn first_sign_in_enrols_a_second_factor_which_is_then_required(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (mut client, secret) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    let home = client.get("/home").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("operator1 さん"));

    let out = client.submit("/home", "/sign-out", &[]).await;
    assert!(out.redirects_to("/sign-in?notice=signed_out"));
    assert!(client.get("/home").await.redirects_to("/sign-in"));

    let password_only =
        client.submit("/sign-in", "/sign-in", &[("login_id", "operator1"), ("password", PASSWORD)]).await;
    assert!(password_only.redirects_to("/sign-in/code"), "a password alone must not sign in");
    assert!(client.get("/home").await.redirects_to("/sign-in/code"));
    let wrong = client.submit("/sign-in/code", "/sign-in/code", &[("code", "000000")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("コードが正しくありません"));
    t.clock.advance(time::Duration::seconds(31));
    let right = client.submit("/sign-in/code", "/sign-in/code", &[("code", &t.totp(&secret))]).await;
    assert!(right.redirects_to("/home"), "{} {:?}", right.status, right.location);
    assert_eq!(client.get("/home").await.status, StatusCode::OK);
}

/// The database holds no second-factor secret in the clear: not the enrolled
/// one, not the one waiting for its first code. A secret stored before sealing
/// existed is sealed at the next start and still works; the wrong key is
/// refused before it could lock anyone out.
async fn second_factors_are_sealed_in_the_database(db: &TestDb) {
    use tsunagu_app::sealing::{SealingKey, is_sealed};
    let t = TestApp::start(db).await;
    let (mut client, secret) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    let plain = totp_rs::Secret::try_from_base32(&secret).map(|s| s.as_bytes().to_vec()).unwrap_or_default();
    assert_eq!(plain.len(), 20);
    let id = crate::admin::account_id(&t, "operator1").await;
    let stored = {
        let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
        tx.totp_secrets().await.unwrap_or_else(|e| panic!("{e}"))
    };
    let (_, mine) = stored.iter().find(|(a, _)| *a == id.0).unwrap_or_else(|| panic!("no secret stored"));
    assert!(is_sealed(mine) && !mine.windows(plain.len()).any(|w| w == plain.as_slice()), "sealed, not in the clear");

    // Half way through enrolment, the pending secret is sealed too.
    let (mut newcomer, code) = {
        let new = tsunagu_domain::account::NewAccount::parse("newcomer", "新人", "", "", "nurse", &[])
            .unwrap_or_else(|e| panic!("{e}"));
        let issued = t.app.issue_account_from_shell(None, &new, None).await.unwrap_or_else(|e| panic!("{e}"));
        (t.client(), issued.code)
    };
    newcomer.redeem(&code, "newcomer", PASSWORD).await;
    let enrol = newcomer.submit("/sign-in", "/sign-in", &[("login_id", "newcomer"), ("password", PASSWORD)]).await;
    assert!(enrol.redirects_to("/sign-in/enrol"), "{:?}", enrol.location);
    let page = newcomer.get("/sign-in/enrol").await;
    let shown = page.by_id("totp-secret").unwrap_or_default();
    let pending_plain =
        totp_rs::Secret::try_from_base32(shown.trim()).map(|s| s.as_bytes().to_vec()).unwrap_or_default();
    assert_eq!(pending_plain.len(), 20, "{}", page.body);
    let token = newcomer.cookies.get("tsunagu_session").cloned().unwrap_or_default();
    let pending = {
        let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
        let row = tx.session(&tsunagu_app::credentials::digest(&token)).await.unwrap_or_else(|e| panic!("{e}"));
        row.and_then(|s| s.pending_totp_secret).unwrap_or_default()
    };
    assert!(is_sealed(&pending) && !pending.windows(20).any(|w| w == pending_plain.as_slice()), "{pending:?}");

    // A secret stored before sealing existed: sealed at the next start, and it still signs in.
    {
        let mut tx = t.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        tx.replace_totp_secret(id.0, &plain).await.unwrap_or_else(|e| panic!("{e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(t.app.seal_second_factors().await.unwrap_or_else(|e| panic!("{e}")), 1);
    assert_eq!(t.app.seal_second_factors().await.unwrap_or_else(|e| panic!("{e}")), 0, "once");
    let sealing_events = {
        let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
        let chain = tsunagu_domain::audit::INSTALLATION_CHAIN;
        let events = tx.recent_audit_events(chain, 100).await.unwrap_or_else(|e| panic!("{e}"));
        events.iter().filter(|e| e.action == "second_factors_sealed").count()
    };
    assert_eq!(sealing_events, 1, "the sealing is on the installation's audit record, once");
    client.submit("/home", "/sign-out", &[]).await;
    t.clock.advance(time::Duration::seconds(31));
    client.submit("/sign-in", "/sign-in", &[("login_id", "operator1"), ("password", PASSWORD)]).await;
    let right = client.submit("/sign-in/code", "/sign-in/code", &[("code", &t.totp(&secret))]).await;
    assert!(right.redirects_to("/home"), "{} {:?}", right.status, right.location);

    // Another key (a lost or swapped key file) is refused at start.
    let settings = tsunagu_app::Settings {
        sealing_key: Some(SealingKey::from_bytes([1; 32])),
        ..tsunagu_app::Settings::default()
    };
    let swapped = tsunagu_app::App::new(t.store.clone(), std::sync::Arc::new(t.clock.clone()), settings);
    let refused = swapped.seal_second_factors().await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("sealed with another key"), "{refused}");
}

async fn a_totp_code_is_accepted_only_once(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (mut first, secret) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    first.submit("/home", "/sign-out", &[]).await;
    t.clock.advance(time::Duration::seconds(31));
    let code = t.totp(&secret);
    first.submit("/sign-in", "/sign-in", &[("login_id", "operator1"), ("password", PASSWORD)]).await;
    let accepted = first.submit("/sign-in/code", "/sign-in/code", &[("code", &code)]).await;
    assert!(accepted.redirects_to("/home"));

    // Someone who saw the code tries it in the same 30 seconds.
    let mut eavesdropper = t.client();
    eavesdropper.submit("/sign-in", "/sign-in", &[("login_id", "operator1"), ("password", PASSWORD)]).await;
    let replay = eavesdropper.submit("/sign-in/code", "/sign-in/code", &[("code", &code)]).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert!(eavesdropper.get("/home").await.redirects_to("/sign-in/code"));
}

async fn recovery_codes_work_once_each(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (mut client, _) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    let page = client.submit("/account", "/account/recovery-codes", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    let first_code = page.body.split("<li><code>").nth(1).and_then(|s| s.split('<').next()).map(str::to_owned);
    let code = first_code.unwrap_or_else(|| panic!("no recovery codes shown"));
    assert_eq!(code.len(), 11, "{code}");
    client.submit("/home", "/sign-out", &[]).await;

    for expected_ok in [true, false] {
        client.submit("/sign-in", "/sign-in", &[("login_id", "operator1"), ("password", PASSWORD)]).await;
        let reply = client.submit("/sign-in/code", "/sign-in/code", &[("code", &code.to_lowercase())]).await;
        assert_eq!(reply.redirects_to("/home"), expected_ok, "{}", reply.status);
        if expected_ok {
            client.submit("/home", "/sign-out", &[]).await;
        }
    }
}

async fn refusals_do_not_reveal_whether_the_account_exists(db: &TestDb) {
    let t = TestApp::start(db).await;
    t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    let mut client = t.client();
    let wrong_password =
        client.submit("/sign-in", "/sign-in", &[("login_id", "operator1"), ("password", "not the password")]).await;
    let no_such_account =
        client.submit("/sign-in", "/sign-in", &[("login_id", "nobody"), ("password", "not the password")]).await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_such_account.status, StatusCode::UNAUTHORIZED);
    let message = "ログインIDまたはパスワードが正しくありません。";
    assert!(wrong_password.body.contains(message) && no_such_account.body.contains(message));
    assert!(client.get("/home").await.redirects_to("/sign-in"));
}

async fn repeated_failures_lock_the_account_for_a_while(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (_, secret) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    let mut attacker = t.client();
    for _ in 0..5 {
        let r = attacker
            .submit("/sign-in", "/sign-in", &[("login_id", "operator1"), ("password", "guess guess guess")])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused while locked, from any address.
    let mut owner = t.client();
    owner.address = std::net::SocketAddr::from(([198, 51, 100, 7], 40000));
    let locked = owner.submit("/sign-in", "/sign-in", &[("login_id", "operator1"), ("password", PASSWORD)]).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("しばらくお待ちください"));
    t.clock.advance(time::Duration::minutes(16));
    let after = owner.sign_in_with_totp(&t, "operator1", PASSWORD, &secret).await;
    assert!(after.redirects_to("/home"), "{} {}", after.status, after.body);
}

async fn idle_sessions_expire_and_sign_out_everywhere_ends_all(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (mut phone, secret) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    t.clock.advance(time::Duration::minutes(29));
    assert_eq!(phone.get("/home").await.status, StatusCode::OK, "activity keeps a session alive");
    t.clock.advance(time::Duration::minutes(31));
    assert!(phone.get("/home").await.redirects_to("/sign-in"), "idle for 31 minutes must end the session");

    let mut tablet = t.client();
    assert!(tablet.sign_in_with_totp(&t, "operator1", PASSWORD, &secret).await.redirects_to("/home"));
    assert!(phone.sign_in_with_totp(&t, "operator1", PASSWORD, &secret).await.redirects_to("/home"));
    let settings = phone.get("/account").await;
    assert!(settings.body.contains("サインイン中の端末: 2"), "{}", settings.body);
    let ended = phone.submit("/account", "/account/sign-out-everywhere", &[]).await;
    assert!(ended.redirects_to("/sign-in"));
    assert!(tablet.get("/home").await.redirects_to("/sign-in"));
    assert!(phone.get("/home").await.redirects_to("/sign-in"));
}

async fn forms_without_the_csrf_token_change_nothing(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (mut client, _) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    let forged = client.send("POST", "/admin/municipalities", &[("code", "122173"), ("name", "柏市")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let wrong =
        client.send("POST", "/admin/municipalities", &[("code", "122173"), ("name", "柏市"), ("csrf", "forged")]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(!client.get("/admin/municipalities").await.body.contains("122173"));
    let mut anonymous = t.client();
    let no_cookie =
        anonymous.send("POST", "/sign-in", &[("login_id", "operator1"), ("password", PASSWORD), ("csrf", "x")]).await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
}

/// Every page that takes a form reads it through the extractor that checks the
/// token first: a form without it, or with another session's, is refused
/// before the handler runs (so whatever the form would do, nothing happens).
async fn every_page_form_is_refused_without_the_token(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (mut client, _) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    let (mut other, _) = t.signed_in("operator2", None, "clerk", &["operator"], None).await;
    let others_token = other.get("/home").await.input_value("csrf").unwrap_or_default();
    assert!(!others_token.is_empty());
    let mut checked = 0;
    for (method, pattern) in tsunagu_web::routes() {
        if method != "POST" || pattern.starts_with("/api/") || pattern.starts_with("/fhir") {
            continue;
        }
        // Any id: the token is checked before the path is looked at.
        let path = pattern
            .split('/')
            .map(|part| if part.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { part.to_owned() })
            .collect::<Vec<_>>()
            .join("/");
        for token in [None, Some(others_token.as_str()), Some("")] {
            let mut form = vec![("name", "x")];
            if let Some(token) = token {
                form.push(("csrf", token));
            }
            let reply = client.send("POST", &path, &form).await;
            // The import upload and a case's file read multipart only: a URL-encoded body is malformed there.
            let multipart_only = pattern == "/admin/imports" || pattern == "/centre/cases/{case}/files";
            let expected = if multipart_only { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::FORBIDDEN };
            assert_eq!(reply.status, expected, "POST {pattern} with token {token:?}: {}", reply.body);
        }
        checked += 1;
    }
    assert!(checked >= 40, "the page forms are read from the route table ({checked})");
    // The session still works: nothing above ended it.
    assert_eq!(client.get("/home").await.status, StatusCode::OK);
}

/// A use case's error reaches the page with `?` alone; the page speaks the
/// language the request was made in.
async fn an_error_page_speaks_the_users_language(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (mut client, _) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    let unknown = format!("/admin/facilities/{}", uuid::Uuid::now_v7());
    let japanese = client.get(&unknown).await;
    assert_eq!(japanese.status, StatusCode::NOT_FOUND);
    assert!(japanese.body.contains("見つかりません。") && japanese.body.contains("<html lang=\"ja\">"));
    client.get("/lang/en?next=/home").await;
    let english = client.get(&unknown).await;
    assert_eq!(english.status, StatusCode::NOT_FOUND);
    assert!(english.body.contains("Not found.") && english.body.contains("<html lang=\"en\">"), "{}", english.body);
    assert!(!english.body.contains("見つかりません。"));
}

/// A session that ends while someone works sends them to sign in with the way
/// back (the page itself, or for a form the page it was sent from); both
/// sign-in steps keep it, and only a page of this site is followed.
async fn signing_in_again_returns_to_the_page_left(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (mut client, secret) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    // The session ends (expired, or ended on another device) while the cookie stays.
    client.cookies.insert(tsunagu_web::SESSION_COOKIE.into(), "ended".into());
    // A page opened after the session ended.
    let page = client.get("/admin/municipalities?page=2").await;
    assert!(
        page.redirects_to("/sign-in?notice=expired&next=%2Fadmin%2Fmunicipalities%3Fpage%3D2"),
        "{:?}",
        page.location
    );
    // A form sent after it ended: back to the page it was sent from.
    let entries = format!("/patients/{}/entries", uuid::Uuid::now_v7());
    let referer = [("referer", "http://localhost/admin/municipalities"), ("host", "localhost")];
    let sent = client.clone().send_with_headers("POST", &entries, &[("body", "x")], &referer).await;
    assert!(sent.redirects_to("/sign-in?notice=expired&next=%2Fadmin%2Fmunicipalities"), "{:?}", sent.location);
    // Any form, with its (now stale) token: to sign in and back, nothing done.
    let form = client
        .clone()
        .send_with_headers(
            "POST",
            "/admin/municipalities",
            &[("code", "122173"), ("name", "柏市"), ("csrf", "stale")],
            &referer,
        )
        .await;
    assert!(form.redirects_to("/sign-in?notice=expired&next=%2Fadmin%2Fmunicipalities"), "{:?}", form.location);

    let sign_in = client.get("/sign-in?notice=expired&next=%2Fadmin%2Fmunicipalities%3Fpage%3D2").await;
    assert_eq!(sign_in.input_value("next").as_deref(), Some("/admin/municipalities?page=2"));
    let next = "/admin/municipalities?page=2";
    t.clock.advance(time::Duration::seconds(31));
    let password = client
        .submit("/sign-in", "/sign-in", &[("login_id", "operator1"), ("password", PASSWORD), ("next", next)])
        .await;
    assert!(
        password.redirects_to("/sign-in/code?next=%2Fadmin%2Fmunicipalities%3Fpage%3D2"),
        "{:?}",
        password.location
    );
    let code_page = client.get("/sign-in/code?next=%2Fadmin%2Fmunicipalities%3Fpage%3D2").await;
    assert_eq!(code_page.input_value("next").as_deref(), Some(next));
    let signed_in =
        client.submit("/sign-in/code", "/sign-in/code", &[("code", &t.totp(&secret)), ("next", next)]).await;
    assert!(signed_in.redirects_to(next), "{:?}", signed_in.location);

    // Another site is never a way back.
    client.submit("/home", "/sign-out", &[]).await;
    t.clock.advance(time::Duration::seconds(31));
    let evil = client
        .submit(
            "/sign-in",
            "/sign-in",
            &[("login_id", "operator1"), ("password", PASSWORD), ("next", "//evil.example/")],
        )
        .await;
    assert_eq!(evil.location.as_deref(), Some("/sign-in/code"));
    let done = client
        .submit("/sign-in/code", "/sign-in/code", &[("code", &t.totp(&secret)), ("next", "https://evil.example/")])
        .await;
    assert_eq!(done.location.as_deref(), Some("/home"));
}

async fn the_session_token_changes_at_sign_in(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (mut client, secret) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    client.submit("/home", "/sign-out", &[]).await;
    t.clock.advance(time::Duration::seconds(31));
    client.submit("/sign-in", "/sign-in", &[("login_id", "operator1"), ("password", PASSWORD)]).await;
    let half = client.cookies.get(tsunagu_web::SESSION_COOKIE).cloned();
    client.submit("/sign-in/code", "/sign-in/code", &[("code", &t.totp(&secret))]).await;
    let full = client.cookies.get(tsunagu_web::SESSION_COOKIE).cloned();
    assert!(half.is_some() && full.is_some());
    assert_ne!(half, full, "the token seen before sign-in must not be the signed-in one");
    // The half-signed-in token is dead.
    let mut fixated = t.client();
    fixated.cookies.insert(tsunagu_web::SESSION_COOKIE.into(), half.unwrap_or_default());
    assert!(fixated.get("/home").await.redirects_to("/sign-in"));
}

async fn invitation_codes_are_checked_and_single_use(db: &TestDb) {
    let t = TestApp::start(db).await;
    let new = tsunagu_domain::account::NewAccount::parse("nurse1", "看護 花子", "", "", "nurse", &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let issued = t.app.issue_account_from_shell(None, &new, None).await.unwrap_or_else(|e| panic!("{e}"));
    let mut client = t.client();
    let form = |code: &'static str, pw: &'static str, again: &'static str| {
        [("login_id", "nurse1"), ("code", code), ("password", pw), ("password_again", again)]
    };

    let short = client.submit("/invite", "/invite", &form("x", "short", "short")).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body.contains("10文字以上"));
    let mismatch =
        client.submit("/invite", "/invite", &form("x", "a long enough pass phrase", "a different pass phrase")).await;
    assert!(mismatch.body.contains("一致しません"));
    let wrong = client
        .submit("/invite", "/invite", &form("AAAA-BBBB-CCCC", "a long enough pass phrase", "a long enough pass phrase"))
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("有効期限"));

    let code = issued.code.to_lowercase();
    let ok = client
        .submit(
            "/invite",
            "/invite",
            &[("login_id", "nurse1"), ("code", &code), ("password", PASSWORD), ("password_again", PASSWORD)],
        )
        .await;
    assert!(ok.redirects_to("/sign-in?notice=redeemed"));
    let again = client
        .submit(
            "/invite",
            "/invite",
            &[
                ("login_id", "nurse1"),
                ("code", &code),
                ("password", "another long phrase"),
                ("password_again", "another long phrase"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "a code works once");

    // Codes expire.
    let new = tsunagu_domain::account::NewAccount::parse("nurse2", "看護 次郎", "", "", "nurse", &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let late = t.app.issue_account_from_shell(None, &new, None).await.unwrap_or_else(|e| panic!("{e}"));
    t.clock.advance(time::Duration::days(15));
    let expired = client
        .submit(
            "/invite",
            "/invite",
            &[("login_id", "nurse2"), ("code", &late.code), ("password", PASSWORD), ("password_again", PASSWORD)],
        )
        .await;
    assert_eq!(expired.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn disabled_accounts_cannot_sign_in(db: &TestDb) {
    let t = TestApp::start(db).await;
    let kashiwa = crate::admin::kashiwa(&t).await;
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let (mut nurse, secret) = t.signed_in("nurse1", Some("122173"), "nurse", &[], None).await;
    let id = crate::admin::account_id(&t, "nurse1").await;
    let page = format!("/admin/accounts/{id}");
    // In use just before (so her session look-up is fresh in memory).
    assert_eq!(nurse.get("/home").await.status, StatusCode::OK);
    let off = admin.submit(&page, &format!("{page}/status"), &[("enabled", "false")]).await;
    assert!(off.redirects_to(&page), "{} {}", off.status, off.body);
    assert!(nurse.get("/home").await.redirects_to("/sign-in"), "disabling ends sessions at once");
    let refused = nurse.sign_in_with_totp(&t, "nurse1", PASSWORD, &secret).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    admin.submit(&page, &format!("{page}/status"), &[("enabled", "true")]).await;
    assert!(nurse.sign_in_with_totp(&t, "nurse1", PASSWORD, &secret).await.redirects_to("/home"));
    let _ = kashiwa;
}

async fn changing_the_password_needs_the_current_one(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (mut client, secret) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    let wrong = client
        .submit(
            "/account",
            "/account/password",
            &[("current_password", "not it at all"), ("new_password", "brand new pass phrase")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("現在のパスワードが正しくありません"));
    let weak = client
        .submit("/account", "/account/password", &[("current_password", PASSWORD), ("new_password", "short")])
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = client
        .submit(
            "/account",
            "/account/password",
            &[("current_password", PASSWORD), ("new_password", "brand new pass phrase")],
        )
        .await;
    assert!(ok.redirects_to("/account?notice=password_changed"));
    assert_eq!(client.get("/home").await.status, StatusCode::OK, "this session stays");
    let mut other = t.client();
    assert_eq!(other.sign_in_with_totp(&t, "operator1", PASSWORD, &secret).await.status, StatusCode::UNAUTHORIZED);
    assert!(other.sign_in_with_totp(&t, "operator1", "brand new pass phrase", &secret).await.redirects_to("/home"));
}

async fn the_interface_speaks_english_on_request(db: &TestDb) {
    let t = TestApp::start(db).await;
    let mut client = t.client();
    assert!(client.get("/sign-in").await.body.contains("サインイン"));
    let switched = client.get("/lang/en?next=/sign-in").await;
    assert!(switched.redirects_to("/sign-in"));
    let english = client.get("/sign-in").await;
    assert!(english.body.contains("<html lang=\"en\">") && english.body.contains("Sign in"));
    let refused =
        client.submit("/sign-in", "/sign-in", &[("login_id", "nobody"), ("password", "whatever it is")]).await;
    assert!(refused.body.contains("The login ID or password is not correct."));
    // No open redirect through the language switch.
    assert!(client.get("/lang/ja?next=//evil.example").await.redirects_to("/"));
    assert_eq!(client.get("/lang/ja?next=//evil.example").await.location.as_deref(), Some("/"));
}

/// `/lang/{lang}?next=`: only a plain same-site path is followed; anything a browser could
/// read as another site (or that would not fit a `Location` header) goes to `/`, never a 500.
async fn the_language_switch_never_sends_the_browser_off_the_site(db: &TestDb) {
    let t = TestApp::start(db).await;
    let mut client = t.client();
    // As they arrive in the query string (the router decodes them once).
    let bad = [
        "//evil.example",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "%2F%5Cevil.example",
        "%2F%09%2Fevil.example",
        "%2F%0A%2Fevil.example",
        "%2Fhome%0D%0ASet-Cookie:%20x=1",
        "%2Fa%00b",
        "%2Fa%7Fb",
        "https://evil.example/",
        "https:evil.example",
        "evil.example",
        "javascript:alert(1)",
        // Encoded twice: decoded once by the router, once more by the check.
        "/%252F%252Fevil.example",
        "/%255Cevil.example",
        "/%2509/evil.example",
        "%5C%5Cevil.example",
        "",
    ];
    for next in bad {
        let reply = client.get(&format!("/lang/en?next={next}")).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{next}: {} {}", reply.status, reply.body);
        assert_eq!(reply.location.as_deref(), Some("/"), "{next}");
    }
    // A plain same-site path is kept exactly.
    let reply = client.get("/lang/ja?next=/patients%3Fq%3Dx").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location.as_deref(), Some("/patients?q=x"));
}

/// Each instance keeps a session's look-up for `session_cache` (2 s by
/// default): the instance that signs out forgets it at once, another instance
/// of the same database within that time, never later.
async fn a_sign_out_reaches_another_instance_within_its_look_up_time(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (mut client, _) = t.signed_in("nurse1", None, "nurse", &[], None).await;
    assert_eq!(client.get("/home").await.status, StatusCode::OK);
    let token = client.cookies.get("tsunagu_session").cloned().unwrap_or_default();
    let settings = tsunagu_app::Settings {
        session_cache: std::time::Duration::from_millis(300),
        ..tsunagu_app::Settings::default()
    };
    let other = tsunagu_app::App::new(t.store.clone(), std::sync::Arc::new(t.clock.clone()), settings);
    let signed_in = |s: Result<Option<tsunagu_app::Session>, tsunagu_app::AppError>| s.ok().flatten().is_some();
    assert!(signed_in(other.session(&token).await), "the other instance knows the session");
    let meta = tsunagu_app::RequestMeta::default();
    t.app.sign_out(&token, &meta).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(!signed_in(t.app.session(&token).await), "signed out here at once");
    assert!(client.get("/home").await.redirects_to("/sign-in"));
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    assert!(!signed_in(other.session(&token).await), "and on the other instance once its look-up expired");
}
