//! tsunagu's use cases. One public function per thing a user does; each
//! checks access once (with the domain's policy), runs in one transaction and
//! appends its audit event in that same transaction.

mod accounts;
pub mod analysis;
pub mod api_tokens;
pub mod attachments;
mod audit;
pub mod backup;
pub mod credentials;
mod demo;
mod error;
pub mod escalation;
mod facilities;
pub mod fhir;
mod kept;
mod kept_records;
pub mod mail;
mod municipalities;
pub mod on_call;
pub mod patients;
pub mod public_map;
pub mod public_pages;
pub mod rate_limits;
pub mod registry;
pub mod scale;
pub mod sealing;
mod session_cache;
mod sessions;
mod settings;
pub mod views;
mod write_tx;

pub use accounts::{AccountAdminForm, IssuedCode};
pub use audit::{ChainReport, VerifyReport};
pub use demo::{DemoAccount, DemoSummary};
pub use error::AppError;
pub use sessions::{Enrolment, Session, SessionStage, SignedIn};
pub use settings::{Settings, WebhookSettings};

use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tsunagu_domain::audit::{AuditAction, AuditRecord};
use tsunagu_domain::clock::{Clock, to_micros};
use tsunagu_domain::ids::{AccountId, MunicipalityId};
use tsunagu_store::Store;
use uuid::Uuid;

/// Where a request came from, for the audit log and throttling.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Public answers kept at most per kind (lists, renderings).
const PUBLIC_ANSWERS: usize = 4_096;

/// The application: the store, a clock and the settings. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Arc<Settings>,
    /// The public map's recent answers (public data only; see `kept.rs`).
    public_lists: Arc<kept::KeptAnswers<String, public_map::PublicList>>,
    /// The same answers as the web layer renders them (JSON), kept and forgotten with them.
    public_renderings: Arc<kept::KeptAnswers<String, Vec<u8>>>,
    /// Municipalities by code, as public URLs name them: they are created,
    /// never renamed or removed, so a found one is kept.
    municipalities_by_code: Arc<Mutex<std::collections::HashMap<String, (Uuid, public_map::PublicMunicipality)>>>,
    /// Recent session and token look-ups (see `session_cache.rs`).
    sessions: Arc<session_cache::SessionCache>,
    /// Who may read which record, recently looked up (see `kept_records.rs`).
    records: Arc<kept_records::KeptRecords>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        let public_lists = Arc::new(kept::KeptAnswers::new(settings.public_cache, PUBLIC_ANSWERS));
        let public_renderings = Arc::new(kept::KeptAnswers::new(settings.public_cache, PUBLIC_ANSWERS));
        let sessions = Arc::new(session_cache::SessionCache::new(settings.session_cache, session_cache::CAPACITY));
        let records = Arc::new(kept_records::KeptRecords::new(settings.session_cache, kept_records::CAPACITY));
        Self {
            store,
            clock,
            settings: Arc::new(settings),
            public_lists,
            public_renderings,
            municipalities_by_code: Arc::default(),
            sessions,
            records,
        }
    }

    /// Sessions, tokens, accounts, memberships or facilities changed: no
    /// remembered session look-up may be used any more.
    pub(crate) fn sessions_changed(&self) {
        self.sessions.clear();
    }

    /// Registry data changed: no kept public answer may be given any more.
    pub(crate) fn public_data_changed(&self) {
        self.public_lists.clear();
        self.public_renderings.clear();
    }

    /// The version of public data now: read it before rendering an answer to keep.
    pub fn public_version(&self) -> u64 {
        self.public_renderings.generation()
    }

    /// A public answer as rendered earlier under `key` (the same freshness as the answers).
    pub fn kept_public_rendering(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        self.public_renderings.get(key)
    }

    /// Keeps a rendering of public data made from answers read under `version`.
    pub fn keep_public_rendering(&self, key: String, rendering: Vec<u8>, version: u64) {
        self.public_renderings.put(key, Arc::new(rendering), version);
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Durable write batches since start (group commit: many use cases each).
    pub fn write_batches(&self) -> u64 {
        self.store.write_batches()
    }

    /// Whether the database answers (for /readyz).
    pub async fn ready(&self) -> bool {
        self.store.ping().await.is_ok()
    }
}

/// Who did something, as the audit log records it.
pub(crate) struct AuditActor<'a> {
    pub account_id: Option<AccountId>,
    pub label: &'a str,
    pub meta: &'a RequestMeta,
}

/// Builds an audit record; every use case goes through here.
pub(crate) fn audit_record(
    now: OffsetDateTime,
    municipality: Option<MunicipalityId>,
    actor: &AuditActor<'_>,
    action: AuditAction,
    target_kind: &'static str,
    target_id: Option<Uuid>,
    details: serde_json::Value,
) -> AuditRecord {
    AuditRecord {
        municipality_id: municipality,
        occurred_at: now,
        actor_account_id: actor.account_id,
        actor_label: actor.label.to_owned(),
        action,
        target_kind,
        target_id,
        source_ip: actor.meta.source_ip.clone(),
        details,
    }
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        to_micros(OffsetDateTime::now_utc())
    }
}

/// A clock that stands still until moved: for tests and demos of timeouts.
#[derive(Clone)]
pub struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> Self {
        Self(Arc::new(Mutex::new(to_micros(start))))
    }

    pub fn advance(&self, by: time::Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.0.lock().map(|t| *t).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}
