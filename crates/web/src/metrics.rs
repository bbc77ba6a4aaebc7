//! A few counters in the Prometheus text format, kept in process (each
//! instance reports its own; Prometheus sums them).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::{AtomicU64, Ordering};
use tsunagu_domain::clock::monotonic_now;

static REQUESTS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];
static DURATION_MICROS: AtomicU64 = AtomicU64::new(0);

pub(crate) async fn count(request: Request, next: Next) -> Response {
    let started = monotonic_now();
    let response = next.run(request).await;
    let class = usize::from(response.status().as_u16() / 100).saturating_sub(1).min(4);
    if let Some(counter) = REQUESTS.get(class) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    DURATION_MICROS.fetch_add(micros, Ordering::Relaxed);
    response
}

pub(crate) fn render(backend: &str, ready: bool, write_batches: u64) -> String {
    let mut out = String::new();
    out.push_str("# HELP tsunagu_http_requests_total HTTP requests answered, by status class.\n");
    out.push_str("# TYPE tsunagu_http_requests_total counter\n");
    for (i, counter) in REQUESTS.iter().enumerate() {
        out.push_str(&format!(
            "tsunagu_http_requests_total{{class=\"{}xx\"}} {}\n",
            i + 1,
            counter.load(Ordering::Relaxed)
        ));
    }
    out.push_str("# HELP tsunagu_http_request_duration_seconds_sum Time spent answering requests.\n");
    out.push_str("# TYPE tsunagu_http_request_duration_seconds_sum counter\n");
    let seconds = DURATION_MICROS.load(Ordering::Relaxed) as f64 / 1e6;
    out.push_str(&format!("tsunagu_http_request_duration_seconds_sum {seconds}\n"));
    out.push_str("# HELP tsunagu_database_up Whether the database answered the last check.\n");
    out.push_str("# TYPE tsunagu_database_up gauge\n");
    out.push_str(&format!("tsunagu_database_up{{backend=\"{backend}\"}} {}\n", u8::from(ready)));
    out.push_str("# HELP tsunagu_write_batches_total Durable commits of the writer (each shared by many writes).\n");
    out.push_str("# TYPE tsunagu_write_batches_total counter\n");
    out.push_str(&format!("tsunagu_write_batches_total {write_batches}\n"));
    out
}
