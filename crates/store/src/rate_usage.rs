//! How much of each rate limit every instance has used in the current minute,
//! so that several instances on one database limit a client together (issue 7:
//! "several instances behave as one installation"). Each instance adds what it
//! used about once a second and reads what the others used; the buckets stay
//! in memory. A trait of its own (a supertrait of [`crate::StoreTx`]).

use crate::StoreError;
use async_trait::async_trait;
use uuid::Uuid;

#[async_trait]
pub trait RateUsageTx: Send {
    /// Adds `used` to this instance's count for `(limiter, key)` in the minute `window`.
    async fn add_rate_usage(
        &mut self,
        instance: Uuid,
        window: i64,
        limiter: &str,
        key: &str,
        used: i64,
    ) -> Result<(), StoreError>;
    /// What the other instances used in the minute `window`, per `(limiter,
    /// key)`: the `limit` busiest.
    async fn rate_usage_of_others(
        &mut self,
        instance: Uuid,
        window: i64,
        limit: i64,
    ) -> Result<Vec<(String, String, i64)>, StoreError>;
    /// Forgets the counts of minutes before `window`.
    async fn forget_rate_usage(&mut self, window: i64) -> Result<u64, StoreError>;
}

macro_rules! impl_rate_usage_tx {
    ($tx:ident) => {
        #[async_trait::async_trait]
        impl $crate::rate_usage::RateUsageTx for $tx {
            async fn add_rate_usage(
                &mut self,
                instance: uuid::Uuid,
                window: i64,
                limiter: &str,
                key: &str,
                used: i64,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO rate_usage (limiter, key, window_start, instance, used) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (limiter, key, window_start, instance) DO UPDATE SET used = rate_usage.used + excluded.used",
                )
                .bind(limiter)
                .bind(key)
                .bind(window)
                .bind(instance)
                .bind(used)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn rate_usage_of_others(
                &mut self,
                instance: uuid::Uuid,
                window: i64,
                limit: i64,
            ) -> Result<Vec<(String, String, i64)>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT limiter, key, CAST(SUM(used) AS BIGINT) AS total FROM rate_usage \
                     WHERE window_start = $1 AND instance <> $2 GROUP BY limiter, key ORDER BY total DESC LIMIT $3",
                )
                .bind(window)
                .bind(instance)
                .bind(limit)
                .fetch_all(self.conn())
                .await?)
            }

            async fn forget_rate_usage(&mut self, window: i64) -> Result<u64, $crate::StoreError> {
                Ok(sqlx::query("DELETE FROM rate_usage WHERE window_start < $1")
                    .bind(window)
                    .execute(self.conn())
                    .await?
                    .rows_affected())
            }
        }
    };
}

pub(crate) use impl_rate_usage_tx;
