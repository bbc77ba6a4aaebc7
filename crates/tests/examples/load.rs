//! Load benchmark (not a test): serves the whole application on a real TCP
//! port and measures throughput and latency from concurrent keep-alive clients.
//!
//!     cargo run --release -p tsunagu-tests --example load [-- SECONDS CONNECTIONS PATIENTS ENTRIES_PER_PATIENT]
//!
//! SQLite in a temp dir by default; set TSUNAGU_BENCH_DATABASE_URL to a fresh
//! PostgreSQL database to measure that instead. The synthetic history is
//! written straight through the store in large transactions (it is "imported",
//! so it has no audit events of its own); everything measured goes through
//! HTTP and the use cases, audited and durable. Reported in docs/performance.md.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tsunagu_app::{App, Settings, SystemClock};
use tsunagu_domain::account::NewAccount;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let connections: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let patients: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100);
    let entries_per_patient: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(100);
    let dir = std::env::temp_dir().join(format!("tsunagu-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = std::env::var("TSUNAGU_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.join("bench.db").display()));
    let store = tsunagu_store::connect(&url).await.unwrap();
    let app = App::new(store.clone(), Arc::new(SystemClock), Settings::default());

    app.create_demo().await.unwrap();
    let (admin_cookie, admin) = session(&app, "bench.admin", "municipal_officer", &["municipality_admin"]).await;
    let (nurse_cookie, nurse) = session(&app, "bench.nurse", "nurse", &[]).await;
    let municipality = admin.account.municipality_id.unwrap();

    // The synthetic history: patients on the nurse's team, with consent and entries.
    let started = Instant::now();
    let target = generate(&store, municipality.0, nurse.account.id.0, patients, entries_per_patient).await;
    println!(
        "generated {patients} patients x {entries_per_patient} entries = {} entries in {:.1} s",
        patients * entries_per_patient,
        started.elapsed().as_secs_f64()
    );
    let cookie = admin_cookie;
    let csrf = admin.csrf_token.clone();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = tsunagu_web::WebConfig { secure_cookies: false, behind_proxy: false };
    let router = tsunagu_web::router(app.clone(), config);
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });

    println!("backend {}, {connections} connections, {seconds} s per scenario", app.backend());
    println!("{:<40} {:>10} {:>10} {:>10}", "scenario", "req/s", "p50 ms", "p99 ms");
    let facilities = format!("/admin/m/{municipality}/facilities");
    let form = format!("csrf={csrf}&kind=clinic&name=%E8%B2%A0%E8%8D%B7&address=%E6%9F%8F%E5%B8%82");
    let timeline = format!("/patients/{target}");
    let post =
        format!("csrf={}&kind=message&body=%E8%A8%AA%E5%95%8F%E3%81%97%E3%81%BE%E3%81%97%E3%81%9F", nurse.csrf_token);
    let scenarios: Vec<(&str, String, Option<String>, Option<String>)> = vec![
        ("GET /healthz (ceiling)", "/healthz".into(), None, None),
        ("GET /sign-in (page, no session)", "/sign-in".into(), None, None),
        ("GET facility list (admin, 13 rows)", facilities.clone(), Some(cookie.clone()), None),
        ("POST facility (audited durable write)", facilities.clone(), Some(cookie.clone()), Some(form)),
        ("GET patient page (50 entries, audited)", timeline.clone(), Some(nurse_cookie.clone()), None),
        ("POST entry (audited durable write)", format!("{timeline}/entries"), Some(nurse_cookie.clone()), Some(post)),
        ("GET /home (patient list with counts)", "/home".into(), Some(nurse_cookie.clone()), None),
    ];
    for (name, path, cookie, body) in scenarios {
        let (rate, p50, p99) = run(addr, &path, cookie, body, connections, Duration::from_secs(seconds)).await;
        println!("{name:<40} {rate:>10.0} {p50:>10.2} {p99:>10.2}");
    }
    let report = app.verify_audit().await.unwrap();
    println!("audit chains intact after the run: {}", report.is_intact());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fully signed-in session for a new account, made through the use cases.
async fn session(app: &App, login: &str, profession: &str, roles: &[&str]) -> (String, tsunagu_app::Session) {
    let new = NewAccount::parse(login, "負荷 試験", "", "", profession, roles).unwrap();
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

/// Writes the synthetic history; returns the id of the last patient (the one measured).
async fn generate(
    store: &Arc<dyn tsunagu_store::Store>,
    municipality: uuid::Uuid,
    nurse: uuid::Uuid,
    patients: usize,
    per_patient: usize,
) -> uuid::Uuid {
    use tsunagu_store::{ConsentRow, NewEntry, NewTeamMember, PatientRow};
    let start = time::OffsetDateTime::now_utc() - time::Duration::days(400);
    let mut last = uuid::Uuid::nil();
    let mut tx = store.begin().await.unwrap();
    let mut in_tx = 0;
    for p in 0..patients {
        let id = uuid::Uuid::now_v7();
        last = id;
        let patient = PatientRow {
            id,
            municipality_id: municipality,
            created_by: nurse,
            family_name: format!("試験{p}"),
            given_name: "太郎".into(),
            family_name_kana: "シケン".into(),
            given_name_kana: "タロウ".into(),
            search_key: format!("試験{p}太郎しけんたろう"),
            birth_date: time::macros::date!(1940 - 01 - 01),
            sex: "male".into(),
            address: "千葉県柏市柏1-1".into(),
            daily_living_area: None,
            phone: None,
            key_person: None,
            key_person_phone: None,
            care_level: "care_2".into(),
            main_diagnoses: None,
            allergies: None,
            special_care: String::new(),
            status: "at_home".into(),
            outcome: None,
            outcome_date: None,
            created_at: start,
            updated_at: start,
        };
        tx.insert_patient(&patient).await.unwrap();
        let consent = ConsentRow {
            id: uuid::Uuid::now_v7(),
            patient_id: id,
            given_on: time::macros::date!(2025 - 01 - 01),
            method: "written".into(),
            proxy_name: None,
            proxy_relation: None,
            scope: "共有".into(),
            recorded_by: nurse,
            recorded_at: start,
            withdrawn_at: None,
            withdrawn_by: None,
            withdrawal_reason: None,
        };
        tx.insert_consent(&consent).await.unwrap();
        let member = NewTeamMember {
            id: uuid::Uuid::now_v7(),
            patient_id: id,
            account_id: nurse,
            team_role: "visiting_nurse".into(),
            added_by: nurse,
            joined_at: start,
        };
        tx.insert_team_member(&member).await.unwrap();
        for e in 0..per_patient {
            let entry = NewEntry {
                id: uuid::Uuid::now_v7(),
                patient_id: id,
                kind: if e % 3 == 0 { "vitals".into() } else { "visit_record".into() },
                author_id: nurse,
                reply_to: None,
                needs_reply: false,
                created_at: start + time::Duration::minutes(e as i64),
                body: "定期訪問。表情穏やか。食事は半量摂取。水分摂取を促した。".into(),
                vitals: r#"{"temperature_c":36.8,"systolic":132,"diastolic":78,"spo2":95}"#.into(),
                audience: "team".into(),
            };
            tx.insert_entry(&entry).await.unwrap();
            in_tx += 1;
            if in_tx >= 5_000 {
                tx.commit().await.unwrap();
                tx = store.begin().await.unwrap();
                in_tx = 0;
            }
        }
    }
    tx.commit().await.unwrap();
    last
}

async fn run(
    addr: SocketAddr,
    path: &str,
    cookie: Option<String>,
    body: Option<String>,
    connections: usize,
    length: Duration,
) -> (f64, f64, f64) {
    let request = match &body {
        None => format!(
            "GET {path} HTTP/1.1\r\nHost: bench\r\n{}\r\n",
            cookie.as_deref().map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default()
        ),
        Some(b) => format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{}\r\n{b}",
            b.len(),
            cookie.as_deref().map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default()
        ),
    };
    let deadline = Instant::now() + length;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut latencies = Vec::new();
            let mut buf = vec![0u8; 8 * 1024 * 1024];
            while Instant::now() < deadline {
                let t = Instant::now();
                stream.write_all(request.as_bytes()).await.unwrap();
                read_response(&mut stream, &mut buf).await;
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1e3)
            .unwrap_or(0.0)
    };
    (all.len() as f64 / elapsed, pct(0.50), pct(0.99))
}

/// Reads one HTTP/1.1 response with a Content-Length body; panics on anything else.
async fn read_response(stream: &mut TcpStream, buf: &mut [u8]) {
    let mut filled = 0;
    loop {
        let n = stream.read(&mut buf[filled..]).await.unwrap();
        assert!(n > 0, "server closed the connection");
        filled += n;
        let head = &buf[..filled];
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let headers = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
            assert!(headers.starts_with("http/1.1 2") || headers.starts_with("http/1.1 3"), "{headers}");
            let length: usize = headers
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            while filled < end + 4 + length {
                let n = stream.read(&mut buf[filled..]).await.unwrap();
                assert!(n > 0);
                filled += n;
            }
            return;
        }
    }
}
