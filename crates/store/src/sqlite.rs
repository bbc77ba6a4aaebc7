//! The embedded SQLite backend: one file, WAL journal, `synchronous = FULL`
//! so that an acknowledged commit survives power loss.

use crate::sql::{TIMELINE_SELECT, impl_store_tx};
use crate::{Store, StoreError, StoreTx};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    pool: SqlitePool,
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
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

impl_store_tx!(SqliteTx, Sqlite);

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        // IMMEDIATE takes the write lock now: a deferred transaction that read
        // first could not later upgrade if another writer committed meanwhile.
        let inner = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTx { inner }))
    }

    async fn begin_read(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        let inner = self.pool.begin().await?;
        Ok(Box::new(SqliteTx { inner }))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}
