use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write (e.g. a login id already taken).
    #[error("conflict with an existing row")]
    Conflict,
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The batch this write was committed in failed; nothing of it was kept.
    #[error("the write could not be committed: {0}")]
    Batch(String),
    /// The backend cannot do this (the message says what to use instead).
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("stored value is unreadable: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e.as_database_error() {
            Some(db) if db.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Database(e),
        }
    }
}
