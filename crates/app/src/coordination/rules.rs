//! The municipality's discharge rules as data (versioned, printable as the
//! rule book) and each discharge case's pre-discharge conference.

use super::*;
use crate::municipalities::enforce;
use tsunagu_domain::discharge_rules::{Conference, ConferenceForm, DischargeRule, RuleRow, default_rules, parse_rules};
use tsunagu_domain::policy;
use tsunagu_store::{ConferenceRow, RuleSetRow};
use uuid::Uuid;

/// A version of the rules in the history.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleVersion {
    pub version: i64,
    pub adopted_at: OffsetDateTime,
    pub adopted_by: String,
    pub note: Option<String>,
    pub rules: usize,
}

/// The rule book: the rules in force, and how they came to be.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleBook {
    pub municipality_name: String,
    /// `None`: the rules tsunagu starts with (the municipality has adopted none yet).
    pub version: Option<i64>,
    pub rules: Vec<DischargeRule>,
    pub adopted_at: Option<OffsetDateTime>,
    pub note: Option<String>,
    pub history: Vec<RuleVersion>,
    /// The reader may adopt a new version.
    pub may_edit: bool,
}

/// A case's pre-discharge conference.
#[derive(Debug, Clone, PartialEq)]
pub struct ConferenceView {
    pub starts_at: OffsetDateTime,
    pub place: Option<String>,
    pub online: bool,
    pub participants: String,
    pub minutes: Option<String>,
    pub decisions: Option<String>,
}

pub(crate) fn conference_view(c: ConferenceRow) -> ConferenceView {
    ConferenceView {
        starts_at: c.starts_at,
        place: c.place,
        online: c.online,
        participants: c.participants,
        minutes: c.minutes,
        decisions: c.decisions,
    }
}

/// The rules in force in a municipality: its latest version, or the defaults.
pub(crate) async fn rules_in_force(tx: &mut dyn StoreTx, municipality: Uuid) -> Result<Vec<DischargeRule>, AppError> {
    match tx.rule_sets(municipality).await?.into_iter().next() {
        Some(line) => {
            serde_json::from_str(&line.set.rules).map_err(|e| AppError::Internal(format!("stored rules: {e}")))
        }
        None => Ok(default_rules()),
    }
}

/// Who the desk would invite to the conference: the future team and the hospital.
pub(crate) fn suggested_participants(team: &TeamFinding, requester: &str) -> String {
    let mut names: Vec<String> = team
        .seats
        .iter()
        .filter_map(|s| {
            s.filled_by.as_ref().map(|f| {
                format!("{}（{}）", s.seat.label_ja(), f.answerer.clone().unwrap_or_else(|| f.facility_name.clone()))
            })
        })
        .collect();
    names.push(format!("病院（{requester}）"));
    names.join("、")
}

impl App {
    /// The rule book of the session's municipality (every member reads it).
    pub async fn discharge_rules(&self, session: &Session) -> Result<RuleBook, AppError> {
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::NotFound)?;
        enforce(policy::view_facilities(&actor, municipality))?;
        let mut tx = self.store.begin_read().await?;
        let name = crate::municipalities::municipality_row(tx.as_mut(), municipality).await?.name;
        let sets = tx.rule_sets(municipality.0).await?;
        let history = sets
            .iter()
            .map(|l| RuleVersion {
                version: l.set.version,
                adopted_at: l.set.adopted_at,
                adopted_by: l.adopted_by_name.clone(),
                note: l.set.note.clone(),
                rules: serde_json::from_str::<Vec<DischargeRule>>(&l.set.rules).map(|r| r.len()).unwrap_or(0),
            })
            .collect();
        let current = sets.first();
        Ok(RuleBook {
            municipality_name: name,
            version: current.map(|c| c.set.version),
            rules: rules_in_force(tx.as_mut(), municipality.0).await?,
            adopted_at: current.map(|c| c.set.adopted_at),
            note: current.and_then(|c| c.set.note.clone()),
            history,
            may_edit: policy::manage_discharge_rules(&actor, municipality).is_allowed(),
        })
    }

    /// Adopts a new version of the rules (the old ones stay in the history).
    pub async fn adopt_discharge_rules(
        &self,
        session: &Session,
        rows: &[RuleRow<'_>],
        note: &str,
        meta: &RequestMeta,
    ) -> Result<i64, AppError> {
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::NotFound)?;
        enforce(policy::manage_discharge_rules(&actor, municipality))?;
        let rules = parse_rules(rows)?;
        let note = tsunagu_domain::text::optional("adoption_note", note, 200)?;
        let now = self.now();
        let mut tx = self.begin_keeping_all().await?;
        let version = tx.rule_sets(municipality.0).await?.first().map_or(1, |l| l.set.version + 1);
        let row = RuleSetRow {
            id: Uuid::now_v7(),
            municipality_id: municipality.0,
            version,
            rules: serde_json::to_string(&rules).map_err(|e| AppError::Internal(e.to_string()))?,
            note: note.clone(),
            adopted_by: session.account.id.0,
            adopted_at: now,
        };
        if !tx.insert_rule_set(&row).await? {
            return Err(AppError::Conflict { field: "version" });
        }
        tx.append_audit(&audit_record(
            now,
            Some(municipality),
            &session.audit_actor(meta),
            AuditAction::DischargeRulesAdopted,
            "discharge_rules",
            Some(row.id),
            json!({ "version": version, "rules": rules.len(), "note": note }),
        ))
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Schedules the pre-discharge conference of a discharge case, or records its minutes.
    pub async fn save_conference(
        &self,
        session: &Session,
        case: CaseId,
        form: &ConferenceForm<'_>,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let conference = Conference::parse(form)?;
        let now = self.now();
        let mut tx = self.begin_keeping_all().await?;
        let decided = self.decide_case(tx.as_mut(), case, CaseIntent::Work, session, meta).await?;
        let row = tx.case(decided.grant()).await?.ok_or(AppError::NotFound)?;
        if row.kind != CaseKind::Discharge {
            return Err(tsunagu_domain::ValidationError::new("starts_at", "not_allowed").into());
        }
        let first = tx.conference(decided.grant()).await?.is_none();
        tx.upsert_conference(
            decided.grant(),
            &ConferenceRow {
                case_id: case.0,
                starts_at: conference.starts_at,
                place: conference.place.clone(),
                online: conference.online,
                participants: conference.participants.clone(),
                minutes: conference.minutes.clone(),
                decisions: conference.decisions.clone(),
                updated_by: session.account.id.0,
                updated_at: now,
            },
        )
        .await?;
        let when = tsunagu_domain::clock::format_jst(conference.starts_at);
        tx.insert_case_log(
            decided.grant(),
            &tsunagu_store::CaseLogRow {
                id: Uuid::now_v7(),
                case_id: case.0,
                kind: "state".to_owned(),
                note: if first {
                    format!("退院前カンファレンスを設定: {when}")
                } else {
                    format!("退院前カンファレンスを更新: {when}")
                },
                written_by: Some(session.account.id.0),
                written_at: now,
            },
        )
        .await?;
        tx.append_audit(&decided.event(
            now,
            AuditAction::ConferenceScheduled,
            json!({ "starts_at": conference.starts_at.to_string(), "minutes": conference.minutes.is_some() }),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
