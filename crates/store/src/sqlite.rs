//! The embedded SQLite backend: one file, WAL journal, `synchronous = FULL`
//! so that an acknowledged commit survives power loss. Reads run on a pool of
//! connections in parallel; writes go through one writer connection with
//! group commit (see [`crate::group_commit`]).

use crate::group_commit::GroupCommit;
use crate::sql::impl_store_tx;
use crate::{Store, StoreError, StoreTx};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    pool: SqlitePool,
    writer: GroupCommit<SqliteConnection>,
}

impl SqliteStore {
    /// `url` is `sqlite://path`, `sqlite:path` or a bare path; the file is
    /// created if missing, and migrations run.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)?
        } else {
            SqliteConnectOptions::new().filename(url)
        }
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
        // A file connection cannot go stale the way a network one can: no ping
        // (a round trip to the connection's thread) before every use.
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let writer = GroupCommit::open(options).await?;
        Ok(Self { pool, writer })
    }
}

impl_store_tx!(SqliteTx, Sqlite);

crate::group_commit::impl_writer_connection!(sqlx::SqliteConnection, "BEGIN IMMEDIATE", at_once: commit_at_once);

/// A batch's deferred work and its COMMIT as one query of several
/// statements: one round trip to the connection's thread instead of one per
/// statement (each a thread hand-off, most of a batch's time under load;
/// docs/performance.md). SQLite binds each statement's `?` in turn from the
/// one list. The audit events follow the heads this writer committed last;
/// if another connection appended since, the `UNIQUE (chain, seq)` of
/// `audit_events` refuses the insert before the COMMIT and the caller writes
/// the batch step by step (`group_commit::Writer::settle`).
///
/// Running every statement of one query is the SQLite driver's behaviour,
/// which sqlx has called deprecated (launchbadge/sqlx#3108). So the query ends
/// with `SELECT <marker>` after the COMMIT, and only that row coming back
/// counts as done: a driver that stopped after the first statement makes the
/// batch go step by step instead of being acknowledged unwritten (and the
/// tests below fail on such an upgrade).
async fn commit_at_once(
    conn: &mut SqliteConnection,
    deferred: &crate::group_commit::Deferred,
    open: bool,
    known: &crate::audit_chain::KnownHeads,
) -> Result<Option<Vec<crate::records::ChainHead>>, StoreError> {
    let audits: Vec<&tsunagu_domain::audit::AuditRecord> = deferred.audits.iter().collect();
    let Some(linked) = known.link_all(&audits) else { return Ok(None) };
    let mut query =
        sqlx::QueryBuilder::<Sqlite>::new(if open { "SAVEPOINT deferred_work; " } else { "BEGIN IMMEDIATE; " });
    for chunk in deferred.receipts.chunks(crate::sql::READS_PER_STATEMENT) {
        push_mark_read(&mut query, chunk);
        query.push("; ");
    }
    for chunk in deferred.opened.chunks(crate::sql::READS_PER_STATEMENT) {
        push_mark_notifications_read(&mut query, chunk);
        query.push("; ");
    }
    for (head, after) in &linked.heads {
        query.push("UPDATE audit_chain_heads SET seq = ").push_bind(head.seq);
        query.push(", hash = ").push_bind(&head.hash);
        query.push(" WHERE chain = ").push_bind(head.chain).push(" AND seq = ").push_bind(*after).push("; ");
    }
    for chunk in linked.events.chunks(crate::sql::AUDIT_EVENTS_PER_STATEMENT) {
        push_audit_events(&mut query, chunk);
        query.push("; ");
    }
    query.push(if open { "RELEASE SAVEPOINT deferred_work; COMMIT; " } else { "COMMIT; " });
    if !all_ran(conn, query).await? {
        return Err(StoreError::Batch("the batch's statements did not all run".into()));
    }
    Ok(Some(linked.heads.into_iter().map(|(head, _)| head).collect()))
}

/// Runs `query`, statements that end with "; ", followed by a marker, and
/// tells whether the marker came back: whether the driver ran every statement.
async fn all_ran(conn: &mut SqliteConnection, mut query: sqlx::QueryBuilder<Sqlite>) -> Result<bool, StoreError> {
    const MARKER: i64 = 1_302;
    query.push("SELECT ").push_bind(MARKER);
    let reached: Vec<i64> = query.build_query_scalar().fetch_all(&mut *conn).await?;
    Ok(reached == [MARKER])
}

/// The statements of [`patient_scope_on`], the marker last.
const SCOPE_AT_ONCE: &str = concat!(
    crate::sql::scope_sql!(patient, "1 AS part,"),
    "; ",
    crate::sql::scope_sql!(consents, "2 AS part,"),
    "; ",
    crate::sql::scope_sql!(team, "3 AS part,"),
    "; ",
    crate::sql::scope_sql!(grants, "4 AS part,"),
    "; SELECT 5 AS part"
);

/// A patient's scope as one query of five statements (patient, consents,
/// team, grants, then a marker): one round trip instead of four, on the
/// writer (where a post checks access inside its own transaction) and on the
/// pool alike. Each statement's rows carry a `part` column telling which one
/// they come from. Without the marker (a driver that ran only the first
/// statement: see [`commit_at_once`]) the scope is read again step by step.
async fn patient_scope_on(
    conn: &mut SqliteConnection,
    id: uuid::Uuid,
    now: time::OffsetDateTime,
) -> Result<Option<crate::PatientScopeRows>, StoreError> {
    use sqlx::{FromRow, Row};
    let rows = sqlx::query(SCOPE_AT_ONCE).bind(id).bind(now).fetch_all(&mut *conn).await?;
    let mut patient = None;
    let (mut consents, mut team, mut grants) = (Vec::new(), Vec::new(), Vec::new());
    let mut complete = false;
    for row in &rows {
        match row.try_get::<i64, _>("part")? {
            1 => patient = Some(crate::PatientRow::from_row(row)?),
            2 => consents.push(crate::ConsentRow::from_row(row)?),
            3 => team.push(crate::TeamMemberRow::from_row(row)?),
            4 => grants.push(crate::BreakGlassRow::from_row(row)?),
            5 => complete = true,
            other => return Err(StoreError::Corrupt(format!("a patient's scope read a row of part {other}"))),
        }
    }
    if !complete {
        return patient_scope_step_by_step(conn, id, now).await;
    }
    Ok(patient.map(|patient| crate::PatientScopeRows { patient, consents, team, grants }))
}

/// A posted entry's statements (entry, first version, notifications, e-mail
/// notices) and a marker as one query: one round trip instead of up to four.
/// Inside a use case's savepoint, so if they did not all run (no marker) the
/// use case fails and its savepoint undoes whatever did.
async fn insert_posted_entry_on(
    conn: &mut SqliteConnection,
    e: &crate::NewEntry,
    notifications: &[crate::NewNotification],
    mails: &[(uuid::Uuid, uuid::Uuid)],
) -> Result<(), StoreError> {
    let one = std::slice::from_ref(e);
    let mut query = sqlx::QueryBuilder::<Sqlite>::new("");
    push_entries(&mut query, one);
    query.push("; ");
    push_first_versions(&mut query, one);
    query.push("; ");
    if !notifications.is_empty() {
        push_notifications(&mut query, notifications);
        query.push("; ");
    }
    if !mails.is_empty() {
        push_enqueue_mails(&mut query, mails, e.created_at);
        query.push("; ");
    }
    if !all_ran(conn, query).await? {
        return Err(StoreError::Batch("the posted entry's statements did not all run".into()));
    }
    Ok(())
}

crate::backup_system::impl_backup_system_tx!(SqliteTx, Sqlite);
crate::registry::impl_registry_tx!(SqliteTx, Sqlite);
crate::coordination::impl_coordination_tx!(SqliteTx, Sqlite);
crate::public_pages::impl_public_pages_tx!(SqliteTx);
crate::rate_usage::impl_rate_usage_tx!(SqliteTx);
crate::analysis::impl_analysis_tx!(SqliteTx);
crate::interop::impl_interop_tx!(SqliteTx, Sqlite);
crate::public_map::impl_public_map_tx!(SqliteTx, Sqlite);

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        Ok(Box::new(SqliteTx::Write(self.writer.begin().await?)))
    }

    async fn begin_read(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        Ok(Box::new(SqliteTx::Read(self.pool.begin().await?)))
    }

    async fn reader(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        Ok(Box::new(SqliteTx::Plain(self.pool.acquire().await?)))
    }

    async fn optimize_after_import(&self, tables: &[&'static str]) -> Result<(), StoreError> {
        if tables.is_empty() {
            sqlx::raw_sql("ANALYZE").execute(&self.pool).await?;
        }
        for table in tables {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ANALYZE {table}"))).execute(&self.pool).await?;
        }
        Ok(())
    }

    async fn backup_to(&self, path: &str) -> Result<(), StoreError> {
        sqlx::query("VACUUM INTO $1").bind(path).execute(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn record_read(&self, trace: crate::ReadTrace) -> Result<(), StoreError> {
        self.writer.record_read(trace).await
    }

    fn write_batches(&self) -> u64 {
        self.writer.batches.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // any real "now" will do in these tests
mod tests {
    use super::*;
    use crate::audit_chain::KnownHeads;
    use crate::group_commit::Deferred;
    use crate::{PatientRead, ReadTrace};
    use sqlx::Connection;
    use std::sync::Arc;
    use tsunagu_domain::audit::{AuditRecord, ChainVerifier, INSTALLATION_CHAIN};

    /// Roles given before they were checked against professions are repaired by
    /// migration 0025: a physician role held by a non-physician becomes "other",
    /// a professional role held by a family account becomes "family"; fitting
    /// roles are untouched.
    #[tokio::test]
    async fn team_roles_that_do_not_fit_are_repaired() {
        let mut db = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let migrator = sqlx::migrate!("./migrations/sqlite");
        migrator.run_to(24, &mut db).await.unwrap();
        // Only the two tables the repair reads are filled: no patients or municipalities.
        sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut db).await.unwrap();
        let (patient, someone) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let rows = [
            ("cm", "care_manager", "backup_physician"),
            ("nurse", "nurse", "primary_physician"),
            ("doctor", "physician", "primary_physician"),
            ("son", "family", "visiting_nurse"),
            ("ph", "pharmacist", "pharmacist"),
        ];
        for (login, profession, role) in rows {
            let account = uuid::Uuid::now_v7();
            sqlx::query(
                "INSERT INTO accounts (id, login_id, display_name, profession, roles, status, created_at, updated_at) \
                 VALUES ($1, $2, $2, $3, 'professional', 'active', '2026-01-01', '2026-01-01')",
            )
            .bind(account)
            .bind(login)
            .bind(profession)
            .execute(&mut db)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO team_members (id, patient_id, account_id, team_role, added_by, joined_at) \
                 VALUES ($1, $2, $3, $4, $5, '2026-01-01')",
            )
            .bind(uuid::Uuid::now_v7())
            .bind(patient)
            .bind(account)
            .bind(role)
            .bind(someone)
            .execute(&mut db)
            .await
            .unwrap();
        }
        migrator.run(&mut db).await.unwrap();
        let after: Vec<(String, String)> = sqlx::query_as(
            "SELECT a.login_id, m.team_role FROM team_members m JOIN accounts a ON a.id = m.account_id ORDER BY a.login_id",
        )
        .fetch_all(&mut db)
        .await
        .unwrap();
        let after: Vec<(&str, &str)> = after.iter().map(|(l, r)| (l.as_str(), r.as_str())).collect();
        assert_eq!(
            after,
            [
                ("cm", "other"),
                ("doctor", "primary_physician"),
                ("nurse", "other"),
                ("ph", "pharmacist"),
                ("son", "family"),
            ]
        );
    }
    use uuid::Uuid;

    fn record() -> AuditRecord {
        crate::audit_chain::tests::record(None)
    }

    async fn temp_store() -> (std::path::PathBuf, SqliteStore) {
        let path = std::env::temp_dir().join(format!("tsunagu-sqlite-{}.db", Uuid::now_v7()));
        (path.clone(), SqliteStore::connect(&format!("sqlite://{}", path.display())).await.unwrap())
    }

    /// Walks the installation chain and returns how many events it holds.
    async fn verified_events(store: &SqliteStore) -> u64 {
        let mut tx = store.reader().await.unwrap();
        let head = tx.audit_heads().await.unwrap().into_iter().find(|h| h.chain == INSTALLATION_CHAIN).unwrap();
        let mut verifier = ChainVerifier::default();
        for event in tx.audit_events_after(INSTALLATION_CHAIN, 0, 10_000).await.unwrap() {
            verifier.push(&event).unwrap();
        }
        verifier.finish(head.seq, &head.hash).unwrap();
        verifier.checked
    }

    async fn event_count(conn: &mut SqliteConnection) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_events").fetch_one(conn).await.unwrap()
    }

    /// The driver runs every statement of the scope's query (else the scope
    /// would silently take four round trips again: this fails on such an upgrade).
    #[tokio::test]
    async fn a_patients_scope_is_read_in_one_query() {
        use sqlx::Row;
        let (path, store) = temp_store().await;
        let mut conn = store.pool.acquire().await.unwrap();
        let rows = sqlx::query(SCOPE_AT_ONCE)
            .bind(Uuid::now_v7())
            .bind(time::OffsetDateTime::now_utc())
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let parts: Vec<i64> = rows.iter().map(|r| r.get("part")).collect();
        assert_eq!(parts, [5], "no such patient: only the closing marker");
        drop(conn);
        drop(store);
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn a_batch_is_written_at_once_after_known_heads_and_a_stale_head_is_refused() {
        let (path, _store) = temp_store().await;
        let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        let first = record();
        sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut conn).await.unwrap();
        let heads = append_audits_to(&mut conn, &[&first]).await.unwrap();
        sqlx::raw_sql("COMMIT").execute(&mut conn).await.unwrap();
        let stale = KnownHeads::default();
        let deferred = Deferred {
            audits: vec![record(), record()],
            opened: vec![PatientRead { reader: Uuid::now_v7(), patient_id: Uuid::now_v7(), at: first.occurred_at }],
            ..Deferred::default()
        };
        assert!(commit_at_once(&mut conn, &deferred, false, &stale).await.unwrap().is_none(), "unknown heads");

        let mut known = KnownHeads::default();
        let mut old = KnownHeads::default();
        old.learn(heads.clone());
        known.learn(heads);
        let written = commit_at_once(&mut conn, &deferred, false, &known).await.unwrap().unwrap();
        assert_eq!(written.iter().map(|h| (h.chain, h.seq)).collect::<Vec<_>>(), vec![(INSTALLATION_CHAIN, 3)]);
        assert_eq!(event_count(&mut conn).await, 3, "committed, not left in an open transaction");

        // The first head again, as if another connection had appended since.
        let refused = commit_at_once(&mut conn, &deferred, false, &old).await;
        assert!(refused.is_err(), "a stale head must be refused, not fork the chain");
        sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
        assert_eq!(event_count(&mut conn).await, 3);

        // Inside a batch a use case opened: its work stays when the deferred part is undone.
        known.learn(written);
        sqlx::raw_sql("BEGIN IMMEDIATE; SAVEPOINT use_case; RELEASE SAVEPOINT use_case")
            .execute(&mut conn)
            .await
            .unwrap();
        assert!(commit_at_once(&mut conn, &deferred, true, &old).await.is_err());
        sqlx::raw_sql("ROLLBACK TO SAVEPOINT deferred_work; RELEASE SAVEPOINT deferred_work")
            .execute(&mut conn)
            .await
            .unwrap();
        let written = commit_at_once(&mut conn, &deferred, true, &known).await.unwrap().unwrap();
        assert_eq!(written[0].seq, 5);
        assert_eq!(event_count(&mut conn).await, 5);
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_stay_chained_when_another_connection_appends_between_batches() {
        let (path, store) = temp_store().await;
        let store = Arc::new(store);
        let read = |store: Arc<SqliteStore>| async move {
            store.record_read(ReadTrace { audit: record(), receipts: Vec::new(), opened: None }).await
        };
        read(store.clone()).await.unwrap();
        let many: Vec<_> = (0..20).map(|_| tokio::spawn(read(store.clone()))).collect();
        for task in many {
            task.await.unwrap().unwrap();
        }
        // Another connection (not the writer) appends to the same chain.
        let mut other = store.reader().await.unwrap();
        other.append_audit(&record()).await.unwrap();
        drop(other);
        let more: Vec<_> = (0..5).map(|_| tokio::spawn(read(store.clone()))).collect();
        for task in more {
            task.await.unwrap().unwrap();
        }
        assert_eq!(verified_events(&store).await, 27);

        // Again, and now a use case's batch meets the stale head: its own
        // work stays when the batch is written step by step.
        let mut other = store.reader().await.unwrap();
        other.append_audit(&record()).await.unwrap();
        drop(other);
        let city = crate::MunicipalityRow {
            id: Uuid::now_v7(),
            code: "122173".into(),
            name: "柏市".into(),
            created_at: time::OffsetDateTime::now_utc(),
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_municipality(&city).await.unwrap();
        tx.append_audit(&record()).await.unwrap();
        tx.commit().await.unwrap();
        assert!(store.reader().await.unwrap().municipality(city.id).await.unwrap().is_some());
        assert_eq!(verified_events(&store).await, 29);
        let _ = std::fs::remove_file(path);
    }
}
