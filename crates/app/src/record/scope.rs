//! What access to a patient's record is decided on: the patient, consents,
//! team and emergency grants, loaded once per use case (or kept, see
//! `cache/records.rs`).

use crate::{App, AppError};
use std::sync::Arc;
use time::OffsetDateTime;
use tsunagu_domain::account::Profession;
use tsunagu_domain::care::TeamRole;
use tsunagu_domain::ids::{AccountId, MunicipalityId, PatientId};
use tsunagu_domain::policy::{ConsentState, PatientScope, TeamSeat};
use tsunagu_store::{BreakGlassRow, ConsentRow, PatientRow, StoreTx, TeamMemberRow};
use uuid::Uuid;

/// A patient's row, consents, team and the policy's view of them.
pub(crate) struct Loaded {
    pub(crate) grants: Vec<BreakGlassRow>,
    pub(crate) row: PatientRow,
    pub(crate) consents: Vec<ConsentRow>,
    pub(crate) team: Vec<TeamMemberRow>,
    pub(crate) scope: PatientScope,
}

impl Loaded {
    /// The account's role in the team, if it is an active member.
    pub(crate) fn role_of(&self, account: Uuid) -> Option<TeamRole> {
        self.team.iter().find(|m| m.account_id == account && m.left_at.is_none()).map(|m| seat(m).role)
    }

    pub(crate) fn is_family(&self, account: Uuid) -> bool {
        self.role_of(account) == Some(TeamRole::Family)
    }
}

/// A member as the policy sees them. A role or profession this build does not
/// know (a newer row) counts as "other": never a physician, never family.
/// A role that does not fit the member's profession (a row from before roles
/// were checked) counts as "other", or "family" for a family account: it never
/// opens the physicians' entries.
fn seat(m: &TeamMemberRow) -> TeamSeat {
    let profession = Profession::parse(&m.profession).unwrap_or(Profession::Other);
    let role = TeamRole::parse(&m.team_role).unwrap_or(TeamRole::Other);
    let role = match role {
        r if r.fits(profession) => r,
        _ if profession == Profession::Family => TeamRole::Family,
        _ => TeamRole::Other,
    };
    TeamSeat { account_id: AccountId(m.account_id), role, profession }
}

pub(crate) async fn load(tx: &mut dyn StoreTx, patient: Uuid, now: OffsetDateTime) -> Result<Loaded, AppError> {
    let tsunagu_store::PatientScopeRows { patient: row, consents, team, grants } =
        tx.patient_scope(patient, now).await?.ok_or(AppError::NotFound)?;
    let scope = PatientScope {
        patient_id: PatientId(row.id),
        municipality_id: MunicipalityId(row.municipality_id),
        created_by: AccountId(row.created_by),
        consent: consent_state(&consents),
        team: team.iter().filter(|m| m.left_at.is_none()).map(seat).collect(),
        emergency_access: grants.iter().map(|g| AccountId(g.account_id)).collect(),
    };
    Ok(Loaded { row, consents, team, scope, grants })
}

impl App {
    /// Who may read a patient's record, as kept from a recent read or loaded
    /// now (see `cache/records.rs`): policy is applied to it by the caller.
    pub(crate) async fn kept_scope(&self, patient: Uuid) -> Result<Arc<Loaded>, AppError> {
        let now = self.now();
        if let Some(loaded) = self.records.get(patient, now) {
            return Ok(loaded);
        }
        let generation = self.records.generation();
        let mut tx = self.store.begin_read().await?;
        let loaded = Arc::new(load(tx.as_mut(), patient, now).await?);
        drop(tx);
        self.records.keep(patient, Arc::clone(&loaded), generation);
        Ok(loaded)
    }
}

pub(crate) fn consent_state(consents: &[ConsentRow]) -> ConsentState {
    match consents.first() {
        None => ConsentState::Pending,
        Some(c) if c.withdrawn_at.is_some() => ConsentState::Withdrawn,
        Some(_) => ConsentState::Active,
    }
}
