//! Break-glass access and who has read the record.

use super::*;
use tsunagu_domain::record_access::RecordIntent;

/// Why someone outside the team opens a record.
pub const BREAK_GLASS_REASONS: &[&str] = &["covering_physician", "hospital_escalation", "emergency_call", "other"];

/// How long a break-glass grant lasts.
pub const BREAK_GLASS_HOURS: i64 = 4;

/// Whether a typed name (folded) is the patient's full name in kanji or in kana.
pub(crate) fn name_matches(p: &PatientRow, key: &str) -> bool {
    let kanji = search_key(&format!("{}{}", p.family_name, p.given_name));
    let kana = search_key(&format!("{}{}", p.family_name_kana, p.given_name_kana));
    key == kanji || key == kana
}

impl App {
    /// Whether the signed-in person may open a record by break-glass (and so be offered the form).
    pub fn may_break_glass(&self, session: &Session) -> Result<(), AppError> {
        let actor = session.actor()?;
        if !policy::may_break_glass(&actor, session.account.profession) {
            return Err(AppError::Forbidden);
        }
        Ok(())
    }

    /// Break-glass: a clinician outside the team opens a record for a stated
    /// reason. The patient must be named exactly (name or kana) with the birth
    /// date; access lasts four hours, is audited with the reason, and every
    /// member of the team is notified at once.
    pub async fn break_glass(
        &self,
        session: &Session,
        name: &str,
        birth_date: &str,
        reason_kind: &str,
        reason: &str,
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        self.may_break_glass(session)?;
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::Forbidden)?;
        let key = search_key(name);
        if key.chars().count() < 2 {
            return Err(ValidationError::new("name", "required").into());
        }
        let birth_date = tsunagu_domain::patient::parse_date("birth_date", birth_date)?;
        if !BREAK_GLASS_REASONS.contains(&reason_kind) {
            return Err(ValidationError::new("reason_kind", "unknown").into());
        }
        let reason = tsunagu_domain::text::required("reason", reason, 500)?;
        if reason.chars().count() < 5 {
            return Err(ValidationError::new("reason", "too_short").into());
        }
        let now = self.now();
        let mut tx = self.begin().await?;
        let candidates = tx.patients_born_on(municipality.0, birth_date).await?;
        let matches: Vec<&PatientRow> = candidates.iter().filter(|p| name_matches(p, &key)).collect();
        let who = Self::audit_patient(session, meta);
        let [patient] = matches.as_slice() else {
            let details = json!({ "matches": matches.len(), "reason_kind": reason_kind, "reason": reason });
            tx.append_audit(&audit_record(
                now,
                Some(municipality),
                &who,
                AuditAction::BreakGlassRefused,
                "patient",
                None,
                details,
            ))
            .await?;
            tx.commit().await?;
            return Err(if matches.is_empty() {
                AppError::NotFound
            } else {
                ValidationError::new("name", "ambiguous").into()
            });
        };
        let patient_id = patient.id;
        let team = tx.team(patient_id).await?;
        if team.iter().any(|m| m.left_at.is_none() && m.account_id == actor.account_id.0) {
            return Ok(patient_id);
        }
        let expires_at = now + time::Duration::hours(BREAK_GLASS_HOURS);
        tx.insert_break_glass(&BreakGlassRow {
            id: Uuid::now_v7(),
            patient_id,
            account_id: actor.account_id.0,
            reason_kind: reason_kind.to_owned(),
            reason: reason.clone(),
            granted_at: now,
            expires_at,
        })
        .await?;
        let details =
            json!({ "reason_kind": reason_kind, "reason": reason, "expires_at": expires_at.unix_timestamp() });
        tx.append_audit(&audit_record(
            now,
            Some(municipality),
            &who,
            AuditAction::BreakGlassGranted,
            "patient",
            Some(patient_id),
            details,
        ))
        .await?;
        for member in team.iter().filter(|m| m.left_at.is_none()) {
            let n = NewNotification {
                id: Uuid::now_v7(),
                account_id: member.account_id,
                patient_id,
                entry_id: None,
                kind: "break_glass".to_owned(),
                actor_id: actor.account_id.0,
                created_at: now,
            };
            notify(tx.as_mut(), &n).await?;
        }
        tx.commit().await?;
        Ok(patient_id)
    }

    /// Who has opened the record, newest first: what the patient and family
    /// may always see (invariant 3).
    pub async fn access_history(
        &self,
        session: &Session,
        patient: PatientId,
        meta: &RequestMeta,
    ) -> Result<(PatientView, Vec<AccessView>), AppError> {
        let patient = patient.0;
        session.require_scope("AuditEvent", tsunagu_domain::interop::Access::Read)?;
        let loaded = self.kept_scope(patient).await?;
        let decided = self.decide(RecordIntent::Read, &loaded, session, meta)?;
        let mut tx = self.store.reader().await?;
        let chain = tsunagu_domain::audit::chain_of(Some(loaded.scope.municipality_id));
        let events = tx.audit_events_for_target(chain, patient, 500).await?;
        drop(tx);
        let readings = [
            AuditAction::PatientViewed,
            AuditAction::PatientPrinted,
            AuditAction::AcpViewed,
            AuditAction::BreakGlassGranted,
            AuditAction::AccessLogViewed,
            AuditAction::UrgentRequestViewed,
            // Attempts that were refused: the patient sees who tried, too.
            AuditAction::AccessRefused,
        ];
        let names: std::collections::HashMap<Uuid, String> =
            loaded.team.iter().map(|m| (m.account_id, m.display_name.clone())).collect();
        let list = events
            .into_iter()
            .filter_map(|e| {
                let action = AuditAction::parse(&e.action).ok().filter(|a| readings.contains(a))?;
                let who = e.actor_account_id.and_then(|a| names.get(&a).cloned()).unwrap_or(e.actor_label);
                // Reads through an API token name the token too (e.g. the clinic's EHR).
                let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
                let who = match details.get("client").and_then(|c| c.as_str()) {
                    Some(client) => format!("{who}（{client}）"),
                    None => who,
                };
                Some(AccessView { id: e.id, at: e.occurred_at, who, action })
            })
            .collect();
        self.record_read(&decided, decided.patient_event(self.now(), AuditAction::AccessLogViewed, json!({}))).await?;
        Ok((patient_view(&loaded.row, self.today())?, list))
    }
}
