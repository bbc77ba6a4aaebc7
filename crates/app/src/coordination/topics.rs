//! The consultation topics a municipality offers (相談内容): its own list,
//! edited by those who run its network, or tsunagu's defaults.

use super::*;
use crate::municipalities::enforce;
use tsunagu_domain::coordination::{TopicRow, default_topics, parse_topics};
use tsunagu_domain::policy;
use tsunagu_store::ConsultationTopicRow;
use uuid::Uuid;

/// A municipality's topics (retired ones too), or the defaults.
pub(crate) async fn topics_in(tx: &mut dyn StoreTx, municipality: Uuid) -> Result<Vec<TopicDef>, AppError> {
    let rows = tx.consultation_topics(municipality).await?;
    if rows.is_empty() {
        return Ok(default_topics());
    }
    Ok(rows.into_iter().map(|r| TopicDef { code: r.code, label: r.label, retired: r.retired }).collect())
}

impl App {
    /// The topics of the session's municipality (for the desk's form and the editor).
    pub async fn consultation_topics(&self, session: &Session) -> Result<Vec<TopicDef>, AppError> {
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::NotFound)?;
        enforce(policy::view_facilities(&actor, municipality))?;
        let mut tx = self.store.begin_read().await?;
        topics_in(tx.as_mut(), municipality.0).await
    }

    /// The topics offered on a municipality's public form (public data).
    pub async fn public_consultation_topics(&self, code: &str) -> Result<Vec<TopicDef>, AppError> {
        let mut tx = self.store.begin_read().await?;
        let (municipality, _) = self.public_municipality_of(tx.as_mut(), code).await?;
        Ok(topics_in(tx.as_mut(), municipality).await?.into_iter().filter(|t| !t.retired).collect())
    }

    /// Whether the session may change the list (for the page; saving decides again).
    pub fn require_topic_editing(&self, session: &Session) -> Result<(), AppError> {
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::NotFound)?;
        enforce(policy::manage_discharge_rules(&actor, municipality))
    }

    /// Saves the municipality's list: rename, retire, add; nothing a case refers to is dropped.
    pub async fn save_consultation_topics(
        &self,
        session: &Session,
        rows: &[TopicRow<'_>],
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::NotFound)?;
        enforce(policy::manage_discharge_rules(&actor, municipality))?;
        let now = self.now();
        let mut tx = self.begin_keeping_all().await?;
        let current = topics_in(tx.as_mut(), municipality.0).await?;
        let list = parse_topics(rows, &current, || format!("own-{}", Uuid::now_v7().simple()))?;
        let stored: Vec<ConsultationTopicRow> = list
            .iter()
            .enumerate()
            .map(|(i, t)| ConsultationTopicRow {
                municipality_id: municipality.0,
                code: t.code.clone(),
                label: t.label.clone(),
                position: i as i64,
                retired: t.retired,
            })
            .collect();
        tx.replace_consultation_topics(municipality.0, &stored).await?;
        tx.append_audit(&audit_record(
            now,
            Some(municipality),
            &session.audit_actor(meta),
            AuditAction::ConsultationTopicsChanged,
            "consultation_topics",
            None,
            json!({ "topics": list.iter().map(|t| json!({ "code": t.code, "label": t.label, "retired": t.retired })).collect::<Vec<_>>() }),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
