use thiserror::Error;

/// Input that cannot become a domain value. `code` is stable and is what the
/// UI translates (ja/en); `field` names the form field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {field}: {code}")]
pub struct ValidationError {
    pub field: &'static str,
    pub code: &'static str,
}

impl ValidationError {
    pub const fn new(field: &'static str, code: &'static str) -> Self {
        Self { field, code }
    }
}
