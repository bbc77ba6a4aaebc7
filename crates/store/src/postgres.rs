//! The PostgreSQL backend, for installations that outgrow one machine.

use crate::changes::CHANNEL;
use crate::group_commit::GroupCommit;
use crate::sql::impl_store_tx;
use crate::{Change, ChangeFeed, Store, StoreError, StoreTx};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres};
use std::str::FromStr;
use std::time::Duration;

/// Reads run on a pool; writes go through one writer connection with group
/// commit (see [`crate::group_commit`]): audited writes of one municipality
/// serialise on its audit-chain head anyway, so one writer loses nothing and
/// shares each commit's WAL flush among many requests.
pub struct PostgresStore {
    pool: PgPool,
    writer: GroupCommit<PgConnection>,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let writer = GroupCommit::open(options).await?;
        Ok(Self { pool, writer })
    }
}

impl_store_tx!(PostgresTx, Postgres);

// One prepared statement a query here: a patient's scope and a posted entry
// go statement by statement (SQLite sends each as one query: `sqlite.rs`).
async fn patient_scope_on(
    conn: &mut PgConnection,
    id: uuid::Uuid,
    now: time::OffsetDateTime,
) -> Result<Option<crate::PatientScopeRows>, StoreError> {
    patient_scope_step_by_step(conn, id, now).await
}

async fn insert_posted_entry_on(
    conn: &mut PgConnection,
    e: &crate::NewEntry,
    notifications: &[crate::NewNotification],
    mails: &[(uuid::Uuid, uuid::Uuid)],
) -> Result<(), StoreError> {
    insert_posted_entry_step_by_step(conn, e, notifications, mails).await
}

/// The other instances' announcements, on a connection of its own (LISTEN).
struct Announcements(PgListener);

#[async_trait]
impl ChangeFeed for Announcements {
    async fn next(&mut self) -> Result<Option<Change>, StoreError> {
        loop {
            // `None`: the connection was lost; the listener makes a new one
            // (and listens again) on the next call, but what was announced
            // meanwhile is gone.
            let Some(notification) = self.0.try_recv().await? else { return Ok(None) };
            if let Some(change) = Change::parse(notification.payload()) {
                return Ok(Some(change));
            }
        }
    }
}

crate::group_commit::impl_writer_connection!(sqlx::PgConnection, "BEGIN");
crate::backup_system::impl_backup_system_tx!(PostgresTx, Postgres);
crate::registry::impl_registry_tx!(PostgresTx, Postgres);
crate::coordination::impl_coordination_tx!(PostgresTx, Postgres);
crate::public_pages::impl_public_pages_tx!(PostgresTx);
crate::rate_usage::impl_rate_usage_tx!(PostgresTx);
crate::analysis::impl_analysis_tx!(PostgresTx);
crate::interop::impl_interop_tx!(PostgresTx, Postgres);
crate::public_map::impl_public_map_tx!(PostgresTx, Postgres);

#[async_trait]
impl Store for PostgresStore {
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        Ok(Box::new(PostgresTx::Write(self.writer.begin().await?)))
    }

    async fn begin_read(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        Ok(Box::new(PostgresTx::Read(self.pool.begin().await?)))
    }

    async fn reader(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        Ok(Box::new(PostgresTx::Plain(self.pool.acquire().await?)))
    }

    async fn optimize_after_import(&self, tables: &[&'static str]) -> Result<(), StoreError> {
        // VACUUM cannot run in a transaction: a plain pooled connection. The
        // names are the caller's constants, never input.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("VACUUM (ANALYZE) {}", tables.join(", "))))
            .execute(&self.pool)
            .await?;
        // Write the import's dirty pages out now rather than in a checkpoint
        // during the first busy minutes. Needs the pg_checkpoint role (or
        // superuser): without it the next scheduled checkpoint does the same.
        if let Err(e) = sqlx::raw_sql("CHECKPOINT").execute(&self.pool).await {
            tracing::info!(error = %e, "no CHECKPOINT after the import (not permitted); PostgreSQL will do it later");
        }
        Ok(())
    }

    async fn backup_to(&self, _path: &str) -> Result<(), StoreError> {
        Err(StoreError::Unsupported(
            "on PostgreSQL, back up with pg_dump (see docs/backup.md); tsunagu backup is for SQLite installations",
        ))
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
        "postgres"
    }

    async fn announce(&self, change: Change) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(change.code()).execute(&self.pool).await?;
        Ok(())
    }

    async fn change_feed(&self) -> Result<Option<Box<dyn ChangeFeed>>, StoreError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(Box::new(Announcements(listener))))
    }
}
