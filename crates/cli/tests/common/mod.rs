//! What the binary's end-to-end tests share: an installation on disk, a
//! signed-in nurse, the real server as a child process, raw HTTP requests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tsunagu_app::{App, RequestMeta, Settings, SystemClock};

pub struct Server {
    pub child: Child,
    pub dir: PathBuf,
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
pub async fn nurse_session(db: &str) -> (String, String, uuid::Uuid) {
    let store = tsunagu_store::connect(db).await.unwrap();
    let app = App::new(store, Arc::new(SystemClock), Settings::default());
    app.create_demo().await.unwrap();
    let (cookie, csrf, session) = signed_in(&app, "ns.tanaka").await;
    let patient = app.my_patients(&session, "", &RequestMeta::default()).await.unwrap()[0].patient.id;
    (cookie, csrf, patient)
}

/// A demo person signed in through the use cases (password, TOTP enrolment):
/// (cookie, CSRF token, session).
pub async fn signed_in(app: &App, login: &str) -> (String, String, tsunagu_app::Session) {
    let meta = RequestMeta::default();
    let half = app.sign_in(login, "tsunagu-demo-2026", &meta).await.unwrap();
    let enrolment = app.enrolment(&half.token).await.unwrap();
    let secret = totp_rs::Secret::try_from_base32(&enrolment.secret_base32).unwrap();
    let code = totp_rs::Builder::new().with_secret(secret).build().unwrap().generate_current().to_string();
    let (full, _) = app.complete_enrolment(&half.token, &code, &meta).await.unwrap();
    let session = app.session(&full.token).await.unwrap().unwrap();
    (format!("tsunagu_session={}", full.token), session.csrf_token.clone(), session)
}

pub async fn start(dir: &std::path::Path, db: &str) -> (Child, SocketAddr) {
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
pub async fn request(stream: &mut TcpStream, raw: &[u8]) -> Option<u16> {
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

/// The PostgreSQL server named by TSUNAGU_TEST_POSTGRES_URL (CI sets it), if any.
pub fn postgres_server() -> Option<String> {
    std::env::var("TSUNAGU_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())
}

/// A fresh database on the test server, dropped with `drop_database`.
pub async fn create_database(server: &str, prefix: &str) -> String {
    use sqlx::Connection;
    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(server).await.expect("PostgreSQL is reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
    let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(server);
    format!("{base}/{name}")
}

pub async fn drop_database(server: &str, url: &str) {
    use sqlx::Connection;
    let Some((_, name)) = url.rsplit_once('/') else { return };
    if let Ok(mut conn) = sqlx::PgConnection::connect(server).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut conn)
            .await;
    }
}
