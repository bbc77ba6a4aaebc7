//! Limits per client address (a token bucket per address, in memory, per
//! instance): on state-changing requests, so that a script or a stolen session
//! cannot flood an installation with writes; and, more generously, on the
//! public reads anyone may make without signing in (`/m/...` pages and
//! `/api/public/...`), so that nobody scrapes the map hard enough to slow it
//! for others. Each API token also has its own budget on the FHIR API, whatever
//! address its requests come from. Other reads are not limited; sign-in has its own throttling in
//! the database. Loopback clients (local tools, health checks) are not
//! limited; behind a proxy the client address comes from `X-Forwarded-For`,
//! as for the audit log.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Writes allowed per address: a sustained rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteLimit {
    pub per_minute: u32,
    pub burst: u32,
}

/// Public reads (`GET /m/...`, `GET /api/public/...`) allowed per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicReadLimit {
    pub per_minute: u32,
    pub burst: u32,
}

impl From<PublicReadLimit> for WriteLimit {
    fn from(l: PublicReadLimit) -> Self {
        WriteLimit { per_minute: l.per_minute, burst: l.burst }
    }
}

/// Requests allowed per API token (the FHIR API), whatever address they come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLimit {
    pub per_minute: u32,
    pub burst: u32,
}

/// A token bucket per key (a client address, an API token's hash).
pub(crate) struct Buckets<K> {
    limit: WriteLimit,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: std::hash::Hash + Eq> Buckets<K> {
    pub(crate) fn new(per_minute: u32, burst: u32) -> Self {
        Self { limit: WriteLimit { per_minute, burst }, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `key`; when none is left, how long until one is.
    pub(crate) fn take(&self, key: K, now: Instant) -> Result<(), Duration> {
        let rate = f64::from(self.limit.per_minute.max(1)) / 60.0;
        let burst = f64::from(self.limit.burst.max(1));
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        if buckets.len() > 100_000 {
            // Forget keys that have been quiet long enough to be full again.
            let full_after = Duration::from_secs_f64(burst / rate);
            buckets.retain(|_, (_, at)| now.duration_since(*at) < full_after);
        }
        let (tokens, at) = buckets.entry(key).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / rate))
        }
    }
}

pub(crate) struct Limiter {
    behind_proxy: bool,
    buckets: Buckets<IpAddr>,
}

impl Limiter {
    pub(crate) fn new(limit: WriteLimit, behind_proxy: bool) -> Arc<Self> {
        Arc::new(Self { behind_proxy, buckets: Buckets::new(limit.per_minute, limit.burst) })
    }

    fn take(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        self.buckets.take(ip, now)
    }

    fn client(&self, request: &Request) -> Option<IpAddr> {
        if self.behind_proxy
            && let Some(first) =
                request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next())
        {
            return first.trim().parse().ok();
        }
        request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ci| ci.0.ip())
    }
}

pub(crate) async fn limit_writes(State(limiter): State<Arc<Limiter>>, request: Request, next: Next) -> Response {
    let writes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if writes
        && let Some(ip) = limiter.client(&request).filter(|ip| !ip.is_loopback())
        && let Err(wait) = limiter.take(ip, Instant::now())
    {
        return too_many(wait);
    }
    next.run(request).await
}

/// Whether a request is one of the public reads (the map pages and the public API).
fn public_read(request: &Request) -> bool {
    let path = request.uri().path();
    matches!(*request.method(), Method::GET | Method::HEAD)
        && (path.starts_with("/m/")
            || path.starts_with("/api/public/")
            || path.starts_with("/fhir/Organization")
            || path.starts_with("/fhir/Location")
            || path.starts_with("/fhir/HealthcareService"))
}

pub(crate) async fn limit_public_reads(State(limiter): State<Arc<Limiter>>, request: Request, next: Next) -> Response {
    if public_read(&request)
        && let Some(ip) = limiter.client(&request).filter(|ip| !ip.is_loopback())
        && let Err(wait) = limiter.take(ip, Instant::now())
    {
        return too_many(wait);
    }
    next.run(request).await
}

pub(crate) fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs().max(1);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        "短時間に多くの操作がありました。しばらく待ってからもう一度お試しください。\nToo many requests: please wait a moment and try again.\n",
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_rate_refills_it() {
        let limiter = Limiter::new(WriteLimit { per_minute: 60, burst: 3 }, false);
        let (ip, start) = (IpAddr::from([192, 0, 2, 1]), Instant::now());
        for _ in 0..3 {
            assert!(limiter.take(ip, start).is_ok());
        }
        let wait = limiter.take(ip, start).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "one token a second: {wait:?}");
        assert!(limiter.take(IpAddr::from([192, 0, 2, 2]), start).is_ok(), "another address has its own bucket");
        assert!(limiter.take(ip, start + Duration::from_millis(1_100)).is_ok(), "refilled after a second");
        assert!(limiter.take(ip, start + Duration::from_millis(1_200)).is_err());
    }

    #[test]
    fn only_public_gets_count_as_public_reads() {
        let request = |method: Method, path: &str| {
            Request::builder().method(method).uri(path).body(axum::body::Body::empty()).unwrap_or_default()
        };
        assert!(public_read(&request(Method::GET, "/m/122173/map")));
        assert!(public_read(&request(Method::GET, "/api/public/v1/m/122173/facilities?kind=clinic")));
        assert!(!public_read(&request(Method::POST, "/m/122173/map")), "writes have their own limit");
        assert!(!public_read(&request(Method::GET, "/home")));
        assert!(!public_read(&request(Method::GET, "/static/app.css")));
        assert!(!public_read(&request(Method::GET, "/api/v1/patients")));
    }
}
