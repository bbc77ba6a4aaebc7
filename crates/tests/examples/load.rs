//! Load benchmark (not a test): for each scale, a fresh database with a
//! synthetic history (the same generator as `tsunagu demo --patients --entries`),
//! the whole application served on a real TCP port, and concurrent keep-alive
//! clients measuring throughput and latency.
//!
//!     cargo run --release -p tsunagu-tests --example load -- SECONDS CONNECTIONS PATIENTS:ENTRIES...
//!     e.g. ... -- 10 32 200:10000 100000:5000000
//!     TSUNAGU_BENCH_ONLY=fhir ... -- 10 32 100000:200000   (the FHIR scenarios only)
//!
//! SQLite in a temp dir by default; set TSUNAGU_BENCH_DATABASE_URL to a
//! PostgreSQL server URL (its database is left alone: each scale gets a fresh
//! `tsunagu_bench_<n>` database beside it). Every measured request goes through
//! HTTP and the use cases: access-checked, audited, durable before the answer.
//! Reported in docs/performance.md.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tsunagu_app::scale::ScaleSpec;
use tsunagu_app::{App, Settings, SystemClock};
use tsunagu_domain::account::NewAccount;
use tsunagu_tests::bench::{Request, run};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let connections: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(32);
    let mut scales: Vec<(usize, usize)> = args
        .iter()
        .skip(3)
        .map(|a| {
            let (p, e) = a.split_once(':').expect("a scale is PATIENTS:ENTRIES");
            (p.parse().expect("patients"), e.parse().expect("entries"))
        })
        .collect();
    if scales.is_empty() {
        scales.push((200, 10_000));
    }
    println!("{connections} connections, {seconds} s per scenario");
    for (index, (patients, entries)) in scales.into_iter().enumerate() {
        measure_scale(index, patients, entries, seconds, connections).await;
    }
}

async fn database_url(index: usize) -> (String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("tsunagu-bench-{}-{index}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    match std::env::var("TSUNAGU_BENCH_DATABASE_URL") {
        Ok(server) => {
            use sqlx::Connection;
            let name = format!("tsunagu_bench_{index}");
            let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                .execute(&mut admin)
                .await
                .unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
            let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server);
            (format!("{base}/{name}"), dir)
        }
        Err(_) => (format!("sqlite://{}", dir.join("bench.db").display()), dir),
    }
}

async fn measure_scale(index: usize, patients: usize, entries: usize, seconds: u64, connections: usize) {
    let (url, dir) = database_url(index).await;
    let store = tsunagu_store::connect(&url).await.unwrap();
    let app = App::new(store.clone(), Arc::new(SystemClock), Settings::default());
    let started = Instant::now();
    let spec = ScaleSpec::parse(patients, entries).unwrap();
    let report = app.generate_scale(spec, &mut |_| {}).await.unwrap();
    println!(
        "\n== {} backend, {} patients, {} entries (generated in {:.0} s)",
        app.backend(),
        report.patients,
        report.entries,
        started.elapsed().as_secs_f64()
    );

    // A nurse who signs in through the use cases (password, TOTP) and joins
    // the teams of one generated nurse's patients: a realistic caseload.
    let (cookie, nurse) = session(&app, "bench.nurse", "nurse").await;
    let caseload = join_caseload(&store, nurse.account.id.0).await;
    let csrf = nurse.csrf_token.clone();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = tsunagu_web::WebConfig { secure_cookies: false, behind_proxy: false, ..Default::default() };
    let router = tsunagu_web::router(app.clone(), config);
    let server = tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });

    let get = |path: String| Request { path, cookie: Some(cookie.clone()), body: None, csrf: None, bearer: None };
    // An EHR's API token for the same nurse (the FHIR scenarios).
    let token = app.create_api_token_for("bench.nurse", "bench EHR", "user/*.read", "30").await.unwrap().token;
    let fhir = |path: String| Request { path, cookie: None, body: None, csrf: None, bearer: Some(token.clone()) };
    let first = {
        let mut tx = store.begin_read().await.unwrap();
        tx.patient(caseload[0]).await.unwrap().unwrap()
    };
    {
        // How many resources the name searches answer with (the bench nurse's own patients only).
        let mut tx = store.begin_read().await.unwrap();
        let mut same = 0;
        for p in &caseload {
            if tx.patient(*p).await.unwrap().is_some_and(|p| p.family_name == first.family_name) {
                same += 1;
            }
        }
        println!("the name searches match {same} of the caseload's {} patients", caseload.len());
    }
    let encode = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    let reads: Vec<Request> = caseload.iter().map(|p| get(format!("/api/v1/patients/{p}"))).collect();
    let post_body = r#"{"kind":"visit_record","body":"定期訪問。表情穏やか。血圧安定、食事は全量摂取。"}"#;
    let posts: Vec<Request> = caseload
        .iter()
        .map(|p| Request {
            path: format!("/api/v1/patients/{p}/entries"),
            cookie: Some(cookie.clone()),
            body: Some(post_body.to_owned()),
            csrf: Some(csrf.clone()),
            bearer: None,
        })
        .collect();
    let pages: Vec<Request> = caseload.iter().map(|p| get(format!("/patients/{p}"))).collect();
    let chains: Vec<Request> = caseload.iter().map(|p| get(format!("/api/v1/patients/{p}/who-answers"))).collect();
    let fhir_reads: Vec<Request> = caseload.iter().map(|p| fhir(format!("/fhir/Patient/{p}"))).collect();
    let scenarios: Vec<(&str, Vec<Request>)> = vec![
        ("GET /healthz (ceiling)", vec![Request::get("/healthz")]),
        ("FHIR GET /fhir/Patient/{id}", fhir_reads),
        ("FHIR Patient?name= (kana)", vec![fhir(format!("/fhir/Patient?name={}", encode(&first.family_name_kana)))]),
        ("FHIR Patient?name= (kanji)", vec![fhir(format!("/fhir/Patient?name={}", encode(&first.family_name)))]),
        ("FHIR Patient? (whole caseload, 25)", vec![fhir("/fhir/Patient?_count=25".into())]),
        ("timeline read: GET /api/v1/patients/{id}", reads),
        // A filtered page is always read from the database (only unfiltered pages are kept).
        (
            "timeline read, one kind (never kept)",
            caseload.iter().map(|p| get(format!("/api/v1/patients/{p}?kind=visit_record"))).collect(),
        ),
        ("durable post: POST .../entries", posts),
        // The generator writes each patient's history in one run of pages; the
        // posts above interleave the caseload's newest entries as real use does.
        (
            "timeline read after the posts (interleaved)",
            caseload.iter().map(|p| get(format!("/api/v1/patients/{p}"))).collect(),
        ),
        ("patient page (HTML, summary + chart)", pages),
        ("who answers now: GET .../who-answers", chains),
        ("GET /home (caseload with counts)", vec![get("/home".into())]),
    ];
    println!("{:<42} {:>9} {:>8} {:>8} {:>8} {:>9}", "scenario", "req/s", "ceiling", "p50 ms", "p99 ms", "/batch");
    // TSUNAGU_BENCH_ONLY=fhir,timeline runs only the scenarios naming one of these (and the ceiling).
    let only: Vec<String> = std::env::var("TSUNAGU_BENCH_ONLY")
        .map(|v| v.split(',').map(|s| s.trim().to_lowercase()).collect())
        .unwrap_or_default();
    let mut ceiling = 0.0;
    for (name, requests) in scenarios {
        if ceiling > 0.0 && !only.is_empty() && !only.iter().any(|o| name.to_lowercase().contains(o)) {
            continue;
        }
        let batches_before = app.write_batches();
        let (rate, count, p50, p99) = run(addr, &requests, connections, Duration::from_secs(seconds)).await;
        if ceiling == 0.0 {
            ceiling = rate;
        }
        let batches = app.write_batches() - batches_before;
        let per_batch = if batches == 0 { "-".to_owned() } else { format!("{:.1}", count as f64 / batches as f64) };
        println!("{name:<42} {rate:>9.0} {:>7.1}% {p50:>8.2} {p99:>8.2} {per_batch:>9}", 100.0 * rate / ceiling);
    }
    let verified = Instant::now();
    let audit = app.verify_audit().await.unwrap();
    println!(
        "audit chains intact after the run: {} (verified in {:.1} s)",
        audit.is_intact(),
        verified.elapsed().as_secs_f64()
    );
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fully signed-in session for a new account, made through the use cases.
async fn session(app: &App, login: &str, profession: &str) -> (String, tsunagu_app::Session) {
    let new = NewAccount::parse(login, "負荷 試験", "", "", profession, &[]).unwrap();
    let issued = app.issue_account_from_shell(Some("122173"), &new, None).await.unwrap();
    let meta = tsunagu_app::RequestMeta::default();
    app.redeem_invitation(&issued.code, login, "a bench pass phrase", &meta).await.unwrap();
    let half = app.sign_in(login, "a bench pass phrase", &meta).await.unwrap();
    let enrolment = app.enrolment(&half.token).await.unwrap();
    let secret = totp_rs::Secret::try_from_base32(&enrolment.secret_base32).unwrap();
    let code = totp_rs::Builder::new().with_secret(secret).build().unwrap().generate_current().to_string();
    let (full, _) = app.complete_enrolment(&half.token, &code, &meta).await.unwrap();
    let session = app.session(&full.token).await.unwrap().unwrap();
    (format!("tsunagu_session={}", full.token), session)
}

/// Puts the bench nurse on the teams of the first generated nurse's patients.
async fn join_caseload(store: &Arc<dyn tsunagu_store::Store>, nurse: uuid::Uuid) -> Vec<uuid::Uuid> {
    let mut tx = store.begin().await.unwrap();
    let colleague = tx.account_by_login("scale.nurse.0").await.unwrap().unwrap();
    let patients: Vec<uuid::Uuid> =
        tx.patients_of_member(colleague.id).await.unwrap().into_iter().map(|p| p.patient.id).collect();
    for patient in &patients {
        tx.insert_team_member(&tsunagu_store::NewTeamMember {
            id: uuid::Uuid::now_v7(),
            patient_id: *patient,
            account_id: nurse,
            team_role: "visiting_nurse".into(),
            added_by: colleague.id,
            joined_at: time::OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    patients
}
