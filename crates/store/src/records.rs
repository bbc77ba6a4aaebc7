//! Rows as stored. The app layer turns them into domain values.

use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MunicipalityRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FacilityRow {
    pub id: Uuid,
    pub municipality_id: Uuid,
    pub kind: String,
    pub name: String,
    pub name_kana: Option<String>,
    pub medical_institution_code: Option<String>,
    pub care_provider_number: Option<String>,
    pub postal_code: Option<String>,
    pub address: String,
    pub phone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, PartialEq, sqlx::FromRow)]
pub struct AccountRow {
    pub id: Uuid,
    pub municipality_id: Option<Uuid>,
    pub login_id: String,
    pub display_name: String,
    pub display_name_kana: Option<String>,
    pub email: Option<String>,
    pub profession: String,
    /// Role codes separated by commas.
    pub roles: String,
    pub status: String,
    pub password_hash: Option<String>,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
    pub language: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Secrets never reach a log line.
impl std::fmt::Debug for AccountRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRow")
            .field("id", &self.id)
            .field("login_id", &self.login_id)
            .field("status", &self.status)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MembershipRow {
    pub account_id: Uuid,
    pub facility_id: Uuid,
    pub is_admin: bool,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub code_hash: Vec<u8>,
    pub created_by: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

#[derive(Clone, PartialEq, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: Vec<u8>,
    pub account_id: Uuid,
    /// "second_factor" (password accepted, code pending), "enrol" (must enrol a
    /// second factor first) or "full".
    pub stage: String,
    pub csrf_token: String,
    pub pending_totp_secret: Option<Vec<u8>>,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRow")
            .field("account_id", &self.account_id)
            .field("stage", &self.stage)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChainHead {
    pub chain: Uuid,
    pub seq: i64,
    pub hash: Vec<u8>,
}

/// The stored shape of an audit event (the domain's `ChainedEvent`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct AuditEventRow {
    pub id: Uuid,
    pub chain: Uuid,
    pub seq: i64,
    pub occurred_at: OffsetDateTime,
    pub actor_account_id: Option<Uuid>,
    pub actor_label: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<Uuid>,
    pub source_ip: Option<String>,
    pub details: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl From<AuditEventRow> for tsunagu_domain::audit::ChainedEvent {
    fn from(r: AuditEventRow) -> Self {
        Self {
            id: r.id,
            chain: r.chain,
            seq: r.seq,
            occurred_at: r.occurred_at,
            actor_account_id: r.actor_account_id,
            actor_label: r.actor_label,
            action: r.action,
            target_kind: r.target_kind,
            target_id: r.target_id,
            source_ip: r.source_ip,
            details: r.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}
