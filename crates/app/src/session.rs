//! A session as every use case sees it: who is signed in, how far, with
//! which API scopes, and the actor the policy decides on. How one is made and
//! ended is `sessions.rs`; the look-up cache is `cache/sessions.rs`.

use crate::views::{AccountView, MembershipView};
use crate::{AppError, AuditActor, RequestMeta};
use time::OffsetDateTime;
use tsunagu_domain::ids::FacilityId;
use tsunagu_domain::policy::Actor;
use tsunagu_store::{AccountRow, StoreTx};

/// How far through sign-in a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// Password accepted; the second factor is still to be checked.
    SecondFactor,
    /// Password accepted; the account has no second factor yet and must enrol one.
    Enrol,
    /// Fully signed in.
    Full,
}

impl SessionStage {
    pub(crate) fn code(self) -> &'static str {
        match self {
            SessionStage::SecondFactor => "second_factor",
            SessionStage::Enrol => "enrol",
            SessionStage::Full => "full",
        }
    }

    pub(crate) fn parse(code: &str) -> Option<Self> {
        match code {
            "second_factor" => Some(SessionStage::SecondFactor),
            "enrol" => Some(SessionStage::Enrol),
            "full" => Some(SessionStage::Full),
            _ => None,
        }
    }
}

/// A live session, as the web layer sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: Vec<u8>,
    pub stage: SessionStage,
    pub csrf_token: String,
    pub account: AccountView,
    pub expires_at: OffsetDateTime,
    /// Who the audit log names: the login ID, and for an API token also its name.
    pub audit_label: String,
    /// An API token's scopes; `None` for a person signed in (no narrowing).
    pub scopes: Option<tsunagu_domain::interop::Scopes>,
    /// The API token's name, when the session is one.
    pub client: Option<String>,
}

impl Session {
    /// The actor for policy checks; only a fully signed-in session has one.
    pub fn actor(&self) -> Result<Actor, AppError> {
        if self.stage != SessionStage::Full {
            return Err(AppError::Unauthenticated);
        }
        Ok(actor_of(&self.account))
    }

    /// Refuses what an API token's scopes do not cover (a person's session is not narrowed).
    pub fn require_scope(&self, resource: &str, access: tsunagu_domain::interop::Access) -> Result<(), AppError> {
        match &self.scopes {
            Some(scopes) if !scopes.allows(resource, access) => Err(AppError::Forbidden),
            _ => Ok(()),
        }
    }

    pub(crate) fn audit_actor<'a>(&'a self, meta: &'a RequestMeta) -> AuditActor<'a> {
        AuditActor { account_id: Some(self.account.id), label: &self.audit_label, meta }
    }
}

pub(crate) fn actor_of(account: &AccountView) -> Actor {
    let facilities = |admin_only: bool| -> Vec<FacilityId> {
        account.memberships.iter().filter(|m| !admin_only || m.is_admin).map(|m| m.facility_id).collect()
    };
    Actor {
        account_id: account.id,
        municipality_id: account.municipality_id,
        roles: account.all_roles(),
        admin_of: facilities(true),
        member_of: facilities(false),
    }
}

/// Loads an account with its facility memberships.
pub(crate) async fn load_account(tx: &mut dyn StoreTx, row: AccountRow) -> Result<AccountView, AppError> {
    let memberships = tx
        .facilities_of_account(row.id)
        .await?
        .into_iter()
        .map(|m| MembershipView {
            facility_id: FacilityId(m.facility_id),
            facility_name: m.facility_name,
            facility_kind: m.facility_kind,
            is_admin: m.is_admin,
        })
        .collect();
    AccountView::from_row(row, memberships)
}
