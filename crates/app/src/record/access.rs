//! Refused attempts on a patient's record are audited (invariant 3): the
//! access history a municipality reviews shows probing, not only successes.
//! A refusal's audit event joins the writer's next batch like a read's (cheap:
//! no transaction of its own; durable within the batch's few milliseconds),
//! and each account's refusals are limited per instance so that a script
//! cannot flood the log.

use super::Loaded;
use crate::session::Session;
use crate::{App, AppError, RequestMeta, audit_record};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::record_access::{self, RecordGrant, RecordIntent, Refusal};
use tsunagu_store::ReadTrace;
use uuid::Uuid;

/// Refusals audited per account and minute on one instance; beyond that they
/// are only counted in the application log.
pub(crate) const PER_MINUTE: u32 = 30;
/// Accounts remembered before the oldest minute is forgotten.
const ACCOUNTS: usize = 10_000;

/// How many refusals each account has had audited in its current minute.
#[derive(Default)]
pub(crate) struct RefusalBudget {
    spent: Mutex<HashMap<Uuid, (OffsetDateTime, u32)>>,
}

impl RefusalBudget {
    /// Whether one more refusal of `account` is audited now.
    pub(crate) fn take(&self, account: Uuid, now: OffsetDateTime) -> bool {
        let Ok(mut spent) = self.spent.lock() else {
            return true;
        };
        if spent.len() >= ACCOUNTS {
            spent.retain(|_, (since, _)| now - *since < Duration::MINUTE);
        }
        let entry = spent.entry(account).or_insert((now, 0));
        if now - entry.0 >= Duration::MINUTE {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= PER_MINUTE
    }
}

/// A patient's record the policy has let a session act on. It is the only way
/// to an audit event about patient data (`App::audit`, `App::record_read`) and
/// it holds the [`RecordGrant`] the store's reads of the record's contents
/// take, so a use case that reads a record or writes its audit event has
/// passed `App::decide` first.
pub(crate) struct Decided<'a> {
    grant: RecordGrant,
    loaded: &'a Loaded,
    session: &'a Session,
    meta: &'a RequestMeta,
}

impl Decided<'_> {
    /// The audit event of what the session did with the record.
    pub(crate) fn audit_record(&self, e: super::PatientEvent) -> tsunagu_domain::audit::AuditRecord {
        audit_record(
            e.at,
            Some(self.loaded.scope.municipality_id),
            &self.session.audit_actor(self.meta),
            e.action,
            e.target_kind,
            e.target,
            e.details,
        )
    }

    /// An audit event about the decided patient (its target is the patient the
    /// policy decided on, so an event cannot name another).
    pub(crate) fn patient_event(
        &self,
        at: OffsetDateTime,
        action: AuditAction,
        details: serde_json::Value,
    ) -> super::PatientEvent {
        super::PatientEvent { at, action, target_kind: "patient", target: Some(self.grant.patient().0), details }
    }

    /// What the store's reads of the record take.
    pub(crate) fn grant(&self) -> &RecordGrant {
        &self.grant
    }
}

impl App {
    /// Asks the policy whether the session may do `intent` with the record in
    /// `loaded`. A refusal answers as the policy said ("not found" or
    /// "forbidden") and its audit event is handed to the writer's next batch.
    /// That is not awaited: the caller may hold the writer (its own
    /// transaction), and the batch cannot be written until it lets go; nothing
    /// is shown either way.
    pub(crate) fn decide<'a>(
        &self,
        intent: RecordIntent<'_>,
        loaded: &'a Loaded,
        session: &'a Session,
        meta: &'a RequestMeta,
    ) -> Result<Decided<'a>, AppError> {
        let actor = session.actor()?;
        match record_access::decide(&actor, &loaded.scope, intent) {
            Ok(grant) => Ok(Decided { grant, loaded, session, meta }),
            Err(refusal) => Err(self.refused(refusal, intent.attempt(), loaded, session, meta)),
        }
    }

    /// Audits a refusal (within the account's budget) and answers as the policy said.
    pub(crate) fn refused(
        &self,
        refusal: Refusal,
        attempt: &'static str,
        loaded: &Loaded,
        session: &Session,
        meta: &RequestMeta,
    ) -> AppError {
        let now = self.now();
        if self.refusals.take(session.account.id.0, now) {
            let audit = audit_record(
                now,
                Some(loaded.scope.municipality_id),
                &session.audit_actor(meta),
                AuditAction::AccessRefused,
                "patient",
                Some(loaded.row.id),
                json!({ "attempt": attempt, "refusal": refusal.code() }),
            );
            let store = std::sync::Arc::clone(&self.store);
            tokio::spawn(async move {
                let trace = ReadTrace { audit, receipts: Vec::new(), opened: None };
                if let Err(e) = store.record_read(trace).await {
                    tracing::warn!(error = %e, "a refused attempt's audit event was not written");
                }
            });
        } else {
            tracing::warn!(account = %session.account.id.0, attempt, "refused attempts beyond the audited budget");
        }
        refusal.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_has_its_own_budget_per_minute() {
        let budget = RefusalBudget::default();
        let (prober, other) = (Uuid::now_v7(), Uuid::now_v7());
        let start = OffsetDateTime::UNIX_EPOCH;
        for _ in 0..PER_MINUTE {
            assert!(budget.take(prober, start));
        }
        assert!(!budget.take(prober, start + Duration::seconds(30)), "the minute's budget is spent");
        assert!(budget.take(other, start), "another account is not limited by it");
        assert!(budget.take(prober, start + Duration::seconds(61)), "a new minute, a new budget");
    }
}
