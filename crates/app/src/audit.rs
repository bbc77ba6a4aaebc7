//! Checking the audit chains, and showing a municipality its audit log.

use crate::municipalities::enforce;
use crate::session::Session;
use crate::views::AuditEventView;
use crate::{App, AppError};
use tsunagu_domain::audit::{ChainProblem, ChainVerifier, chain_of};
use tsunagu_domain::ids::MunicipalityId;
use tsunagu_domain::policy;
use uuid::Uuid;

/// The verdict on one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub chain: Uuid,
    /// The municipality code, or `None` for the installation chain.
    pub municipality_code: Option<String>,
    pub events_checked: u64,
    pub problem: Option<ChainProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub chains: Vec<ChainReport>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.chains.iter().all(|c| c.problem.is_none())
    }
}

const PAGE: i64 = 1_000;

impl App {
    /// Walks every chain from its first event to its head (`tsunagu audit verify`).
    pub async fn verify_audit(&self) -> Result<VerifyReport, AppError> {
        let mut tx = self.store.begin_read().await?;
        let heads = tx.audit_heads().await?;
        let municipalities = tx.municipalities().await?;
        let mut chains = Vec::new();
        for head in heads {
            let mut verifier = ChainVerifier::default();
            let mut after = 0;
            let mut problem = None;
            'walk: loop {
                let page = tx.audit_events_after(head.chain, after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for event in &page {
                    if let Err(p) = verifier.push(event) {
                        problem = Some(p);
                        break 'walk;
                    }
                }
            }
            if problem.is_none() {
                problem = verifier.finish(head.seq, &head.hash).err();
            }
            chains.push(ChainReport {
                chain: head.chain,
                municipality_code: municipalities.iter().find(|m| m.id == head.chain).map(|m| m.code.clone()),
                events_checked: verifier.checked,
                problem,
            });
        }
        Ok(VerifyReport { chains })
    }

    /// The newest events of a municipality's audit log, for its admins.
    pub async fn recent_audit_events(
        &self,
        session: &Session,
        municipality: MunicipalityId,
        limit: i64,
    ) -> Result<Vec<AuditEventView>, AppError> {
        enforce(policy::read_audit_log(&session.actor()?, municipality))?;
        let mut tx = self.store.begin_read().await?;
        let events = tx.recent_audit_events(chain_of(Some(municipality)), limit.clamp(1, 500)).await?;
        Ok(events
            .into_iter()
            .map(|e| AuditEventView {
                seq: e.seq,
                occurred_at: e.occurred_at,
                actor_label: e.actor_label,
                action: e.action,
                target_kind: e.target_kind,
                source_ip: e.source_ip,
                details: e.details,
            })
            .collect())
    }
}
