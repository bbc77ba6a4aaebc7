//! Group commit: the work of many use cases in one database transaction and
//! one fsync, each use case acknowledged only once that transaction is durable.
//!
//! Every write goes through one writer connection. A use case runs inside a
//! savepoint of the open batch transaction, so its failure undoes only its own
//! work; committing it *waits* for the batch (its savepoint is released in the
//! next use case's first round trip, or just before the COMMIT).
//! A flusher, on a thread of its own, commits the batch as soon as it gets
//! the writer: the writer lock is fair (first come, first served), so every
//! use case that queued while the previous batch was being written to disk
//! runs before the flusher and rides on the same fsync. Under no load a batch
//! is one use case, and the added latency is one hop to the flusher's thread;
//! under load, the cost of the fsync is shared.
//!
//! The writer connection's round trips (each a hand-off to the database
//! driver's thread and back) are what limits it, so what can wait is written
//! once per batch, just before its COMMIT ([`Deferred`]): the use cases'
//! audit events (dropped with a use case that is undone) and what reads leave
//! behind (`record_read`: audit event, read receipts, notifications read).
//! A read hands its trace over without taking the writer and is answered once
//! the batch that wrote it is durable.
//!
//! Nothing acknowledged can be lost: `commit` returns only after `COMMIT`
//! returned; if it fails, every use case of the batch gets the error.
//!
//! If the writer connection is lost (PostgreSQL restarted, a network blip),
//! the next batch opens a new one; a use case never waits for the writer
//! longer than [`WRITER_WAIT`] (an error, not a hang).

use crate::StoreError;
use crate::audit_chain::KnownHeads;
use crate::records::ChainHead;
use crate::{EntryRead, PatientRead, ReadTrace};
use async_trait::async_trait;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, oneshot};
use tsunagu_domain::audit::AuditRecord;

/// The longest a use case waits for its turn at the writer.
pub(crate) const WRITER_WAIT: Duration = Duration::from_secs(30);

type Reconnect<C> = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<C, sqlx::Error>> + Send>> + Send + Sync>;

/// What group commit needs of a backend's connection (implemented beside
/// each backend: `sqlite.rs`, `postgres.rs`).
#[async_trait]
pub(crate) trait WriterConnection: Send + 'static {
    /// The statements that open a batch and its first use case's savepoint,
    /// sent together (one round trip; SQLite takes its write lock at once).
    const BEGIN: &'static str;
    /// The statement that opens a batch of reads' traces alone (no use case in it).
    const BEGIN_BATCH: &'static str;
    async fn run(&mut self, sql: &'static str) -> Result<(), sqlx::Error>;
    /// Writes the batch's deferred work: receipts, notifications read, audit
    /// events; returns the audit chains' new heads.
    async fn write_deferred(&mut self, deferred: &Deferred) -> Result<Vec<ChainHead>, StoreError>;
    /// Writes the deferred work and commits in one round trip, linking the
    /// audit events after the `known` heads: opening the batch first unless
    /// `open`, and, if `open`, inside the savepoint `deferred_work` so that a
    /// failure before the COMMIT can be undone without the use cases' work.
    /// `Ok(None)`: not tried (the backend cannot send statements with binds
    /// together, or a chain's head is not known), nothing was sent.
    async fn commit_at_once(
        &mut self,
        _deferred: &Deferred,
        _open: bool,
        _known: &KnownHeads,
    ) -> Result<Option<Vec<ChainHead>>, StoreError> {
        Ok(None)
    }
}

/// Implements [`WriterConnection`] for a backend's connection type, with the
/// statement that opens its batches; the queries are the backend module's
/// (stamped out by `sql.rs`).
macro_rules! impl_writer_connection {
    ($conn:ty, $begin:literal $(, at_once: $at_once:path)?) => {
        #[async_trait::async_trait]
        impl $crate::group_commit::WriterConnection for $conn {
            const BEGIN: &'static str = concat!($begin, "; SAVEPOINT use_case");
            const BEGIN_BATCH: &'static str = $begin;
            async fn run(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
                sqlx::raw_sql(sql).execute(self).await.map(|_| ())
            }
            async fn write_deferred(
                &mut self,
                deferred: &$crate::group_commit::Deferred,
            ) -> Result<Vec<$crate::records::ChainHead>, $crate::StoreError> {
                mark_read_on(self, &deferred.receipts).await?;
                mark_notifications_read_on(self, &deferred.opened).await?;
                let audits: Vec<&tsunagu_domain::audit::AuditRecord> = deferred.audits.iter().collect();
                append_audits_to(self, &audits).await
            }
            $(
                async fn commit_at_once(
                    &mut self,
                    deferred: &$crate::group_commit::Deferred,
                    open: bool,
                    known: &$crate::audit_chain::KnownHeads,
                ) -> Result<Option<Vec<$crate::records::ChainHead>>, $crate::StoreError> {
                    $at_once(self, deferred, open, known).await
                }
            )?
        }
    };
}
pub(crate) use impl_writer_connection;

/// Work written for the whole batch just before its COMMIT, a few statements
/// for all: the use cases' audit events, and everything reads leave behind.
#[derive(Default)]
pub(crate) struct Deferred {
    pub(crate) audits: Vec<AuditRecord>,
    pub(crate) receipts: Vec<EntryRead>,
    pub(crate) opened: Vec<PatientRead>,
}

impl Deferred {
    fn is_empty(&self) -> bool {
        self.audits.is_empty() && self.receipts.is_empty() && self.opened.is_empty()
    }

    fn append(&mut self, other: &mut Deferred) {
        self.audits.append(&mut other.audits);
        self.receipts.append(&mut other.receipts);
        self.opened.append(&mut other.opened);
    }
}

/// Reads waiting for the next batch: handed over without taking the writer.
#[derive(Default)]
struct WaitingReads {
    deferred: Deferred,
    waiting: Vec<oneshot::Sender<Outcome>>,
}

type Outcome = Result<(), String>;

pub(crate) struct Writer<C> {
    conn: C,
    /// Whether a batch transaction is open on `conn`.
    open: bool,
    /// A use case ended without committing: its savepoint must be undone
    /// before anyone else uses the connection.
    abandoned: bool,
    /// A use case committed: its savepoint is still to be released, together
    /// with the next use case's SAVEPOINT or before the batch's COMMIT (one
    /// round trip less per use case on the serial path).
    releasing: bool,
    /// Use cases whose work is in the open batch, waiting for its commit.
    waiting: Vec<oneshot::Sender<Outcome>>,
    /// Their audit events and the batch's reads' traces, written together
    /// just before its COMMIT: a few statements per batch instead of per use case.
    deferred: Deferred,
    /// The audit chains' heads as this writer last committed them.
    heads: KnownHeads,
    reconnect: Reconnect<C>,
    /// Batches committed so far.
    batches: Arc<AtomicU64>,
}

impl<C: WriterConnection> Writer<C> {
    /// Releases a committed use case's savepoint and undoes an abandoned one;
    /// if either fails the batch is lost (nobody in it is acknowledged).
    async fn tidy(&mut self) {
        if self.releasing {
            self.releasing = false;
            if let Err(e) = self.conn.run("RELEASE SAVEPOINT use_case").await {
                self.fail_batch(&e.to_string()).await;
            }
        }
        if !self.abandoned {
            return;
        }
        self.abandoned = false;
        let undone = match self.conn.run("ROLLBACK TO SAVEPOINT use_case").await {
            Ok(()) => self.conn.run("RELEASE SAVEPOINT use_case").await,
            Err(e) => Err(e),
        };
        if let Err(e) = undone {
            self.fail_batch(&e.to_string()).await;
        }
    }

    async fn fail_batch(&mut self, why: &str) {
        tracing::error!(error = why, "group commit: batch rolled back");
        if self.open {
            // The transaction may already be gone; either way it is over.
            let _ = self.conn.run("ROLLBACK").await;
            self.open = false;
        }
        self.releasing = false;
        self.deferred = Deferred::default();
        self.heads.forget();
        for waiter in self.waiting.drain(..) {
            let _ = waiter.send(Err(why.to_owned()));
        }
    }

    /// Commits the open batch with the reads waiting now (or rolls it back
    /// if nobody is waiting on it).
    async fn settle(&mut self, reads: &std::sync::Mutex<WaitingReads>) {
        self.tidy().await;
        if let Ok(mut waiting) = reads.lock() {
            self.deferred.append(&mut waiting.deferred);
            self.waiting.append(&mut waiting.waiting);
        }
        if self.waiting.is_empty() {
            self.deferred = Deferred::default();
            if self.open {
                if let Err(e) = self.conn.run("ROLLBACK").await {
                    tracing::warn!(error = %e, "group commit: rolling back an empty batch failed");
                }
                self.open = false;
            }
            return;
        }
        let deferred = std::mem::take(&mut self.deferred);
        match self.conn.commit_at_once(&deferred, self.open, &self.heads).await {
            Ok(Some(heads)) => {
                self.open = false;
                self.committed(heads);
                return;
            }
            Ok(None) => {}
            Err(e) => {
                // A stale head (another connection appended) or a real failure:
                // undo what was sent, then write the batch step by step.
                tracing::debug!(error = %e, "group commit: writing the batch at once failed; step by step");
                self.heads.forget();
                if self.open {
                    if let Err(e) =
                        self.conn.run("ROLLBACK TO SAVEPOINT deferred_work; RELEASE SAVEPOINT deferred_work").await
                    {
                        self.fail_batch(&e.to_string()).await;
                        return;
                    }
                } else if let Err(e) = self.conn.run("ROLLBACK").await {
                    tracing::debug!(error = %e, "group commit: nothing to roll back");
                }
            }
        }
        if !self.open {
            // Only reads are waiting: a batch of their own.
            if let Err(e) = self.conn.run(C::BEGIN_BATCH).await {
                tracing::warn!(error = %e, "the writer connection failed; opening a new one");
                let reopened = match (self.reconnect)().await {
                    Ok(conn) => {
                        self.conn = conn;
                        self.conn.run(C::BEGIN_BATCH).await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = reopened {
                    self.fail_batch(&e.to_string()).await;
                    return;
                }
            }
            self.open = true;
        }
        let mut heads = Vec::new();
        if !deferred.is_empty() {
            match self.conn.write_deferred(&deferred).await {
                Ok(written) => heads = written,
                Err(e) => {
                    // Nobody in the batch is answered without their audit events.
                    self.fail_batch(&e.to_string()).await;
                    return;
                }
            }
        }
        match self.conn.run("COMMIT").await {
            Ok(()) => {
                self.open = false;
                self.committed(heads);
            }
            Err(e) => self.fail_batch(&e.to_string()).await,
        }
    }

    /// The batch is durable: everyone in it is answered.
    fn committed(&mut self, heads: Vec<ChainHead>) {
        self.heads.learn(heads);
        self.batches.fetch_add(1, Ordering::Relaxed);
        for waiter in self.waiting.drain(..) {
            let _ = waiter.send(Ok(()));
        }
    }
}

/// The writer connection and its flusher.
pub(crate) struct GroupCommit<C> {
    writer: Arc<Mutex<Writer<C>>>,
    flush: Arc<Notify>,
    reads: Arc<std::sync::Mutex<WaitingReads>>,
    /// Batches committed so far (each one fsync).
    pub(crate) batches: Arc<AtomicU64>,
}

impl<C: WriterConnection> GroupCommit<C> {
    /// Takes over `conn` and starts the flusher on a thread of its own;
    /// `reconnect` opens a replacement when the connection is lost.
    pub(crate) fn start(conn: C, reconnect: Reconnect<C>) -> Result<Self, std::io::Error> {
        let batches = Arc::new(AtomicU64::new(0));
        let writer = Arc::new(Mutex::new(Writer {
            conn,
            open: false,
            abandoned: false,
            releasing: false,
            waiting: Vec::new(),
            deferred: Deferred::default(),
            heads: KnownHeads::default(),
            reconnect,
            batches: batches.clone(),
        }));
        let flush = Arc::new(Notify::new());
        let reads = Arc::new(std::sync::Mutex::new(WaitingReads::default()));
        let task = flusher(Arc::downgrade(&writer), flush.clone(), reads.clone());
        // The flusher runs on a thread of its own: on the request runtime,
        // each of its round trips' replies queued behind every ready request
        // task, and the commits (which every waiting request needs) came
        // late. Measured: audited reads +10–60 % (docs/performance.md).
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        std::thread::Builder::new().name("tsunagu-group-commit".into()).spawn(move || runtime.block_on(task))?;
        Ok(Self { writer, flush, reads, batches })
    }

    /// Opens the writer connection from `options`, which also serve to reconnect.
    pub(crate) async fn open<O>(options: O) -> Result<Self, sqlx::Error>
    where
        O: sqlx::ConnectOptions<Connection = C> + Clone + Send + Sync + 'static,
    {
        let conn = options.connect().await?;
        let reconnect: Reconnect<C> = Box::new(move || {
            let options = options.clone();
            Box::pin(async move { options.connect().await })
        });
        Ok(Self::start(conn, reconnect)?)
    }

    /// Joins the open batch (opening one if needed) in a fresh savepoint.
    pub(crate) async fn begin(&self) -> Result<WriteSlot<C>, StoreError> {
        let mut writer = tokio::time::timeout(WRITER_WAIT, self.writer.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Batch("timed out waiting for the writer".into()))?;
        if writer.releasing && !writer.abandoned {
            // The previous use case's RELEASE and this one's SAVEPOINT in one
            // round trip. Which of the two ran is unknown if it fails, so the
            // batch fails as a whole: undoing the wrong savepoint could lose
            // a committed use case's work.
            writer.releasing = false;
            if let Err(e) = writer.conn.run("RELEASE SAVEPOINT use_case; SAVEPOINT use_case").await {
                writer.fail_batch(&e.to_string()).await;
                return Err(e.into());
            }
            return Ok(WriteSlot { writer: Some(writer), flush: self.flush.clone(), audits: Vec::new() });
        }
        writer.tidy().await;
        if writer.open {
            if let Err(e) = writer.conn.run("SAVEPOINT use_case").await {
                // Let the flusher finish the batch for those already in it.
                self.flush.notify_one();
                return Err(e.into());
            }
        } else if let Err(e) = writer.conn.run(C::BEGIN).await {
            // No batch is open, so nothing is lost by replacing the connection
            // (if only the savepoint failed, the old connection's transaction goes with it).
            tracing::warn!(error = %e, "the writer connection failed; opening a new one");
            writer.conn = (writer.reconnect)().await?;
            writer.conn.run(C::BEGIN).await?;
            writer.open = true;
        } else {
            writer.open = true;
        }
        Ok(WriteSlot { writer: Some(writer), flush: self.flush.clone(), audits: Vec::new() })
    }
}

impl<C: WriterConnection> GroupCommit<C> {
    /// Hands a read's trace to the next batch and returns once it is durable.
    pub(crate) async fn record_read(&self, trace: ReadTrace) -> Result<(), StoreError> {
        let (done, outcome) = oneshot::channel();
        {
            let mut reads = self.reads.lock().map_err(|_| StoreError::Batch("the read queue is poisoned".into()))?;
            reads.deferred.audits.push(trace.audit);
            reads.deferred.receipts.extend(trace.receipts);
            reads.deferred.opened.extend(trace.opened);
            reads.waiting.push(done);
        }
        self.flush.notify_one();
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(StoreError::Batch(why)),
            Err(_) => Err(StoreError::Batch("the writer stopped before the commit".into())),
        }
    }
}

impl<C> Drop for GroupCommit<C> {
    fn drop(&mut self) {
        // Wakes the flusher so that it sees the writer gone and stops.
        self.flush.notify_one();
    }
}

async fn flusher<C: WriterConnection>(
    writer: Weak<Mutex<Writer<C>>>,
    flush: Arc<Notify>,
    reads: Arc<std::sync::Mutex<WaitingReads>>,
) {
    loop {
        flush.notified().await;
        let Some(writer) = writer.upgrade() else { return };
        writer.lock().await.settle(&reads).await;
    }
}

/// One use case's place in the batch: the writer connection, held until the
/// use case commits or is dropped.
pub(crate) struct WriteSlot<C: WriterConnection> {
    writer: Option<OwnedMutexGuard<Writer<C>>>,
    flush: Arc<Notify>,
    /// This use case's audit events, handed to the batch when it commits.
    audits: Vec<AuditRecord>,
}

impl<C: WriterConnection> WriteSlot<C> {
    pub(crate) fn conn(&mut self) -> &mut C {
        // The guard is only taken by `commit`, which consumes the slot.
        match self.writer.as_mut() {
            Some(writer) => &mut writer.conn,
            None => unreachable!("a write slot is used after its commit"),
        }
    }

    /// Audit events of this use case: appended to their chains in the batch's
    /// transaction just before its COMMIT, or never if the use case is undone.
    pub(crate) fn defer_audits(&mut self, records: &[&AuditRecord]) {
        self.audits.extend(records.iter().map(|r| (*r).clone()));
    }

    /// Keeps this use case's work and returns once it is durable.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        let Some(mut writer) = self.writer.take() else { return Err(StoreError::Batch("already committed".into())) };
        // Released by whoever uses the connection next (`GroupCommit::begin`,
        // `Writer::tidy`), before anything else runs on it.
        writer.releasing = true;
        let (done, outcome) = oneshot::channel();
        writer.waiting.push(done);
        writer.deferred.audits.append(&mut self.audits);
        drop(writer);
        self.flush.notify_one();
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(StoreError::Batch(why)),
            Err(_) => Err(StoreError::Batch("the writer stopped before the commit".into())),
        }
    }
}

impl<C: WriterConnection> Drop for WriteSlot<C> {
    fn drop(&mut self) {
        if let Some(mut writer) = self.writer.take() {
            writer.abandoned = true;
            drop(writer);
            // The flusher undoes it even if nobody else comes.
            self.flush.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{Connection, SqliteConnection};

    async fn open() -> (std::path::PathBuf, GroupCommit<SqliteConnection>) {
        let path = std::env::temp_dir().join(format!("tsunagu-group-commit-{}.db", uuid::Uuid::now_v7()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut conn = SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .execute(&mut conn)
            .await
            .unwrap();
        let reconnect: Reconnect<SqliteConnection> = Box::new(move || {
            let url = url.clone();
            Box::pin(async move { SqliteConnection::connect(&url).await })
        });
        (path, GroupCommit::start(conn, reconnect).unwrap())
    }

    async fn count_from_another_connection(path: &std::path::Path) -> i64 {
        let mut other = SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut other).await.unwrap()
    }

    async fn insert(slot: &mut WriteSlot<SqliteConnection>, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO t (id, v) VALUES ($1, 'x')").bind(id).execute(slot.conn()).await.map(|_| ())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_acknowledged_write_is_committed_and_batches_are_shared() {
        let (path, writer) = open().await;
        let writer = Arc::new(writer);
        let mut tasks = Vec::new();
        for id in 0..200 {
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                let mut slot = writer.begin().await.unwrap();
                insert(&mut slot, id).await.unwrap();
                slot.commit().await
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        // Acknowledged means committed: another connection sees all of them.
        assert_eq!(count_from_another_connection(&path).await, 200);
        let batches = writer.batches.load(std::sync::atomic::Ordering::Relaxed);
        assert!(batches < 200, "200 concurrent writes took {batches} commits: nothing was batched");
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn a_use_case_that_fails_or_is_dropped_undoes_only_its_own_work() {
        let (path, writer) = open().await;
        let mut first = writer.begin().await.unwrap();
        insert(&mut first, 1).await.unwrap();
        let kept = tokio::spawn(first.commit());
        // Queued behind the first, in the same batch: a conflict, then a drop.
        let mut second = writer.begin().await.unwrap();
        assert!(insert(&mut second, 1).await.is_err(), "the duplicate key is refused");
        insert(&mut second, 2).await.unwrap();
        drop(second);
        let mut third = writer.begin().await.unwrap();
        insert(&mut third, 3).await.unwrap();
        third.commit().await.unwrap();
        kept.await.unwrap().unwrap();
        let mut other = SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM t ORDER BY id").fetch_all(&mut other).await.unwrap();
        assert_eq!(ids, vec![1, 3]);
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn an_abandoned_batch_does_not_keep_the_write_lock() {
        let (path, writer) = open().await;
        let mut slot = writer.begin().await.unwrap();
        insert(&mut slot, 1).await.unwrap();
        drop(slot);
        // The flusher rolls the empty batch back; another connection can write.
        let mut other = SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        sqlx::raw_sql("PRAGMA busy_timeout = 5000").execute(&mut other).await.unwrap();
        sqlx::query("INSERT INTO t (id, v) VALUES (9, 'y')").execute(&mut other).await.unwrap();
        assert_eq!(count_from_another_connection(&path).await, 1);
        let _ = std::fs::remove_file(path);
    }
}
