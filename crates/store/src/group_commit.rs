//! Group commit: the work of many use cases in one database transaction and
//! one fsync, each use case acknowledged only once that transaction is durable.
//!
//! Every write goes through one writer connection. A use case runs inside a
//! savepoint of the open batch transaction, so its failure undoes only its own
//! work; committing it releases the savepoint and then *waits* for the batch.
//! A flusher task commits the batch as soon as it gets the writer: the writer
//! lock is fair (first come, first served), so every use case that queued
//! while the previous batch was being written to disk runs before the flusher
//! and rides on the same fsync. Under no load a batch is one use case, and the
//! added latency is one task hop; under load, the cost of the fsync is shared.
//!
//! Nothing acknowledged can be lost: `commit` returns only after `COMMIT`
//! returned; if it fails, every use case of the batch gets the error.
//!
//! If the writer connection is lost (PostgreSQL restarted, a network blip),
//! the next batch opens a new one; a use case never waits for the writer
//! longer than [`WRITER_WAIT`] (an error, not a hang).

use crate::StoreError;
use async_trait::async_trait;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, oneshot};

/// The longest a use case waits for its turn at the writer.
pub(crate) const WRITER_WAIT: Duration = Duration::from_secs(30);

type Reconnect<C> = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<C, sqlx::Error>> + Send>> + Send + Sync>;

/// The few raw statements group commit needs, per backend.
#[async_trait]
pub(crate) trait WriterConnection: Send + 'static {
    /// The statement that opens a batch (SQLite takes its write lock at once).
    const BEGIN: &'static str;
    async fn run(&mut self, sql: &'static str) -> Result<(), sqlx::Error>;
}

#[async_trait]
impl WriterConnection for sqlx::SqliteConnection {
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    async fn run(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(sql).execute(self).await.map(|_| ())
    }
}

#[async_trait]
impl WriterConnection for sqlx::PgConnection {
    const BEGIN: &'static str = "BEGIN";
    async fn run(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(sql).execute(self).await.map(|_| ())
    }
}

type Outcome = Result<(), String>;

pub(crate) struct Writer<C> {
    conn: C,
    /// Whether a batch transaction is open on `conn`.
    open: bool,
    /// A use case ended without committing: its savepoint must be undone
    /// before anyone else uses the connection.
    abandoned: bool,
    /// Use cases whose work is in the open batch, waiting for its commit.
    waiting: Vec<oneshot::Sender<Outcome>>,
    /// Batches committed so far.
    batches: Arc<AtomicU64>,
}

impl<C: WriterConnection> Writer<C> {
    /// Undoes an abandoned use case; if even that fails the batch is lost.
    async fn tidy(&mut self) {
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
        for waiter in self.waiting.drain(..) {
            let _ = waiter.send(Err(why.to_owned()));
        }
    }

    /// Commits the open batch (or rolls it back if no use case is waiting on it).
    async fn settle(&mut self) {
        self.tidy().await;
        if !self.open {
            return;
        }
        if self.waiting.is_empty() {
            if let Err(e) = self.conn.run("ROLLBACK").await {
                tracing::warn!(error = %e, "group commit: rolling back an empty batch failed");
            }
            self.open = false;
            return;
        }
        match self.conn.run("COMMIT").await {
            Ok(()) => {
                self.open = false;
                self.batches.fetch_add(1, Ordering::Relaxed);
                for waiter in self.waiting.drain(..) {
                    let _ = waiter.send(Ok(()));
                }
            }
            Err(e) => self.fail_batch(&e.to_string()).await,
        }
    }
}

/// The writer connection and its flusher.
pub(crate) struct GroupCommit<C> {
    writer: Arc<Mutex<Writer<C>>>,
    flush: Arc<Notify>,
    reconnect: Reconnect<C>,
    /// Batches committed so far (each one fsync).
    pub(crate) batches: Arc<AtomicU64>,
}

impl<C: WriterConnection> GroupCommit<C> {
    /// Takes over `conn` and starts the flusher on the current Tokio runtime;
    /// `reconnect` opens a replacement when the connection is lost.
    pub(crate) fn start(conn: C, reconnect: Reconnect<C>) -> Self {
        let batches = Arc::new(AtomicU64::new(0));
        let writer = Arc::new(Mutex::new(Writer {
            conn,
            open: false,
            abandoned: false,
            waiting: Vec::new(),
            batches: batches.clone(),
        }));
        let flush = Arc::new(Notify::new());
        tokio::spawn(flusher(Arc::downgrade(&writer), flush.clone()));
        Self { writer, flush, reconnect, batches }
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
        Ok(Self::start(conn, reconnect))
    }

    /// Joins the open batch (opening one if needed) in a fresh savepoint.
    pub(crate) async fn begin(&self) -> Result<WriteSlot<C>, StoreError> {
        let mut writer = tokio::time::timeout(WRITER_WAIT, self.writer.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Batch("timed out waiting for the writer".into()))?;
        writer.tidy().await;
        if !writer.open {
            if let Err(e) = writer.conn.run(C::BEGIN).await {
                // No batch is open, so nothing is lost by replacing the connection.
                tracing::warn!(error = %e, "the writer connection failed; opening a new one");
                writer.conn = (self.reconnect)().await?;
                writer.conn.run(C::BEGIN).await?;
            }
            writer.open = true;
        }
        if let Err(e) = writer.conn.run("SAVEPOINT use_case").await {
            // Let the flusher finish the batch for those already in it.
            self.flush.notify_one();
            return Err(e.into());
        }
        Ok(WriteSlot { writer: Some(writer), flush: self.flush.clone() })
    }
}

impl<C> Drop for GroupCommit<C> {
    fn drop(&mut self) {
        // Wakes the flusher so that it sees the writer gone and stops.
        self.flush.notify_one();
    }
}

async fn flusher<C: WriterConnection>(writer: Weak<Mutex<Writer<C>>>, flush: Arc<Notify>) {
    loop {
        flush.notified().await;
        let Some(writer) = writer.upgrade() else { return };
        writer.lock().await.settle().await;
    }
}

/// One use case's place in the batch: the writer connection, held until the
/// use case commits or is dropped.
pub(crate) struct WriteSlot<C: WriterConnection> {
    writer: Option<OwnedMutexGuard<Writer<C>>>,
    flush: Arc<Notify>,
}

impl<C: WriterConnection> WriteSlot<C> {
    pub(crate) fn conn(&mut self) -> &mut C {
        // The guard is only taken by `commit`, which consumes the slot.
        match self.writer.as_mut() {
            Some(writer) => &mut writer.conn,
            None => unreachable!("a write slot is used after its commit"),
        }
    }

    /// Keeps this use case's work and returns once it is durable.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        let Some(mut writer) = self.writer.take() else { return Err(StoreError::Batch("already committed".into())) };
        if let Err(e) = writer.conn.run("RELEASE SAVEPOINT use_case").await {
            writer.abandoned = true;
            drop(writer);
            self.flush.notify_one();
            return Err(e.into());
        }
        let (done, outcome) = oneshot::channel();
        writer.waiting.push(done);
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
        (path, GroupCommit::start(conn, reconnect))
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
