#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Nothing acknowledged is lost: the real server, under concurrent posts and
//! audited reads, is killed with SIGKILL; every post it answered 201 and every
//! read it answered 200 is in the database afterwards with its audit event,
//! and the audit chains verify.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tsunagu_app::{App, RequestMeta, Settings, SystemClock};

struct Server {
    child: Child,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Signs the demo nurse in through the use cases (password, TOTP) on the
/// installation's database; returns (cookie, CSRF token, a patient of hers).
async fn nurse_session(db: &str) -> (String, String, uuid::Uuid) {
    let store = tsunagu_store::connect(db).await.unwrap();
    let app = App::new(store, Arc::new(SystemClock), Settings::default());
    app.create_demo().await.unwrap();
    let meta = RequestMeta::default();
    let half = app.sign_in("ns.tanaka", "tsunagu-demo-2026", &meta).await.unwrap();
    let enrolment = app.enrolment(&half.token).await.unwrap();
    let secret = totp_rs::Secret::try_from_base32(&enrolment.secret_base32).unwrap();
    let code = totp_rs::Builder::new().with_secret(secret).build().unwrap().generate_current().to_string();
    let (full, _) = app.complete_enrolment(&half.token, &code, &meta).await.unwrap();
    let session = app.session(&full.token).await.unwrap().unwrap();
    let patient = app.my_patients(&session, "", &meta).await.unwrap()[0].patient.id;
    (format!("tsunagu_session={}", full.token), session.csrf_token, patient)
}

async fn start(dir: &std::path::Path, db: &str) -> (Child, SocketAddr) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut child = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["serve", "--listen", &addr.to_string(), "--database-url", db])
        .current_dir(dir)
        .env_remove("TSUNAGU_DATABASE_URL")
        .env_remove("TSUNAGU_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if TcpStream::connect(addr).await.is_ok() {
            return (child, addr);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

/// One request on a keep-alive connection; the status code, or None if the
/// connection died (the server was killed).
async fn request(stream: &mut TcpStream, raw: &[u8]) -> Option<u16> {
    stream.write_all(raw).await.ok()?;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return head.get(9..12).and_then(|s| s.parse().ok());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_posts_and_audited_reads_survive_kill_9_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("tsunagu-crash-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let db = format!("sqlite://{}", dir.join("data").join("tsunagu.db").display());
    kill_under_load(dir, &db).await;
}

/// The same on PostgreSQL, when TSUNAGU_TEST_POSTGRES_URL names a server (CI sets it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_posts_and_audited_reads_survive_kill_9_on_postgres() {
    let Some(admin) = std::env::var("TSUNAGU_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else { return };
    use sqlx::Connection;
    let name = format!("tsunagu_crash_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL is reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    let dir = std::env::temp_dir().join(format!("tsunagu-crash-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    kill_under_load(dir, &format!("{base}/{name}")).await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut conn)
        .await;
}

async fn strings(db: &str, sql: &'static str) -> Vec<String> {
    use sqlx::Connection;
    if db.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(db).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(db).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    }
}

async fn count(db: &str, action: &str) -> usize {
    use sqlx::Connection;
    let sql = "SELECT count(*) FROM audit_events WHERE action = $1";
    let n: i64 = if db.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(db).await.unwrap();
        sqlx::query_scalar(sql).bind(action).fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(db).await.unwrap();
        sqlx::query_scalar(sql).bind(action).fetch_one(&mut conn).await.unwrap()
    };
    usize::try_from(n).unwrap()
}

async fn kill_under_load(dir: PathBuf, db: &str) {
    let (cookie, csrf, patient) = nurse_session(db).await;
    let (child, addr) = start(&dir, db).await;
    let mut server = Server { child, dir: dir.clone() };

    // Writers post numbered entries; readers read the record. Each remembers
    // what the server acknowledged.
    let mut tasks = Vec::new();
    for worker in 0..6 {
        let (cookie, csrf) = (cookie.clone(), csrf.clone());
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut acknowledged = Vec::new();
            for n in 0.. {
                let (raw, marker) = if worker % 3 == 2 {
                    let raw = format!("GET /api/v1/patients/{patient} HTTP/1.1\r\nHost: t\r\nCookie: {cookie}\r\n\r\n");
                    (raw, None)
                } else {
                    let marker = format!("crash-{worker}-{n}");
                    let body = format!(r#"{{"kind":"message","body":"{marker}"}}"#);
                    let raw = format!(
                        "POST /api/v1/patients/{patient}/entries HTTP/1.1\r\nHost: t\r\nCookie: {cookie}\r\n\
                         X-CSRF-Token: {csrf}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    (raw, Some(marker))
                };
                match request(&mut stream, raw.as_bytes()).await {
                    Some(201) => acknowledged.push(marker.unwrap_or_default()),
                    Some(200) => acknowledged.push(String::from("read")),
                    Some(other) => panic!("unexpected status {other}"),
                    None => break,
                }
            }
            acknowledged
        }));
    }
    // Let a few hundred requests through, then pull the plug.
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.child.kill().unwrap(); // SIGKILL on Unix: no shutdown, no flush
    server.child.wait().unwrap();
    let mut posted = Vec::new();
    let mut reads = 0;
    for task in tasks {
        for a in task.await.unwrap() {
            if a == "read" {
                reads += 1;
            } else {
                posted.push(a);
            }
        }
    }
    eprintln!("acknowledged: {} posts, {reads} reads", posted.len());
    assert!(posted.len() >= 10 && reads >= 5, "too little got through to prove anything: {posted:?} {reads}");

    let bodies = strings(db, "SELECT body FROM entry_versions").await;
    for marker in &posted {
        assert!(bodies.contains(marker), "{marker} was acknowledged but is lost");
    }
    let (posts, views) = (count(db, "entry_posted").await, count(db, "patient_viewed").await);
    assert!(posts >= posted.len(), "{posts} post events for {} acknowledged posts", posted.len());
    assert!(views >= reads, "{views} view events for {reads} answered reads");
    let verify = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["audit", "verify", "--database-url", db])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}
