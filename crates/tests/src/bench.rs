//! A small load driver: `connections` keep-alive HTTP/1.1 clients on a real
//! TCP port, each sending its request over and over for a while, with the
//! latency of every answer kept. Benchmarks only (it panics on anything
//! unexpected, which is what a benchmark should do).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request, sent as written (a JSON body makes it a POST).
pub struct Request {
    pub path: String,
    pub cookie: Option<String>,
    pub body: Option<String>,
    pub csrf: Option<String>,
    /// An API token, sent as `Authorization: Bearer`.
    pub bearer: Option<String>,
}

impl Request {
    /// A GET of `path` without a session.
    pub fn get(path: impl Into<String>) -> Self {
        Self { path: path.into(), cookie: None, body: None, csrf: None, bearer: None }
    }

    fn bytes(&self) -> Vec<u8> {
        let cookie = self.cookie.as_deref().map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
        let csrf = self.csrf.as_deref().map(|c| format!("X-CSRF-Token: {c}\r\n")).unwrap_or_default();
        let bearer = self.bearer.as_deref().map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let cookie = format!("{cookie}{bearer}");
        match &self.body {
            None => format!("GET {} HTTP/1.1\r\nHost: bench\r\n{cookie}\r\n", self.path).into_bytes(),
            Some(b) => format!(
                "POST {} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{cookie}{csrf}\r\n{b}",
                self.path,
                b.len()
            )
            .into_bytes(),
        }
    }
}

/// Drives `connections` keep-alive clients for `length`; client `i` sends
/// `requests[i % len]` over and over. Returns (req/s, count, p50 ms, p99 ms).
pub async fn run(
    addr: SocketAddr,
    requests: &[Request],
    connections: usize,
    length: Duration,
) -> (f64, usize, f64, f64) {
    let bytes: Vec<Vec<u8>> = (0..connections).map(|i| requests[i % requests.len()].bytes()).collect();
    drive(addr, bytes.into_iter().map(|b| vec![b]).collect(), length).await
}

/// As [`run`], but the clients take turns through `requests`: client `i`
/// sends `requests[i]`, then `requests[i + connections]`, ... and starts
/// again at the end (a request that should not be the same each time).
pub async fn run_spread(
    addr: SocketAddr,
    requests: &[Request],
    connections: usize,
    length: Duration,
) -> (f64, usize, f64, f64) {
    let mut own: Vec<Vec<Vec<u8>>> = vec![Vec::new(); connections];
    for (k, request) in requests.iter().enumerate() {
        own[k % connections].push(request.bytes());
    }
    own.retain(|r| !r.is_empty());
    drive(addr, own, length).await
}

/// One keep-alive client per list, each sending its list's requests in
/// turn until `length` has passed.
async fn drive(addr: SocketAddr, lists: Vec<Vec<Vec<u8>>>, length: Duration) -> (f64, usize, f64, f64) {
    let deadline = Instant::now() + length;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for list in lists {
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut latencies = Vec::new();
            let mut buf = vec![0u8; 8 * 1024 * 1024];
            for request in list.iter().cycle() {
                if Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                stream.write_all(request).await.unwrap();
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
    (all.len() as f64 / elapsed, all.len(), pct(0.50), pct(0.99))
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
