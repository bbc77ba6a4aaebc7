//! What the analysts' export reads (issue 6): per patient of a municipality
//! whose consent is in force (or was when care ended), the coded fields and
//! counts the domain de-identifies (`tsunagu_domain::analysis`). Nothing here
//! reads a name, an address, a phone number or a free text. A trait of its own
//! (a supertrait of [`crate::StoreTx`]).

use crate::StoreError;
use async_trait::async_trait;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A patient's coded fields, for the analysts' export.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AnalysisPatientRow {
    pub id: Uuid,
    pub birth_date: Date,
    #[sqlx(try_from = "String")]
    pub sex: tsunagu_domain::patient::Sex,
    #[sqlx(try_from = "String")]
    pub care_level: tsunagu_domain::patient::CareLevel,
    pub daily_living_area: Option<String>,
    pub special_care: String,
    #[sqlx(try_from = "String")]
    pub status: tsunagu_domain::patient::PatientStatus,
    pub outcome: Option<String>,
    pub outcome_date: Option<Date>,
    pub created_at: OffsetDateTime,
    /// The date of the consent in force.
    pub consent_on: Date,
}

#[async_trait]
pub trait AnalysisTx: Send {
    /// The municipality's patients whose latest consent is not withdrawn.
    async fn analysis_patients(&mut self, municipality_id: Uuid) -> Result<Vec<AnalysisPatientRow>, StoreError>;
    /// (patient, team role) for every role a team has had.
    async fn analysis_team_roles(&mut self, municipality_id: Uuid) -> Result<Vec<(Uuid, String)>, StoreError>;
    /// (patient, entry kind, count).
    async fn analysis_entry_counts(&mut self, municipality_id: Uuid) -> Result<Vec<(Uuid, String, i64)>, StoreError>;
    /// (patient, urgent requests, of which ended in an admission).
    async fn analysis_urgent_requests(&mut self, municipality_id: Uuid) -> Result<Vec<(Uuid, i64, i64)>, StoreError>;
    /// (patient, wished place of death) from each current advance care plan.
    async fn analysis_wishes(&mut self, municipality_id: Uuid) -> Result<Vec<(Uuid, String)>, StoreError>;
}

macro_rules! impl_analysis_tx {
    ($tx:ident) => {
        #[async_trait::async_trait]
        impl $crate::analysis::AnalysisTx for $tx {
            async fn analysis_patients(
                &mut self,
                municipality_id: uuid::Uuid,
            ) -> Result<Vec<$crate::analysis::AnalysisPatientRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT p.id, p.birth_date, p.sex, p.care_level, p.daily_living_area, p.special_care, p.status, \
                     p.outcome, p.outcome_date, p.created_at, c.given_on AS consent_on \
                     FROM patients p JOIN consents c ON c.patient_id = p.id \
                     WHERE p.municipality_id = $1 AND c.withdrawn_at IS NULL \
                     AND c.id = (SELECT c2.id FROM consents c2 WHERE c2.patient_id = p.id \
                                 ORDER BY c2.recorded_at DESC, c2.id DESC LIMIT 1)",
                )
                .bind(municipality_id)
                .fetch_all(self.conn())
                .await?)
            }

            async fn analysis_team_roles(
                &mut self,
                municipality_id: uuid::Uuid,
            ) -> Result<Vec<(uuid::Uuid, String)>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT DISTINCT m.patient_id, m.team_role FROM team_members m \
                     JOIN patients p ON p.id = m.patient_id WHERE p.municipality_id = $1",
                )
                .bind(municipality_id)
                .fetch_all(self.conn())
                .await?)
            }

            async fn analysis_entry_counts(
                &mut self,
                municipality_id: uuid::Uuid,
            ) -> Result<Vec<(uuid::Uuid, String, i64)>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT e.patient_id, e.kind, CAST(COUNT(*) AS BIGINT) FROM entries e \
                     JOIN patients p ON p.id = e.patient_id WHERE p.municipality_id = $1 \
                     GROUP BY e.patient_id, e.kind",
                )
                .bind(municipality_id)
                .fetch_all(self.conn())
                .await?)
            }

            async fn analysis_urgent_requests(
                &mut self,
                municipality_id: uuid::Uuid,
            ) -> Result<Vec<(uuid::Uuid, i64, i64)>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT patient_id, CAST(COUNT(*) AS BIGINT), \
                     CAST(SUM(CASE WHEN outcome = 'admitted' THEN 1 ELSE 0 END) AS BIGINT) \
                     FROM urgent_requests WHERE municipality_id = $1 GROUP BY patient_id",
                )
                .bind(municipality_id)
                .fetch_all(self.conn())
                .await?)
            }

            async fn analysis_wishes(
                &mut self,
                municipality_id: uuid::Uuid,
            ) -> Result<Vec<(uuid::Uuid, String)>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT a.patient_id, a.place_of_death FROM advance_care_plans a \
                     JOIN patients p ON p.id = a.patient_id WHERE p.municipality_id = $1 \
                     AND a.id = (SELECT a2.id FROM advance_care_plans a2 WHERE a2.patient_id = a.patient_id \
                                 ORDER BY a2.recorded_at DESC, a2.id DESC LIMIT 1)",
                )
                .bind(municipality_id)
                .fetch_all(self.conn())
                .await?)
            }
        }
    };
}

pub(crate) use impl_analysis_tx;
