//! tsunagu's use cases. One public function per thing a user does; each
//! checks access once (with the domain's policy), runs in one transaction and
//! appends its audit event in that same transaction.
// No indexing that can panic: .get(), iterators and patterns instead (tests may index).
#![deny(clippy::indexing_slicing)]

mod accounts;
pub mod analysis;
pub mod api_tokens;
pub mod attachments;
mod audit;
pub mod backup;
mod cache;
pub mod coordination;
pub mod credentials;
mod error;
pub mod escalation;
mod facilities;
pub mod fhir;
pub mod mail;
mod municipalities;
mod nearby;
pub mod on_call;
pub mod patients;
mod public_listing;
pub mod public_map;
pub mod public_pages;
pub mod rate_limits;
mod record;
pub mod registry;
pub mod sealing;
pub mod seed;
pub use seed::scale;
mod session;
mod sessions;
mod settings;
pub mod views;
mod write_tx;

pub use accounts::{AccountAdminForm, AccountPowers, IssuedCode};
pub use audit::{ChainReport, VerifyReport};
pub use error::AppError;
pub use seed::{DemoAccount, DemoSummary};
pub use sessions::{Enrolment, Session, SessionStage, SignedIn};
pub use settings::{Settings, WebhookSettings};
/// The real clock lives beside the `Clock` trait, the only place that reads it.
pub use tsunagu_domain::clock::SystemClock;

use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tsunagu_domain::audit::{AuditAction, AuditRecord};
use tsunagu_domain::clock::{Clock, to_micros};
use tsunagu_domain::ids::{AccountId, MunicipalityId};
use tsunagu_store::{Change, Store};
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
    /// The public map's recent answers (public data only; see `cache/answers.rs`).
    public_lists: Arc<cache::answers::KeptAnswers<String, public_map::PublicList>>,
    /// The same answers as the web layer renders them (JSON), kept and forgotten with them.
    public_renderings: Arc<cache::answers::KeptAnswers<String, Vec<u8>>>,
    /// Municipalities by code, as public URLs name them: they are created,
    /// never renamed or removed, so a found one is kept.
    municipalities_by_code: Arc<Mutex<std::collections::HashMap<String, (Uuid, public_map::PublicMunicipality)>>>,
    /// Recent session and token look-ups (see `cache/sessions.rs`).
    sessions: Arc<cache::sessions::SessionCache>,
    /// Who may read which record, recently looked up (see `cache/records.rs`).
    records: Arc<cache::records::KeptRecords>,
    /// Unfiltered patient pages' timelines as their readers last read them (see `cache/timelines.rs`).
    timelines: Arc<cache::timelines::KeptTimelines>,
    /// Each municipality's located facilities in memory, for "nearest first" (see `nearby.rs`).
    nearby: Arc<nearby::NearbyIndexes>,
    /// How many refused attempts each account has had audited lately (see `record/access.rs`).
    refusals: Arc<record::RefusalBudget>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        let public_lists = Arc::new(cache::answers::KeptAnswers::new(settings.public_cache, PUBLIC_ANSWERS));
        let public_renderings = Arc::new(cache::answers::KeptAnswers::new(settings.public_cache, PUBLIC_ANSWERS));
        let sessions = Arc::new(cache::sessions::SessionCache::new(settings.session_cache, cache::sessions::CAPACITY));
        let records = Arc::new(cache::records::KeptRecords::new(settings.session_cache, cache::records::CAPACITY));
        let timelines =
            Arc::new(cache::timelines::KeptTimelines::new(settings.session_cache, cache::timelines::CAPACITY));
        let settings_public_cache = settings.public_cache;
        Self {
            store,
            clock,
            settings: Arc::new(settings),
            public_lists,
            public_renderings,
            municipalities_by_code: Arc::default(),
            sessions,
            records,
            timelines,
            refusals: Arc::default(),
            // Off with the kept answers (`public_cache` zero: nothing public kept in memory).
            nearby: nearby::NearbyIndexes::new(if settings_public_cache.is_zero() {
                std::time::Duration::ZERO
            } else {
                nearby::MAX_AGE
            }),
        }
    }

    /// Sessions, tokens, accounts, memberships or facilities changed (and
    /// committed): no remembered session look-up may be used any more, here
    /// or on the installation's other instances.
    pub(crate) async fn sessions_changed(&self) {
        self.changed(Change::Sessions).await;
    }

    /// Registry data changed (and committed): no kept public answer may be
    /// given any more, here or on the other instances.
    pub(crate) async fn public_data_changed(&self) {
        self.changed(Change::PublicData).await;
    }

    /// What these patients' timelines show changed (and was committed): no
    /// page of them kept before may be given any more, here or on the other
    /// instances (which, told without the patients, forget every timeline).
    pub(crate) async fn timelines_changed(&self, patients: &[Uuid]) {
        for patient in patients {
            self.timelines.forget(*patient);
        }
        self.announce(Change::Timelines).await;
    }

    /// `change` was committed: forgets here what it may have made wrong, and
    /// tells the other instances to do the same.
    pub(crate) async fn changed(&self, change: Change) {
        self.forget(change);
        self.announce(change).await;
    }

    /// Forgets what this instance keeps that `change` may have made wrong.
    fn forget(&self, change: Change) {
        match change {
            Change::Sessions => self.sessions.clear(),
            // What a reader sees of a timeline depends on their role in the team.
            Change::Records => {
                self.records.forget_all();
                self.timelines.forget_all();
            }
            Change::Timelines => self.timelines.forget_all(),
            Change::PublicData => {
                self.public_lists.clear();
                self.public_renderings.clear();
                self.nearby.clear();
            }
        }
    }

    /// Tells the other instances. The change is committed already: if the
    /// telling fails, they forget when their copy expires (as they did
    /// before being told), so it is logged, not returned.
    async fn announce(&self, change: Change) {
        if let Err(e) = self.store.announce(change).await {
            tracing::warn!(error = %e, ?change, "could not tell the other instances of a change");
        }
    }

    /// Follows what the installation's other instances announce (PostgreSQL;
    /// `tsunagu serve` starts it), forgetting here what they changed there:
    /// a consent withdrawn or a member removed through one instance stops
    /// reads through every other at once, not when their copy expires.
    /// Returns `false` when there is nothing to follow (SQLite).
    pub async fn follow_other_instances(&self) -> Result<bool, AppError> {
        let Some(mut feed) = self.store.change_feed().await? else { return Ok(false) };
        let app = self.clone();
        tokio::spawn(async move {
            loop {
                match feed.next().await {
                    Ok(Some(change)) => app.forget(change),
                    // Announcements may have been missed: forget everything.
                    Ok(None) => app.forget_everything(),
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the other instances' announcements; listening again");
                        app.forget_everything();
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        match app.store.change_feed().await {
                            // What changed before listening again was not heard.
                            Ok(Some(again)) => {
                                feed = again;
                                app.forget_everything();
                            }
                            Ok(None) => return,
                            Err(e) => tracing::warn!(error = %e, "cannot listen for announcements yet"),
                        }
                    }
                }
            }
        });
        Ok(true)
    }

    fn forget_everything(&self) {
        for change in Change::ALL {
            self.forget(change);
        }
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
    pub fn keep_public_rendering(&self, key: String, rendering: Arc<Vec<u8>>, version: u64) {
        self.public_renderings.put(key, rendering, version);
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
