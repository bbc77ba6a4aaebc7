//! What a use case on a record leaves behind besides its data: the audit
//! event (only from a decision) and the team's notifications.

use super::Decided;
use crate::{App, AppError};
use time::OffsetDateTime;
use tsunagu_domain::audit::{AuditAction, AuditRecord};
use tsunagu_store::{NewNotification, ReadTrace, StoreTx};
use uuid::Uuid;

/// An in-app notification, and (for those who opted in) a queued "something
/// new" mail, in the caller's transaction: neither is lost if the other is kept.
pub(crate) async fn notify(tx: &mut dyn StoreTx, n: &NewNotification) -> Result<(), AppError> {
    notify_all(tx, std::slice::from_ref(n), n.created_at).await
}

/// [`notify`] for several at once: two statements whatever the team's size
/// (a post's writer time is mostly round trips).
pub(crate) async fn notify_all(
    tx: &mut dyn StoreTx,
    notifications: &[NewNotification],
    at: OffsetDateTime,
) -> Result<(), AppError> {
    tx.insert_notifications(notifications).await?;
    tx.enqueue_mails(&mail_notices(notifications), at).await?;
    Ok(())
}

/// An audit event about one patient's data.
pub(crate) struct PatientEvent {
    pub(crate) at: OffsetDateTime,
    pub(crate) action: AuditAction,
    pub(crate) target_kind: &'static str,
    pub(crate) target: Option<Uuid>,
    pub(crate) details: serde_json::Value,
}

impl App {
    /// Records a read of patient data: its audit event, durable before the
    /// data is returned (written with other readers' in the writer's next
    /// batch: `Store::record_read`). Only a decided record can be audited.
    pub(crate) async fn record_read(&self, decided: &Decided<'_>, e: PatientEvent) -> Result<(), AppError> {
        self.record_audited_read(decided.audit_record(e)).await
    }

    /// Records a read (of patient data, or of a list of patients) by its
    /// audit event alone, durable before the data is returned.
    pub(crate) async fn record_audited_read(&self, audit: AuditRecord) -> Result<(), AppError> {
        self.store.record_read(ReadTrace { audit, receipts: Vec::new(), opened: None }).await?;
        Ok(())
    }

    /// Appends a patient-data audit event to the patient's municipality chain, in `tx`.
    pub(crate) async fn audit(
        &self,
        tx: &mut dyn StoreTx,
        decided: &Decided<'_>,
        e: PatientEvent,
    ) -> Result<(), AppError> {
        tx.append_audit(&decided.audit_record(e)).await?;
        Ok(())
    }
}

/// One e-mail notice (outbox id, account) per account notified; the store
/// queues only those of accounts that asked for e-mail.
pub(crate) fn mail_notices(notifications: &[NewNotification]) -> Vec<(Uuid, Uuid)> {
    let mut accounts: Vec<Uuid> = notifications.iter().map(|n| n.account_id).collect();
    accounts.sort_unstable();
    accounts.dedup();
    accounts.into_iter().map(|a| (Uuid::now_v7(), a)).collect()
}
