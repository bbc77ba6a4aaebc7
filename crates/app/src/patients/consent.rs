//! Consent and its withdrawal.

use super::*;
use tsunagu_domain::record_access::RecordIntent;

pub(crate) fn consent_view(c: &ConsentRow) -> ConsentView {
    ConsentView {
        given_on: c.given_on,
        method: c.method.clone(),
        proxy_name: c.proxy_name.clone(),
        proxy_relation: c.proxy_relation.clone(),
        scope: c.scope.clone(),
        withdrawn_at: c.withdrawn_at,
        document_entry: c.document_entry_id,
    }
}

/// The raw consent form.
#[derive(Debug, Clone, Default)]
pub struct ConsentForm<'a> {
    pub given_on: &'a str,
    pub method: &'a str,
    pub proxy_name: &'a str,
    pub proxy_relation: &'a str,
    pub scope: &'a str,
}

impl App {
    /// Records the patient's (or proxy's) consent; sharing starts now.
    pub async fn record_consent(
        &self,
        session: &Session,
        patient: PatientId,
        form: &ConsentForm<'_>,
        document: Option<&crate::attachments::UploadedFile>,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let patient = patient.0;
        let actor = session.actor()?;
        let details = ConsentDetails::parse(
            form.given_on,
            form.method,
            form.proxy_name,
            form.proxy_relation,
            form.scope,
            self.today(),
        )?;
        let scan = document
            .map(|f| tsunagu_domain::care::AttachmentFile::inspect(&f.declared_type, &f.file_name, &f.bytes))
            .transpose()?;
        // The scan is written (durably) before the transaction that refers to
        // it, and only for someone who may record consent.
        let stored = match (document, scan) {
            (Some(file), Some(kind)) => {
                let mut tx = self.store.begin_read().await?;
                let precheck = load(tx.as_mut(), patient, self.now()).await?;
                self.decide(RecordIntent::RecordConsent, &precheck, session, meta)?;
                drop(tx);
                let id = Uuid::now_v7();
                let sha256 = crate::attachments::store(&self.settings.attachments_dir, id, file.bytes.clone()).await?;
                Some((id, kind, file.bytes.len(), sha256))
            }
            _ => None,
        };
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        let decided = self.decide(RecordIntent::RecordConsent, &loaded, session, meta)?;
        if loaded.is_family(actor.account_id.0) {
            return Err(AppError::Forbidden);
        }
        let now = self.now();
        let document_entry_id = stored.as_ref().map(|_| Uuid::now_v7());
        if let (Some(entry_id), Some((attachment_id, kind, size, sha256))) = (document_entry_id, stored) {
            // The scan travels as a team entry with the file, so that it is
            // read, access-checked and audited like every other attachment.
            tx.insert_entry(&NewEntry {
                id: entry_id,
                patient_id: patient,
                kind: EntryKind::Message.code().to_owned(),
                author_id: actor.account_id.0,
                reply_to: None,
                needs_reply: false,
                created_at: now,
                body: "同意書（スキャン）".to_owned(),
                vitals: "{}".to_owned(),
                audience: Audience::Team.code().to_owned(),
            })
            .await?;
            tx.insert_attachment(&attachment_row(attachment_id, kind, size, sha256, entry_id, patient, now)).await?;
            self.audit(
                tx.as_mut(),
                &decided,
                PatientEvent {
                    at: now,
                    action: AuditAction::EntryPosted,
                    target_kind: "entry",
                    target: Some(entry_id),
                    details: json!({ "patient": patient, "kind": "message", "consent_document": true }),
                },
            )
            .await?;
        }
        tx.insert_consent(&ConsentRow {
            id: Uuid::now_v7(),
            patient_id: patient,
            given_on: details.given_on,
            method: details.method.code().to_owned(),
            proxy_name: details.proxy_name.clone(),
            proxy_relation: details.proxy_relation.clone(),
            scope: details.scope.clone(),
            recorded_by: actor.account_id.0,
            recorded_at: now,
            withdrawn_at: None,
            withdrawn_by: None,
            withdrawal_reason: None,
            document_entry_id,
        })
        .await?;
        let audit = json!({ "given_on": details.given_on.to_string(), "method": details.method.code(), "by_proxy": details.proxy_name.is_some(), "document": document_entry_id.is_some() });
        self.audit(tx.as_mut(), &decided, decided.patient_event(now, AuditAction::ConsentRecorded, audit)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that consent was withdrawn: sharing stops at once, the record stays read-only.
    pub async fn withdraw_consent(
        &self,
        session: &Session,
        patient: PatientId,
        reason: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let patient = patient.0;
        let actor = session.actor()?;
        let reason = tsunagu_domain::text::required("reason", reason, 500)?;
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        let decided = self.decide(RecordIntent::ActForTeam, &loaded, session, meta)?;
        let current = loaded.consents.first().ok_or(AppError::Forbidden)?;
        let now = self.now();
        tx.withdraw_consent(current.id, actor.account_id.0, now, &reason).await?;
        self.audit(tx.as_mut(), &decided, decided.patient_event(now, AuditAction::ConsentWithdrawn, json!({}))).await?;
        tx.commit().await?;
        Ok(())
    }
}
