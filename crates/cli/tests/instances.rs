#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]
//! Two `tsunagu serve` processes on one PostgreSQL database behave as one
//! installation: a session works on both, what one acknowledges the other
//! shows, a mention posted through one is waiting in the other, sign-in
//! throttling counts attempts made anywhere, concurrent audited writes
//! through both keep one unbroken audit chain, and a client's rate limit is
//! one budget across both. Runs when
//! TSUNAGU_TEST_POSTGRES_URL names a server (CI sets it).

mod common;

use common::{Server, create_database, drop_database, postgres_server, request, signed_in, start};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tsunagu_app::{App, AppError, RequestMeta, Settings, SystemClock};

fn get(path: &str, cookie: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\nCookie: {cookie}\r\n\r\n")
}

fn post(path: &str, cookie: &str, csrf: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Two `tsunagu serve` processes in `dir` (its tsunagu.toml, if any) on `db`.
async fn serve_two(dir: &std::path::Path, db: &str) -> ((Server, SocketAddr), (Server, SocketAddr)) {
    let (a, addr_a) = start(dir, db).await;
    let (b, addr_b) = start(dir, db).await;
    ((Server { child: a, dir: dir.join("a") }, addr_a), (Server { child: b, dir: dir.join("b") }, addr_b))
}

/// The body of one response, read on a fresh connection.
async fn body_of(addr: SocketAddr, raw: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let raw = raw.replace("HTTP/1.1\r\n", "HTTP/1.1\r\nConnection: close\r\n");
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut all = Vec::new();
    stream.read_to_end(&mut all).await.unwrap();
    let text = String::from_utf8_lossy(&all).into_owned();
    text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_database_are_one_installation() {
    let Some(server) = postgres_server() else { return };
    let db = create_database(&server, "tsunagu_two").await;
    let dir = std::env::temp_dir().join(format!("tsunagu-two-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();

    let app = App::new(tsunagu_store::connect(&db).await.unwrap(), Arc::new(SystemClock), Settings::default());
    app.create_demo().await.unwrap();
    let (nurse, nurse_csrf, nurse_session) = signed_in(&app, "ns.tanaka").await;
    let (doctor, _, _) = signed_in(&app, "dr.sato").await;
    let patient = app.my_patients(&nurse_session, "", &RequestMeta::default()).await.unwrap()[0].patient.id;

    let ((_a, addr_a), (_b, addr_b)) = serve_two(&dir, &db).await;

    // One session, both servers.
    for addr in [addr_a, addr_b] {
        assert!(body_of(addr, &get("/api/v1/me", &nurse)).await.contains("ns.tanaka"));
    }

    // Posts through both at once, every one acknowledged.
    let entries = format!("/api/v1/patients/{patient}/entries");
    let mut tasks = Vec::new();
    for (worker, addr) in [addr_a, addr_b, addr_a, addr_b].into_iter().enumerate() {
        let (nurse, csrf, entries) = (nurse.clone(), nurse_csrf.clone(), entries.clone());
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            for n in 0..60 {
                let body = format!(r#"{{"kind":"message","body":"two-{worker}-{n}"}}"#);
                assert_eq!(request(&mut stream, post(&entries, &nurse, &csrf, &body).as_bytes()).await, Some(201));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    // What A acknowledged, B shows (the record lists the newest 50).
    let record = body_of(addr_b, &get(&format!("/api/v1/patients/{patient}?q=two-0-59"), &nurse)).await;
    assert!(record.contains("two-0-59"), "{record}");

    // A mention posted through A waits for the doctor on B.
    let mention = r#"{"kind":"message","body":"@dr.sato 夜間の連絡先を確認させてください"}"#;
    let mut stream = TcpStream::connect(addr_a).await.unwrap();
    assert_eq!(request(&mut stream, post(&entries, &nurse, &nurse_csrf, mention).as_bytes()).await, Some(201));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let bell = body_of(addr_b, &get("/api/v1/notifications", &doctor)).await;
    assert!(bell.contains("\"kind\":\"mention\""), "{bell}");

    // Throttling counts failures made through any instance.
    let other = App::new(tsunagu_store::connect(&db).await.unwrap(), Arc::new(SystemClock), Settings::default());
    let meta = RequestMeta::default();
    for _ in 0..Settings::default().max_failures_per_account {
        assert!(app.sign_in("ph.kobayashi", "not the password", &meta).await.is_err());
    }
    let locked = other.sign_in("ph.kobayashi", "tsunagu-demo-2026", &meta).await;
    assert!(matches!(locked, Err(AppError::Throttled)), "the second instance saw the first one's failures");

    // One unbroken chain, although two writers appended to it concurrently.
    let verify = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["audit", "verify", "--database-url", &db])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    drop((_a, _b));
    drop_database(&server, &db).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A client that spreads its writes over two instances gets one budget: what
/// one instance let through is taken from the other's bucket within a second
/// or two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_limit_a_client_together() {
    let Some(server) = postgres_server() else { return };
    let db = create_database(&server, "tsunagu_limits").await;
    let dir = std::env::temp_dir().join(format!("tsunagu-limits-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    // Ten writes at once, then one every ten seconds; the client address is
    // the proxy's X-Forwarded-For.
    std::fs::write(dir.join("tsunagu.toml"), "behind_proxy = true\nwrites_per_minute = 6\n").unwrap();
    let ((_a, addr_a), (_b, addr_b)) = serve_two(&dir, &db).await;
    let write = |from: &str| {
        format!("POST /sign-out HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: {from}\r\nContent-Length: 0\r\n\r\n")
    };

    let mut to_a = TcpStream::connect(addr_a).await.unwrap();
    for n in 0..10 {
        let status = request(&mut to_a, write("203.0.113.7").as_bytes()).await;
        assert!(matches!(status, Some(s) if s != 429), "write {n} through A: {status:?}");
    }
    assert_eq!(request(&mut to_a, write("203.0.113.7").as_bytes()).await, Some(429), "A's own budget is spent");
    // Within a couple of sharing rounds, B knows what A let through.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let mut to_b = TcpStream::connect(addr_b).await.unwrap();
    assert_eq!(
        request(&mut to_b, write("203.0.113.7").as_bytes()).await,
        Some(429),
        "B refuses the client that used its budget on A"
    );
    let other = request(&mut to_b, write("198.51.100.20").as_bytes()).await;
    assert!(matches!(other, Some(s) if s != 429), "another address has its own budget: {other:?}");
    drop((_a, _b));
    drop_database(&server, &db).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The status code of one request, on a fresh connection.
async fn status_of(addr: SocketAddr, raw: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    request(&mut stream, raw.as_bytes()).await.expect("an answer")
}

/// What one instance changes, the others forget at once, although they keep
/// look-ups for a whole minute here: a post through A shows in the timeline
/// B kept, a member removed from a team through A can no longer read the
/// record through B, and a session signed out through A no longer works on B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_server_changes_the_other_forgets_at_once() {
    let Some(server) = postgres_server() else { return };
    let db = create_database(&server, "tsunagu_told").await;
    let dir = std::env::temp_dir().join(format!("tsunagu-told-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tsunagu.toml"), "session_cache_seconds = 60\n").unwrap();
    let app = App::new(tsunagu_store::connect(&db).await.unwrap(), Arc::new(SystemClock), Settings::default());
    app.create_demo().await.unwrap();
    let (nurse, nurse_csrf, nurse_session) = signed_in(&app, "ns.tanaka").await;
    let (doctor, doctor_csrf, _) = signed_in(&app, "dr.sato").await;
    let patient = app.my_patients(&nurse_session, "", &RequestMeta::default()).await.unwrap()[0].patient.id;
    let ((_a, addr_a), (_b, addr_b)) = serve_two(&dir, &db).await;

    // B looks up the nurse's session and the record's scope, and keeps them.
    let record = format!("/api/v1/patients/{patient}");
    let page: serde_json::Value = serde_json::from_str(&body_of(addr_b, &get(&record, &nurse)).await).unwrap();
    assert_eq!(status_of(addr_b, &get(&record, &nurse)).await, 200);
    let me: serde_json::Value = serde_json::from_str(&body_of(addr_b, &get("/api/v1/me", &nurse)).await).unwrap();
    let membership = page["team"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["display_name"] == me["display_name"])
        .and_then(|m| m["membership_id"].as_str())
        .unwrap()
        .to_owned();

    // B keeps the record's timeline too (a minute here); a post through A
    // shows on B at once.
    assert_eq!(status_of(addr_b, &get(&record, &nurse)).await, 200);
    let entries = format!("/api/v1/patients/{patient}/entries");
    let told = r#"{"kind":"message","body":"told-across-instances"}"#;
    assert_eq!(status_of(addr_a, &post(&entries, &nurse, &nurse_csrf, told)).await, 201);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while !body_of(addr_b, &get(&record, &nurse)).await.contains("told-across-instances") {
        assert!(tokio::time::Instant::now() < deadline, "B still showed the timeline it kept before the post");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Through A the doctor removes her from the team: B refuses her at once.
    let removal = format!("/api/v1/patients/{patient}/team/{membership}/removal");
    assert_eq!(status_of(addr_a, &post(&removal, &doctor, &doctor_csrf, "")).await, 204);
    assert_eq!(within_a_second(addr_b, &get(&record, &nurse), 404).await, 404, "B still let her read the record");

    // She signs out through A: her session is refused on B at once.
    let sign_out = format!(
        "POST /sign-out HTTP/1.1\r\nHost: t\r\nCookie: {nurse}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\ncsrf={nurse_csrf}",
        "csrf=".len() + nurse_csrf.len()
    );
    assert_eq!(status_of(addr_a, &sign_out).await, 303);
    assert_eq!(within_a_second(addr_b, &get("/api/v1/me", &nurse), 401).await, 401, "B still knew her session");

    drop((_a, _b));
    drop_database(&server, &db).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Asks until the answer is `expected` or a second has passed (the
/// announcement travels through the database server); the last status.
async fn within_a_second(addr: SocketAddr, raw: &str, expected: u16) -> u16 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        let status = status_of(addr, raw).await;
        if status == expected || tokio::time::Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
