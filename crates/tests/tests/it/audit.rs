//! The hash-chained audit log: written with every change, readable by the
//! municipality's admins, and any edit, insertion or removal is found.

use crate::helpers::{TestApp, TestDb};
use axum::http::StatusCode;
use tsunagu_domain::audit::ChainProblem;

crate::on_both_databases!(
    changes_and_sign_ins_are_audited_in_the_municipality_chain,
    an_edited_event_is_found,
    a_removed_event_is_found,
    removing_the_newest_event_is_found,
    an_inserted_event_is_found,
    the_log_refuses_updates_from_the_application_role,
    events_appended_together_keep_each_chain_in_order,
    a_use_case_undone_in_a_shared_batch_leaves_no_audit_event,
    concurrent_reads_are_each_audited_and_share_commits,
);

/// Runs raw SQL on the test database, as someone with database access would.
async fn raw_sql(db: &TestDb, statements: &[&str]) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    if db.url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&db.url).await?;
        for s in statements {
            sqlx::query(sqlx::AssertSqlSafe(s.to_string())).execute(&mut conn).await?;
        }
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await?;
        for s in statements {
            sqlx::query(sqlx::AssertSqlSafe(s.to_string())).execute(&mut conn).await?;
        }
    }
    Ok(())
}

fn disable_guard(db: &TestDb) -> &'static [&'static str] {
    if db.url.starts_with("postgres") {
        &["ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"]
    } else {
        &["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"]
    }
}

/// A small history in Kashiwa's chain: registration, an admin's sign-in, a facility.
async fn history(t: &TestApp) {
    let m = crate::admin::kashiwa(t).await;
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    crate::admin::facility(&mut admin, m, "clinic", "監査テスト診療所").await;
    let report = t.app.verify_audit().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.is_intact(), "{report:?}");
}

async fn problem_in_kashiwa(t: &TestApp) -> Option<ChainProblem> {
    let report = t.app.verify_audit().await.unwrap_or_else(|e| panic!("{e}"));
    let kashiwa = report.chains.iter().find(|c| c.municipality_code.as_deref() == Some("122173"));
    kashiwa.and_then(|c| c.problem.clone())
}

async fn changes_and_sign_ins_are_audited_in_the_municipality_chain(db: &TestDb) {
    let t = TestApp::start(db).await;
    let m = crate::admin::kashiwa(&t).await;
    let (mut admin, _) =
        t.signed_in("city.admin", Some("122173"), "municipal_officer", &["municipality_admin"], None).await;
    crate::admin::facility(&mut admin, m, "clinic", "監査テスト診療所").await;
    let mut stranger = t.client();
    stranger.submit("/sign-in", "/sign-in", &[("login_id", "city.admin"), ("password", "wrong wrong wrong")]).await;
    let log = admin.get(&format!("/admin/m/{m}/audit")).await;
    assert_eq!(log.status, StatusCode::OK);
    for expected in [
        "市区町村を登録",
        "IDを発行",
        "招待コードで登録",
        "二要素認証を登録",
        "サインイン",
        "事業所を登録",
        "サインイン失敗",
        "192.0.2.10",
    ] {
        assert!(log.body.contains(expected), "the audit page shows {expected}");
    }
    let report = t.app.verify_audit().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.is_intact());
    let kashiwa = report.chains.iter().find(|c| c.municipality_code.as_deref() == Some("122173"));
    assert!(kashiwa.is_some_and(|c| c.events_checked >= 7), "{report:?}");
}

async fn an_edited_event_is_found(db: &TestDb) {
    let t = TestApp::start(db).await;
    history(&t).await;
    let mut statements = disable_guard(db).to_vec();
    statements
        .push("UPDATE audit_events SET actor_label = 'someone else' WHERE seq = 2 AND action = 'account_invited'");
    raw_sql(db, &statements).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(problem_in_kashiwa(&t).await, Some(ChainProblem::Altered { seq: 2, .. })),
        "{:?}",
        problem_in_kashiwa(&t).await
    );
}

async fn a_removed_event_is_found(db: &TestDb) {
    let t = TestApp::start(db).await;
    history(&t).await;
    let mut statements = disable_guard(db).to_vec();
    statements.push("DELETE FROM audit_events WHERE seq = 2 AND target_kind = 'account'");
    raw_sql(db, &statements).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(problem_in_kashiwa(&t).await, Some(ChainProblem::OutOfSequence { expected: 2, found: 3, .. })));
}

async fn removing_the_newest_event_is_found(db: &TestDb) {
    let t = TestApp::start(db).await;
    history(&t).await;
    let mut statements = disable_guard(db).to_vec();
    statements.push("DELETE FROM audit_events WHERE action = 'facility_created'");
    raw_sql(db, &statements).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(problem_in_kashiwa(&t).await, Some(ChainProblem::Truncated { .. })),
        "{:?}",
        problem_in_kashiwa(&t).await
    );
}

async fn an_inserted_event_is_found(db: &TestDb) {
    let t = TestApp::start(db).await;
    history(&t).await;
    // A forger shifts later events up by one and slips an event in at #2.
    let mut statements = disable_guard(db).to_vec();
    statements
        .push("UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 2 AND chain IN (SELECT id FROM municipalities)");
    statements.push("UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1000");
    statements.push(
        "INSERT INTO audit_events (id, chain, seq, occurred_at, actor_account_id, actor_label, action, target_kind, target_id, source_ip, details, prev_hash, hash) \
         SELECT id, chain, 2, occurred_at, actor_account_id, 'forger', action, target_kind, target_id, source_ip, details, prev_hash, hash \
         FROM audit_events WHERE seq = 1 AND chain IN (SELECT id FROM municipalities)",
    );
    let result = raw_sql(db, &statements).await;
    if result.is_err() {
        // Copying the id collides with the primary key: use a fresh id as a real forger would.
        let fresh = if db.url.starts_with("postgres") { "gen_random_uuid()" } else { "randomblob(16)" };
        let insert = format!(
            "INSERT INTO audit_events (id, chain, seq, occurred_at, actor_account_id, actor_label, action, target_kind, target_id, source_ip, details, prev_hash, hash) \
             SELECT {fresh}, chain, 2, occurred_at, actor_account_id, 'forger', action, target_kind, target_id, source_ip, details, prev_hash, hash \
             FROM audit_events WHERE seq = 1 AND chain IN (SELECT id FROM municipalities)"
        );
        raw_sql(db, &[insert.as_str()]).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let problem = problem_in_kashiwa(&t).await;
    assert!(
        matches!(problem, Some(ChainProblem::Altered { seq: 2, .. }) | Some(ChainProblem::BrokenLink { seq: 2, .. })),
        "{problem:?}"
    );
}

async fn the_log_refuses_updates_from_the_application_role(db: &TestDb) {
    let t = TestApp::start(db).await;
    history(&t).await;
    assert!(raw_sql(db, &["UPDATE audit_events SET actor_label = 'x'"]).await.is_err());
    assert!(raw_sql(db, &["DELETE FROM audit_events"]).await.is_err());
    assert!(t.app.verify_audit().await.map(|r| r.is_intact()).unwrap_or(false));
}

/// Several events of two chains appended in one go (how reads are audited
/// under load): each chain numbered on, linked in the given order, intact.
async fn events_appended_together_keep_each_chain_in_order(db: &TestDb) {
    use tsunagu_domain::audit::AuditRecord;
    let t = TestApp::start(db).await;
    history(&t).await;
    let mut tx = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let kashiwa = tx.municipality_by_code("122173").await.unwrap_or_else(|e| panic!("{e}"));
    let m = tsunagu_domain::ids::MunicipalityId(kashiwa.unwrap_or_else(|| panic!("no kashiwa")).id);
    drop(tx);
    let records: Vec<AuditRecord> =
        (0..7).map(|i| viewed_by(&t, if i % 3 == 0 { None } else { Some(m) }, &format!("reader {i}"))).collect();
    let refs: Vec<&AuditRecord> = records.iter().collect();
    let mut tx = t.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    let heads_before = tx.audit_heads().await.unwrap_or_else(|e| panic!("{e}"));
    tx.append_audits(&refs).await.unwrap_or_else(|e| panic!("{e}"));
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    // As stored: each chain's events after its head before the append.
    let mut appended = Vec::new();
    let mut read = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    for chain in [m.0, tsunagu_domain::audit::chain_of(None)] {
        let start = heads_before.iter().find(|h| h.chain == chain).map_or(0, |h| h.seq);
        appended.extend(read.audit_events_after(chain, start, 100).await.unwrap_or_else(|e| panic!("{e}")));
    }
    drop(read);
    assert_eq!(appended.len(), 7);
    for chain in [m.0, tsunagu_domain::audit::chain_of(None)] {
        let of_chain: Vec<_> = appended.iter().filter(|e| e.chain == chain).collect();
        let start = heads_before.iter().find(|h| h.chain == chain).map_or(0, |h| h.seq);
        let seqs: Vec<i64> = of_chain.iter().map(|e| e.seq).collect();
        let expected: Vec<i64> = (1..=of_chain.len() as i64).map(|n| start + n).collect();
        assert_eq!(seqs, expected, "numbered on from the head, in the given order");
        for pair in of_chain.windows(2) {
            assert_eq!(pair[1].prev_hash, pair[0].hash, "each linked to the one before");
        }
    }
    let labels: Vec<&str> = appended.iter().filter(|e| e.chain == m.0).map(|e| e.actor_label.as_str()).collect();
    assert_eq!(labels, ["reader 1", "reader 2", "reader 4", "reader 5"]);
    let report = t.app.verify_audit().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.is_intact(), "{report:?}");
}

/// In the writer's batch, a use case's audit events are appended with the
/// batch's others just before COMMIT: one that is undone (dropped without
/// commit) leaves none, while the use cases around it keep theirs.
async fn a_use_case_undone_in_a_shared_batch_leaves_no_audit_event(db: &TestDb) {
    let t = TestApp::start(db).await;
    history(&t).await;
    let chain = tsunagu_domain::audit::chain_of(None);
    let start = chain_head(&t, chain).await;
    // The first use case's commit waits for the batch; the next two may join it.
    let mut first = t.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    first.append_audit(&viewed_by(&t, None, "kept 1")).await.unwrap_or_else(|e| panic!("{e}"));
    let first = tokio::spawn(first.commit());
    let mut undone = t.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    undone.append_audit(&viewed_by(&t, None, "undone")).await.unwrap_or_else(|e| panic!("{e}"));
    drop(undone);
    let mut third = t.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    third.append_audit(&viewed_by(&t, None, "kept 2")).await.unwrap_or_else(|e| panic!("{e}"));
    third.commit().await.unwrap_or_else(|e| panic!("{e}"));
    first.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(labels_after(&t, chain, start).await, ["kept 1", "kept 2"]);
    let report = t.app.verify_audit().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.is_intact(), "{report:?}");
}

/// Reads hand their audit events to the writer's next batch: every one that
/// was answered is in the log, in its chain, and they shared commits.
async fn concurrent_reads_are_each_audited_and_share_commits(db: &TestDb) {
    let t = TestApp::start(db).await;
    history(&t).await;
    let chain = tsunagu_domain::audit::chain_of(None);
    let start = chain_head(&t, chain).await;
    let batches_before = t.store.write_batches();
    let mut reads = Vec::new();
    for i in 0..60 {
        let store = t.store.clone();
        let audit = viewed_by(&t, None, &format!("reader {i}"));
        reads.push(tokio::spawn(async move {
            store.record_read(tsunagu_store::ReadTrace { audit, receipts: Vec::new(), opened: None }).await
        }));
    }
    for r in reads {
        r.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}"));
    }
    let batches = t.store.write_batches() - batches_before;
    assert!(batches < 60, "60 concurrent reads took {batches} commits: nothing was shared");
    let mut labels = labels_after(&t, chain, start).await;
    labels.sort();
    let mut expected: Vec<String> = (0..60).map(|i| format!("reader {i}")).collect();
    expected.sort();
    assert_eq!(labels, expected);
    let report = t.app.verify_audit().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.is_intact(), "{report:?}");
}

/// A synthetic "patient viewed" event by `label`, in `municipality`'s chain.
fn viewed_by(
    t: &TestApp,
    municipality: Option<tsunagu_domain::ids::MunicipalityId>,
    label: &str,
) -> tsunagu_domain::audit::AuditRecord {
    tsunagu_domain::audit::AuditRecord {
        municipality_id: municipality,
        occurred_at: t.app.now(),
        actor_account_id: None,
        actor_label: label.to_owned(),
        action: tsunagu_domain::audit::AuditAction::PatientViewed,
        target_kind: "patient",
        target_id: Some(uuid::Uuid::now_v7()),
        source_ip: None,
        details: serde_json::json!({}),
    }
}

/// The sequence number of `chain`'s newest event (0 if it has none).
async fn chain_head(t: &TestApp, chain: uuid::Uuid) -> i64 {
    let mut read = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let heads = read.audit_heads().await.unwrap_or_else(|e| panic!("{e}"));
    heads.iter().find(|h| h.chain == chain).map_or(0, |h| h.seq)
}

/// The actor labels of `chain`'s events after `seq`, in chain order.
async fn labels_after(t: &TestApp, chain: uuid::Uuid, seq: i64) -> Vec<String> {
    let mut read = t.store.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let events = read.audit_events_after(chain, seq, 1000).await.unwrap_or_else(|e| panic!("{e}"));
    events.into_iter().map(|e| e.actor_label).collect()
}
