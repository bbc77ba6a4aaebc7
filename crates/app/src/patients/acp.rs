//! Advance care planning (人生会議) and the patient's status.

use super::*;
use tsunagu_domain::record_access::RecordIntent;

impl App {
    /// Records a new revision of the advance care plan; earlier ones stay.
    pub async fn record_acp(
        &self,
        session: &Session,
        patient: PatientId,
        form: &AdvanceCarePlanForm<'_>,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let patient = patient.0;
        let actor = session.actor()?;
        let plan = AdvanceCarePlan::parse(form, self.today())?;
        let mut tx = self.begin_keeping_records().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        tx.changes_timeline_of(patient);
        let decided = self.decide(RecordIntent::ActForTeam, &loaded, session, meta)?;
        let now = self.now();
        tx.insert_acp(&AcpRow {
            id: Uuid::now_v7(),
            patient_id: patient,
            discussed_on: plan.discussed_on,
            participants: plan.participants,
            place_of_care: plan.place_of_care.code().to_owned(),
            place_of_death: plan.place_of_death.code().to_owned(),
            treatment: plan.treatment.code().to_owned(),
            proxy_name: plan.proxy_name,
            proxy_relation: plan.proxy_relation,
            wishes: plan.wishes,
            recorded_by: actor.account_id.0,
            recorded_at: now,
            recorder_name: String::new(),
        })
        .await?;
        self.audit(tx.as_mut(), &decided, decided.patient_event(now, AuditAction::AcpRecorded, json!({}))).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every revision of the advance care plan, newest first.
    pub async fn acp_history(
        &self,
        session: &Session,
        patient: PatientId,
        meta: &RequestMeta,
    ) -> Result<(PatientView, Vec<AcpView>), AppError> {
        let patient = patient.0;
        let loaded = self.kept_scope(patient).await?;
        let decided = self.decide(RecordIntent::Read, &loaded, session, meta)?;
        let mut tx = self.store.reader().await?;
        let revisions = tx.acp_revisions(decided.grant()).await?;
        drop(tx);
        self.record_read(
            &decided,
            decided.patient_event(self.now(), AuditAction::AcpViewed, json!({ "revisions": revisions.len() })),
        )
        .await?;
        Ok((patient_view(&loaded.row, self.today())?, revisions.into_iter().map(acp_view).collect()))
    }

    /// Where the patient is now; ending care records the outcome (在宅看取り, ...).
    pub async fn change_patient_status(
        &self,
        session: &Session,
        patient: PatientId,
        status: &str,
        outcome: &str,
        outcome_date: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let patient = patient.0;
        let change = StatusChange::parse(status, outcome, outcome_date, self.today())?;
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        let decided = self.decide(RecordIntent::ActForTeam, &loaded, session, meta)?;
        let now = self.now();
        let before = (loaded.row.status, loaded.row.outcome.clone());
        let mut row = loaded.row.clone();
        row.status = change.status;
        row.outcome = change.outcome.map(|(o, _)| o.code().to_owned());
        row.outcome_date = change.outcome.map(|(_, d)| d);
        row.updated_at = now;
        tx.update_patient(&row).await?;
        let details = json!({ "before": { "status": before.0.code(), "outcome": before.1 }, "after": { "status": row.status.code(), "outcome": row.outcome } });
        self.audit(tx.as_mut(), &decided, decided.patient_event(now, AuditAction::PatientUpdated, details)).await?;
        tx.commit().await?;
        Ok(())
    }
}
