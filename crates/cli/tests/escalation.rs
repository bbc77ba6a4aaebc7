#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]
//! Escalation timers live in the database: a server killed in the middle of
//! an escalation loses no step when it comes back (SQLite and PostgreSQL),
//! and two servers on one PostgreSQL database fire each step exactly once.

mod common;

use common::{Server, create_database, drop_database, postgres_server, signed_in, start};
use std::sync::Arc;
use std::time::Duration;
use tsunagu_app::{App, RequestMeta, Settings, SystemClock};
use tsunagu_domain::audit::{AuditAction, chain_of};
use tsunagu_domain::ids::MunicipalityId;
use uuid::Uuid;

/// An installation directory whose configuration checks the timers every second.
fn installation(prefix: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tsunagu.toml"), "[escalation]\ncheck_seconds = 1\n").unwrap();
    dir
}

/// Raises `n` urgent requests for the demo nurse's first patient.
async fn raise(app: &App, n: usize) -> (Vec<Uuid>, Uuid) {
    let (_, _, nurse) = signed_in(app, "ns.tanaka").await;
    let meta = RequestMeta::default();
    let patient = app.my_patients(&nurse, "", &meta).await.unwrap()[0].patient.id;
    let mut ids = Vec::new();
    for i in 0..n {
        let note = format!("SpO2低下 {i}");
        ids.push(
            app.raise_urgent_request(&nurse, tsunagu_domain::ids::PatientId(patient), "urgent_visit", &note, &meta)
                .await
                .unwrap(),
        );
    }
    let municipality = nurse.account.municipality_id.unwrap();
    (ids, municipality.0)
}

/// Brings the timer of step `seq` of a request forward to now.
async fn make_due(db: &str, request: Uuid, seq: i64) {
    let store = tsunagu_store::connect(db).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let step = tx.escalation_steps(request).await.unwrap().into_iter().find(|s| s.seq == seq).unwrap();
    tx.bring_step_forward(step.id, time::OffsetDateTime::now_utc() - time::Duration::seconds(1)).await.unwrap();
    tx.commit().await.unwrap();
}

/// Waits (up to 30 s) until step `seq` of a request has fired.
async fn wait_fired(db: &str, request: Uuid, seq: i64) {
    let store = tsunagu_store::connect(db).await.unwrap();
    for _ in 0..300 {
        let mut tx = store.begin_read().await.unwrap();
        let steps = tx.escalation_steps(request).await.unwrap();
        if steps.iter().any(|s| s.seq == seq && s.fired_at.is_some()) {
            return;
        }
        drop(tx);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("step {seq} of {request} never fired");
}

/// How many times each step of a request was fired, by the audit log.
async fn fired_counts(db: &str, municipality: Uuid, request: Uuid) -> Vec<i64> {
    let store = tsunagu_store::connect(db).await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let chain = chain_of(Some(MunicipalityId(municipality)));
    let events = tx.audit_events_for_target(chain, request, 1000).await.unwrap();
    // The end of the chain is recorded as "unanswered" (-1 here).
    let mut seqs: Vec<i64> = events
        .iter()
        .filter_map(|e| {
            if e.action == AuditAction::UrgentRequestUnanswered.code() {
                return Some(-1);
            }
            if e.action != AuditAction::EscalationStepFired.code() {
                return None;
            }
            let details: serde_json::Value = serde_json::from_str(&e.details).ok()?;
            details.get("seq").and_then(serde_json::Value::as_i64)
        })
        .collect();
    seqs.sort();
    seqs
}

async fn restart_loses_no_step(db: &str, dir: &std::path::Path) {
    let app = App::new(tsunagu_store::connect(db).await.unwrap(), Arc::new(SystemClock), Settings::default());
    app.create_demo().await.unwrap();
    let (ids, municipality) = raise(&app, 1).await;
    let request = ids[0];

    // The first server fires the backup physician's step, then dies hard.
    let (child, _) = start(dir, db).await;
    let mut first = Server { child, dir: dir.join("none") };
    make_due(db, request, 1).await;
    wait_fired(db, request, 1).await;
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    // While nobody serves, the next timer runs out; the next server fires it.
    make_due(db, request, 2).await;
    let (child, _) = start(dir, db).await;
    let _second = Server { child, dir: dir.join("none") };
    wait_fired(db, request, 2).await;

    assert_eq!(fired_counts(db, municipality, request).await, vec![0, 1, 2], "each step fired once, none lost");
    let store = tsunagu_store::connect(db).await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let steps = tx.escalation_steps(request).await.unwrap();
    assert_eq!(steps[0].answer.as_deref(), Some("timed_out"));
    assert_eq!(steps[1].answer.as_deref(), Some("timed_out"));
    assert!(steps[2].fired_at.is_some() && steps[2].answer.is_none(), "the hospital is being called now");
    assert_eq!(steps[2].role, "hospital");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_an_escalation_loses_no_step_sqlite() {
    let dir = installation("tsunagu-escalation");
    let db = format!("sqlite://{}", dir.join("tsunagu.db").display());
    restart_loses_no_step(&db, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_an_escalation_loses_no_step_postgres() {
    let Some(server) = postgres_server() else { return };
    let db = create_database(&server, "tsunagu_escalation").await;
    let dir = installation("tsunagu-escalation-pg");
    restart_loses_no_step(&db, &dir).await;
    drop_database(&server, &db).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_fire_each_step_once() {
    let Some(server) = postgres_server() else { return };
    let db = create_database(&server, "tsunagu_fire_once").await;
    let dir = installation("tsunagu-fire-once");
    let app = App::new(tsunagu_store::connect(&db).await.unwrap(), Arc::new(SystemClock), Settings::default());
    app.create_demo().await.unwrap();
    let (ids, municipality) = raise(&app, 6).await;
    let (a, _) = start(&dir, &db).await;
    let (b, _) = start(&dir, &db).await;
    let _a = Server { child: a, dir: dir.join("none") };
    let _b = Server { child: b, dir: dir.join("none") };
    // Every remaining timer runs out at once, under both servers.
    for request in &ids {
        for seq in 1..=3 {
            make_due(&db, *request, seq).await;
        }
    }
    for request in &ids {
        wait_fired(&db, *request, 3).await;
    }
    for request in &ids {
        assert_eq!(fired_counts(&db, municipality, *request).await, vec![-1, 0, 1, 2], "{request}");
    }
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["audit", "verify", "--database-url", &db])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    drop((_a, _b));
    drop_database(&server, &db).await;
    let _ = std::fs::remove_dir_all(&dir);
}
