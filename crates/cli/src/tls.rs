//! Built-in TLS, for a small installation without a reverse proxy (`[tls]` in
//! tsunagu.toml): rustls with the ring provider, TLS 1.2 and 1.3, HTTP/1.1.
//! Handshakes run in tasks of their own (a slow client holds up nobody) with a
//! time limit; the certificate files are read again when they change, so a
//! renewal (certbot and the like) needs no restart.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};
use thiserror::Error;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;

/// How long a client has to finish its handshake.
const HANDSHAKE_TIME: Duration = Duration::from_secs(10);
/// How often the certificate files are checked for a renewal.
const RELOAD_CHECK: Duration = Duration::from_secs(600);

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoKey { path: PathBuf },
    #[error("the private key in {path} cannot be used: {source}")]
    Key { path: PathBuf, source: rustls::Error },
    #[error("the certificate does not match the private key: {0}")]
    Mismatch(rustls::Error),
    #[error("TLS set-up: {0}")]
    Config(rustls::Error),
}

/// The certificate chain and private key files (PEM).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub certificate: PathBuf,
    pub private_key: PathBuf,
}

impl TlsFiles {
    fn modified(&self) -> Option<SystemTime> {
        let time = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        Some(time(&self.certificate)?.max(time(&self.private_key)?))
    }

    fn load(&self) -> Result<CertifiedKey, TlsError> {
        let read = |path: &Path| std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source });
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(&read(&self.certificate)?).filter_map(Result::ok).collect();
        if chain.is_empty() {
            return Err(TlsError::NoCertificate { path: self.certificate.clone() });
        }
        let key = PrivateKeyDer::from_pem_slice(&read(&self.private_key)?)
            .map_err(|_| TlsError::NoKey { path: self.private_key.clone() })?;
        let provider = ring::default_provider();
        let signing = provider
            .key_provider
            .load_private_key(key)
            .map_err(|source| TlsError::Key { path: self.private_key.clone(), source })?;
        let certified = CertifiedKey::new(chain, signing);
        certified.keys_match().map_err(TlsError::Mismatch)?;
        Ok(certified)
    }
}

/// The current certificate, swapped when the files change.
#[derive(Debug)]
struct Reloading {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|c| Arc::clone(&c))
    }
}

/// Reads the files (refusing to start with bad ones) and builds the acceptor;
/// the files are checked again every few minutes while the server runs.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsError> {
    let certified = Arc::new(Reloading { current: RwLock::new(Arc::new(files.load()?)) });
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_cert_resolver(certified.clone());
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let (files, mut seen) = (files.clone(), files.modified());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RELOAD_CHECK).await;
            certified.reload_if_changed(&files, &mut seen);
        }
    });
    Ok(TlsAcceptor::from(Arc::new(config)))
}

impl Reloading {
    /// Reads the files again if they changed since `seen`; whether the
    /// certificate was swapped.
    fn reload_if_changed(&self, files: &TlsFiles, seen: &mut Option<SystemTime>) -> bool {
        let now = files.modified();
        if now.is_none() || now == *seen {
            return false;
        }
        match files.load() {
            Ok(new) => {
                let Ok(mut current) = self.current.write() else { return false };
                *current = Arc::new(new);
                *seen = now;
                tracing::info!(certificate = %files.certificate.display(), "TLS certificate reloaded");
                true
            }
            // Half-written files during a renewal: keep the old pair and try again later.
            Err(e) => {
                tracing::warn!(error = %e, "TLS certificate not reloaded");
                false
            }
        }
    }
}

/// A listener whose connections have finished their TLS handshake.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    accepting: tokio::task::AbortHandle,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(128);
        let accepting = tokio::spawn(async move {
            loop {
                let (stream, remote) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (tx, acceptor) = (tx.clone(), acceptor.clone());
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIME, acceptor.accept(stream)).await {
                        let _ = tx.send((tls, remote)).await;
                    }
                });
            }
        })
        .abort_handle();
        Ok(Self { ready, local, accepting })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accepting task is gone (only when the listener is dropped).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the tests date files on the real clock
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
    }

    fn files(certificate: &str, key: &str) -> TlsFiles {
        TlsFiles { certificate: fixture(certificate), private_key: fixture(key) }
    }

    #[test]
    fn a_pair_loads_and_a_bad_one_is_refused_with_the_reason() {
        assert!(files("cert-a.pem", "key-a.pem").load().is_ok());
        assert!(matches!(files("cert-a.pem", "key-b.pem").load(), Err(TlsError::Mismatch(_))));
        assert!(matches!(files("cert-a.pem", "missing.pem").load(), Err(TlsError::Read { .. })));
        assert!(matches!(files("key-a.pem", "key-a.pem").load(), Err(TlsError::NoCertificate { .. })));
        assert!(matches!(files("cert-a.pem", "cert-a.pem").load(), Err(TlsError::NoKey { .. })));
    }

    #[test]
    fn a_renewed_certificate_is_picked_up_and_a_broken_one_is_not() {
        let dir = std::env::temp_dir().join(format!("tsunagu-tls-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let live = TlsFiles { certificate: dir.join("fullchain.pem"), private_key: dir.join("privkey.pem") };
        let put = |cert: &str, key: &str| {
            std::fs::copy(fixture(cert), &live.certificate).unwrap_or_else(|e| panic!("{e}"));
            std::fs::copy(fixture(key), &live.private_key).unwrap_or_else(|e| panic!("{e}"));
        };
        put("cert-a.pem", "key-a.pem");
        let first = live.load().unwrap_or_else(|e| panic!("{e}"));
        let served = Reloading { current: RwLock::new(Arc::new(first.clone())) };
        let mut seen = live.modified();
        let current = |r: &Reloading| r.current.read().map(|c| c.cert.clone()).unwrap_or_default();
        assert!(!served.reload_if_changed(&live, &mut seen), "unchanged files are not read again");

        // Half a renewal (the new certificate, the old key): the old pair stays.
        let later = |seconds| SystemTime::now() + Duration::from_secs(seconds);
        put("cert-b.pem", "key-a.pem");
        let touch = |at: SystemTime| {
            for path in [&live.certificate, &live.private_key] {
                let file = std::fs::File::options().append(true).open(path).unwrap_or_else(|e| panic!("{e}"));
                file.set_modified(at).unwrap_or_else(|e| panic!("{e}"));
            }
        };
        touch(later(10));
        assert!(!served.reload_if_changed(&live, &mut seen));
        assert_eq!(current(&served), first.cert);

        // The whole renewal: the new certificate is served.
        put("cert-b.pem", "key-b.pem");
        touch(later(20));
        assert!(served.reload_if_changed(&live, &mut seen));
        let renewed = files("cert-b.pem", "key-b.pem").load().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(current(&served), renewed.cert);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
