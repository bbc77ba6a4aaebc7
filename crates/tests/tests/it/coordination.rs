//! The coordination centre's desk (issue 27): a hospital's discharge request
//! becomes, through the centre, a patient with consent and a complete care
//! team without retyping, every step audited; consultations move from new to
//! closed and stay the centre's; the public form takes no markup and is
//! limited per address.

use crate::admin::{account_id, facility, kashiwa, municipality};
use crate::helpers::{Client, TestApp, TestDb};
use axum::http::StatusCode;
use tsunagu_domain::ids::{FacilityId, MunicipalityId};

crate::on_both_databases!(
    a_discharge_request_becomes_a_patient_with_a_team_without_retyping,
    the_municipality_adopts_discharge_rules_and_the_desk_holds_the_conference,
    an_unanswered_request_is_reminded_then_counts_as_declined,
    the_desk_works_through_the_json_api_too,
    a_case_keeps_its_files_for_the_desk_only,
    the_municipality_edits_its_consultation_topics,
    consultations_move_from_new_to_closed_and_stay_the_centres,
    the_public_form_takes_no_markup_and_is_limited_per_address,
);

/// A located facility with a profile (services, accepting), registered by the city.
#[allow(clippy::too_many_arguments)]
async fn located(
    admin: &mut Client,
    m: MunicipalityId,
    kind: &str,
    name: &str,
    address: &str,
    at: (f64, f64),
    services: &[&str],
    accepting: &str,
) -> FacilityId {
    let page = format!("/admin/m/{m}/facilities");
    let (lat, lng) = (at.0.to_string(), at.1.to_string());
    let reply = admin
        .submit(
            &page,
            &page,
            &[("kind", kind), ("name", name), ("address", address), ("latitude", &lat), ("longitude", &lng)],
        )
        .await;
    assert!(reply.redirects_to("/admin/facilities/"), "{} {}", reply.status, reply.body);
    let location = reply.location.unwrap_or_default();
    let id: FacilityId = location
        .split('/')
        .nth(3)
        .and_then(|s| s.split('?').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no id in {location}"));
    let profile_page = format!("/admin/facilities/{}", id.0);
    let mut form: Vec<(&str, &str)> = services.iter().map(|s| ("services", *s)).collect();
    form.push(("accepting", accepting));
    let saved = admin.submit(&profile_page, &format!("{profile_page}/profile"), &form).await;
    assert!(saved.redirects_to(&profile_page), "{} {}", saved.status, saved.body);
    id
}

struct Network {
    t: TestApp,
    m: MunicipalityId,
    centre: Client,
    centre_secret: String,
    msw: Client,
    doctor: Client,
    clerk: Client,
    nurse: Client,
    /// The nurse's second factor, to sign in again after the clock moved.
    nurse_secret: String,
    care_manager: Client,
    busy_office_manager: Client,
    clinic_near: FacilityId,
    clinic_far: FacilityId,
    station: FacilityId,
    office: FacilityId,
    busy_office: FacilityId,
}

async fn network(db: &TestDb) -> Network {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    let hospital = facility(&mut admin, m, "hospital", "柏の葉総合病院").await;
    let clinic_near = located(
        &mut admin,
        m,
        "clinic",
        "豊四季在宅クリニック",
        "千葉県柏市豊四季100",
        (35.866, 139.950),
        &["scheduled_home_visit", "home_oxygen", "palliative_opioids"],
        "yes",
    )
    .await;
    let clinic_far = located(
        &mut admin,
        m,
        "clinic",
        "沼南診療所",
        "千葉県柏市大島田1-1",
        (35.83, 140.05),
        &["scheduled_home_visit"],
        "yes",
    )
    .await;
    located(&mut admin, m, "clinic", "受け入れ停止クリニック", "千葉県柏市豊四季200", (35.867, 139.951), &[], "no")
        .await;
    let station = located(
        &mut admin,
        m,
        "home_nursing_station",
        "訪問看護ステーションつなぐ",
        "千葉県柏市豊四季300",
        (35.865, 139.952),
        &["home_oxygen", "palliative_opioids", "around_the_clock"],
        "yes",
    )
    .await;
    let office = located(
        &mut admin,
        m,
        "care_management_office",
        "居宅介護支援ひだまり",
        "千葉県柏市豊四季400",
        (35.868, 139.949),
        &[],
        "yes",
    )
    .await;
    let busy_office = located(
        &mut admin,
        m,
        "care_management_office",
        "ケアプランあおぞら",
        "千葉県柏市豊四季500",
        (35.869, 139.948),
        &[],
        "limited",
    )
    .await;
    let (centre, centre_secret) =
        t.signed_in("centre.ito", Some("122173"), "social_worker", &["coordinator"], None).await;
    let (msw, _) = t.signed_in("msw.kato", Some("122173"), "medical_social_worker", &[], Some(hospital)).await;
    let (doctor, _) = t.signed_in("dr.toyo", Some("122173"), "physician", &[], Some(clinic_near)).await;
    let (clerk, _) = t.signed_in("clerk.toyo", Some("122173"), "clerk", &[], Some(clinic_near)).await;
    let (nurse, nurse_secret) = t.signed_in("ns.tsunagu", Some("122173"), "nurse", &[], Some(station)).await;
    let (care_manager, _) = t.signed_in("cm.hidamari", Some("122173"), "care_manager", &[], Some(office)).await;
    let (busy_office_manager, _) =
        t.signed_in("cm.aozora", Some("122173"), "care_manager", &[], Some(busy_office)).await;
    Network {
        t,
        m,
        centre,
        centre_secret,
        msw,
        doctor,
        clerk,
        nurse,
        nurse_secret,
        care_manager,
        busy_office_manager,
        clinic_near,
        clinic_far,
        station,
        office,
        busy_office,
    }
}

const DISCHARGE: &[(&str, &str)] = &[
    ("family_name", "流山"),
    ("given_name", "一郎"),
    ("family_name_kana", "ナガレヤマ"),
    ("given_name_kana", "イチロウ"),
    ("birth_date", "1940-05-05"),
    ("sex", "male"),
    ("address", "千葉県柏市豊四季1-2-3"),
    ("key_person", "流山 花子（妻）"),
    ("key_person_phone", "04-7100-1234"),
    ("care_level", "applying"),
    ("main_diagnoses", "肺がん（骨転移）"),
    ("special_care", "home_oxygen"),
    ("planned_discharge_on", "2099-01-01"),
    ("medications", "オキシコドン徐放錠 10mg 1日2回"),
    ("place_of_care", "home"),
    ("place_of_death", "home"),
    ("needed_services", "home_oxygen"),
    ("needed_services", "palliative_opioids"),
];

/// The form with a planned discharge a week from the test's today.
fn discharge_form(t: &TestApp) -> Vec<(&'static str, String)> {
    let planned = (t.app.now() + time::Duration::days(7)).date().to_string();
    DISCHARGE
        .iter()
        .map(|(k, v)| (*k, if *k == "planned_discharge_on" { planned.clone() } else { (*v).to_owned() }))
        .collect()
}

fn as_refs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The MSW sends the standard discharge request from its hospital; returns the case's id.
async fn send_discharge(t: &TestApp, msw: &mut Client) -> String {
    let form = discharge_form(t);
    let new_form = msw.get("/discharge/new").await.body;
    let hospital_id = new_form
        .split("name=\"hospital\"")
        .nth(1)
        .and_then(|s| s.split("value=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let mut with_hospital = as_refs(&form);
    with_hospital.push(("hospital", &hospital_id));
    let sent = msw.submit("/discharge/new", "/discharge", &with_hospital).await;
    assert!(sent.redirects_to("/discharge/"), "{} {}", sent.status, sent.body);
    sent.location.unwrap_or_default().split('?').next().unwrap_or_default().trim_start_matches("/discharge/").to_owned()
}

/// The first `/coordination/{id}` link on a page.
fn request_link(body: &str) -> Option<String> {
    let at = body.find("href=\"/coordination/")? + "href=\"".len();
    let end = body[at..].find('"')?;
    Some(body[at..at + end].to_owned())
}

async fn a_discharge_request_becomes_a_patient_with_a_team_without_retyping(db: &TestDb) {
    let Network {
        t,
        m,
        mut centre,
        centre_secret: _,
        mut msw,
        mut doctor,
        mut clerk,
        mut nurse,
        nurse_secret: _,
        mut care_manager,
        mut busy_office_manager,
        clinic_near,
        clinic_far,
        station,
        office,
        busy_office,
    } = network(db).await;
    // The hospital's MSW sends the request; a bad one changes nothing.
    let form = discharge_form(&t);
    let hospital = msw.get("/discharge/new").await;
    assert_eq!(hospital.status, StatusCode::OK);
    let hospital_id = hospital
        .body
        .split("name=\"hospital\"")
        .nth(1)
        .and_then(|s| s.split("value=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let mut with_hospital = as_refs(&form);
    with_hospital.push(("hospital", &hospital_id));
    let mut bad = with_hospital.clone();
    bad.retain(|(k, _)| *k != "planned_discharge_on");
    bad.push(("planned_discharge_on", "2020-01-01"));
    let refused = msw.submit("/discharge/new", "/discharge", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("退院予定日は今日から半年以内"), "{}", refused.body);
    assert!(refused.body.contains("value=\"流山\""), "what was typed is kept");
    let sent = msw.submit("/discharge/new", "/discharge", &with_hospital).await;
    assert!(sent.redirects_to("/discharge/"), "{} {}", sent.status, sent.body);
    let case_path = sent.location.unwrap_or_default().split('?').next().unwrap_or_default().to_owned();
    let case = case_path.trim_start_matches("/discharge/").to_owned();
    assert_eq!(msw.get("/discharge").await.body.matches("/discharge/0").count(), 1, "one request listed");
    // Someone not at a hospital sends nothing.
    assert_eq!(doctor.get("/discharge/new").await.status, StatusCode::FORBIDDEN);

    // The desk sees it, unanswered, with the candidates ranked for the patient.
    let desk = centre.get("/centre").await;
    assert_eq!(desk.status, StatusCode::OK);
    assert!(desk.body.contains("流山 一郎") && desk.by_id("desk-figures").is_some(), "{}", desk.body);
    assert!(desk.body.contains("未対応 1"), "{}", desk.body);
    let page_path = format!("/centre/cases/{case}");
    let page = centre.get(&page_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("オキシコドン"), "the handover");
    let checks =
        page.body.split("id=\"rule-checks\"").nth(1).and_then(|s| s.split("</section>").next()).unwrap_or_default();
    assert!(checks.contains("ADL") && checks.contains("病棟看護師"), "what the rules still ask, and of whom: {checks}");
    assert!(page.body.contains("千葉県柏市豊四季"), "located by the town: {}", page.body);
    let seat = page.body.split("id=\"seat-primary_physician\"").nth(1).unwrap_or_default();
    let (near, far) = (seat.find("豊四季在宅クリニック"), seat.find("沼南診療所"));
    assert!(near.is_some() && far.is_some() && near < far, "the near clinic offering oxygen comes first: {seat}");
    assert!(!seat.contains("受け入れ停止クリニック"), "one not accepting is not suggested");

    // The desk asks candidates; one outside the registry is refused and nothing is sent.
    let stranger = FacilityId::new().to_string();
    let outside = centre
        .submit(&page_path, &format!("{page_path}/candidates"), &[("seat", "visiting_nurse"), ("facility", &stranger)])
        .await;
    assert_eq!(outside.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(outside.body.contains("地域の事業所一覧にない"), "{}", outside.body);
    let ask = |seat: &'static str, facilities: Vec<String>| {
        let mut form: Vec<(&str, String)> = vec![("seat", seat.to_owned())];
        form.extend(facilities.into_iter().map(|f| ("facility", f)));
        form
    };
    for (seat, facilities) in [
        ("primary_physician", vec![clinic_near.to_string(), clinic_far.to_string()]),
        ("visiting_nurse", vec![station.to_string()]),
        ("care_manager", vec![office.to_string(), busy_office.to_string()]),
    ] {
        let form = ask(seat, facilities);
        let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let asked = centre.submit(&page_path, &format!("{page_path}/candidates"), &refs).await;
        assert!(asked.redirects_to(&page_path), "{} {}", asked.status, asked.body);
    }

    // Each candidate finds the request on its home and reads a summary without name or address.
    let home = doctor.get("/home").await;
    let link = request_link(&home.body).unwrap_or_else(|| panic!("no request on the doctor's home: {}", home.body));
    let summary = doctor.get(&link).await;
    assert_eq!(summary.status, StatusCode::OK);
    let today = t.app.now().to_offset(tsunagu_domain::clock::JST).date();
    let years = tsunagu_domain::patient::age(time::macros::date!(1940 - 05 - 05), today);
    assert!(summary.body.contains("肺がん") && summary.body.contains(&format!("{years}歳")), "{}", summary.body);
    assert!(!summary.body.contains("流山") && !summary.body.contains("1-2-3"), "no name, no street address");
    assert_eq!(nurse.get(&link).await.status, StatusCode::NOT_FOUND, "a request to another facility is not theirs");
    // The clinic's clerk may not take the doctor's seat.
    let by_clerk = clerk.submit(&link, &format!("{link}/answer"), &[("answer", "accept")]).await;
    assert_eq!(by_clerk.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(by_clerk.body.contains("その職種の方"), "{}", by_clerk.body);
    let accepted = doctor.submit(&link, &format!("{link}/answer"), &[("answer", "accept")]).await;
    assert!(accepted.redirects_to(&link), "{} {}", accepted.status, accepted.body);
    let again = doctor.submit(&link, &format!("{link}/answer"), &[("answer", "decline"), ("reason", "staffing")]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "answered once");
    let nurse_link = request_link(&nurse.get("/home").await.body).unwrap_or_default();
    let ok = nurse.submit(&nurse_link, &format!("{nurse_link}/answer"), &[("answer", "accept")]).await;
    assert!(ok.redirects_to(&nurse_link), "{} {}", ok.status, ok.body);
    let busy_link = request_link(&busy_office_manager.get("/home").await.body).unwrap_or_default();
    let no_reason =
        busy_office_manager.submit(&busy_link, &format!("{busy_link}/answer"), &[("answer", "decline")]).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY, "a decline needs its reason");
    let declined = busy_office_manager
        .submit(&busy_link, &format!("{busy_link}/answer"), &[("answer", "decline"), ("reason", "no_capacity")])
        .await;
    assert!(declined.redirects_to(&busy_link));

    // The team cannot be created while a required seat is open.
    let given_on = t.app.now().date().to_string();
    let consent_today = [("given_on", given_on.as_str()), ("method", "written")];
    let early = centre.submit(&page_path, &format!("{page_path}/team"), &consent_today).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early.body.contains("そろうまで"), "{}", early.body);
    let cm_link = request_link(&care_manager.get("/home").await.body).unwrap_or_default();
    assert!(
        care_manager
            .submit(&cm_link, &format!("{cm_link}/answer"), &[("answer", "accept")])
            .await
            .redirects_to(&cm_link)
    );

    // One action: patient, consent, team, and the handover as the first entry.
    let created = centre.submit(&page_path, &format!("{page_path}/team"), &consent_today).await;
    assert!(created.redirects_to(&page_path), "{} {}", created.status, created.body);
    let after = centre.get(&page_path).await;
    assert!(after.by_id("team-created").is_some(), "{}", after.body);
    let mut tx = t.store.begin_read().await.unwrap();
    let patients = tx.patients_born_on(m.0, time::macros::date!(1940 - 05 - 05)).await.unwrap();
    assert_eq!(patients.len(), 1);
    let patient = patients[0].id;
    let team = tx.team(patient).await.unwrap();
    let mut roles: Vec<&str> = team.iter().map(|m| m.team_role.as_str()).collect();
    roles.sort_unstable();
    assert_eq!(roles, vec!["care_manager", "primary_physician", "visiting_nurse"]);
    assert_eq!(tx.consents(patient).await.unwrap().len(), 1, "consent is recorded");
    drop(tx);
    let record = doctor.get(&format!("/patients/{patient}")).await;
    assert_eq!(record.status, StatusCode::OK);
    assert!(record.body.contains("退院時の引き継ぎ") && record.body.contains("オキシコドン"), "no retyping");
    assert!(record.body.contains("流山"), "the team reads the name now");
    assert_eq!(nurse.get(&format!("/patients/{patient}")).await.status, StatusCode::OK);
    assert_eq!(
        centre.get(&format!("/patients/{patient}")).await.status,
        StatusCode::NOT_FOUND,
        "the centre is not on the team"
    );
    assert_eq!(msw.get(&format!("/patients/{patient}")).await.status, StatusCode::NOT_FOUND);
    // Creating it twice is refused.
    let twice = centre.submit(&page_path, &format!("{page_path}/team"), &consent_today).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The accepting doctor's request page now leads to the record; the sender sees the team ready.
    assert!(doctor.get(&link).await.body.contains(&format!("/patients/{patient}")));
    let followed = msw.get(&case_path).await;
    assert!(followed.by_id("team-ready").is_some(), "{}", followed.body);
    assert!(followed.body.contains("豊四季在宅クリニック"));

    // Every step is in the audit log.
    let mut tx = t.store.begin_read().await.unwrap();
    let events = tx.recent_audit_events(m.0, 500).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert!(
        events.iter().any(|e| e.action == "case_viewed" && e.details.contains("sent_requests")),
        "the sender's list of its requests names patients: audited"
    );
    for action in [
        "discharge_requested",
        "case_viewed",
        "candidates_asked",
        "candidate_request_viewed",
        "candidate_answered",
        "patient_registered",
        "consent_recorded",
        "team_member_added",
        "entry_posted",
        "team_created_from_case",
    ] {
        assert!(actions.contains(&action), "{action} is audited: {actions:?}");
    }
    drop(tx);

    // The report counts what happened.
    let report = centre.get("/centre/reports").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert!(report.by_id("report-total").unwrap_or_default().starts_with('1'), "{}", report.body);
    assert!(report.by_id("report-requests").unwrap_or_default().starts_with('5'), "five requests asked");
    assert!(report.body.contains("受け入れ枠がない"));
    let (status, _, csv) = centre.get_bytes("/centre/reports.csv").await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(csv.lines().count(), 2, "a header and one case: {csv}");
    assert!(!csv.contains("流山"), "no names in the export");
    assert_eq!(
        account_id(&t, "dr.toyo").await.0,
        team.iter().find(|m| m.team_role == "primary_physician").map(|m| m.account_id).unwrap_or_default()
    );
}

async fn consultations_move_from_new_to_closed_and_stay_the_centres(db: &TestDb) {
    let t = TestApp::start(db).await;
    kashiwa(&t).await;
    let (mut centre, _) = t.signed_in("centre.ito", Some("122173"), "social_worker", &["coordinator"], None).await;
    let (mut nurse, _) = t.signed_in("ns.sato", Some("122173"), "nurse", &[], None).await;
    let (mut city, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    // A citizen writes through the public form: the case is new, nobody has answered.
    let mut citizen = t.client();
    let sent = citizen
        .submit(
            "/m/122173/consult",
            "/m/122173/consult",
            &[
                ("requester_kind", "family"),
                ("requester_name", "柏 一郎"),
                ("requester_contact", "04-7100-0000"),
                ("subject_name", "柏 花子"),
                ("topics", "find_home_doctor"),
                ("summary", "母が通院できなくなりました。往診の先生を探しています。"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(sent.by_id("receipt").is_some_and(|r| r.len() == 8));
    let desk = centre.get("/centre").await;
    assert!(desk.body.contains("柏 花子") && desk.body.contains("未対応 1"), "{}", desk.body);
    let link = desk.body.split("href=\"/centre/cases/").nth(2).and_then(|s| s.split('"').next()).unwrap_or_default();
    let page = format!("/centre/cases/{link}");
    assert_eq!(centre.get(&page).await.status, StatusCode::OK, "{page}");
    // Only the centre: a nurse, the city's admin and another municipality's centre find nothing.
    assert_eq!(nurse.get("/centre").await.status, StatusCode::FORBIDDEN);
    assert_eq!(nurse.get(&page).await.status, StatusCode::NOT_FOUND);
    assert_eq!(city.get("/centre").await.status, StatusCode::FORBIDDEN);
    assert_eq!(city.get(&page).await.status, StatusCode::NOT_FOUND);
    municipality(&t, "122084", "野田市").await;
    let (mut other, _) = t.signed_in("centre.noda", Some("122084"), "social_worker", &["coordinator"], None).await;
    assert_eq!(other.get(&page).await.status, StatusCode::NOT_FOUND);
    assert!(!other.get("/centre").await.body.contains("柏 花子"));

    // A call back: in progress, first response recorded.
    let logged = centre
        .submit(&page, &format!("{page}/log"), &[("kind", "phone"), ("note", "長男に折り返し。訪問診療の流れを説明。")])
        .await;
    assert!(logged.redirects_to(&page), "{} {}", logged.status, logged.body);
    let shown = centre.get(&page).await;
    assert!(shown.by_id("case-state").is_some());
    assert!(shown.body.contains("対応中") && shown.body.contains("訪問診療の流れ"), "{}", shown.body);
    assert!(centre.get("/centre").await.body.contains("未対応 0"));
    // A task already overdue shows on the desk; closing with it open needs a reason.
    let yesterday = (t.app.now() - time::Duration::days(1)).date().to_string();
    let task = centre
        .submit(&page, &format!("{page}/tasks"), &[("title", "候補の診療所に空き確認"), ("due_on", &yesterday)])
        .await;
    assert!(task.redirects_to(&page));
    assert!(centre.get("/centre").await.body.contains("期限切れタスク 1"));
    let refused = centre.submit(&page, &format!("{page}/close"), &[("outcome", "team_found")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("終了する理由"), "{}", refused.body);
    assert!(centre.get(&page).await.body.contains("候補の診療所に空き確認"), "nothing changed");
    let bad_state = centre.submit(&page, &format!("{page}/state"), &[("state", "new")]).await;
    assert_eq!(bad_state.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = centre.get(&page).await.body;
    let task_id = body.split("/tasks/").nth(1).and_then(|s| s.split('/').next()).unwrap_or_default().to_owned();
    let done = centre.submit(&page, &format!("{page}/tasks/{task_id}/done"), &[]).await;
    assert!(done.redirects_to(&page), "{} {}", done.status, done.body);
    let closed = centre.submit(&page, &format!("{page}/close"), &[("outcome", "referred")]).await;
    assert!(closed.redirects_to(&page));
    let desk = centre.get("/centre").await;
    assert!(desk.by_id("closed").is_some() && desk.body.contains("他の機関を紹介した"), "{}", desk.body);
    // Reopened, it is in progress again.
    let reopened = centre.submit(&page, &format!("{page}/state"), &[("state", "in_progress")]).await;
    assert!(reopened.redirects_to(&page));
    assert!(centre.get(&page).await.body.contains("id=\"close\""), "it can be closed again");

    // The desk records a phone call: answered as it is recorded, the desk's own.
    let recorded = centre
        .submit(
            "/centre/cases/new",
            "/centre/cases",
            &[
                ("channel", "phone"),
                ("requester_kind", "professional"),
                ("requester_name", "ケアマネ 鈴木"),
                ("topics", "care_services"),
                ("topics", "costs"),
                ("urgency", "soon"),
                ("summary", "利用者の退院後のサービス調整について"),
            ],
        )
        .await;
    assert!(recorded.redirects_to("/centre/cases/"), "{} {}", recorded.status, recorded.body);
    let missing = centre
        .submit(
            "/centre/cases/new",
            "/centre/cases",
            &[("channel", "phone"), ("requester_kind", "family"), ("requester_name", "x"), ("summary", "y")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("1つ以上選んで"), "{}", missing.body);
    let report = centre.get("/centre/reports").await;
    assert!(report.by_id("report-total").unwrap_or_default().starts_with('2'), "{}", report.body);
}

async fn the_public_form_takes_no_markup_and_is_limited_per_address(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let form = |summary: &'static str| {
        vec![
            ("requester_kind", "patient"),
            ("requester_name", "我孫子 太郎"),
            ("requester_contact", "taro@example.jp"),
            ("topics", "dementia"),
            ("summary", summary),
        ]
    };
    let count = || async {
        let mut tx = t.store.begin_read().await.unwrap();
        let desk = tsunagu_domain::case_access::enter_desk(
            &tsunagu_domain::policy::Actor {
                account_id: tsunagu_domain::ids::AccountId::new(),
                municipality_id: Some(m),
                roles: vec![tsunagu_domain::account::Role::Coordinator],
                admin_of: vec![],
                member_of: vec![],
            },
            m,
        )
        .unwrap();
        tx.open_cases(&desk).await.unwrap().len()
    };
    let mut citizen = t.client();
    let tagged = citizen.submit("/m/122173/consult", "/m/122173/consult", &form("<script>alert(1)</script>")).await;
    assert_eq!(tagged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(tagged.body.contains("HTMLのタグ"), "{}", tagged.body);
    assert_eq!(count().await, 0, "nothing was kept");
    // A robot filling the hidden field is thanked, and nothing is kept.
    let mut robot_form = form("安い薬あります");
    robot_form.push(("website", "http://spam.example"));
    let robot = citizen.submit("/m/122173/consult", "/m/122173/consult", &robot_form).await;
    assert_eq!(robot.status, StatusCode::OK);
    assert_eq!(count().await, 0);
    for _ in 0..tsunagu_app::coordination::PUBLIC_PER_HOUR {
        let ok = citizen.submit("/m/122173/consult", "/m/122173/consult", &form("物忘れが増えて心配です。")).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    }
    let limited = citizen.submit("/m/122173/consult", "/m/122173/consult", &form("物忘れが増えて心配です。")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.body.contains("時間をおいて"), "{}", limited.body);
    assert_eq!(count().await, tsunagu_app::coordination::PUBLIC_PER_HOUR as usize);
    // Another address is not limited by it; an hour later this one may write again.
    let mut neighbour = t.client();
    neighbour.address = std::net::SocketAddr::from(([192, 0, 2, 77], 50000));
    let other = neighbour.submit("/m/122173/consult", "/m/122173/consult", &form("物忘れが増えて心配です。")).await;
    assert_eq!(other.status, StatusCode::OK);
    t.clock.advance(time::Duration::minutes(61));
    let later = citizen.submit("/m/122173/consult", "/m/122173/consult", &form("物忘れが増えて心配です。")).await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
    assert_eq!(citizen.get("/m/999999/consult").await.status, StatusCode::NOT_FOUND, "an unknown municipality");
}

async fn the_municipality_adopts_discharge_rules_and_the_desk_holds_the_conference(db: &TestDb) {
    let Network { t, mut centre, mut msw, mut doctor, mut nurse, clinic_near, .. } = network(db).await;
    // Every member reads the rule book (the defaults until the city adopts its own); only the network's runners change it.
    let book = nurse.get("/centre/rules").await;
    assert_eq!(book.status, StatusCode::OK);
    assert!(book.body.contains("初期設定のルール") && book.body.contains("ADL"), "{}", book.body);
    assert!(!book.body.contains("id=\"rules-edit\""), "a nurse is not offered the form");
    let rules = [
        ("item", "main_diagnoses"),
        ("provider", "hospital_physician"),
        ("days_before", "7"),
        ("note", ""),
        ("item", "medications"),
        ("provider", "hospital_physician"),
        ("days_before", "３"),
        ("note", "退院時処方を含む"),
        ("item", ""),
        ("provider", "ward_nurse"),
        ("days_before", "7"),
        ("note", ""),
        ("adoption_note", "2026年12月 協議会で承認"),
    ];
    let refused = nurse.submit("/centre/rules", "/centre/rules", &rules).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let twice = [
        ("item", "adl"),
        ("provider", "ward_nurse"),
        ("days_before", "7"),
        ("item", "adl"),
        ("provider", "ward_nurse"),
        ("days_before", "3"),
    ];
    let bad = centre.submit("/centre/rules", "/centre/rules", &twice).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("同じ項目が2回"), "{}", bad.body);
    let adopted = centre.submit("/centre/rules", "/centre/rules", &rules).await;
    assert!(adopted.redirects_to("/centre/rules"), "{} {}", adopted.status, adopted.body);
    let book = nurse.get("/centre/rules").await;
    assert_eq!(book.by_id("rules-version").unwrap_or_default().split('（').next(), Some("第1版"));
    assert!(book.body.contains("退院時処方を含む") && !book.body.contains("家族の介護力"), "{}", book.body);

    // A discharge case is checked against the version in force.
    let case = send_discharge(&t, &mut msw).await;
    let page_path = format!("/centre/cases/{case}");
    let page = centre.get(&page_path).await.body;
    let checks = page.split("id=\"rule-checks\"").nth(1).and_then(|s| s.split("</section>").next()).unwrap_or_default();
    assert!(checks.contains("病名・病状") && checks.contains("内服薬・処方") && !checks.contains("ADL"), "{checks}");

    // The conference: a place or online, and who attends; the accepted doctor and the hospital see it.
    let clinic = clinic_near.to_string();
    let asked = centre
        .submit(&page_path, &format!("{page_path}/candidates"), &[("seat", "primary_physician"), ("facility", &clinic)])
        .await;
    assert!(asked.redirects_to(&page_path));
    let link = request_link(&doctor.get("/home").await.body).unwrap_or_default();
    assert!(doctor.submit(&link, &format!("{link}/answer"), &[("answer", "accept")]).await.redirects_to(&link));
    let day = (t.app.now() + time::Duration::days(5)).to_offset(tsunagu_domain::clock::JST).date();
    let when = format!("{day}T14:00");
    let conference = format!("{page_path}/conference");
    let nowhere =
        centre.submit(&page_path, &conference, &[("starts_at", &when), ("participants", "在宅医、病棟看護師")]).await;
    assert_eq!(nowhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nowhere.body.contains("オンラインを選んで"), "{}", nowhere.body);
    let suggested = centre.get(&page_path).await.body;
    assert!(suggested.contains("dr.toyo さん"), "the accepted doctor is suggested: {suggested}");
    let saved = centre
        .submit(
            &page_path,
            &conference,
            &[
                ("starts_at", &when),
                ("place", "柏の葉総合病院 5階面談室"),
                ("online", "on"),
                ("participants", "在宅医、病棟看護師、MSW"),
            ],
        )
        .await;
    assert!(saved.redirects_to(&page_path), "{} {}", saved.status, saved.body);
    let shown = centre.get(&page_path).await.body;
    let shown = shown.split("id=\"conference-when\"").nth(1).and_then(|s| s.split("</p>").next()).unwrap_or_default();
    assert!(shown.contains("14:00") && shown.contains("オンライン"), "{shown}");
    assert!(doctor.get(&link).await.body.contains("5階面談室"), "the accepted doctor sees the conference");
    assert!(msw.get(&format!("/discharge/{case}")).await.body.contains("5階面談室"), "and the hospital");
    assert_eq!(nurse.get(&link).await.status, StatusCode::NOT_FOUND, "a request to another facility stays unseen");
}

async fn an_unanswered_request_is_reminded_then_counts_as_declined(db: &TestDb) {
    let Network { t, mut centre, centre_secret, mut msw, mut nurse, nurse_secret, station, .. } = network(db).await;
    let case = send_discharge(&t, &mut msw).await;
    let page_path = format!("/centre/cases/{case}");
    let station = station.to_string();
    let asked = centre
        .submit(&page_path, &format!("{page_path}/candidates"), &[("seat", "visiting_nurse"), ("facility", &station)])
        .await;
    assert!(asked.redirects_to(&page_path));
    assert_eq!(t.app.remind_candidates(100).await.unwrap(), 0, "not yet: two days to answer");
    let home = nurse.get("/home").await;
    let link = request_link(&home.body).unwrap_or_else(|| panic!("no request on the nurse's home"));
    assert!(!home.body.contains("badge warning"), "not due soon yet");
    // 37 hours later: 11 left; the station is reminded, once.
    t.clock.advance(time::Duration::hours(37));
    assert_eq!(t.app.remind_candidates(100).await.unwrap(), 1);
    assert_eq!(t.app.remind_candidates(100).await.unwrap(), 0, "reminded once");
    // (A day and a half later she signs in again.)
    let again = nurse.sign_in_with_totp(&t, "ns.tsunagu", crate::helpers::PASSWORD, &nurse_secret).await;
    assert!(again.status.is_redirection(), "{} {}", again.status, again.body);
    let home = nurse.get("/home").await.body;
    let inbox = home.split("id=\"coordination-inbox\"").nth(1).unwrap_or_default();
    assert!(inbox.contains("badge warning"), "due soon shows on the home: {inbox}");
    let mut tx = t.store.begin_read().await.unwrap();
    let m = tx.case_scope(case.parse().unwrap()).await.unwrap().unwrap().municipality_id;
    let events = tx.recent_audit_events(m, 100).await.unwrap();
    assert!(events.iter().any(|e| e.action == "candidate_reminded"), "the reminder is audited");
    drop(tx);
    // Past the deadline it counts as declined ("no answer") and can no longer be accepted.
    t.clock.advance(time::Duration::hours(12));
    nurse.sign_in_with_totp(&t, "ns.tsunagu", crate::helpers::PASSWORD, &nurse_secret).await;
    centre.sign_in_with_totp(&t, "centre.ito", crate::helpers::PASSWORD, &centre_secret).await;
    let late = nurse.submit(&link, &format!("{link}/answer"), &[("answer", "accept")]).await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(late.body.contains("回答期限を過ぎました"), "{}", late.body);
    assert!(!nurse.get("/home").await.body.contains("coordination-inbox"), "gone from the home");
    let seat = centre.get(&page_path).await.body;
    let seat = seat.split("id=\"seat-visiting_nurse\"").nth(1).unwrap_or_default();
    assert!(seat.contains("期限までに回答なし"), "{seat}");
    let report = centre.get("/centre/reports").await.body;
    let gaps = report.split("id=\"report-gaps\"").nth(1).unwrap_or_default();
    assert!(gaps.contains("千葉県柏市豊四季"), "the unanswered request counts where the patient lives: {gaps}");
}

/// The CSRF token of a signed-in client, for the JSON API's writes.
async fn csrf(client: &mut Client) -> String {
    let me = client.send_json("GET", "/api/v1/me", None, &[]).await;
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap_or_default();
    me["csrf_token"].as_str().unwrap_or_default().to_owned()
}

async fn the_desk_works_through_the_json_api_too(db: &TestDb) {
    let Network { t, mut centre, mut msw, mut nurse, station, .. } = network(db).await;
    let token = csrf(&mut centre).await;
    let h = [("x-csrf-token", token.as_str())];
    let body = r#"{"channel":"phone","requester_kind":"family","requester_name":"柏 三郎","topics":["costs"],"summary":"費用の相談"}"#;
    let created = centre.send_json("POST", "/api/v1/centre/cases", Some(body), &h).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = serde_json::from_str::<serde_json::Value>(&created.body).unwrap()["id"].as_str().unwrap().to_owned();
    let list = centre.send_json("GET", "/api/v1/centre/cases", None, &[]).await;
    assert!(list.body.contains("柏 三郎") && list.body.contains("\"in_progress\""), "{}", list.body);
    let change = format!("/api/v1/centre/cases/{id}/changes");
    let logged = centre
        .send_json("POST", &change, Some(r#"{"change":"log","log_kind":"phone","log_note":"折り返し済み"}"#), &h)
        .await;
    assert_eq!(logged.status, StatusCode::NO_CONTENT, "{}", logged.body);
    let unknown = centre.send_json("POST", &change, Some(r#"{"change":"teleport"}"#), &h).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let closed =
        centre.send_json("POST", &change, Some(r#"{"change":"close","outcome":"information_given"}"#), &h).await;
    assert_eq!(closed.status, StatusCode::NO_CONTENT, "{}", closed.body);
    let detail = centre.send_json("GET", &format!("/api/v1/centre/cases/{id}"), None, &[]).await;
    let detail: serde_json::Value = serde_json::from_str(&detail.body).unwrap();
    assert_eq!(detail["case"]["state"], "closed");
    assert_eq!(detail["log"].as_array().map(Vec::len), Some(2), "the call and the closing");
    // Not the centre: forbidden, and a case is not found.
    assert_eq!(nurse.send_json("GET", "/api/v1/centre/cases", None, &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        nurse.send_json("GET", &format!("/api/v1/centre/cases/{id}"), None, &[]).await.status,
        StatusCode::NOT_FOUND
    );

    // A hospital's request, candidates asked and answered, all as JSON.
    let hospital = msw.get("/discharge/new").await.body;
    let hospital = hospital
        .split("name=\"hospital\"")
        .nth(1)
        .and_then(|s| s.split("value=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let planned = (t.app.now() + time::Duration::days(7)).date();
    let request = serde_json::json!({
        "hospital": hospital,
        "patient": { "family_name": "我孫子", "given_name": "ハナ", "family_name_kana": "アビコ", "given_name_kana": "ハナ",
            "birth_date": "1935-03-03", "sex": "female", "address": "千葉県柏市豊四季9-9", "care_level": "care_2" },
        "planned_discharge_on": planned.to_string(),
        "needed_services": ["home_oxygen"],
    })
    .to_string();
    let msw_token = csrf(&mut msw).await;
    let sent =
        msw.send_json("POST", "/api/v1/discharge-requests", Some(&request), &[("x-csrf-token", &msw_token)]).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let case = serde_json::from_str::<serde_json::Value>(&sent.body).unwrap()["id"].as_str().unwrap().to_owned();
    let ask = serde_json::json!({ "seat": "visiting_nurse", "facilities": [station.0] }).to_string();
    let asked = centre.send_json("POST", &format!("/api/v1/centre/cases/{case}/candidates"), Some(&ask), &h).await;
    assert_eq!(asked.status, StatusCode::NO_CONTENT, "{}", asked.body);
    let inbox = nurse.send_json("GET", "/api/v1/coordination-requests", None, &[]).await;
    let inbox: serde_json::Value = serde_json::from_str(&inbox.body).unwrap();
    let request_id = inbox[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(inbox[0]["seat"], "visiting_nurse");
    assert!(!inbox.to_string().contains("我孫子"), "no patient data in the inbox");
    let nurse_token = csrf(&mut nurse).await;
    let answered = nurse
        .send_json(
            "POST",
            &format!("/api/v1/coordination-requests/{request_id}/answer"),
            Some(r#"{"answer":"accept"}"#),
            &[("x-csrf-token", &nurse_token)],
        )
        .await;
    assert_eq!(answered.status, StatusCode::NO_CONTENT, "{}", answered.body);
    let report = centre.send_json("GET", "/api/v1/centre/reports", None, &[]).await;
    let report: serde_json::Value = serde_json::from_str(&report.body).unwrap();
    assert_eq!(report["total"], 2);
    assert_eq!(report["accepted"], 1);
}

async fn a_case_keeps_its_files_for_the_desk_only(db: &TestDb) {
    let Network { mut centre, mut nurse, .. } = network(db).await;
    let recorded = centre
        .submit(
            "/centre/cases/new",
            "/centre/cases",
            &[
                ("channel", "visit"),
                ("requester_kind", "family"),
                ("requester_name", "柏 四郎"),
                ("topics", "costs"),
                ("summary", "紹介状を持参"),
            ],
        )
        .await;
    let page = recorded.location.unwrap_or_default().split('?').next().unwrap_or_default().to_owned();
    let csrf = centre.get(&page).await.input_value("csrf").unwrap_or_default();
    let pdf: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let sent = centre
        .send_multipart(&format!("{page}/files"), &[("csrf", &csrf)], &[("file", "紹介状.pdf", "application/pdf", pdf)])
        .await;
    assert!(sent.redirects_to(&page), "{} {}", sent.status, sent.body);
    let text: &[u8] = b"just text";
    let refused = centre
        .send_multipart(&format!("{page}/files"), &[("csrf", &csrf)], &[("file", "a.pdf", "application/pdf", text)])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "the bytes are checked, not the name");
    let shown = centre.get(&page).await.body;
    assert!(shown.contains("紹介状.pdf") && shown.contains("ファイルを添付"), "listed and logged");
    let file = shown.split("/centre/files/").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned();
    let (status, content_type, bytes) = centre.get_bytes(&format!("/centre/files/{file}")).await;
    assert_eq!((status, content_type.as_str(), bytes.as_slice()), (StatusCode::OK, "application/pdf", pdf));
    assert_eq!(nurse.get(&format!("/centre/files/{file}")).await.status, StatusCode::NOT_FOUND, "the desk's only");
    assert_eq!(shown.matches("/centre/files/").count(), 1, "the refused file was not kept");
}

async fn the_municipality_edits_its_consultation_topics(db: &TestDb) {
    let Network { mut centre, mut nurse, .. } = network(db).await;
    // Every topic's code, in the editor's order.
    let page = centre.get("/centre/topics").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(nurse.get("/centre/topics").await.status, StatusCode::FORBIDDEN, "a nurse does not edit the list");
    let codes: Vec<String> = page
        .body
        .split("name=\"code\" value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    assert!(codes.contains(&"costs".to_owned()) && codes.contains(&"dementia".to_owned()), "{codes:?}");
    // Rename one, retire one, add one (the other rows as they are).
    let mut form: Vec<(&str, String)> = Vec::new();
    for code in &codes {
        let label = match code.as_str() {
            "costs" => "費用・制度".to_owned(),
            _ => page
                .body
                .split(&format!("value=\"{code}\">"))
                .nth(1)
                .and_then(|s| s.split("value=\"").nth(1))
                .and_then(|s| s.split('"').next())
                .unwrap_or_default()
                .to_owned(),
        };
        form.push(("code", code.clone()));
        form.push(("label", label));
    }
    form.push(("retired", "dementia".to_owned()));
    form.push(("code", String::new()));
    form.push(("label", "難病".to_owned()));
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = centre.submit("/centre/topics", "/centre/topics", &refs).await;
    assert!(saved.redirects_to("/centre/topics"), "{} {}", saved.status, saved.body);
    // The public form offers the list as it is now.
    let mut citizen = centre.clone();
    citizen.cookies.clear();
    let public = citizen.get("/m/122173/consult").await.body;
    assert!(public.contains("費用・制度") && public.contains("難病"), "{public}");
    assert!(!public.contains("value=\"dementia\""), "a retired topic is not offered");
    let new_code = public
        .split("value=\"own-")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(|c| format!("own-{c}"))
        .unwrap_or_default();
    let sent = citizen
        .submit(
            "/m/122173/consult",
            "/m/122173/consult",
            &[
                ("requester_kind", "family"),
                ("requester_name", "柏 五郎"),
                ("requester_contact", "04-7100-5555"),
                ("topics", &new_code),
                ("summary", "難病の父の在宅療養について"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let retired = citizen
        .submit(
            "/m/122173/consult",
            "/m/122173/consult",
            &[
                ("requester_kind", "family"),
                ("requester_name", "柏 五郎"),
                ("requester_contact", "04-7100-5555"),
                ("topics", "dementia"),
                ("summary", "物忘れ"),
            ],
        )
        .await;
    assert_eq!(retired.status, StatusCode::UNPROCESSABLE_ENTITY, "a retired topic is refused");
    // The desk and the report name it as the municipality does.
    assert!(centre.get("/centre").await.body.contains("・難病"));
    let report = centre.get("/centre/reports").await.body;
    let topics =
        report.split("id=\"report-topics\"").nth(1).and_then(|s| s.split("</table>").next()).unwrap_or_default();
    assert!(topics.contains("<td>難病</td><td>1</td>") && topics.contains("費用・制度"), "{topics}");
}
