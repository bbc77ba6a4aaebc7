#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Built-in TLS as an operator sets it up (`[tls]` in tsunagu.toml): the
//! server answers HTTPS with the configured certificate, marks cookies Secure
//! and sends HSTS; a certificate that does not match its key stops the start
//! with the reason.

mod common;

use common::{Server, start};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, pki_types::ServerName};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
}

fn installation(key: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tsunagu-tls-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "[tls]\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
        fixture("cert-a.pem").display(),
        fixture(key).display()
    );
    std::fs::write(dir.join("tsunagu.toml"), config).unwrap();
    dir
}

/// A client that trusts the test certificate only.
fn connector() -> TlsConnector {
    use rustls_pki_types::pem::PemObject;
    let mut roots = RootCertStore::empty();
    let cert = rustls_pki_types::CertificateDer::from_pem_file(fixture("cert-a.pem")).unwrap();
    roots.add(cert).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_speaks_https_with_the_configured_certificate() {
    let dir = installation("key-a.pem");
    let db = format!("sqlite://{}", dir.join("tsunagu.db").display());
    let (child, addr) = start(&dir, &db).await;
    let _server = Server { child, dir: dir.clone() };
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector().connect(name, tcp).await.expect("handshake with the configured certificate");
    tls.write_all(b"GET /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(answer.contains("strict-transport-security: max-age=31536000"), "HSTS over HTTPS: {answer}");
    assert!(answer.contains("set-cookie:") && answer.contains("; secure"), "secure cookies: {answer}");

    // Plain HTTP on the same port gets no page.
    let mut plain = TcpStream::connect(addr).await.unwrap();
    plain.write_all(b"GET /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut raw)).await;
    assert!(!String::from_utf8_lossy(&raw).contains("HTTP/1.1 200"));
}

#[test]
fn a_certificate_that_does_not_match_its_key_stops_the_start() {
    let dir = installation("key-b.pem");
    let out = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(&dir)
        .env_remove("TSUNAGU_DATABASE_URL")
        .env_remove("TSUNAGU_CONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("does not match the private key"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}
