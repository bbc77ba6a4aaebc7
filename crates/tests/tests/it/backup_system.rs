//! The backup system (issue 5) through HTTP: "who answers now" with absences
//! and the on-call roster, urgent requests escalating along the chain (timers
//! fired by moving the clock, never by waiting), hospitals accepting or
//! declining, exactly-once firing from two instances, rosters (fill, holes,
//! conflicts, gaps) and who may do what. Both databases.

use crate::admin::{account_id, facility, kashiwa};
use crate::helpers::{Client, PASSWORD, TestApp, TestDb};
use crate::patients::{PATIENT, add, consent, invite_family, register};
use axum::http::StatusCode;
use std::collections::HashMap;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use tsunagu_domain::clock::JST;
use tsunagu_domain::ids::{FacilityId, MunicipalityId};
use tsunagu_domain::on_call::{SlotKind, roster_slots};
use tsunagu_store::EscalationStepRow;
use uuid::Uuid;

crate::on_both_databases!(
    who_answers_skips_an_absent_primary_and_names_the_backup_first,
    the_on_call_physician_answers_during_the_night_slot_only,
    an_unanswered_request_climbs_the_chain_until_a_hospital_accepts,
    the_request_page_tells_the_called_what_they_need_before_they_go,
    a_physician_who_takes_the_request_stops_the_escalation,
    two_instances_firing_at_once_fire_each_step_exactly_once,
    requests_are_hidden_from_outsiders_and_family_cannot_raise_them,
    only_the_coordinator_changes_the_roster_and_bad_input_is_refused,
    filling_the_roster_leaves_no_holes_and_absences_show_as_conflicts_and_gaps,
    hospital_staff_keep_their_own_backup_beds_current,
    webhook_events_carry_no_patient_data_and_are_retried_until_delivered,
);

const HOSPITAL_A: &str = "柏中央病院";
const HOSPITAL_B: &str = "手賀沼病院";
const KATO_PHONE: &str = "090-1234-5678";

/// Kashiwa with a care team for one patient and the people around it:
/// - ns.tanaka (visiting nurse, registered the patient),
/// - dr.sato (primary physician) and dr.suzuki (backup physician),
/// - dr.kato (a physician outside the team, for on-call duty),
/// - hp.a and hp.b, staff of the hospitals A (5 free beds) and B (1 free bed),
///   both taking part in hospital backup,
/// - cm.yamamoto (a care manager outside the team),
/// - city.admin (runs the municipality's network).
struct World {
    t: TestApp,
    m: MunicipalityId,
    admin: Client,
    nurse: Client,
    sato: Client,
    suzuki: Client,
    kato: Client,
    hp_a: Client,
    hp_b: Client,
    outsider: Client,
    hospital_a: FacilityId,
    hospital_b: FacilityId,
    clinic: FacilityId,
    patient: String,
    secrets: HashMap<String, String>,
}

async fn world(db: &TestDb) -> World {
    let t = TestApp::start(db).await;
    let m = kashiwa(&t).await;
    let mut secrets = HashMap::new();
    let (mut admin, s) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    secrets.insert("city.admin".to_owned(), s);
    let station = facility(&mut admin, m, "home_nursing_station", "訪問看護ステーションつなぐ").await;
    let clinic = facility(&mut admin, m, "clinic", "つなぐ在宅クリニック").await;
    let clinic2 = facility(&mut admin, m, "clinic", "柏の葉診療所").await;
    let clinic3 = facility(&mut admin, m, "clinic", "南柏ホームクリニック").await;
    let hospital_a = facility(&mut admin, m, "hospital", HOSPITAL_A).await;
    let hospital_b = facility(&mut admin, m, "hospital", HOSPITAL_B).await;
    let mut nurse = person(&t, &mut secrets, "ns.tanaka", "nurse", Some(station)).await;
    let sato = person(&t, &mut secrets, "dr.sato", "physician", Some(clinic)).await;
    let suzuki = person(&t, &mut secrets, "dr.suzuki", "physician", Some(clinic2)).await;
    let kato = person(&t, &mut secrets, "dr.kato", "physician", Some(clinic3)).await;
    let mut hp_a = person(&t, &mut secrets, "hp.a", "medical_social_worker", Some(hospital_a)).await;
    let mut hp_b = person(&t, &mut secrets, "hp.b", "medical_social_worker", Some(hospital_b)).await;
    let outsider = person(&t, &mut secrets, "cm.yamamoto", "care_manager", None).await;

    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "dr.sato", "primary_physician").await;
    add(&mut nurse, &patient, "dr.suzuki", "backup_physician").await;
    beds(&mut hp_a, hospital_a, true, "5").await;
    beds(&mut hp_b, hospital_b, true, "1").await;
    World {
        t,
        m,
        admin,
        nurse,
        sato,
        suzuki,
        kato,
        hp_a,
        hp_b,
        outsider,
        hospital_a,
        hospital_b,
        clinic,
        patient,
        secrets,
    }
}

/// A professional of Kashiwa, signed in; keeps the TOTP secret for signing in again.
async fn person(
    t: &TestApp,
    secrets: &mut HashMap<String, String>,
    login: &str,
    profession: &str,
    at: Option<FacilityId>,
) -> Client {
    let (client, secret) = t.signed_in(login, Some("122173"), profession, &[], at).await;
    secrets.insert(login.to_owned(), secret);
    client
}

impl World {
    fn page(&self) -> String {
        format!("/patients/{}", self.patient)
    }
}

/// Signs `client` in again (sessions end after 30 idle minutes: the clock moved).
async fn sign_in_again(t: &TestApp, secrets: &HashMap<String, String>, client: &mut Client, login: &str) {
    let secret = secrets.get(login).unwrap_or_else(|| panic!("no secret for {login}"));
    let reply = client.sign_in_with_totp(t, login, PASSWORD, secret).await;
    assert!(reply.redirects_to("/home"), "{login}: {} {:?}", reply.status, reply.location);
}

/// Sets a hospital's backup beds as `client`; asserts it was saved.
async fn beds(client: &mut Client, hospital: FacilityId, participates: bool, count: &str) {
    let reply = try_beds(client, hospital, participates, count).await;
    assert!(reply.redirects_to("/backup"), "{} {}", reply.status, reply.body);
}

async fn try_beds(client: &mut Client, hospital: FacilityId, participates: bool, count: &str) -> crate::helpers::Reply {
    let mut form = vec![("beds_available", count), ("note", "")];
    if participates {
        form.push(("participates", "on"));
    }
    client.submit("/backup", &format!("/backup/hospitals/{hospital}"), &form).await
}

fn now(t: &TestApp) -> OffsetDateTime {
    tsunagu_domain::clock::Clock::now(&t.clock)
}

/// Moves the clock forward to `target`.
fn advance_to(t: &TestApp, target: OffsetDateTime) {
    let by = target - now(t);
    assert!(by.is_positive(), "the clock only moves forward: {target} is before {}", now(t));
    t.clock.advance(by);
}

/// A moment as a browser's `datetime-local` field sends it, in Tokyo time.
fn local(at: OffsetDateTime) -> String {
    let at = at.to_offset(JST);
    format!("{:04}-{:02}-{:02}T{:02}:{:02}", at.year(), u8::from(at.month()), at.day(), at.hour(), at.minute())
}

fn month_code(date: time::Date) -> String {
    format!("{:04}-{:02}", date.year(), u8::from(date.month()))
}

/// The element with `id` up to the end of its section.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no #{id} on the page: {body}"));
    let rest = &body[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

fn strong(chunk: &str) -> Option<String> {
    let start = chunk.find("<strong>")? + "<strong>".len();
    let end = chunk[start..].find("</strong>")?;
    Some(chunk[start..start + end].to_owned())
}

/// "Who answers now" on a patient page: (role code, name) in order.
fn chain(body: &str) -> Vec<(String, String)> {
    let who = section(body, "who-answers");
    let list = who.split("<ol class=\"chain\">").nth(1).and_then(|l| l.split("</ol>").next()).unwrap_or_default();
    list.split("<li class=\"chain-")
        .skip(1)
        .map(|li| (li.split('"').next().unwrap_or_default().to_owned(), strong(li).unwrap_or_default()))
        .collect()
}

fn names(chain: &[(String, String)]) -> Vec<&str> {
    chain.iter().map(|(_, n)| n.as_str()).collect()
}

/// The "away" lines of the who-answers section.
fn away_lines(body: &str) -> Vec<String> {
    section(body, "who-answers")
        .split("<p class=\"muted away\">")
        .skip(1)
        .map(|p| p.split("</p>").next().unwrap_or_default().to_owned())
        .collect()
}

/// One step of an escalation as the request page shows it.
#[derive(Debug)]
struct StepLine {
    fired: bool,
    name: Option<String>,
    html: String,
}

impl StepLine {
    fn badge(&self, label: &str) -> bool {
        self.html.contains(&format!("<span class=\"badge\">{label}</span>"))
    }
}

fn steps(body: &str) -> Vec<StepLine> {
    section(body, "steps")
        .split("<li class=\"step")
        .skip(1)
        .map(|li| {
            let html = li.split("</li>").next().unwrap_or_default().to_owned();
            StepLine { fired: html.starts_with(" fired\""), name: strong(&html), html }
        })
        .collect()
}

/// The request's state as shown.
fn state(body: &str) -> String {
    let marker = "id=\"request-state\"><strong>";
    let start = body.find(marker).unwrap_or_else(|| panic!("no request state: {body}")) + marker.len();
    body[start..].split('<').next().unwrap_or_default().to_owned()
}

/// The home page, which must answer (a lapsed session would hide what is waiting).
async fn home(client: &mut Client) -> String {
    let reply = client.get("/home").await;
    assert_eq!(reply.status, StatusCode::OK, "home: {:?}", reply.location);
    reply.body
}

fn waiting(home: &str) -> Option<&str> {
    home.contains("id=\"waiting-requests\"").then(|| section(home, "waiting-requests"))
}

/// Raises a request as `client`; returns its id.
pub(crate) async fn raise(client: &mut Client, patient: &str, kind: &str, note: &str) -> String {
    let page = format!("/patients/{patient}");
    let reply = client.submit(&page, &format!("{page}/urgent-requests"), &[("kind", kind), ("note", note)]).await;
    assert!(reply.redirects_to("/urgent/"), "raise: {} {}", reply.status, reply.body);
    let location = reply.location.unwrap_or_default();
    location.trim_start_matches("/urgent/").split('?').next().unwrap_or_default().to_owned()
}

async fn fire(t: &TestApp) -> usize {
    t.app.fire_due_steps("test-instance", 100).await.unwrap_or_else(|e| panic!("fire: {e}")).fired
}

async fn stored_steps(t: &TestApp, request: &str) -> Vec<EscalationStepRow> {
    let id: Uuid = request.parse().unwrap_or_else(|e| panic!("{request}: {e}"));
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    tx.escalation_steps(id).await.unwrap_or_else(|e| panic!("{e}"))
}

/// Audit events about one request, by action.
async fn audited(t: &TestApp, m: MunicipalityId, request: &str, action: &str) -> usize {
    let id: Uuid = request.parse().unwrap_or_else(|e| panic!("{request}: {e}"));
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let events = tx.audit_events_for_target(m.0, id, 1000).await.unwrap_or_else(|e| panic!("{e}"));
    events.iter().filter(|e| e.action == action).count()
}

/// A physician group created by the city admin; returns its id.
async fn create_group(admin: &mut Client, name: &str, coordinator: &str) -> String {
    let reply = admin
        .submit("/backup", "/backup/groups", &[("name", name), ("area", "柏北部"), ("coordinator", coordinator)])
        .await;
    assert!(reply.redirects_to("/backup/groups/"), "{} {}", reply.status, reply.body);
    let location = reply.location.unwrap_or_default();
    location.trim_start_matches("/backup/groups/").split('?').next().unwrap_or_default().to_owned()
}

async fn add_member(coordinator: &mut Client, group: &str, login: &str, phone: &str) {
    let page = format!("/backup/groups/{group}");
    let reply = coordinator.submit(&page, &format!("{page}/members"), &[("login_id", login), ("phone", phone)]).await;
    assert!(reply.redirects_to(&page), "{} {}", reply.status, reply.body);
}

/// Records an absence as `client` (of themselves, or of `physician`).
async fn absence(
    client: &mut Client,
    physician: Option<Uuid>,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> crate::helpers::Reply {
    let (from, until) = (local(from), local(until));
    let physician = physician.map(|p| p.to_string()).unwrap_or_default();
    client
        .submit(
            "/absences",
            "/absences",
            &[("physician", &physician), ("starts_at", &from), ("ends_at", &until), ("reason", "conference")],
        )
        .await
}

async fn save_roster(
    client: &mut Client,
    group: &str,
    month: &str,
    slots: &[(i64, &str)],
    action: &str,
) -> crate::helpers::Reply {
    // The token comes from the group's page of this month (a bad month has no form).
    let page = format!("/backup/groups/{group}");
    let keys: Vec<String> = slots.iter().map(|(start, _)| format!("slot_{start}")).collect();
    let mut form: Vec<(&str, &str)> = vec![("month", month), ("action", action)];
    for (key, (_, who)) in keys.iter().zip(slots) {
        form.push((key, who));
    }
    client.submit(&page, &format!("/backup/groups/{group}/roster"), &form).await
}

async fn who_answers_skips_an_absent_primary_and_names_the_backup_first(db: &TestDb) {
    let mut w = world(db).await;
    let page = w.page();
    let seen = w.nurse.get(&page).await;
    assert_eq!(seen.status, StatusCode::OK);
    let everyone = chain(&seen.body);
    assert_eq!(
        everyone,
        vec![
            ("primary".to_owned(), "dr.sato さん".to_owned()),
            ("backup".to_owned(), "dr.suzuki さん".to_owned()),
            ("hospital".to_owned(), HOSPITAL_A.to_owned()),
            ("hospital".to_owned(), HOSPITAL_B.to_owned()),
        ],
        "the primary, the backup, then the hospitals taking part, most free beds first"
    );
    assert!(away_lines(&seen.body).is_empty());
    let who = section(&seen.body, "who-answers");
    assert!(who.contains("href=\"tel:04-7100-0000\""), "numbers to call: {who}");
    // A moment at the end of time is refused, not a crash (found by fuzzing).
    let api = format!("/api/v1{page}/who-answers?at=9999-12-31T12:00:00Z");
    assert_eq!(w.nurse.send_json("GET", &api, None, &[]).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // An absence that is not now changes nothing now; a refused one records nothing.
    let t0 = now(&w.t);
    let later = absence(&mut w.sato, None, t0 + Duration::days(2), t0 + Duration::days(3)).await;
    assert!(later.redirects_to("/absences"), "{} {}", later.status, later.body);
    let backwards = absence(&mut w.sato, None, t0 + Duration::hours(5), t0 + Duration::hours(1)).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(backwards.body.contains("終了は開始より後にしてください。"), "{}", backwards.body);
    let bad_time = w
        .sato
        .submit(
            "/absences",
            "/absences",
            &[("starts_at", "2026-12-01T25:00"), ("ends_at", "2026-12-02T09:00"), ("reason", "conference")],
        )
        .await;
    assert_eq!(bad_time.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Times at the ends of the calendar are out of range, not a panic converting them to UTC.
    for (starts, ends) in [("-9999-01-01T00:00", "-9999-01-02T00:00"), ("9999-12-30T18:00", "9999-12-31T23:59")] {
        let far = w
            .sato
            .submit("/absences", "/absences", &[("starts_at", starts), ("ends_at", ends), ("reason", "conference")])
            .await;
        assert_eq!(far.status, StatusCode::UNPROCESSABLE_ENTITY, "{starts}: {}", far.body);
        let body = serde_json::json!({ "starts_at": starts, "ends_at": ends, "reason": "conference" }).to_string();
        let me = w.sato.send_json("GET", "/api/v1/me", None, &[]).await;
        let csrf = serde_json::from_str::<serde_json::Value>(&me.body).unwrap_or_default()["csrf_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let api = w.sato.send_json("POST", "/api/v1/absences", Some(&body), &[("x-csrf-token", &csrf)]).await;
        assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY, "{starts}: {}", api.body);
    }
    let listed = w.sato.get("/absences").await.body;
    assert_eq!(listed.matches("class=\"absence").count(), 1, "only the valid absence is recorded: {listed}");
    assert_eq!(chain(&w.nurse.get(&page).await.body), everyone);

    // The primary is at a conference now: not named, the backup answers first.
    let now_away = absence(&mut w.sato, None, t0 - Duration::hours(1), t0 + Duration::days(1)).await;
    assert!(now_away.redirects_to("/absences"), "{} {}", now_away.status, now_away.body);
    let seen = w.nurse.get(&page).await;
    let answering = chain(&seen.body);
    assert_eq!(answering.first(), Some(&("backup".to_owned(), "dr.suzuki さん".to_owned())), "{answering:?}");
    assert!(!names(&answering).contains(&"dr.sato さん"), "nobody away is named: {answering:?}");
    let away = away_lines(&seen.body);
    assert_eq!(away.len(), 1, "{away:?}");
    assert!(away[0].starts_with("dr.sato さん: 学会"), "{away:?}");
    // The team's own view from the backup physician is the same.
    assert_eq!(chain(&w.suzuki.get(&page).await.body), answering);

    // The patient's own backup hospital comes first among the hospitals.
    let chosen =
        w.nurse.submit(&page, &format!("{page}/backup-hospital"), &[("hospital", &w.hospital_b.to_string())]).await;
    assert!(chosen.redirects_to(&page), "{} {}", chosen.status, chosen.body);
    let hospitals: Vec<String> = chain(&w.nurse.get(&page).await.body)
        .into_iter()
        .filter(|(role, _)| role == "hospital")
        .map(|(_, name)| name)
        .collect();
    assert_eq!(hospitals, vec![HOSPITAL_B.to_owned(), HOSPITAL_A.to_owned()]);
    let clinic =
        w.nurse.submit(&page, &format!("{page}/backup-hospital"), &[("hospital", &w.clinic.to_string())]).await;
    assert_eq!(clinic.status, StatusCode::UNPROCESSABLE_ENTITY, "a clinic is not a backup hospital");

    // Cancelling the absence puts the primary back first.
    let list = w.sato.get("/absences").await.body;
    let cancel = list
        .split("action=\"/absences/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no cancel form: {list}"))
        .to_owned();
    let cancelled = w.sato.submit("/absences", &format!("/absences/{cancel}/cancel"), &[]).await;
    assert!(cancelled.redirects_to("/absences"), "{} {}", cancelled.status, cancelled.body);
    let back = chain(&w.nurse.get(&page).await.body);
    assert_eq!(back.first(), Some(&("primary".to_owned(), "dr.sato さん".to_owned())), "{back:?}");
    // Nobody else cancels one's absence.
    let theirs = w.nurse.submit("/home", &format!("/absences/{cancel}/cancel"), &[]).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
}

async fn the_on_call_physician_answers_during_the_night_slot_only(db: &TestDb) {
    let mut w = world(db).await;
    let page = w.page();
    let group = create_group(&mut w.admin, "柏北部在宅医グループ", "dr.sato").await;
    add_member(&mut w.sato, &group, "dr.sato", "").await;
    add_member(&mut w.sato, &group, "dr.kato", KATO_PHONE).await;
    let kato = account_id(&w.t, "dr.kato").await;

    // Tomorrow night (18:00 → 9:00 Tokyo) dr.kato is on call.
    let tomorrow = now(&w.t).to_offset(JST).date().next_day().unwrap_or_else(|| panic!("a date"));
    let night = roster_slots(tomorrow.year(), tomorrow.month())
        .into_iter()
        .find(|s| s.date == tomorrow && s.kind == SlotKind::Night)
        .unwrap_or_else(|| panic!("no night slot on {tomorrow}"));
    let month = month_code(tomorrow);
    let kato_id = kato.0.to_string();
    let saved =
        save_roster(&mut w.sato, &group, &month, &[(night.span.start.unix_timestamp(), &kato_id)], "save").await;
    assert!(saved.redirects_to(&format!("/backup/groups/{group}")), "{} {}", saved.status, saved.body);
    let roster = w.sato.get(&format!("/backup/groups/{group}?month={month}")).await.body;
    let row = section(&roster, "roster")
        .split("<tr")
        .find(|r| r.contains(&format!("name=\"slot_{}\"", night.span.start.unix_timestamp())))
        .unwrap_or_else(|| panic!("the slot is on the roster"))
        .to_owned();
    assert!(row.contains(&format!("<option value=\"{kato_id}\" selected>")), "{row}");

    let on_call =
        |c: &[(String, String)]| c.iter().filter(|(r, _)| r == "on_call").map(|(_, n)| n.clone()).collect::<Vec<_>>();
    let before = chain(&w.nurse.get(&page).await.body);
    assert!(on_call(&before).is_empty(), "not on call before the slot: {before:?}");

    // 2 a.m. that night.
    advance_to(&w.t, night.span.start + Duration::hours(8));
    sign_in_again(&w.t, &w.secrets, &mut w.nurse, "ns.tanaka").await;
    let seen = w.nurse.get(&page).await;
    assert_eq!(seen.status, StatusCode::OK);
    let at_night = chain(&seen.body);
    assert_eq!(
        at_night.iter().take(3).cloned().collect::<Vec<_>>(),
        vec![
            ("primary".to_owned(), "dr.sato さん".to_owned()),
            ("backup".to_owned(), "dr.suzuki さん".to_owned()),
            ("on_call".to_owned(), "dr.kato さん".to_owned()),
        ],
        "{at_night:?}"
    );
    let who = section(&seen.body, "who-answers");
    let kato_line = who.split("<li class=\"chain-on_call\">").nth(1).unwrap_or_default();
    assert!(
        kato_line.split("</li>").next().unwrap_or_default().contains(&format!("href=\"tel:{KATO_PHONE}\"")),
        "the on-call number given to the group: {kato_line}"
    );

    // With the primary away that night, the on-call physician still answers, after the backup.
    sign_in_again(&w.t, &w.secrets, &mut w.sato, "dr.sato").await;
    let away = absence(&mut w.sato, None, now(&w.t) - Duration::hours(1), now(&w.t) + Duration::hours(3)).await;
    assert!(away.redirects_to("/absences"), "{} {}", away.status, away.body);
    let covered = chain(&w.nurse.get(&page).await.body);
    assert_eq!(
        covered.iter().take(2).map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        vec!["backup", "on_call"],
        "{covered:?}"
    );

    // The morning after: the slot is over.
    advance_to(&w.t, night.span.end + Duration::minutes(30));
    sign_in_again(&w.t, &w.secrets, &mut w.nurse, "ns.tanaka").await;
    let morning = chain(&w.nurse.get(&page).await.body);
    assert!(on_call(&morning).is_empty(), "the night is over: {morning:?}");
    assert_eq!(morning.first().map(|(r, _)| r.as_str()), Some("primary"), "back from the conference: {morning:?}");
}

/// The physician a request calls sees, before going, the patient's wishes about
/// life-sustaining treatment and where to die (the latest 人生会議), and whom to
/// call back: the nurse who raised it and her station's number.
async fn the_request_page_tells_the_called_what_they_need_before_they_go(db: &TestDb) {
    let mut w = world(db).await;
    let acp = format!("{}/acp", w.page());
    let before = raise(&mut w.nurse, &w.patient, "urgent_visit", "SpO2 88%。往診をお願いします。").await;
    let without = w.sato.get(&format!("/urgent/{before}")).await.body;
    assert!(without.contains("まだ記録はありません。"), "no plan yet, and it says so");
    let recorded = w
        .nurse
        .submit(
            &acp,
            &acp,
            &[
                ("discussed_on", "2026-11-20"),
                ("participants", "本人、長女、主治医"),
                ("place_of_care", "home"),
                ("place_of_death", "home"),
                ("treatment", "comfort_only"),
                ("proxy_name", "柏木 花子"),
                ("proxy_relation", "長女"),
            ],
        )
        .await;
    assert!(recorded.status.is_redirection(), "{} {}", recorded.status, recorded.body);
    let request = raise(&mut w.nurse, &w.patient, "urgent_visit", "SpO2 85%、呼吸苦あり。往診をお願いします。").await;
    let shown = w.sato.get(&format!("/urgent/{request}")).await;
    assert_eq!(shown.status, StatusCode::OK);
    let acp_part = shown.body.split("id=\"request-acp\"").nth(1).unwrap_or_default();
    assert!(acp_part.contains("延命治療は望まず、苦痛の緩和を優先"), "{acp_part}");
    assert!(acp_part.contains("柏木 花子（長女）"));
    let requester = shown.body.split("id=\"requester\"").nth(1).unwrap_or_default();
    assert!(requester.contains("訪問看護ステーションつなぐ"), "{requester}");
    assert!(requester.contains("href=\"tel:04-7100-0000\""), "{requester}");
}

async fn an_unanswered_request_climbs_the_chain_until_a_hospital_accepts(db: &TestDb) {
    let mut w = world(db).await;
    let page = w.page();
    // The patient's backup hospital is B: B is asked before A.
    let chosen =
        w.nurse.submit(&page, &format!("{page}/backup-hospital"), &[("hospital", &w.hospital_b.to_string())]).await;
    assert!(chosen.redirects_to(&page), "{} {}", chosen.status, chosen.body);

    let request = raise(&mut w.nurse, &w.patient, "urgent_visit", "SpO2 85%、呼吸苦あり。往診をお願いします。").await;
    let url = format!("/urgent/{request}");
    let shown = w.nurse.get(&url).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(state(&shown.body), "呼び出し中");
    assert!(shown.body.contains("SpO2 85%、呼吸苦あり。"));
    let s = steps(&shown.body);
    let who: Vec<Option<&str>> = s.iter().map(|l| l.name.as_deref()).collect();
    assert_eq!(
        who,
        vec![Some("dr.sato さん"), Some("dr.suzuki さん"), Some(HOSPITAL_B), Some(HOSPITAL_A), None],
        "the chain of now, then the end"
    );
    assert_eq!(
        s.iter().map(|l| l.fired).collect::<Vec<_>>(),
        vec![true, false, false, false, false],
        "the first is called at once"
    );
    assert_eq!(audited(&w.t, w.m, &request, "escalation_step_fired").await, 1);
    let stored = stored_steps(&w.t, &request).await;
    let minutes: Vec<i64> = stored.iter().map(|s| (s.due_at - stored[0].due_at).whole_minutes()).collect();
    assert_eq!(minutes, vec![0, 10, 20, 30, 40], "ten minutes a link, the first hospital within 30");
    // The team sees it on the patient page and the timeline.
    let patient_page = w.suzuki.get(&page).await.body;
    assert!(patient_page.contains(&format!("href=\"{url}\"")), "the request is linked from the patient page");
    assert!(patient_page.contains("【往診依頼】SpO2 85%"), "and posted as an urgent entry");
    // The primary is told; the backup is not called yet.
    assert!(waiting(&home(&mut w.sato).await).is_some_and(|s| s.contains(&url)));
    assert!(waiting(&home(&mut w.suzuki).await).is_none());

    // Nothing is due yet.
    assert_eq!(fire(&w.t).await, 0);
    w.t.clock.advance(Duration::minutes(9));
    assert_eq!(fire(&w.t).await, 0, "not before ten minutes");

    // Ten minutes without an answer: the backup physician is called.
    w.t.clock.advance(Duration::minutes(1));
    assert_eq!(fire(&w.t).await, 1);
    let s = steps(&w.nurse.get(&url).await.body);
    assert!(s[0].badge("応答なし（次へ）"), "{:?}", s[0]);
    assert!(s[1].fired && !s[1].badge("応答なし（次へ）"), "{:?}", s[1]);
    assert!(!s[2].fired);
    assert!(waiting(&home(&mut w.suzuki).await).is_some_and(|s| s.contains(&url)));
    assert!(waiting(&home(&mut w.sato).await).is_some_and(|s| s.contains(&url)), "the primary may still answer late");
    // Hospital B's staff cannot see it before B is called.
    assert_eq!(w.hp_b.get(&url).await.status, StatusCode::NOT_FOUND);
    assert!(waiting(&home(&mut w.hp_b).await).is_none());

    // Twenty minutes: hospital B is called.
    w.t.clock.advance(Duration::minutes(10));
    assert_eq!(fire(&w.t).await, 1);
    assert_eq!(fire(&w.t).await, 0, "a step fires once");
    let hp_b_home = home(&mut w.hp_b).await;
    assert!(waiting(&hp_b_home).is_some_and(|s| s.contains(&url) && s.contains("バックアップ病院")), "{hp_b_home}");
    let called = w.hp_b.get(&url).await;
    assert_eq!(called.status, StatusCode::OK);
    assert!(
        called.body.contains("ペニシリン") && called.body.contains("id=\"hospital-answer\""),
        "what the hospital needs"
    );
    assert!(!called.body.contains("/acknowledge\""), "hospital staff answer as the hospital");
    assert_eq!(w.hp_b.get(&page).await.status, StatusCode::NOT_FOUND, "the summary, not the whole record");
    assert_eq!(w.hp_a.get(&url).await.status, StatusCode::NOT_FOUND, "A is not called yet");

    // Declining needs a reason; without one nothing changes.
    let no_reason = w.hp_b.submit(&url, &format!("{url}/answer"), &[("answer", "decline"), ("reason", "  ")]).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("受け入れできない理由を入力してください。"), "{}", no_reason.body);
    let unknown = w.hp_b.submit(&url, &format!("{url}/answer"), &[("answer", "maybe"), ("reason", "x")]).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unchanged = w.nurse.get(&url).await.body;
    assert_eq!(state(&unchanged), "呼び出し中");
    let s = steps(&unchanged);
    assert!(s[2].fired && !s[2].badge("受け入れ不可") && !s[3].fired, "{s:?}");
    assert_eq!(fire(&w.t).await, 0, "a refused decline brings nothing forward");

    // A decline with a reason calls the next hospital at once (no waiting for its timer).
    let declined = w
        .hp_b
        .submit(&url, &format!("{url}/answer"), &[("answer", "decline"), ("reason", "満床のため受け入れ不可")])
        .await;
    assert!(declined.redirects_to(&url), "{} {}", declined.status, declined.body);
    assert_eq!(fire(&w.t).await, 0, "hospital A was called by the decline itself");
    let s = steps(&w.nurse.get(&url).await.body);
    assert!(s[2].badge("受け入れ不可") && s[2].html.contains("満床のため受け入れ不可"), "{:?}", s[2]);
    assert!(s[3].fired, "{:?}", s[3]);
    assert!(waiting(&home(&mut w.hp_b).await).is_none(), "B has answered");
    assert!(waiting(&home(&mut w.hp_a).await).is_some_and(|s| s.contains(&url)));
    // B cannot answer twice.
    let again = w.hp_b.submit(&url, &format!("{url}/answer"), &[("answer", "accept"), ("reason", "")]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A accepts.
    let accepted =
        w.hp_a.submit(&url, &format!("{url}/answer"), &[("answer", "accept"), ("reason", "救急外来へどうぞ")]).await;
    assert!(accepted.redirects_to(&url), "{} {}", accepted.status, accepted.body);
    let done = w.nurse.get(&url).await.body;
    assert_eq!(state(&done), "病院が受け入れ");
    assert!(section(&done, "accepted-by").contains(HOSPITAL_A), "{done}");
    let s = steps(&done);
    assert!(s[3].badge("受け入れ"), "{:?}", s[3]);
    assert!(s[4].badge("不要（対応済み）") && !s[4].fired, "the end of the chain is not needed: {:?}", s[4]);
    assert!(waiting(&home(&mut w.hp_a).await).is_none());
    // The admitting hospital reads the record for a while.
    assert_eq!(w.hp_a.get(&page).await.status, StatusCode::OK);
    assert!(home(&mut w.nurse).await.contains("class=\"notice-urgent_accepted\""), "the team is told");
    assert!(home(&mut w.suzuki).await.contains("class=\"notice-urgent_declined\""), "of the decline too");
    // The team records the outcome; once closed, a hospital that declined no longer reads it.
    let closed = w.nurse.submit(&url, &format!("{url}/outcome"), &[("outcome", "admitted"), ("note", "")]).await;
    assert!(closed.redirects_to(&url), "{} {}", closed.status, closed.body);
    assert_eq!(state(&w.nurse.get(&url).await.body), "終了");
    assert_eq!(w.hp_b.get(&url).await.status, StatusCode::NOT_FOUND);

    // Nothing more fires, now or later.
    assert_eq!(fire(&w.t).await, 0);
    w.t.clock.advance(Duration::hours(1));
    assert_eq!(fire(&w.t).await, 0);
    let stored = stored_steps(&w.t, &request).await;
    assert_eq!(stored.iter().filter(|s| s.fired_at.is_some()).count(), 4);
    assert!(stored.iter().all(|s| s.answer.is_some()), "every step has its answer: {stored:?}");
    assert_eq!(audited(&w.t, w.m, &request, "escalation_step_fired").await, 4);
    assert_eq!(audited(&w.t, w.m, &request, "urgent_request_declined").await, 1);
    assert_eq!(audited(&w.t, w.m, &request, "urgent_request_accepted").await, 1);
    assert_eq!(audited(&w.t, w.m, &request, "urgent_request_unanswered").await, 0);
    assert!(w.t.app.verify_audit().await.unwrap_or_else(|e| panic!("{e}")).is_intact());
}

async fn a_physician_who_takes_the_request_stops_the_escalation(db: &TestDb) {
    let mut w = world(db).await;
    let request = raise(&mut w.nurse, &w.patient, "admission", "夜間せん妄、家族の介護困難").await;
    let url = format!("/urgent/{request}");
    let mine = w.sato.get(&url).await;
    assert!(mine.body.contains(&format!("action=\"{url}/acknowledge\"")), "the called physician may take it");
    assert!(!mine.body.contains("id=\"hospital-answer\""));
    let taken = w.sato.submit(&url, &format!("{url}/acknowledge"), &[]).await;
    assert!(taken.redirects_to(&url), "{} {}", taken.status, taken.body);
    let shown = w.nurse.get(&url).await.body;
    assert_eq!(state(&shown), "医師が対応中");
    let s = steps(&shown);
    assert!(s[0].badge("応答") && s[0].html.contains("dr.sato さん"), "{:?}", s[0]);
    assert!(s[1..].iter().all(|l| l.badge("不要（対応済み）") && !l.fired), "{s:?}");
    assert!(waiting(&home(&mut w.sato).await).is_none());
    let nurse_home = home(&mut w.nurse).await;
    assert!(nurse_home.contains("class=\"notice-urgent_acknowledged\""), "the nurse is told");
    // Her home lists the open request: whose, what, its state, who took it.
    let line = nurse_home.split("id=\"team-requests\"").nth(1).unwrap_or_else(|| panic!("no requests: {nurse_home}"));
    let line = line.split("</section>").next().unwrap_or_default();
    assert!(line.contains("柏 花子") && line.contains("入院") && line.contains("医師が対応中"), "{line}");
    assert!(line.contains("対応: dr.sato さん") && line.contains("あなたの依頼"), "{line}");
    assert!(!nurse_home.contains("id=\"unanswered-requests\""), "taken: no alarm");
    let twice = w.suzuki.submit(&url, &format!("{url}/acknowledge"), &[]).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY, "taken already");
    assert!(twice.body.contains("この依頼はすでに対応済みです。"));

    // The timers run out and nobody else is called.
    w.t.clock.advance(Duration::minutes(25));
    assert_eq!(fire(&w.t).await, 0);
    assert!(waiting(&home(&mut w.suzuki).await).is_none());
    assert_eq!(audited(&w.t, w.m, &request, "escalation_step_fired").await, 1);

    // The physician decides on admission: the hospitals are asked now, the first at once.
    let asked = w.sato.submit(&url, &format!("{url}/hospitals"), &[]).await;
    assert!(asked.redirects_to(&url), "{} {}", asked.status, asked.body);
    let shown = w.nurse.get(&url).await.body;
    assert_eq!(state(&shown), "呼び出し中");
    let fired: Vec<Option<String>> = steps(&shown).into_iter().filter(|l| l.fired).map(|l| l.name).collect();
    assert_eq!(fired, vec![Some("dr.sato さん".to_owned()), Some(HOSPITAL_A.to_owned())], "{shown}");
    assert!(waiting(&home(&mut w.hp_a).await).is_some_and(|s| s.contains(&url)));
    let accepted = w.hp_a.submit(&url, &format!("{url}/answer"), &[("answer", "accept"), ("reason", "")]).await;
    assert!(accepted.redirects_to(&url), "{} {}", accepted.status, accepted.body);

    // The team records the outcome; an unknown one is refused.
    let unknown = w.nurse.submit(&url, &format!("{url}/outcome"), &[("outcome", "teleported"), ("note", "")]).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("転帰を選んでください。"));
    let closed =
        w.nurse.submit(&url, &format!("{url}/outcome"), &[("outcome", "admitted"), ("note", "柏中央病院へ入院")]).await;
    assert!(closed.redirects_to(&url), "{} {}", closed.status, closed.body);
    let shown = w.nurse.get(&url).await.body;
    assert_eq!(state(&shown), "終了");
    assert!(section(&shown, "outcome").contains("入院"), "{shown}");
    assert!(!shown.contains("id=\"request-actions\""), "nothing more to do");
    w.t.clock.advance(Duration::hours(2));
    assert_eq!(fire(&w.t).await, 0);
    assert_eq!(audited(&w.t, w.m, &request, "hospitals_asked").await, 1);
    assert_eq!(audited(&w.t, w.m, &request, "urgent_request_closed").await, 1);
}

async fn two_instances_firing_at_once_fire_each_step_exactly_once(db: &TestDb) {
    let mut w = world(db).await;
    let mut requests = Vec::new();
    for note in ["急な発熱 39.0℃", "転倒、右大腿部痛", "意識レベル低下", "喀血", "痙攣発作", "胸痛"]
    {
        requests.push(raise(&mut w.nurse, &w.patient, "urgent_visit", note).await);
    }
    // Another server process on the same database, with the same (moved) clock;
    // both have run their timers once already (connections open, nothing due).
    let other_store = tsunagu_store::connect(&db.url).await.unwrap_or_else(|e| panic!("second instance: {e}"));
    let other =
        tsunagu_app::App::new(other_store.clone(), Arc::new(w.t.clock.clone()), tsunagu_app::Settings::default());
    assert_eq!(other.fire_due_steps("instance-b", 100).await.map(|f| f.fired).ok(), Some(0));
    assert_eq!(fire(&w.t).await, 0);

    // Three timer runs at once, two in this process and one in the other, each
    // time a step of every request falls due: the backup, hospital A, hospital B, the end.
    let run = |app: tsunagu_app::App, name: &'static str| {
        tokio::spawn(async move { app.fire_due_steps(name, 100).await.unwrap_or_else(|e| panic!("{name}: {e}")) })
    };
    for round in 1..=4 {
        w.t.clock.advance(Duration::minutes(10));
        let (a, b, c) = tokio::join!(
            run(w.t.app.clone(), "instance-a"),
            run(other.clone(), "instance-b"),
            run(w.t.app.clone(), "instance-c")
        );
        let runs = [a, b, c].map(|r| r.unwrap_or_else(|e| panic!("{e}")));
        let fired: usize = runs.iter().map(|r| r.fired).sum();
        assert_eq!(fired, requests.len(), "round {round}: each due step fired once in all: {runs:?}");
    }
    let again = other.fire_due_steps("instance-b", 100).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((again.fired, again.skipped), (0, 0));
    assert_eq!(fire(&w.t).await, 0);

    sign_in_again(&w.t, &w.secrets, &mut w.nurse, "ns.tanaka").await;
    for request in &requests {
        let stored = stored_steps(&w.t, request).await;
        assert_eq!(stored.len(), 5);
        for s in &stored {
            let by = s.fired_by.as_deref().unwrap_or_else(|| panic!("step {} not fired: {stored:?}", s.seq));
            let expected = if s.seq == 0 { vec!["request"] } else { vec!["instance-a", "instance-b", "instance-c"] };
            assert!(expected.contains(&by), "{by}");
            assert_eq!(s.answer.as_deref(), Some("timed_out"), "nobody answered step {}: {stored:?}", s.seq);
        }
        assert_eq!(audited(&w.t, w.m, request, "escalation_step_fired").await, 4, "one event per call");
        assert_eq!(audited(&w.t, w.m, request, "urgent_request_unanswered").await, 1);
        let shown = w.nurse.get(&format!("/urgent/{request}")).await.body;
        assert_eq!(state(&shown), "応答なし");
    }
    // The team is told once per request that nobody answered.
    let nurse_home = home(&mut w.nurse).await;
    assert_eq!(nurse_home.matches("class=\"notice-urgent_unanswered\"").count(), requests.len(), "{nurse_home}");
    // ... and the requests nobody answered are an alarm at the top of the team's home, naming the patient.
    let alarm =
        nurse_home.split("id=\"unanswered-requests\"").nth(1).unwrap_or_else(|| panic!("no alarm: {nurse_home}"));
    let alarm = alarm.split("</section>").next().unwrap_or_default();
    assert_eq!(alarm.matches("/urgent/").count(), requests.len(), "{alarm}");
    assert!(alarm.contains("柏 花子") && alarm.contains("あなたの依頼"), "{alarm}");
    assert!(nurse_home.find("unanswered-requests") < nurse_home.find("id=\"notifications\""), "above everything else");
    sign_in_again(&w.t, &w.secrets, &mut w.sato, "dr.sato").await;
    let doctor_home = home(&mut w.sato).await;
    assert!(doctor_home.contains("id=\"unanswered-requests\""), "the whole team sees it");
    assert!(
        !doctor_home
            .split("id=\"unanswered-requests\"")
            .nth(1)
            .unwrap_or_default()
            .split("</section>")
            .next()
            .unwrap_or_default()
            .contains("あなたの依頼")
    );

    // The claim itself, in a fixed order: a step one instance fired is not the other's to fire.
    let late = raise(&mut w.nurse, &w.patient, "urgent_visit", "再度の発熱").await;
    let step = stored_steps(&w.t, &late).await.into_iter().find(|s| s.seq == 1).unwrap_or_else(|| panic!("a step"));
    let at = now(&w.t) + Duration::minutes(10);
    let mut tx = w.t.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(tx.claim_step(step.id, at, "instance-a").await.unwrap_or_else(|e| panic!("{e}")));
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    let mut tx = other_store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(!tx.claim_step(step.id, at, "instance-b").await.unwrap_or_else(|e| panic!("{e}")), "claimed twice");
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(w.t.app.verify_audit().await.unwrap_or_else(|e| panic!("{e}")).is_intact());
}

async fn requests_are_hidden_from_outsiders_and_family_cannot_raise_them(db: &TestDb) {
    let mut w = world(db).await;
    let page = w.page();
    let request = raise(&mut w.nurse, &w.patient, "urgent_visit", "呼吸苦").await;
    let url = format!("/urgent/{request}");
    let count = |body: &str| body.matches("class=\"request-link\"").count();
    assert_eq!(count(&w.nurse.get(&page).await.body), 1);

    // Outside the team and not called: the request does not exist.
    for (who, client) in [("cm.yamamoto", &mut w.outsider), ("dr.kato", &mut w.kato), ("hp.a", &mut w.hp_a)] {
        assert_eq!(client.get(&url).await.status, StatusCode::NOT_FOUND, "{who}");
        for action in ["acknowledge", "hospitals", "outcome"] {
            let reply =
                client.submit("/home", &format!("{url}/{action}"), &[("outcome", "withdrawn"), ("note", "")]).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{who} {action}");
        }
        let answer = client.submit("/home", &format!("{url}/answer"), &[("answer", "accept"), ("reason", "")]).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{who} answer");
        let raised = client
            .submit("/home", &format!("{page}/urgent-requests"), &[("kind", "urgent_visit"), ("note", "x")])
            .await;
        assert_eq!(raised.status, StatusCode::NOT_FOUND, "{who} raise");
    }
    assert_eq!(w.nurse.get("/urgent/not-a-request").await.status, StatusCode::NOT_FOUND);
    assert_eq!(w.nurse.get(&format!("/urgent/{}", Uuid::now_v7())).await.status, StatusCode::NOT_FOUND);
    // A forged form without the session's token changes nothing.
    let forged = w
        .nurse
        .send("POST", &format!("{page}/urgent-requests"), &[("kind", "urgent_visit"), ("note", "x"), ("csrf", "nope")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // The team's backup physician reads it, but a hospital that is not called cannot answer.
    assert_eq!(w.suzuki.get(&url).await.status, StatusCode::OK);

    // Family members read the record but do not raise requests.
    let mut family = invite_family(&w.t, &mut w.sato, &w.patient).await;
    let family_home = home(&mut family).await;
    assert!(
        !family_home.contains("team-requests") && !family_home.contains("呼吸苦"),
        "urgent requests are the professionals'"
    );
    let seen = family.get(&page).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(!seen.body.contains("id=\"raise-request\""), "no form offered to the family");
    let by_family = family
        .submit(&page, &format!("{page}/urgent-requests"), &[("kind", "admission"), ("note", "父が苦しそう")])
        .await;
    assert_eq!(by_family.status, StatusCode::FORBIDDEN, "{}", by_family.body);
    let hospital =
        family.submit(&page, &format!("{page}/backup-hospital"), &[("hospital", &w.hospital_a.to_string())]).await;
    assert_eq!(hospital.status, StatusCode::FORBIDDEN);

    // Impossible input is refused with a clear message.
    let kind = w.nurse.submit(&page, &format!("{page}/urgent-requests"), &[("kind", "taxi"), ("note", "x")]).await;
    assert_eq!(kind.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(kind.body.contains("依頼の種類を選んでください。"));
    let note = w.nurse.submit(&page, &format!("{page}/urgent-requests"), &[("kind", "admission"), ("note", " ")]).await;
    assert_eq!(note.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(note.body.contains("状況を入力してください。"));
    assert_eq!(count(&w.nurse.get(&page).await.body), 1, "nothing else was raised");
    let mut tx = w.t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let patient: Uuid = w.patient.parse().unwrap_or_else(|e| panic!("{e}"));
    let rows = tx.urgent_requests_of_patient(patient, 10).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 1);
}

async fn only_the_coordinator_changes_the_roster_and_bad_input_is_refused(db: &TestDb) {
    let mut w = world(db).await;
    // Only whoever runs the network creates groups.
    let refused = w.sato.submit("/backup", "/backup/groups", &[("name", "勝手なグループ")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let unknown =
        w.admin.submit("/backup", "/backup/groups", &[("name", "柏南部"), ("coordinator", "dr.nobody")]).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("世話人のIDが見つかりません。"));

    let group = create_group(&mut w.admin, "柏北部在宅医グループ", "dr.sato").await;
    add_member(&mut w.sato, &group, "dr.sato", "").await;
    add_member(&mut w.sato, &group, "dr.suzuki", "").await;
    let group_page = format!("/backup/groups/{group}");
    let nurse_member = w.sato.submit(&group_page, &format!("{group_page}/members"), &[("login_id", "ns.tanaka")]).await;
    assert_eq!(nurse_member.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nurse_member.body.contains("医師のアカウントではありません。"));
    let by_member = w.suzuki.submit(&group_page, &format!("{group_page}/members"), &[("login_id", "dr.kato")]).await;
    assert_eq!(by_member.status, StatusCode::FORBIDDEN, "members do not manage the group");

    let next = now(&w.t).to_offset(JST).date() + Duration::days(40);
    let month = month_code(next);
    let slots = roster_slots(next.year(), next.month());
    let first = slots[0].span.start.unix_timestamp();
    let holes = |body: &str| section(body, "roster").matches("problem-hole").count();
    let before = w.sato.get(&format!("{group_page}?month={month}")).await.body;
    assert_eq!(holes(&before), slots.len(), "an empty month is all holes");
    assert!(!section(&w.suzuki.get(&format!("{group_page}?month={month}")).await.body, "roster").contains("<select"));

    // A member who is not the coordinator, and someone outside the group, cannot change it.
    let suzuki = account_id(&w.t, "dr.suzuki").await.0.to_string();
    for client in [&mut w.suzuki, &mut w.nurse, &mut w.kato] {
        let reply = save_roster(client, &group, &month, &[(first, &suzuki)], "fill").await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    // Bad input from the coordinator: a clear message, nothing saved.
    let bad_month = save_roster(&mut w.sato, &group, "2026-13", &[], "fill").await;
    assert_eq!(bad_month.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_month.body.contains("月は 2026-12 の形で指定してください。"), "{}", bad_month.body);
    assert_eq!(w.sato.get(&format!("{group_page}?month=2026-13")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_slot = save_roster(&mut w.sato, &group, &month, &[(first + 60, &suzuki)], "save").await;
    assert_eq!(bad_slot.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_slot.body.contains("当番表の枠が正しくありません。"));
    let kato = account_id(&w.t, "dr.kato").await.0.to_string();
    let stranger = save_roster(&mut w.sato, &group, &month, &[(first, &kato)], "save").await;
    assert_eq!(stranger.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stranger.body.contains("グループのメンバー以外は当番にできません。"));
    let garbage = save_roster(&mut w.sato, &group, &month, &[(first, "someone")], "save").await;
    assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY);
    let after = w.sato.get(&format!("{group_page}?month={month}")).await.body;
    assert_eq!(holes(&after), slots.len(), "refused saves change nothing");

    // The municipality admin may manage any group.
    let by_admin = save_roster(&mut w.admin, &group, &month, &[(first, &suzuki)], "save").await;
    assert!(by_admin.redirects_to(&group_page), "{} {}", by_admin.status, by_admin.body);
    // Another municipality's people do not see the group at all.
    crate::admin::municipality(&w.t, "122203", "流山市").await;
    let (mut elsewhere, _) = w.t.signed_in("dr.nagareyama", Some("122203"), "physician", &[], None).await;
    assert_eq!(elsewhere.get(&group_page).await.status, StatusCode::NOT_FOUND);
}

async fn filling_the_roster_leaves_no_holes_and_absences_show_as_conflicts_and_gaps(db: &TestDb) {
    let mut w = world(db).await;
    let group = create_group(&mut w.admin, "柏北部在宅医グループ", "dr.sato").await;
    add_member(&mut w.sato, &group, "dr.sato", "").await;
    add_member(&mut w.sato, &group, "dr.suzuki", "").await;
    let group_page = format!("/backup/groups/{group}");
    let sato = account_id(&w.t, "dr.sato").await.0.to_string();
    let suzuki = account_id(&w.t, "dr.suzuki").await.0.to_string();

    let next = now(&w.t).to_offset(JST).date() + Duration::days(45);
    let month = month_code(next);
    let month_page = format!("{group_page}?month={month}");
    let slots = roster_slots(next.year(), next.month());
    let first_night = slots.iter().find(|s| s.kind == SlotKind::Night).unwrap_or_else(|| panic!("a night"));
    let start = first_night.span.start.unix_timestamp();
    let count = |body: &str, what: &str| section(body, "roster").matches(what).count();

    // dr.suzuki takes the first night, then records a conference during it.
    let saved = save_roster(&mut w.sato, &group, &month, &[(start, &suzuki)], "save").await;
    assert!(saved.redirects_to(&group_page), "{} {}", saved.status, saved.body);
    let away = absence(
        &mut w.suzuki,
        None,
        first_night.span.start + Duration::hours(2),
        first_night.span.start + Duration::hours(5),
    )
    .await;
    assert!(away.redirects_to("/absences"), "{} {}", away.status, away.body);
    let shown = w.sato.get(&month_page).await.body;
    assert_eq!(count(&shown, "problem-absent"), 1, "the absence conflicts with the shift");
    assert_eq!(count(&shown, "problem-hole"), slots.len() - 1);
    let conflict_row =
        section(&shown, "roster").split("<tr").find(|r| r.contains("problem-absent")).unwrap_or_default().to_owned();
    assert!(conflict_row.contains(&format!("name=\"slot_{start}\"")), "{conflict_row}");
    assert!(conflict_row.contains("不在予定と重なっています"));
    assert!(section(&shown, "absences").contains("dr.suzuki さん"), "members' absences are listed");

    // Filling: no holes left; the assigned slot is kept (still a conflict).
    let filled = save_roster(&mut w.sato, &group, &month, &[], "fill").await;
    assert!(filled.redirects_to(&group_page), "{} {}", filled.status, filled.body);
    let shown = w.sato.get(&month_page).await.body;
    assert_eq!(count(&shown, "problem-hole"), 0, "no holes after filling");
    assert_eq!(count(&shown, "problem-absent"), 1);
    assert_eq!(count(&shown, " selected>"), slots.len(), "every slot has a physician");
    let load: Vec<usize> = section(&shown, "members")
        .split("<tr><td>")
        .skip(1)
        .map(|row| {
            row.split("<td class=\"num\">")
                .nth(3)
                .and_then(|n| n.split('<').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        })
        .collect();
    assert_eq!(load.iter().sum::<usize>(), slots.len(), "{load:?}");
    assert!(load.iter().all(|n| *n >= slots.len() / 2 - 2), "shared in turn: {load:?}");

    // Giving the night to dr.sato resolves the conflict.
    let fixed = save_roster(&mut w.sato, &group, &month, &[(start, &sato)], "save").await;
    assert!(fixed.redirects_to(&group_page), "{} {}", fixed.status, fixed.body);
    let shown = w.sato.get(&month_page).await.body;
    assert_eq!(count(&shown, "problem-"), 0, "{}", section(&shown, "roster-status"));
    assert!(section(&shown, "roster").contains("空き・重複なし"));
    // Holes again: clearing a slot makes it a hole.
    let cleared = save_roster(&mut w.sato, &group, &month, &[(start, "")], "save").await;
    assert!(cleared.redirects_to(&group_page));
    assert_eq!(count(&w.sato.get(&month_page).await.body, "problem-hole"), 1);

    // Coverage: when both the primary and the backup are away and nobody is on call,
    // the group sees a gap (without the patient's name).
    let before = w.sato.get(&group_page).await.body;
    assert!(section(&before, "coverage").contains("id=\"no-gaps\""), "{}", section(&before, "coverage"));
    let t0 = now(&w.t);
    for client in [&mut w.sato, &mut w.suzuki] {
        let away = absence(client, None, t0 + Duration::hours(1), t0 + Duration::hours(2)).await;
        assert!(away.redirects_to("/absences"), "{} {}", away.status, away.body);
    }
    let after = w.sato.get(&group_page).await.body;
    let coverage = section(&after, "coverage");
    assert_eq!(coverage.matches("class=\"gap\"").count(), 1, "{coverage}");
    assert!(coverage.contains("1人") && coverage.contains("dr.sato さん"), "{coverage}");
    assert!(!coverage.contains("柏 花子"), "no patient is named");
    // A coordinator records an absence for a member; an outsider cannot.
    let kato = account_id(&w.t, "dr.kato").await.0;
    let for_member = absence(
        &mut w.sato,
        Some(account_id(&w.t, "dr.suzuki").await.0),
        t0 + Duration::days(3),
        t0 + Duration::days(4),
    )
    .await;
    assert!(for_member.redirects_to("/absences"), "{} {}", for_member.status, for_member.body);
    let not_theirs = absence(&mut w.suzuki, Some(kato), t0 + Duration::days(3), t0 + Duration::days(4)).await;
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN);
}

async fn hospital_staff_keep_their_own_backup_beds_current(db: &TestDb) {
    let mut w = world(db).await;
    let overview = w.nurse.get("/backup").await;
    assert_eq!(overview.status, StatusCode::OK);
    let a = section(&overview.body, "hospitals")
        .split(&format!("id=\"hospital-{}\"", w.hospital_a))
        .nth(1)
        .unwrap_or_default()
        .split("</div>")
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(a.contains("空床 5"), "{a}");
    assert!(!overview.body.contains("action=\"/backup/hospitals/"), "a nurse of a station updates no hospital");

    // Only the hospital's own staff (or whoever runs the network) update its beds.
    let other = try_beds(&mut w.hp_a, w.hospital_b, true, "9").await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let nurse = try_beds(&mut w.nurse, w.hospital_a, true, "9").await;
    assert_eq!(nurse.status, StatusCode::FORBIDDEN);
    for (count, message) in
        [("many", "病床数は数字で入力してください。"), ("501", "病床数は0〜500で入力してください。")]
    {
        let bad = try_beds(&mut w.hp_a, w.hospital_a, true, count).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{count}");
        assert!(bad.body.contains(message), "{count}");
    }
    let clinic = try_beds(&mut w.admin, w.clinic, true, "3").await;
    assert_eq!(clinic.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(clinic.body.contains("病院ではありません。"));
    let missing = try_beds(&mut w.admin, FacilityId(Uuid::now_v7()), true, "3").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(w.nurse.get("/backup").await.body.contains("空床 5"), "refused updates change nothing");

    // B leaves hospital backup and A has more beds: the chain follows.
    beds(&mut w.hp_b, w.hospital_b, false, "0").await;
    beds(&mut w.hp_a, w.hospital_a, true, "2").await;
    let page = w.page();
    let hospitals: Vec<String> =
        chain(&w.nurse.get(&page).await.body).into_iter().filter(|(r, _)| r == "hospital").map(|(_, n)| n).collect();
    assert_eq!(hospitals, vec![HOSPITAL_A.to_owned()], "only hospitals taking part are called");
    let by_admin = try_beds(&mut w.admin, w.hospital_b, true, "4").await;
    assert!(by_admin.redirects_to("/backup"), "{} {}", by_admin.status, by_admin.body);
    let hospitals: Vec<String> =
        chain(&w.nurse.get(&page).await.body).into_iter().filter(|(r, _)| r == "hospital").map(|(_, n)| n).collect();
    assert_eq!(hospitals, vec![HOSPITAL_B.to_owned(), HOSPITAL_A.to_owned()], "most free beds first");
}

/// A webhook receiver that refuses the first `failures` posts, then takes them.
struct Gateway {
    failures: std::sync::Mutex<usize>,
    received: std::sync::Mutex<Vec<String>>,
}

impl tsunagu_app::escalation::WebhookSender for Gateway {
    fn post<'a>(
        &'a self,
        body: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u16, String>> + Send + 'a>> {
        Box::pin(async move {
            let mut failures = self.failures.lock().unwrap_or_else(|e| panic!("{e}"));
            if *failures > 0 {
                *failures -= 1;
                return Ok(503);
            }
            self.received.lock().unwrap_or_else(|e| panic!("{e}")).push(body.to_owned());
            Ok(204)
        })
    }
}

async fn webhook_events_carry_no_patient_data_and_are_retried_until_delivered(db: &TestDb) {
    let mut w = world(db).await;
    // A second instance of the same installation with the webhook configured.
    let settings = tsunagu_app::Settings {
        webhook: Some(tsunagu_app::WebhookSettings { public_url: "https://tsunagu.example.jp".into() }),
        ..tsunagu_app::Settings::default()
    };
    let hooked = tsunagu_app::App::new(w.t.store.clone(), Arc::new(w.t.clock.clone()), settings);
    let request = raise(&mut w.nurse, &w.patient, "urgent_visit", "呼吸苦あり、往診をお願いします").await;
    // The first call went out with the request (through the instance without a webhook);
    // the next one is fired by the instance with it.
    advance_to(&w.t, now(&w.t) + Duration::minutes(10));
    assert_eq!(hooked.fire_due_steps("hooked", 100).await.unwrap_or_else(|e| panic!("{e}")).fired, 1);

    let gateway = Gateway { failures: std::sync::Mutex::new(2), received: std::sync::Mutex::new(Vec::new()) };
    let first = hooked.deliver_webhooks(&gateway, 100).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((first.delivered, first.failed), (0, 1), "the gateway is down");
    let again = hooked.deliver_webhooks(&gateway, 100).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((again.delivered, again.failed), (0, 0), "the retry waits a minute");
    advance_to(&w.t, now(&w.t) + Duration::minutes(1));
    let second = hooked.deliver_webhooks(&gateway, 100).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((second.delivered, second.failed), (0, 1));
    advance_to(&w.t, now(&w.t) + Duration::minutes(2));
    let third = hooked.deliver_webhooks(&gateway, 100).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((third.delivered, third.failed), (1, 0), "delivered on the third attempt");
    let fourth = hooked.deliver_webhooks(&gateway, 100).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((fourth.delivered, fourth.failed), (0, 0), "never twice");

    let received = gateway.received.lock().unwrap_or_else(|e| panic!("{e}")).clone();
    assert_eq!(received.len(), 1);
    let event: serde_json::Value = serde_json::from_str(&received[0]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(event["event"], "urgent_request.called");
    assert_eq!(event["request"], request.as_str());
    assert_eq!(event["called"]["role"], "backup");
    assert_eq!(event["link"], format!("https://tsunagu.example.jp/urgent/{request}"));
    // Nothing about the patient: not the situation, the name, the address or the phone.
    assert!(!received[0].contains("呼吸苦") && !received[0].contains(&w.patient), "{}", received[0]);
    for (field, value) in PATIENT {
        if value.chars().count() > 1 && !matches!(*field, "sex" | "care_level" | "csrf") {
            assert!(!received[0].contains(value), "the event carries the patient's {field}: {}", received[0]);
        }
    }

    // The municipality's admin sees the record of deliveries; a nurse does not.
    let backup = w.admin.get("/backup").await.body;
    let record = backup.split("id=\"webhook-deliveries\"").nth(1).unwrap_or_default();
    assert!(record.contains("urgent_request.called") && record.contains("配信済み"), "{backup}");
    assert!(!w.nurse.get("/backup").await.body.contains("webhook-deliveries"));
}
