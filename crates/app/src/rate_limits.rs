//! Rate limits shared by the instances of one installation. The buckets live
//! in each instance's memory (the web layer); about once a second each
//! instance adds what it used to the database and learns what the others used
//! of the same limits, so a client spread over several instances gets one
//! budget, not one per instance.

use crate::{App, AppError};
use uuid::Uuid;

/// What one instance used of one limit for one key (a client address, an API
/// token's hash) since it last shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateUsage {
    pub limiter: &'static str,
    pub key: String,
    pub used: i64,
}

/// At most this many keys are shared at a time (the busiest; see the web layer).
pub const MAX_SHARED_KEYS: usize = 1_000;

/// What the other instances used of one limit for one key in the current minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OthersUsage {
    pub limiter: String,
    pub key: String,
    pub used: i64,
}

impl App {
    /// Adds what this instance used and answers what the other instances used
    /// in the current minute (the busiest keys first), with the minute itself
    /// (counts start again each minute).
    pub async fn share_rate_usage(
        &self,
        instance: Uuid,
        usage: &[RateUsage],
    ) -> Result<(i64, Vec<OthersUsage>), AppError> {
        let window = self.now().unix_timestamp().div_euclid(60);
        let mut tx = self.begin_keeping_all().await?;
        for u in usage.iter().take(MAX_SHARED_KEYS).filter(|u| u.used > 0) {
            tx.add_rate_usage(instance, window, u.limiter, &u.key, u.used).await?;
        }
        let others = tx.rate_usage_of_others(instance, window, MAX_SHARED_KEYS as i64).await?;
        tx.forget_rate_usage(window - 1).await?;
        tx.commit().await?;
        Ok((window, others.into_iter().map(|(limiter, key, used)| OthersUsage { limiter, key, used }).collect()))
    }
}
