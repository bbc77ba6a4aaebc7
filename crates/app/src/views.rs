//! What use cases hand back to the web layer: domain values, never rows or secrets.

use crate::AppError;
use time::OffsetDateTime;
use tsunagu_domain::account::{AccountStatus, Profession, Role};
use tsunagu_domain::facility::FacilityKind;
use tsunagu_domain::ids::{AccountId, FacilityId, MunicipalityId};
use tsunagu_store::{AccountRow, FacilityRow, MunicipalityRow};

#[derive(Debug, Clone, PartialEq)]
pub struct MunicipalityView {
    pub id: MunicipalityId,
    pub code: String,
    pub name: String,
}

impl From<MunicipalityRow> for MunicipalityView {
    fn from(r: MunicipalityRow) -> Self {
        Self { id: MunicipalityId(r.id), code: r.code, name: r.name }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FacilityView {
    pub id: FacilityId,
    pub municipality_id: MunicipalityId,
    pub kind: FacilityKind,
    pub name: String,
    pub name_kana: Option<String>,
    pub medical_institution_code: Option<String>,
    pub care_provider_number: Option<String>,
    pub postal_code: Option<String>,
    pub address: String,
    pub phone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub updated_at: OffsetDateTime,
}

impl TryFrom<FacilityRow> for FacilityView {
    type Error = AppError;
    fn try_from(r: FacilityRow) -> Result<Self, AppError> {
        Ok(Self {
            id: FacilityId(r.id),
            municipality_id: MunicipalityId(r.municipality_id),
            kind: r.kind,
            name: r.name,
            name_kana: r.name_kana,
            medical_institution_code: r.medical_institution_code,
            care_provider_number: r.care_provider_number,
            postal_code: r.postal_code,
            address: r.address,
            phone: r.phone,
            latitude: r.latitude,
            longitude: r.longitude,
            updated_at: r.updated_at,
        })
    }
}

/// A facility an account belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct MembershipView {
    pub facility_id: FacilityId,
    pub facility_name: String,
    pub facility_kind: tsunagu_domain::facility::FacilityKind,
    pub is_admin: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountView {
    pub id: AccountId,
    pub municipality_id: Option<MunicipalityId>,
    pub login_id: String,
    pub display_name: String,
    pub display_name_kana: Option<String>,
    pub email: Option<String>,
    pub profession: Profession,
    /// Roles held on the account itself (facility admin comes from memberships).
    pub roles: Vec<Role>,
    pub status: AccountStatus,
    pub second_factor_enrolled: bool,
    pub language: String,
    pub memberships: Vec<MembershipView>,
}

impl AccountView {
    pub(crate) fn from_row(r: AccountRow, memberships: Vec<MembershipView>) -> Result<Self, AppError> {
        Ok(Self {
            id: AccountId(r.id),
            municipality_id: r.municipality_id.map(MunicipalityId),
            profession: r.profession,
            roles: parse_roles(&r.roles)?,
            status: r.status,
            second_factor_enrolled: r.totp_secret.is_some(),
            login_id: r.login_id,
            display_name: r.display_name,
            display_name_kana: r.display_name_kana,
            email: r.email,
            language: r.language,
            memberships,
        })
    }

    pub fn is_facility_admin(&self) -> bool {
        self.memberships.iter().any(|m| m.is_admin)
    }

    /// Every role, including facility admin when the account administers a facility.
    pub fn all_roles(&self) -> Vec<Role> {
        let mut roles = self.roles.clone();
        if self.is_facility_admin() && !roles.contains(&Role::FacilityAdmin) {
            roles.push(Role::FacilityAdmin);
        }
        roles
    }
}

pub(crate) fn parse_roles(stored: &str) -> Result<Vec<Role>, AppError> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|code| Role::parse(code).map_err(|_| corrupt("role", code)))
        .collect()
}

pub(crate) fn store_roles(roles: &[Role]) -> String {
    roles.iter().filter(|r| **r != Role::FacilityAdmin).map(|r| r.code()).collect::<Vec<_>>().join(",")
}

fn corrupt(what: &str, value: &str) -> AppError {
    AppError::Store(tsunagu_store::StoreError::Corrupt(format!("{what} {value:?}")))
}

/// An audit event as shown on the admin page.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEventView {
    pub seq: i64,
    pub occurred_at: OffsetDateTime,
    pub actor_label: String,
    pub action: String,
    pub target_kind: String,
    pub source_ip: Option<String>,
    pub details: String,
}
