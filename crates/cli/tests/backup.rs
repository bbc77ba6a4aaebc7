#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! `tsunagu backup` while the server is busy, and `tsunagu restore` into a
//! fresh installation: the copy is consistent (the audit chains verify), holds
//! the attachments, is refused when damaged, and cannot replace a running
//! installation.

mod common;

use common::{Server, create_database, drop_database, nurse_session, postgres_server, request, start};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use tokio::net::TcpStream;

fn tsunagu(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(args)
        .current_dir(dir)
        .env_remove("TSUNAGU_DATABASE_URL")
        .env_remove("TSUNAGU_CONFIG")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

async fn entries(db: &Path) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::query_scalar("SELECT count(*) FROM entries").fetch_one(&mut conn).await.unwrap()
}

fn generations(out: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("tsunagu-backup-")))
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_installation_is_backed_up_and_restored_elsewhere() {
    let root = std::env::temp_dir().join(format!("tsunagu-backup-{}", uuid::Uuid::now_v7()));
    let (live, fresh, out) = (root.join("live"), root.join("fresh"), root.join("backups"));
    std::fs::create_dir_all(live.join("data/attachments/ab")).unwrap();
    std::fs::write(live.join("data/attachments/ab/ab12"), b"%PDF-1.7 a scanned consent form").unwrap();
    let db = format!("sqlite://{}", live.join("data/tsunagu.db").display());
    let (cookie, csrf, patient) = nurse_session(&db).await;
    let (child, addr) = start(&live, &db).await;
    let server = Server { child, dir: root.join("scratch") };

    // Posts keep coming while the backups are taken.
    let writer = tokio::spawn(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut acknowledged = 0;
        for n in 0..400 {
            let body = format!(r#"{{"kind":"message","body":"backup-{n}"}}"#);
            let raw = format!(
                "POST /api/v1/patients/{patient}/entries HTTP/1.1\r\nHost: t\r\nCookie: {cookie}\r\n\
                 X-CSRF-Token: {csrf}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            match request(&mut stream, raw.as_bytes()).await {
                Some(201) => acknowledged += 1,
                other => panic!("post {n}: {other:?}"),
            }
        }
        acknowledged
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let out_arg = out.to_str().unwrap();
    for _ in 0..3 {
        let made = tsunagu(&live, &["backup", "--out", out_arg, "--keep", "2"]);
        assert!(made.status.success(), "{}", text(&made));
        assert!(text(&made).contains("backup written"), "{}", text(&made));
        tokio::time::sleep(Duration::from_millis(1100)).await; // generations are named by the second
    }
    assert_eq!(writer.await.unwrap(), 400);
    let kept = generations(&out);
    assert_eq!(kept.len(), 2, "the oldest generation was rotated away: {kept:?}");
    let newest = kept.last().unwrap().clone();

    // A restore is refused while the server holds the installation.
    let busy = tsunagu(&live, &["restore", newest.to_str().unwrap()]);
    assert!(!busy.status.success() && text(&busy).contains("stop it before restoring"), "{}", text(&busy));
    drop(server_guard(server));

    // Restored elsewhere: the same entries as the snapshot, the attachment, intact audit chains.
    let in_backup = entries(&newest.join("tsunagu.db")).await;
    assert!(in_backup > 0);
    std::fs::create_dir_all(&fresh).unwrap();
    let restored = tsunagu(&fresh, &["restore", newest.to_str().unwrap()]);
    assert!(restored.status.success(), "{}", text(&restored));
    assert!(text(&restored).contains("audit log intact"), "{}", text(&restored));
    assert_eq!(entries(&fresh.join("data/tsunagu.db")).await, in_backup);
    assert_eq!(
        std::fs::read(fresh.join("data/attachments/ab/ab12")).unwrap(),
        b"%PDF-1.7 a scanned consent form".to_vec()
    );

    // A damaged backup changes nothing.
    let damaged = kept[0].clone();
    let mut bytes = std::fs::read(damaged.join("tsunagu.db")).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(damaged.join("tsunagu.db"), bytes).unwrap();
    let before = std::fs::read(fresh.join("data/tsunagu.db")).unwrap();
    let refused = tsunagu(&fresh, &["restore", damaged.to_str().unwrap()]);
    assert!(!refused.status.success() && text(&refused).contains("damaged"), "{}", text(&refused));
    assert_eq!(std::fs::read(fresh.join("data/tsunagu.db")).unwrap(), before);
    let _ = std::fs::remove_dir_all(&root);
}

/// Stops the server (kill, as an operator would stop it before a restore).
fn server_guard(server: Server) -> Server {
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
    server
}

#[test]
fn postgres_installations_are_pointed_to_pg_dump() {
    let dir = std::env::temp_dir().join(format!("tsunagu-backup-pg-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let refused = tsunagu(&dir, &["restore", "/nonexistent", "--database-url", "postgres://u@127.0.0.1:1/x"]);
    assert!(!refused.status.success() && text(&refused).contains("pg_restore"), "{}", text(&refused));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The PostgreSQL path documented in docs/backup.md: pg_dump of a live
/// database, pg_restore into an empty one, and the audit chains still verify
/// there. Runs when TSUNAGU_TEST_POSTGRES_URL names a server (CI sets it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_round_trips_through_pg_dump_and_pg_restore() {
    let Some(server) = postgres_server() else { return };
    let source_url = create_database(&server, "tsunagu_dump").await;
    let target_url = create_database(&server, "tsunagu_restored").await;
    let dir = std::env::temp_dir().join(format!("tsunagu-pgdump-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    // Some history with audit events: the demo, and a signed-in nurse's reads.
    nurse_session(&source_url).await;
    let dump = dir.join("tsunagu.dump");
    let dumped =
        Command::new("pg_dump").args(["--format=custom", "--file"]).arg(&dump).arg(&source_url).output().unwrap();
    assert!(dumped.status.success(), "{}", text(&dumped));
    let restored =
        Command::new("pg_restore").args(["--no-owner", "--dbname", &target_url]).arg(&dump).output().unwrap();
    assert!(restored.status.success(), "{}", text(&restored));
    let verify = tsunagu(&dir, &["audit", "verify", "--database-url", &target_url]);
    assert!(verify.status.success() && text(&verify).contains("audit log intact"), "{}", text(&verify));
    for url in [&source_url, &target_url] {
        drop_database(&server, url).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
