//! The embedded SQLite backend: one file, WAL journal, `synchronous = FULL`
//! so that an acknowledged commit survives power loss. Reads run on a pool of
//! connections in parallel; writes go through one writer connection with
//! group commit (see [`crate::group_commit`]).

use crate::group_commit::GroupCommit;
use crate::sql::{TIMELINE_SELECT, impl_store_tx};
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

crate::group_commit::impl_writer_connection!(sqlx::SqliteConnection, "BEGIN IMMEDIATE");
crate::backup_system::impl_backup_system_tx!(SqliteTx, Sqlite);
crate::registry::impl_registry_tx!(SqliteTx, Sqlite);
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
