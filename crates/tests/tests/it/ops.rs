//! Health, readiness, metrics, static files and security headers.

use crate::helpers::{TestApp, TestDb};
use axum::http::StatusCode;

crate::on_both_databases!(
    health_readiness_and_metrics_answer,
    pages_carry_security_headers_and_safe_cookies,
    writes_carry_on_after_the_database_drops_every_connection,
    writes_are_limited_per_address_and_reads_are_not,
    instances_share_what_they_let_through,
    metrics_answer_the_configured_token_only
);

async fn health_readiness_and_metrics_answer(db: &TestDb) {
    let t = TestApp::start(db).await;
    let mut c = t.client();
    let health = c.get("/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (StatusCode::OK, "ok"));
    assert_eq!(c.get("/readyz").await.status, StatusCode::OK);
    // /metrics is for the monitoring system: not found from elsewhere,
    // answered on the local machine (or with the configured token).
    assert_eq!(c.get("/metrics").await.status, StatusCode::NOT_FOUND);
    c.address = std::net::SocketAddr::from(([127, 0, 0, 1], 50001));
    let metrics = c.get("/metrics").await;
    assert!(metrics.body.contains("tsunagu_http_requests_total{class=\"2xx\"}"));
    assert!(metrics.body.contains("tsunagu_database_up{backend=") && metrics.body.contains("} 1"));
    let batches = |body: &str| -> u64 {
        body.lines()
            .find_map(|l| l.strip_prefix("tsunagu_write_batches_total "))
            .and_then(|v| v.parse().ok())
            .expect("the write batch counter is reported")
    };
    let before = batches(&metrics.body);
    // A refused sign-in is recorded (throttling, audit): a durable write.
    c.submit("/sign-in", "/sign-in", &[("login_id", "nobody"), ("password", "wrong password")]).await;
    assert!(batches(&c.get("/metrics").await.body) > before, "the write went through the writer");
    let htmx = c.get("/static/htmx.min.js").await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(htmx.body.len() > 10_000);
    assert_eq!(c.get("/static/../Cargo.toml").await.status, StatusCode::NOT_FOUND);
    let missing = c.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("見つかりません"));
}

async fn pages_carry_security_headers_and_safe_cookies(db: &TestDb) {
    let t = TestApp::start(db).await;
    let request = axum::http::Request::builder().uri("/sign-in").body(axum::body::Body::empty()).unwrap_or_default();
    let response = tower::ServiceExt::oneshot(t.router.clone(), request).await.unwrap_or_else(|e| match e {});
    let h = response.headers();
    let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'")
    );
    assert_eq!(h.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    assert_eq!(h.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    let cookie = h.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(
        cookie.starts_with("tsunagu_csrf=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(h.get("strict-transport-security").is_none(), "no HSTS on plain HTTP (a loopback test server)");
    // Behind TLS (secure cookies on): HSTS, and cookies only over HTTPS.
    let config = tsunagu_web::WebConfig { secure_cookies: true, behind_proxy: true, ..Default::default() };
    let tls = tsunagu_web::router(t.app.clone(), config);
    let request = axum::http::Request::builder().uri("/sign-in").body(axum::body::Body::empty()).unwrap_or_default();
    let response = tower::ServiceExt::oneshot(tls, request).await.unwrap_or_else(|e| match e {});
    let h = response.headers();
    assert_eq!(h.get("strict-transport-security").and_then(|v| v.to_str().ok()), Some("max-age=31536000"));
    assert!(h.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().contains("Secure"));
}

/// PostgreSQL restarted or a network blip: every connection of the app is cut.
/// The next requests (reads on the pool, writes on the group-commit writer)
/// reconnect instead of failing until tsunagu is restarted.
async fn writes_carry_on_after_the_database_drops_every_connection(db: &TestDb) {
    let crate::patients::Team { t, mut nurse, .. } = crate::patients::team(db).await;
    let first = crate::patients::register(&mut nurse, crate::patients::PATIENT).await;
    if db.url.starts_with("postgres") {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let cut: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert!(cut.len() >= 2, "the pool and the writer were connected: {cut:?}");
    }
    let second = crate::patients::register(&mut nurse, crate::patients::PATIENT).await;
    assert_ne!(first, second);
    crate::patients::consent(&mut nurse, &second).await;
    assert!(t.app.verify_audit().await.unwrap().is_intact());
}

/// A failed sign-in (or, with GET, the sign-in page) from `from` behind the proxy.
fn sign_in_attempt(
    router: &axum::Router,
    method: &str,
    from: &str,
) -> tower::util::Oneshot<axum::Router, axum::http::Request<axum::body::Body>> {
    let request = axum::http::Request::builder()
        .method(method)
        .uri("/sign-in")
        .header("x-forwarded-for", from)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("login_id=nobody&password=x"))
        .unwrap_or_default();
    tower::ServiceExt::oneshot(router.clone(), request)
}

/// Two instances of one installation (here two routers on one database)
/// limit a client together once they have shared their usage: what one let
/// through is taken from the other's budget, and only once.
async fn instances_share_what_they_let_through(db: &TestDb) {
    let t = TestApp::start(db).await;
    let config = tsunagu_web::WebConfig {
        secure_cookies: false,
        behind_proxy: true,
        write_limit: Some(tsunagu_web::WriteLimit { per_minute: 1, burst: 3 }),
        ..Default::default()
    };
    let (a, limits_a) = tsunagu_web::router_with_limits(t.app.clone(), config.clone());
    let (b, limits_b) = tsunagu_web::router_with_limits(t.app.clone(), config);
    let send = |router: &axum::Router, from: &str| sign_in_attempt(router, "POST", from);
    let status =
        |r: Result<axum::response::Response, std::convert::Infallible>| r.unwrap_or_else(|e| match e {}).status();
    let share = async |limits: &tsunagu_web::RateLimits| limits.share(&t.app).await.unwrap_or_else(|e| panic!("{e}"));
    // Two writes through A; B has not heard of them yet and lets one through.
    for _ in 0..2 {
        assert_ne!(status(send(&a, "198.51.100.7").await), StatusCode::TOO_MANY_REQUESTS);
    }
    assert_ne!(status(send(&b, "198.51.100.7").await), StatusCode::TOO_MANY_REQUESTS);
    share(&limits_a).await;
    share(&limits_b).await;
    share(&limits_a).await;
    // Three of three used between them: both refuse, and nobody else.
    assert_eq!(status(send(&a, "198.51.100.7").await), StatusCode::TOO_MANY_REQUESTS, "A learnt of B's one");
    assert_eq!(status(send(&b, "198.51.100.7").await), StatusCode::TOO_MANY_REQUESTS, "B learnt of A's two");
    assert_ne!(status(send(&b, "198.51.100.8").await), StatusCode::TOO_MANY_REQUESTS);
    // Sharing again counts nothing twice: the other address still has two left on A.
    share(&limits_b).await;
    share(&limits_a).await;
    share(&limits_b).await;
    assert_ne!(status(send(&a, "198.51.100.8").await), StatusCode::TOO_MANY_REQUESTS);
    assert_ne!(status(send(&a, "198.51.100.8").await), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(status(send(&a, "198.51.100.8").await), StatusCode::TOO_MANY_REQUESTS);
}

/// A flood of writes from one address is slowed with 429 and Retry-After;
/// reads, other addresses and loopback tools carry on.
async fn writes_are_limited_per_address_and_reads_are_not(db: &TestDb) {
    let t = TestApp::start(db).await;
    let limit = tsunagu_web::WriteLimit { per_minute: 60, burst: 3 };
    let config = tsunagu_web::WebConfig {
        secure_cookies: false,
        behind_proxy: true,
        write_limit: Some(limit),
        ..Default::default()
    };
    let router = tsunagu_web::router(t.app.clone(), config);
    let send = |method: &str, from: &str| sign_in_attempt(&router, method, from);
    for _ in 0..3 {
        let r = send("POST", "198.51.100.7").await.unwrap_or_else(|e| match e {});
        assert_ne!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let limited = send("POST", "198.51.100.7").await.unwrap_or_else(|e| match e {});
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().get("retry-after").is_some());
    assert_ne!(
        send("GET", "198.51.100.7").await.unwrap_or_else(|e| match e {}).status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let other = send("POST", "198.51.100.8").await.unwrap_or_else(|e| match e {});
    assert_ne!(other.status(), StatusCode::TOO_MANY_REQUESTS, "another address has its own allowance");
    let local = send("POST", "127.0.0.1").await.unwrap_or_else(|e| match e {});
    assert_ne!(local.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn metrics_answer_the_configured_token_only(db: &TestDb) {
    let t = TestApp::start(db).await;
    let config = tsunagu_web::WebConfig {
        secure_cookies: false,
        metrics_token: Some("scrape-secret-123".into()),
        ..Default::default()
    };
    let router = tsunagu_web::router(t.app.clone(), config);
    let get = |auth: Option<&str>| {
        let mut request = axum::http::Request::builder().uri("/metrics");
        if let Some(a) = auth {
            request = request.header("authorization", a);
        }
        let mut request = request.body(axum::body::Body::empty()).unwrap_or_default();
        request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 9))));
        tower::ServiceExt::oneshot(router.clone(), request)
    };
    let ok = get(Some("Bearer scrape-secret-123")).await.unwrap_or_else(|e| match e {});
    assert_eq!(ok.status(), StatusCode::OK);
    for wrong in [None, Some("Bearer scrape-secret-124"), Some("scrape-secret-123")] {
        let refused = get(wrong).await.unwrap_or_else(|e| match e {});
        assert_eq!(refused.status(), StatusCode::NOT_FOUND, "{wrong:?} (even from the local machine)");
    }
}
