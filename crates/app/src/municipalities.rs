//! Registering the municipalities of an installation.

use crate::session::Session;
use crate::views::MunicipalityView;
use crate::{App, AppError, AuditActor, RequestMeta, audit_record};
use serde_json::json;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::ids::MunicipalityId;
use tsunagu_domain::municipality::NewMunicipality;
use tsunagu_domain::policy::{self, Decision};
use tsunagu_store::{MunicipalityRow, StoreTx};

/// Turns a policy decision into the answer the user sees.
pub(crate) fn enforce(decision: Decision) -> Result<(), AppError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::Deny => Err(AppError::Forbidden),
        Decision::Hidden => Err(AppError::NotFound),
    }
}

impl App {
    /// An operator registers a municipality.
    pub async fn create_municipality(
        &self,
        session: &Session,
        code: &str,
        name: &str,
        meta: &RequestMeta,
    ) -> Result<MunicipalityView, AppError> {
        enforce(policy::manage_municipalities(&session.actor()?))?;
        let new = NewMunicipality::parse(code, name)?;
        let actor = AuditActor { account_id: Some(session.account.id), label: &session.audit_label, meta };
        self.insert_municipality(&new, &actor).await
    }

    pub(crate) async fn insert_municipality(
        &self,
        new: &NewMunicipality,
        actor: &AuditActor<'_>,
    ) -> Result<MunicipalityView, AppError> {
        let mut tx = self.begin().await?;
        let row = MunicipalityRow {
            id: MunicipalityId::new().0,
            code: new.code.as_str().to_owned(),
            name: new.name.clone(),
            created_at: self.now(),
        };
        tx.insert_municipality(&row).await.map_err(AppError::conflict_on("municipality_code"))?;
        let details = json!({ "code": row.code, "name": row.name });
        // Recorded in the new municipality's own chain, which it starts.
        tx.append_audit(&audit_record(
            self.now(),
            Some(MunicipalityId(row.id)),
            actor,
            AuditAction::MunicipalityCreated,
            "municipality",
            Some(row.id),
            details,
        ))
        .await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Every municipality of the installation (the operator's list).
    pub async fn municipalities(&self, session: &Session) -> Result<Vec<MunicipalityView>, AppError> {
        enforce(policy::manage_municipalities(&session.actor()?))?;
        let mut tx = self.store.begin_read().await?;
        Ok(tx.municipalities().await?.into_iter().map(Into::into).collect())
    }

    pub async fn municipality(&self, session: &Session, id: MunicipalityId) -> Result<MunicipalityView, AppError> {
        enforce(policy::view_facilities(&session.actor()?, id))?;
        let mut tx = self.store.begin_read().await?;
        municipality_row(tx.as_mut(), id).await.map(Into::into)
    }
}

pub(crate) async fn municipality_row(tx: &mut dyn StoreTx, id: MunicipalityId) -> Result<MunicipalityRow, AppError> {
    tx.municipality(id.0).await?.ok_or(AppError::NotFound)
}
