use thiserror::Error;
use tsunagu_domain::ValidationError;
use tsunagu_store::StoreError;

/// What can go wrong in a use case. The web layer maps each variant to an
/// HTTP status once, and translates `code`s for the user.
#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The thing does not exist, or the actor may not know that it exists.
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// Not signed in, or the session has expired.
    #[error("not signed in")]
    Unauthenticated,
    /// Sign-in refused; deliberately says nothing about which part was wrong.
    #[error("sign-in refused")]
    SignInRefused,
    /// Too many failures recently; try again later.
    #[error("too many attempts")]
    Throttled,
    /// A value that must be unique is taken (`field` names it).
    #[error("{field} is already in use")]
    Conflict { field: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// A policy's refusal as the user is answered: "forbidden", or "not found"
/// where even the thing's existence is not theirs to know.
impl From<tsunagu_domain::record_access::Refusal> for AppError {
    fn from(refusal: tsunagu_domain::record_access::Refusal) -> Self {
        match refusal {
            tsunagu_domain::record_access::Refusal::Denied => AppError::Forbidden,
            tsunagu_domain::record_access::Refusal::Hidden => AppError::NotFound,
        }
    }
}

impl AppError {
    /// Maps a store conflict to a conflict on the named form field.
    pub(crate) fn conflict_on(field: &'static str) -> impl FnOnce(StoreError) -> AppError {
        move |e| match e {
            StoreError::Conflict => AppError::Conflict { field },
            other => AppError::Store(other),
        }
    }
}
