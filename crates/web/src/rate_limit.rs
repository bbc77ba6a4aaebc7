//! Limits per client address (a token bucket per address, in memory; the
//! instances of one installation share what they used every second, see
//! [`RateLimits`]): on state-changing requests, so that a script or a stolen session
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
use tsunagu_domain::clock::monotonic_now;

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
    buckets: Mutex<HashMap<K, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
    /// Tokens taken here since the instances last shared their usage.
    unshared: u32,
}

impl<K: std::hash::Hash + Eq + Clone> Buckets<K> {
    pub(crate) fn new(per_minute: u32, burst: u32) -> Self {
        Self { limit: WriteLimit { per_minute, burst }, buckets: Mutex::new(HashMap::new()) }
    }

    fn rate_and_burst(&self) -> (f64, f64) {
        (f64::from(self.limit.per_minute.max(1)) / 60.0, f64::from(self.limit.burst.max(1)))
    }

    /// Takes one token for `key`; when none is left, how long until one is.
    pub(crate) fn take(&self, key: K, now: Instant) -> Result<(), Duration> {
        let (rate, burst) = self.rate_and_burst();
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        if buckets.len() > 100_000 {
            // Forget keys that have been quiet long enough to be full again.
            let full_after = Duration::from_secs_f64(burst / rate);
            buckets.retain(|_, b| now.duration_since(b.at) < full_after || b.unshared > 0);
        }
        let bucket = buckets.entry(key).or_insert(Bucket { tokens: burst, at: now, unshared: 0 });
        refill(bucket, now, rate, burst);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.unshared = bucket.unshared.saturating_add(1);
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }

    /// What was taken since the last call, per key, the busiest first.
    fn drain_unshared(&self) -> Vec<(K, u32)> {
        let Ok(mut buckets) = self.buckets.lock() else { return Vec::new() };
        let mut taken: Vec<(K, u32)> = buckets
            .iter_mut()
            .filter(|(_, b)| b.unshared > 0)
            .map(|(k, b)| (k.clone(), std::mem::take(&mut b.unshared)))
            .collect();
        taken.sort_by_key(|t| std::cmp::Reverse(t.1));
        taken
    }

    /// Takes `used` tokens that other instances handed out for `key`. A bucket
    /// may go below zero (its client then waits until it is paid back), but
    /// not below minus one burst, so that a late report cannot lock anyone
    /// out for long.
    fn charge(&self, key: &K, used: f64, now: Instant) {
        let (rate, burst) = self.rate_and_burst();
        let Ok(mut buckets) = self.buckets.lock() else { return };
        let bucket = buckets.entry(key.clone()).or_insert(Bucket { tokens: burst, at: now, unshared: 0 });
        refill(bucket, now, rate, burst);
        bucket.tokens = (bucket.tokens - used).max(-burst);
    }
}

fn refill(bucket: &mut Bucket, now: Instant, rate: f64, burst: f64) {
    bucket.tokens = (bucket.tokens + now.saturating_duration_since(bucket.at).as_secs_f64() * rate).min(burst);
    bucket.at = bucket.at.max(now);
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

/// The limits of one instance, shared with the other instances of the
/// installation through the database ([`RateLimits::share`], about once a
/// second): a client that spreads its requests over several instances gets
/// one budget, not one per instance.
pub struct RateLimits {
    instance: uuid::Uuid,
    pub(crate) writes: Option<Arc<Limiter>>,
    pub(crate) public_reads: Option<Arc<Limiter>>,
    pub(crate) tokens: Option<Arc<Buckets<Vec<u8>>>>,
    /// What the other instances had used in the current minute when last asked.
    seen: tokio::sync::Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    window: i64,
    others: HashMap<(String, String), i64>,
}

const WRITES: &str = "writes";
const PUBLIC_READS: &str = "public_reads";
const TOKENS: &str = "api_token";

impl RateLimits {
    pub(crate) fn new(config: &crate::WebConfig) -> Self {
        Self {
            instance: uuid::Uuid::now_v7(),
            writes: config.write_limit.map(|l| Limiter::new(l, config.behind_proxy)),
            public_reads: config.public_read_limit.map(|l| Limiter::new(l.into(), config.behind_proxy)),
            tokens: config.token_limit.map(|l| Arc::new(Buckets::new(l.per_minute, l.burst))),
            seen: tokio::sync::Mutex::new(Seen::default()),
        }
    }

    /// Tells the other instances what this one used since the last call and
    /// takes what they used of the same keys from this instance's buckets.
    pub async fn share(&self, app: &tsunagu_app::App) -> Result<(), tsunagu_app::AppError> {
        use tsunagu_app::rate_limits::{MAX_SHARED_KEYS, RateUsage};
        if self.writes.is_none() && self.public_reads.is_none() && self.tokens.is_none() {
            return Ok(());
        }
        let mut usage: Vec<RateUsage> = Vec::new();
        for (limiter, buckets) in [(WRITES, self.writes.as_ref()), (PUBLIC_READS, self.public_reads.as_ref())] {
            if let Some(l) = buckets {
                usage.extend(l.buckets.drain_unshared().into_iter().map(|(ip, n)| RateUsage {
                    limiter,
                    key: ip.to_string(),
                    used: i64::from(n),
                }));
            }
        }
        if let Some(tokens) = &self.tokens {
            usage.extend(tokens.drain_unshared().into_iter().map(|(hash, n)| RateUsage {
                limiter: TOKENS,
                key: hex(&hash),
                used: i64::from(n),
            }));
        }
        usage.truncate(MAX_SHARED_KEYS);
        let mut seen = self.seen.lock().await;
        let (window, others) = app.share_rate_usage(self.instance, &usage).await?;
        if window != seen.window {
            *seen = Seen { window, others: HashMap::new() };
        }
        let now = monotonic_now();
        for o in others {
            let before = seen.others.entry((o.limiter.clone(), o.key.clone())).or_insert(0);
            let new = (o.used - *before).max(0);
            *before = o.used.max(*before);
            if new == 0 {
                continue;
            }
            // Counts are whole requests; f64 holds them exactly.
            let used = new as f64;
            match o.limiter.as_str() {
                WRITES | PUBLIC_READS => {
                    let limiter = if o.limiter == WRITES { &self.writes } else { &self.public_reads };
                    if let (Some(l), Ok(ip)) = (limiter, o.key.parse::<IpAddr>()) {
                        l.buckets.charge(&ip, used, now);
                    }
                }
                TOKENS => {
                    if let (Some(tokens), Some(hash)) = (&self.tokens, unhex(&o.key)) {
                        tokens.charge(&hash, used, now);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

pub(crate) async fn limit_writes(State(limiter): State<Arc<Limiter>>, request: Request, next: Next) -> Response {
    let writes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if writes
        && let Some(ip) = limiter.client(&request).filter(|ip| !ip.is_loopback())
        && let Err(wait) = limiter.take(ip, monotonic_now())
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
        && let Err(wait) = limiter.take(ip, monotonic_now())
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
        let (ip, start) = (IpAddr::from([192, 0, 2, 1]), monotonic_now());
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
    fn what_other_instances_used_is_taken_from_the_bucket() {
        let buckets: Buckets<IpAddr> = Buckets::new(60, 5);
        let (ip, start) = (IpAddr::from([192, 0, 2, 1]), monotonic_now());
        for _ in 0..2 {
            assert!(buckets.take(ip, start).is_ok());
        }
        assert_eq!(buckets.drain_unshared(), vec![(ip, 2)], "what this instance used, once");
        assert!(buckets.drain_unshared().is_empty());
        // Another instance let the same client make three requests: the five are used up.
        buckets.charge(&ip, 3.0, start);
        assert!(buckets.take(ip, start).is_err());
        // A late report cannot push a bucket further than one burst below zero.
        buckets.charge(&ip, 1_000.0, start);
        assert!(buckets.take(ip, start + Duration::from_secs(10)).is_ok(), "five seconds to refill to zero, then one");
        assert_eq!(buckets.drain_unshared(), vec![(ip, 1)]);
    }

    #[test]
    fn token_hashes_travel_as_hex() {
        let hash = vec![0x00, 0x9f, 0xff, 0x10];
        assert_eq!(hex(&hash), "009fff10");
        assert_eq!(unhex(&hex(&hash)), Some(hash));
        assert_eq!(unhex("0g"), None);
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
