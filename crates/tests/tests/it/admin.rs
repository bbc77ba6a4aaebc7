//! Municipalities, facilities, ID issuing and self-service staff management.

use crate::helpers::{PASSWORD, TestApp, TestDb};
use axum::http::StatusCode;
use tsunagu_domain::ids::{AccountId, FacilityId, MunicipalityId};

crate::on_both_databases!(
    an_operator_registers_municipalities_with_valid_codes_only,
    a_municipality_admin_registers_facilities_with_clear_errors,
    ids_are_issued_with_a_printable_code_and_redeemed,
    facility_admins_manage_their_own_staff_only,
    another_municipality_is_not_found,
    professionals_cannot_use_the_admin_pages,
    a_reset_code_replaces_password_and_second_factor,
);

/// Registers a municipality through the admin page as a fresh operator.
pub async fn municipality(t: &TestApp, code: &str, name: &str) -> MunicipalityId {
    let login = format!("op{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let (mut op, _) = t.signed_in(&login, None, "clerk", &["operator"], None).await;
    let reply = op.submit("/admin/municipalities", "/admin/municipalities", &[("code", code), ("name", name)]).await;
    assert!(reply.redirects_to("/admin/m/"), "{} {}", reply.status, reply.body);
    let location = reply.location.unwrap_or_default();
    location.split('/').nth(3).and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("no id in {location}"))
}

pub async fn kashiwa(t: &TestApp) -> MunicipalityId {
    municipality(t, "122173", "柏市").await
}

pub async fn account_id(t: &TestApp, login: &str) -> AccountId {
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let row = tx.account_by_login(login).await.unwrap_or_else(|e| panic!("{e}"));
    AccountId(row.unwrap_or_else(|| panic!("no account {login}")).id)
}

pub async fn facility_count(t: &TestApp, m: MunicipalityId) -> usize {
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    tx.facilities(m.0).await.unwrap_or_else(|e| panic!("{e}")).len()
}

/// Registers a facility as `client` (who must be allowed to) and returns its id.
pub async fn facility(client: &mut crate::helpers::Client, m: MunicipalityId, kind: &str, name: &str) -> FacilityId {
    let page = format!("/admin/m/{m}/facilities");
    let reply = client
        .submit(
            &page,
            &page,
            &[("kind", kind), ("name", name), ("address", "千葉県柏市柏5丁目10-1"), ("phone", "04-7100-0000")],
        )
        .await;
    assert!(reply.redirects_to("/admin/facilities/"), "{} {}", reply.status, reply.body);
    let location = reply.location.unwrap_or_default();
    location
        .split('/')
        .nth(3)
        .and_then(|s| s.split('?').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no id in {location}"))
}

async fn an_operator_registers_municipalities_with_valid_codes_only(db: &TestDb) {
    let t = TestApp::start(db).await;
    let (mut op, _) = t.signed_in("operator1", None, "clerk", &["operator"], None).await;
    let bad =
        op.submit("/admin/municipalities", "/admin/municipalities", &[("code", "122174"), ("name", "柏市")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("検査数字"), "the error says what is wrong");
    assert!(bad.body.contains("value=\"122174\""), "the form keeps what was typed");
    let short =
        op.submit("/admin/municipalities", "/admin/municipalities", &[("code", "12217"), ("name", "柏市")]).await;
    assert!(short.body.contains("6桁"));
    let ok = op
        .submit("/admin/municipalities", "/admin/municipalities", &[("code", "１２２１７３"), ("name", "柏市")])
        .await;
    assert!(ok.redirects_to("/admin/m/"));
    let duplicate =
        op.submit("/admin/municipalities", "/admin/municipalities", &[("code", "122173"), ("name", "柏市")]).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let list = op.get("/admin/municipalities").await;
    assert_eq!(list.body.matches("122173").count(), 1, "listed once");
}

async fn a_municipality_admin_registers_facilities_with_clear_errors(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let page = format!("/admin/m/{m}/facilities");
    let bad_phone = admin
        .submit(
            &page,
            &page,
            &[
                ("kind", "home_nursing_station"),
                ("name", "訪問看護ステーションテスト"),
                ("address", "千葉県柏市柏1-1"),
                ("phone", "123"),
            ],
        )
        .await;
    assert_eq!(bad_phone.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_phone.body.contains("電話番号"));
    let bad_code = admin
        .submit(
            &page,
            &page,
            &[
                ("kind", "clinic"),
                ("name", "テスト診療所"),
                ("address", "千葉県柏市柏1-1"),
                ("medical_institution_code", "2101128"),
            ],
        )
        .await;
    assert!(bad_code.body.contains("検証番号"));
    assert_eq!(facility_count(&t, m).await, 0, "refused input changes nothing");

    let id = facility(&mut admin, m, "clinic", "テスト在宅クリニック").await;
    let detail = admin.get(&format!("/admin/facilities/{id}")).await;
    assert!(detail.body.contains("テスト在宅クリニック"));
    let edit = admin
        .submit(
            &format!("/admin/facilities/{id}"),
            &format!("/admin/facilities/{id}"),
            &[
                ("kind", "clinic"),
                ("name", "テスト在宅クリニック本院"),
                ("address", "千葉県柏市柏2-2"),
                ("medical_institution_code", "2190015"),
            ],
        )
        .await;
    assert!(edit.redirects_to(&format!("/admin/facilities/{id}")), "{} {}", edit.status, edit.body);
    let after = admin.get(&format!("/admin/facilities/{id}")).await;
    assert!(after.body.contains("テスト在宅クリニック本院") && after.body.contains("1212190015"));
    let other = facility(&mut admin, m, "clinic", "別の診療所").await;
    let clash = admin
        .submit(
            &format!("/admin/facilities/{other}"),
            &format!("/admin/facilities/{other}"),
            &[("kind", "clinic"), ("name", "別の診療所"), ("address", "柏"), ("medical_institution_code", "2190015")],
        )
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
}

async fn ids_are_issued_with_a_printable_code_and_redeemed(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let (mut coordinator, _) =
        t.signed_in("center.coord", Some("122173"), "medical_social_worker", &["coordinator"], None).await;
    let station = facility(&mut coordinator, m, "home_nursing_station", "訪問看護ステーションつなぐ").await;
    let page = format!("/admin/m/{m}/accounts");
    let station_id = station.to_string();
    let issued = coordinator
        .submit(
            &page,
            &page,
            &[
                ("login_id", "ns.tanaka"),
                ("display_name", "田中 花子"),
                ("email", "tanaka@example.jp"),
                ("profession", "nurse"),
                ("facility_id", &station_id),
                ("role", "facility_admin"),
            ],
        )
        .await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let code = issued.by_id("issued-code").unwrap_or_else(|| panic!("no code on the slip"));
    assert_eq!(issued.by_id("issued-login").as_deref(), Some("ns.tanaka"));
    assert!(
        issued.body.contains("href=\"mailto:tanaka%40example.jp?subject="),
        "the code can go by the admin's own e-mail"
    );

    let duplicate = coordinator
        .submit(&page, &page, &[("login_id", "NS.Tanaka"), ("display_name", "別人"), ("profession", "nurse")])
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert!(duplicate.body.contains("すでに使われています"));
    let escalation = coordinator
        .submit(
            &page,
            &page,
            &[("login_id", "boss"), ("display_name", "上司"), ("profession", "clerk"), ("role", "municipality_admin")],
        )
        .await;
    assert_eq!(escalation.status, StatusCode::FORBIDDEN, "a coordinator cannot create a municipality admin");

    let mut nurse = t.client();
    nurse.redeem(&code, "ns.tanaka", PASSWORD).await;
    nurse.sign_in_and_enrol(&t, "ns.tanaka", PASSWORD).await;
    let home = nurse.get("/home").await;
    assert!(home.body.contains("訪問看護ステーションつなぐ") && home.body.contains("事業所管理者"));
}

async fn facility_admins_manage_their_own_staff_only(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let mine = facility(&mut admin, m, "home_nursing_station", "ステーションA").await;
    let theirs = facility(&mut admin, m, "home_nursing_station", "ステーションB").await;
    let (mut head, _) = t.signed_in("head.nurse", Some("122173"), "nurse", &["facility_admin"], Some(mine)).await;
    let (_, _) = t.signed_in("other.nurse", Some("122173"), "nurse", &[], Some(theirs)).await;

    let page = format!("/admin/m/{m}/accounts");
    let list = head.get(&page).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.body.contains("other.nurse"), "staff of other facilities are not listed");
    assert!(!list.body.contains("ステーションB</option>"), "only own facilities are offered");
    let (mine_s, theirs_s) = (mine.to_string(), theirs.to_string());
    let ok = head
        .submit(
            &page,
            &page,
            &[
                ("login_id", "new.nurse"),
                ("display_name", "新人 看護師"),
                ("profession", "nurse"),
                ("facility_id", &mine_s),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let refused = head
        .submit(
            &page,
            &page,
            &[("login_id", "sneaky"), ("display_name", "別の人"), ("profession", "nurse"), ("facility_id", &theirs_s)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let edit_own = head
        .submit(
            &format!("/admin/facilities/{mine}"),
            &format!("/admin/facilities/{mine}"),
            &[("kind", "home_nursing_station"), ("name", "ステーションA（本店）"), ("address", "柏市")],
        )
        .await;
    assert!(edit_own.redirects_to("/admin/facilities/"));
    let edit_other = head
        .submit(
            &format!("/admin/facilities/{theirs}"),
            &format!("/admin/facilities/{theirs}"),
            &[("kind", "home_nursing_station"), ("name", "乗っ取り"), ("address", "柏市")],
        )
        .await;
    assert_eq!(edit_other.status, StatusCode::FORBIDDEN);

    let other_id = account_id(&t, "other.nurse").await;
    assert_eq!(head.get(&format!("/admin/accounts/{other_id}")).await.status, StatusCode::FORBIDDEN);
    let new_id = account_id(&t, "new.nurse").await;
    let detail = head.get(&format!("/admin/accounts/{new_id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    let off = head
        .submit(
            &format!("/admin/accounts/{new_id}"),
            &format!("/admin/accounts/{new_id}/status"),
            &[("enabled", "false")],
        )
        .await;
    assert!(off.redirects_to(&format!("/admin/accounts/{new_id}")));
    assert!(head.get(&format!("/admin/accounts/{new_id}")).await.body.contains("停止"));
    let detach = head
        .submit(
            &format!("/admin/accounts/{new_id}"),
            &format!("/admin/accounts/{new_id}/memberships/{mine}/remove"),
            &[],
        )
        .await;
    assert!(detach.redirects_to(&format!("/admin/accounts/{new_id}")));
}

async fn another_municipality_is_not_found(db: &TestDb) {
    let t = TestApp::start(db).await;
    let kashiwa = kashiwa(&t).await;
    let nagareyama = municipality(&t, "122203", "流山市").await;
    let (mut kashiwa_admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let clinic = facility(&mut kashiwa_admin, kashiwa, "clinic", "柏の診療所").await;
    let (mut nagareyama_admin, _) =
        t.signed_in("n.admin", Some("122203"), "municipal_officer", &["municipality_admin"], None).await;
    let kashiwa_admin_id = account_id(&t, "city.admin").await;
    for path in [
        format!("/admin/m/{kashiwa}/facilities"),
        format!("/admin/m/{kashiwa}/accounts"),
        format!("/admin/m/{kashiwa}/audit"),
        format!("/admin/facilities/{clinic}"),
        format!("/admin/accounts/{kashiwa_admin_id}"),
    ] {
        let reply = nagareyama_admin.get(&path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!reply.body.contains("柏の診療所") && !reply.body.contains("city.admin"), "{path}");
    }
    let page = format!("/admin/m/{nagareyama}/facilities");
    assert_eq!(nagareyama_admin.get(&page).await.status, StatusCode::OK);
    assert!(!nagareyama_admin.get(&page).await.body.contains("柏の診療所"));
}

async fn professionals_cannot_use_the_admin_pages(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let (mut nurse, _) = t.signed_in("nurse1", Some("122173"), "nurse", &[], None).await;
    assert_eq!(nurse.get("/admin").await.status, StatusCode::FORBIDDEN);
    assert_eq!(nurse.get(&format!("/admin/m/{m}/accounts")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(nurse.get(&format!("/admin/m/{m}/audit")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(nurse.get("/admin/municipalities").await.status, StatusCode::FORBIDDEN);
    let page = format!("/admin/m/{m}/facilities");
    let list = nurse.get(&page).await;
    assert_eq!(list.status, StatusCode::OK, "everyone in the municipality sees its facility directory");
    let create = nurse.submit(&page, &page, &[("kind", "clinic"), ("name", "勝手な診療所"), ("address", "柏市")]).await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    assert_eq!(facility_count(&t, m).await, 0);
}

async fn a_reset_code_replaces_password_and_second_factor(db: &TestDb) {
    let t = TestApp::start(db).await;
    kashiwa(&t).await;
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let (mut nurse, old_secret) = t.signed_in("nurse1", Some("122173"), "nurse", &[], None).await;
    let id = account_id(&t, "nurse1").await;
    let slip = admin.submit(&format!("/admin/accounts/{id}"), &format!("/admin/accounts/{id}/reissue"), &[]).await;
    let code = slip.by_id("issued-code").unwrap_or_else(|| panic!("no code: {}", slip.body));
    // A reissue is asked for when the old credentials are lost or suspect: their sessions end at once.
    assert!(nurse.get("/home").await.redirects_to("/sign-in"), "reissuing ends old sessions");
    let mut phone = t.client();
    phone.redeem(&code, "nurse1", "a fresh pass phrase").await;
    let old = phone.sign_in_with_totp(&t, "nurse1", PASSWORD, &old_secret).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new =
        phone.submit("/sign-in", "/sign-in", &[("login_id", "nurse1"), ("password", "a fresh pass phrase")]).await;
    assert!(new.redirects_to("/sign-in/enrol"), "a new second factor is required");
}
