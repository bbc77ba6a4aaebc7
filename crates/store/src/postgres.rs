//! The PostgreSQL backend, for installations that outgrow one machine.

use crate::sql::{TIMELINE_SELECT, impl_store_tx};
use crate::{Store, StoreError, StoreTx};
use async_trait::async_trait;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};
use std::time::Duration;

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }
}

impl_store_tx!(PostgresTx, Postgres);

#[async_trait]
impl Store for PostgresStore {
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        let inner = self.pool.begin().await?;
        Ok(Box::new(PostgresTx { inner }))
    }

    async fn begin_read(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        self.begin().await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}
