#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::disallowed_methods)]
//! Import benchmark: a national-size synthetic 介護サービス情報公表 CSV
//! imported into one installation, then imported again (idempotent: all
//! unchanged). Run:
//!
//!     cargo run --release -p tsunagu-tests --example import -- 200000
//!
//! SQLite in a temp dir by default; set TSUNAGU_BENCH_DATABASE_URL to a
//! PostgreSQL server URL to measure PostgreSQL (a fresh database tsunagu_bench_import).

use std::sync::Arc;
use std::time::Instant;
use tsunagu_app::{App, Settings, SystemClock};
use tsunagu_import::Source;
use tsunagu_tests::bench::{Request, run, run_spread};

#[tokio::main]
async fn main() {
    let rows: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let dir = std::env::temp_dir().join(format!("tsunagu-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = match std::env::var("TSUNAGU_BENCH_DATABASE_URL") {
        Ok(server) => {
            use sqlx::Connection;
            let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
            for sql in ["DROP DATABASE IF EXISTS tsunagu_bench_import", "CREATE DATABASE tsunagu_bench_import"] {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut admin).await.unwrap();
            }
            let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server);
            format!("{base}/tsunagu_bench_import")
        }
        Err(_) => format!("sqlite://{}", dir.join("bench.db").display()),
    };
    let store = tsunagu_store::connect(&url).await.unwrap();
    let backend = store.backend();
    let app = App::new(store.clone(), Arc::new(SystemClock), Settings::default());
    app.create_demo().await.unwrap();
    let csv = tsunagu_import::synthetic_care_offices_csv(rows);
    println!("{backend}: {rows} synthetic care-office rows ({:.1} MB)", csv.len() as f64 / 1e6);

    let parse = Instant::now();
    let parsed = tsunagu_import::parse(Source::CareOffices, "jigyosho_synthetic.csv", &csv).unwrap();
    println!("parse only:            {:>7.2} s ({} rows)", parse.elapsed().as_secs_f64(), parsed.rows.len());

    for (label, expect_added) in [("first import (added)", true), ("same file again", false)] {
        let started = Instant::now();
        let report = app
            .import_registry_from_shell_with(Some("122173"), Source::CareOffices, "jigyosho_synthetic.csv", &csv, true)
            .await
            .unwrap();
        let took = started.elapsed().as_secs_f64();
        println!(
            "{label:<22} {took:>7.2} s: {} added, {} updated, {} unchanged, {} rejected ({:.0} rows/s)",
            report.added,
            report.updated,
            report.unchanged,
            report.rejected.len(),
            rows as f64 / took
        );
        assert_eq!(report.added == rows, expect_added, "{report:?}");
    }
    // "The 20 nearest facilities offering a service", in-process, at points
    // beside synthetic facilities (as a citizen stands somewhere people live;
    // the generator puts offices on a lattice: see synthetic_care_offices_csv):
    // from SQL (an app that keeps nothing in memory), then from the nearby
    // index (built once, then kept until public data changes).
    let uncached = App::new(
        store.clone(),
        Arc::new(SystemClock),
        Settings { public_cache: std::time::Duration::ZERO, ..Settings::default() },
    );
    let points = points();
    nearest_in_process("from SQL", &uncached, &points, rows).await;
    let (started, before) = (Instant::now(), resident_mb());
    app.prepare_nearby_index("122173").await.unwrap();
    println!(
        "nearby index built:    {:>7.2} s ({} located facilities; resident memory {before:.0} -> {:.0} MB)",
        started.elapsed().as_secs_f64(),
        app.nearby_index_size("122173").unwrap_or_default(),
        resident_mb()
    );
    nearest_in_process("from the nearby index", &app, &points, rows).await;

    // A municipality of ordinary size beside it (the demo's 流山市 with 2,000
    // synthetic offices), for the list as citizens page through it.
    let town = tsunagu_import::synthetic_care_offices_csv(2_000);
    app.import_registry_from_shell_with(Some("122203"), Source::CareOffices, "town.csv", &town, true).await.unwrap();

    // The public map API through HTTP against the /healthz ceiling: the
    // nearest 20 nursing stations at the same points, and the first page of a
    // kind's list (with its count), 32 keep-alive clients, 10 s each. No
    // per-address limit here (every client is 127.0.0.1; `serve` sets one).
    // Served twice: as configured by default (answers kept 10 s: a client
    // repeating its one request is answered from memory after the first; a
    // new point each time is answered from the nearby index), and with
    // `public_cache` zero (every answer read from the database).
    for (label, app) in [("answers kept, nearby index (default)", app.clone()), ("nothing kept in memory", uncached)] {
        println!("-- {label}");
        serve_public_api(app).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

async fn serve_public_api(app: App) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = tsunagu_web::WebConfig { secure_cookies: false, behind_proxy: false, ..Default::default() };
    let router = tsunagu_web::router(app.clone(), config);
    let server = tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    let points: Vec<(String, String)> = points();
    let nearest: Vec<Request> = points
        .iter()
        .map(|(lat, lng)| {
            Request::get(format!(
                "/api/public/v1/m/122173/facilities?kind=home_nursing_station&lat={lat}&lng={lng}&limit=20"
            ))
        })
        .collect();
    // A new point for every request: 250,000 points, none asked twice in a run.
    let everywhere: Vec<Request> = (0..250_000u32)
        .map(|i| {
            let k = f64::from(i.wrapping_mul(7919) % 32_300);
            let (a, b) = (f64::from(i % 97) * 0.0001, f64::from(i / 97 % 89) * 0.0001);
            Request::get(format!(
                "/api/public/v1/m/122173/facilities?kind=home_nursing_station&lat={:.4}&lng={:.4}&limit=20",
                26.0 + (k % 1900.0) * 0.01 + a,
                127.0 + (k % 1700.0) * 0.01 + b
            ))
        })
        .collect();
    let scenarios: Vec<(&str, Vec<Request>)> = vec![
        ("GET /healthz (ceiling)", vec![Request::get("/healthz")]),
        ("public API: nearest 20 nursing stations", nearest),
        ("public API: nearest 20, a new point each", everywhere),
        (
            "public API: a kind's first page (counted)",
            vec![Request::get("/api/public/v1/m/122173/facilities?kind=home_nursing_station&limit=20")],
        ),
        ("2,000-facility town: first page of all", vec![Request::get("/api/public/v1/m/122203/facilities?limit=20")]),
        (
            "2,000-facility town: a kind, page 2",
            vec![Request::get("/api/public/v1/m/122203/facilities?kind=home_nursing_station&limit=20&page=2")],
        ),
        ("2,000-facility town: the map page (HTML)", vec![Request::get("/m/122203/map")]),
    ];
    println!(
        "{:<42} {:>9} {:>8} {:>8} {:>8}",
        "scenario (32 connections, 10 s)", "req/s", "ceiling", "p50 ms", "p99 ms"
    );
    let mut ceiling = 0.0;
    for (name, requests) in scenarios {
        let length = std::time::Duration::from_secs(10);
        let (rate, _, p50, p99) = if requests.len() > 1_000 {
            run_spread(addr, &requests, 32, length).await
        } else {
            run(addr, &requests, 32, length).await
        };
        if ceiling == 0.0 {
            ceiling = rate;
        }
        println!("{name:<42} {rate:>9.0} {:>7.1}% {p50:>8.2} {p99:>8.2}", 100.0 * rate / ceiling);
    }
    server.abort();
}

/// This process's resident memory (Linux), in MB; 0 where unknown.
fn resident_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().trim_end_matches("kB").trim().to_owned()))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Times "the 20 nearest 訪問看護" at each point, in-process.
async fn nearest_in_process(label: &str, app: &App, points: &[(String, String)], rows: usize) {
    let mut times = Vec::new();
    for (lat, lng) in points {
        let form = tsunagu_app::public_map::PublicQueryForm {
            kind: "home_nursing_station",
            lat,
            lng,
            limit: "20",
            ..Default::default()
        };
        let query = tsunagu_app::public_map::PublicQuery::parse(&form, 20).unwrap();
        let started = Instant::now();
        let found = app.public_facilities("122173", &query).await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(found.facilities.len(), 20);
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "nearest 20 訪問看護 to a point ({} facilities), {label}: mean {mean:.3} ms, p50 {:.3} ms, p99 {:.3} ms",
        rows + 13,
        times[times.len() / 2],
        times[times.len() * 99 / 100]
    );
}

/// Points beside synthetic facilities (the generator puts offices on a lattice).
fn points() -> Vec<(String, String)> {
    (0..200u32)
        .map(|i| {
            let k = f64::from(i.wrapping_mul(7919) % 32_300);
            (
                format!("{:.4}", 26.0 + (k % 1900.0) * 0.01 + 0.003),
                format!("{:.4}", 127.0 + (k % 1700.0) * 0.01 + 0.002),
            )
        })
        .collect()
}
