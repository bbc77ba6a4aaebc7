//! The facilities of a municipality's network and their staff.

use crate::municipalities::{enforce, municipality_row};
use crate::session::{Session, load_account};
use crate::views::{AccountView, FacilityView};
use crate::{App, AppError, AuditActor, RequestMeta, audit_record};
use serde_json::json;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::facility::{FacilityDetails, FacilityForm};
use tsunagu_domain::ids::{FacilityId, MunicipalityId};
use tsunagu_domain::policy;
use tsunagu_store::{FacilityRow, StoreTx};

fn apply(row: &mut FacilityRow, d: &FacilityDetails) {
    row.kind = d.kind;
    row.name.clone_from(&d.name);
    row.name_kana.clone_from(&d.name_kana);
    row.medical_institution_code = d.medical_institution_code.as_ref().map(|c| c.as_str().to_owned());
    row.care_provider_number = d.care_provider_number.as_ref().map(|c| c.as_str().to_owned());
    row.postal_code.clone_from(&d.postal_code);
    row.address.clone_from(&d.address);
    row.phone = d.phone.as_ref().map(|p| p.as_str().to_owned());
    row.latitude = d.location.map(|l| l.latitude);
    row.longitude = d.location.map(|l| l.longitude);
}

/// The audit details of a facility change: what it is now.
fn describe(row: &FacilityRow) -> serde_json::Value {
    json!({
        "kind": row.kind.code(), "name": row.name, "medical_institution_code": row.medical_institution_code,
        "care_provider_number": row.care_provider_number, "address": row.address, "phone": row.phone,
    })
}

fn facility_conflict(e: tsunagu_store::StoreError) -> AppError {
    AppError::conflict_on("facility_code")(e)
}

impl App {
    /// Adds a facility to a municipality's network.
    pub async fn create_facility(
        &self,
        session: &Session,
        municipality: MunicipalityId,
        form: &FacilityForm<'_>,
        meta: &RequestMeta,
    ) -> Result<FacilityView, AppError> {
        enforce(policy::create_facility(&session.actor()?, municipality))?;
        let actor = AuditActor { account_id: Some(session.account.id), label: &session.audit_label, meta };
        self.insert_facility(municipality, form, &actor).await
    }

    pub(crate) async fn insert_facility(
        &self,
        municipality: MunicipalityId,
        form: &FacilityForm<'_>,
        actor: &AuditActor<'_>,
    ) -> Result<FacilityView, AppError> {
        let mut tx = self.begin().await?;
        let m = municipality_row(tx.as_mut(), municipality).await?;
        let prefecture = m.code.get(..2).unwrap_or_default();
        let details = FacilityDetails::parse(form, prefecture)?;
        let now = self.now();
        let mut row = FacilityRow {
            id: FacilityId::new().0,
            municipality_id: municipality.0,
            kind: tsunagu_domain::facility::FacilityKind::Other,
            name: String::new(),
            name_kana: None,
            medical_institution_code: None,
            care_provider_number: None,
            postal_code: None,
            address: String::new(),
            phone: None,
            latitude: None,
            longitude: None,
            created_at: now,
            updated_at: now,
        };
        apply(&mut row, &details);
        tx.insert_facility(&row).await.map_err(facility_conflict)?;
        tx.insert_facility_history(&[tsunagu_store::FacilityHistoryRow {
            id: uuid::Uuid::now_v7(),
            facility_id: row.id,
            changed_at: now,
            changed_by: actor.label.to_owned(),
            change: "added".to_owned(),
            snapshot: describe(&row).to_string(),
        }])
        .await?;
        tx.append_audit(&audit_record(
            now,
            Some(municipality),
            actor,
            AuditAction::FacilityCreated,
            "facility",
            Some(row.id),
            describe(&row),
        ))
        .await?;
        tx.commit().await?;
        self.public_data_changed().await;
        row.try_into()
    }

    /// Changes a facility's details (its own admins may do this: self-service).
    pub async fn update_facility(
        &self,
        session: &Session,
        facility: FacilityId,
        form: &FacilityForm<'_>,
        meta: &RequestMeta,
    ) -> Result<FacilityView, AppError> {
        let actor = session.actor()?;
        let mut tx = self.begin().await?;
        let mut row = tx.facility(facility.0).await?.ok_or(AppError::NotFound)?;
        let municipality = MunicipalityId(row.municipality_id);
        enforce(policy::edit_facility(&actor, municipality, facility))?;
        let m = municipality_row(tx.as_mut(), municipality).await?;
        let details = FacilityDetails::parse(form, m.code.get(..2).unwrap_or_default())?;
        let before = describe(&row);
        apply(&mut row, &details);
        row.updated_at = self.now();
        tx.update_facility(&row).await.map_err(facility_conflict)?;
        // The registry keeps every change (the indicators ask what was true when).
        tx.insert_facility_history(&[tsunagu_store::FacilityHistoryRow {
            id: uuid::Uuid::now_v7(),
            facility_id: row.id,
            changed_at: row.updated_at,
            changed_by: session.account.login_id.clone(),
            change: "edited".to_owned(),
            snapshot: describe(&row).to_string(),
        }])
        .await?;
        let who = AuditActor { account_id: Some(session.account.id), label: &session.audit_label, meta };
        tx.append_audit(&audit_record(
            self.now(),
            Some(municipality),
            &who,
            AuditAction::FacilityUpdated,
            "facility",
            Some(row.id),
            json!({ "before": before, "after": describe(&row) }),
        ))
        .await?;
        tx.commit().await?;
        self.sessions_changed().await;
        self.public_data_changed().await;
        row.try_into()
    }

    /// A municipality's facility directory.
    pub async fn facilities(
        &self,
        session: &Session,
        municipality: MunicipalityId,
    ) -> Result<Vec<FacilityView>, AppError> {
        enforce(policy::view_facilities(&session.actor()?, municipality))?;
        let mut tx = self.store.begin_read().await?;
        tx.facilities(municipality.0).await?.into_iter().map(TryInto::try_into).collect()
    }

    /// One facility with its staff.
    pub async fn facility(
        &self,
        session: &Session,
        facility: FacilityId,
    ) -> Result<(FacilityView, Vec<AccountView>), AppError> {
        let actor = session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let row = tx.facility(facility.0).await?.ok_or(AppError::NotFound)?;
        enforce(policy::view_facilities(&actor, MunicipalityId(row.municipality_id)))?;
        let staff = staff_of(tx.as_mut(), &row).await?;
        Ok((row.try_into()?, staff))
    }
}

/// The accounts that work at `facility`, by login ID.
pub(crate) async fn staff_of(tx: &mut dyn StoreTx, facility: &FacilityRow) -> Result<Vec<AccountView>, AppError> {
    let memberships = tx.memberships_in_municipality(facility.municipality_id).await?;
    let mut staff = Vec::new();
    for m in memberships.iter().filter(|m| m.facility_id == facility.id) {
        if let Some(row) = tx.account(m.account_id).await? {
            staff.push(load_account(tx, row).await?);
        }
    }
    staff.sort_by(|a, b| a.login_id.cmp(&b.login_id));
    Ok(staff)
}
