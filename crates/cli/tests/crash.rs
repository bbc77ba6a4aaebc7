#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Nothing acknowledged is lost: the real server, under concurrent posts and
//! audited reads, is killed with SIGKILL; every post it answered 201 and every
//! read it answered 200 is in the database afterwards with its audit event,
//! and the audit chains verify.

mod common;

use common::{Server, create_database, drop_database, nurse_session, postgres_server, request, start};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use tokio::net::TcpStream;

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
    let Some(server) = postgres_server() else { return };
    let db = create_database(&server, "tsunagu_crash").await;
    let dir = std::env::temp_dir().join(format!("tsunagu-crash-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    kill_under_load(dir, &db).await;
    drop_database(&server, &db).await;
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

/// Kill cycles per test: a few in CI; `TSUNAGU_CRASH_CYCLES=200` for the long
/// run recorded in docs/reliability.md.
fn cycles() -> usize {
    std::env::var("TSUNAGU_CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(3)
}

/// When to pull the plug in cycle `n`: spread over 150..=1050 ms (a fixed
/// sequence, so a failure can be replayed by its cycle number).
fn kill_after(n: usize) -> Duration {
    Duration::from_millis(150 + ((n as u64 * 7919) % 901))
}

async fn kill_under_load(dir: PathBuf, db: &str) {
    let (cookie, csrf, patient) = nurse_session(db).await;
    let mut posted = Vec::new();
    let mut reads = 0;
    for cycle in 0..cycles() {
        let (child, addr) = start(&dir, db).await;
        let mut server = Server { child, dir: dir.join("scratch") };
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
                        let raw =
                            format!("GET /api/v1/patients/{patient} HTTP/1.1\r\nHost: t\r\nCookie: {cookie}\r\n\r\n");
                        (raw, None)
                    } else {
                        let marker = format!("crash-{cycle}-{worker}-{n}");
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
        tokio::time::sleep(kill_after(cycle)).await;
        server.child.kill().unwrap(); // SIGKILL on Unix: no shutdown, no flush
        server.child.wait().unwrap();
        for task in tasks {
            for a in task.await.unwrap() {
                if a == "read" {
                    reads += 1;
                } else {
                    posted.push(a);
                }
            }
        }
    }
    let backend = if db.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    eprintln!("{backend}: {} kill cycles; acknowledged and checked: {} posts, {reads} reads", cycles(), posted.len());
    assert!(posted.len() >= 10 && reads >= 5, "too little got through to prove anything: {posted:?} {reads}");

    let bodies = strings(db, "SELECT body FROM entry_versions").await;
    for marker in &posted {
        assert!(bodies.contains(marker), "{marker} was acknowledged but is lost");
    }
    let (posts, views) = (count(db, "entry_posted").await, count(db, "patient_viewed").await);
    assert!(posts >= posted.len(), "{posts} post events for {} acknowledged posts", posted.len());
    assert!(views >= reads, "{views} view events for {reads} answered reads");
    // Nothing half-written: every entry has its first version and its audit event.
    let orphans = strings(
        db,
        "SELECT CAST(count(*) AS TEXT) FROM entries e WHERE NOT EXISTS \
         (SELECT 1 FROM entry_versions v WHERE v.entry_id = e.id AND v.version = 1) \
         OR NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.target_id = e.id AND a.action = 'entry_posted')",
    )
    .await;
    assert_eq!(orphans, vec!["0".to_owned()], "entries without their version or audit event");
    let verify = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["audit", "verify", "--database-url", db])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}
