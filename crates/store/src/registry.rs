//! The resource registry's storage: facilities as imported from government
//! open data (with where each came from), their status flags over time, the
//! history of every change, and the report of each import run. Bulk writes
//! go through [`crate::bulk`] (multi-row INSERTs on SQLite, COPY on PostgreSQL).

use crate::StoreError;
use async_trait::async_trait;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A facility with the registry's columns (`facilities` row).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RegistryFacility {
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
    pub fax: Option<String>,
    pub service: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub closed_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Which row of which published file a facility is.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FacilitySourceRow {
    pub municipality_id: Uuid,
    /// care_offices, medical_institutions or facility_standards
    pub source: String,
    pub source_id: String,
    pub facility_id: Uuid,
    /// What one file of that source covers (a service type, a kind): rows of
    /// the same scope missing from a newer file are closed.
    pub scope: String,
    pub first_seen_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
}

/// A status flag (在宅療養支援診療所 ...) from `since`, until `ended_at` if it ended.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FacilityFlagRow {
    pub id: Uuid,
    pub facility_id: Uuid,
    pub flag: String,
    pub since: Option<Date>,
    pub source: String,
    pub recorded_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
}

/// One change of a facility, with what it looked like after.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FacilityHistoryRow {
    pub id: Uuid,
    pub facility_id: Uuid,
    pub changed_at: OffsetDateTime,
    /// Who or what: a login id, or "import:<source>".
    pub changed_by: String,
    /// added, updated, closed, reopened, flags
    pub change: String,
    /// JSON of the facility after the change.
    pub snapshot: String,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ImportRunRow {
    pub id: Uuid,
    pub municipality_id: Uuid,
    pub source: String,
    pub file_name: String,
    pub imported_at: OffsetDateTime,
    pub imported_by: String,
    pub added: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub closed: i64,
    pub rejected: i64,
    pub elsewhere: i64,
    /// JSON: the rejected rows with their reasons.
    pub report: String,
}

/// What a facility says about itself.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FacilityProfileRow {
    pub facility_id: Uuid,
    /// Comma-separated service codes.
    pub services: String,
    pub opening_hours: Option<String>,
    pub accepting: Option<String>,
    pub accepting_confirmed_on: Option<Date>,
    pub contact_person: Option<String>,
    pub languages: Option<String>,
    pub note: Option<String>,
    pub updated_by: Uuid,
    pub updated_at: OffsetDateTime,
}

#[async_trait]
pub trait RegistryTx: Send {
    async fn facility_profile(&mut self, facility_id: Uuid) -> Result<Option<FacilityProfileRow>, StoreError>;
    /// The profiles of these facilities (those that have one), in one query.
    async fn facility_profiles(&mut self, facility_ids: &[Uuid]) -> Result<Vec<FacilityProfileRow>, StoreError>;
    async fn upsert_facility_profile(&mut self, p: &FacilityProfileRow) -> Result<(), StoreError>;
    /// A municipality's newest import runs, newest first.
    async fn import_runs(&mut self, municipality_id: Uuid, limit: i64) -> Result<Vec<ImportRunRow>, StoreError>;
    /// Every facility of a municipality, closed ones too.
    async fn registry_facilities(&mut self, municipality_id: Uuid) -> Result<Vec<RegistryFacility>, StoreError>;
    async fn facility_sources(&mut self, municipality_id: Uuid) -> Result<Vec<FacilitySourceRow>, StoreError>;
    async fn insert_registry_facilities(&mut self, rows: &[RegistryFacility]) -> Result<(), StoreError>;
    async fn update_registry_facility(&mut self, f: &RegistryFacility) -> Result<(), StoreError>;
    /// Source rows not yet recorded (the caller has read the municipality's
    /// sources in this transaction): a plain bulk insert.
    async fn insert_facility_sources(&mut self, rows: &[FacilitySourceRow]) -> Result<(), StoreError>;
    async fn upsert_facility_sources(&mut self, rows: &[FacilitySourceRow]) -> Result<(), StoreError>;
    /// Flags of a municipality's facilities that have not ended.
    async fn current_flags(&mut self, municipality_id: Uuid) -> Result<Vec<FacilityFlagRow>, StoreError>;
    async fn insert_flags(&mut self, rows: &[FacilityFlagRow]) -> Result<(), StoreError>;
    async fn end_flag(&mut self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;
    async fn insert_facility_history(&mut self, rows: &[FacilityHistoryRow]) -> Result<(), StoreError>;
    async fn facility_history(&mut self, facility_id: Uuid) -> Result<Vec<FacilityHistoryRow>, StoreError>;
    async fn insert_import_run(&mut self, r: &ImportRunRow) -> Result<(), StoreError>;
    /// Facilities of a municipality holding a flag starting with `prefix` on
    /// the day `on` (whose end is `at`): started by then (a flag without a
    /// start date counts from when it was recorded) and not ended by then.
    async fn count_flagged_on(
        &mut self,
        municipality_id: Uuid,
        prefix: &str,
        on: Date,
        at: OffsetDateTime,
    ) -> Result<i64, StoreError>;
}

/// Stamps out [`RegistryTx`] for a backend (see `sql.rs`).
macro_rules! impl_registry_tx {
    ($tx:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::registry::RegistryTx for $tx {
            async fn facility_profile(&mut self, facility_id: uuid::Uuid) -> Result<Option<$crate::FacilityProfileRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM facility_profiles WHERE facility_id = $1")
                    .bind(facility_id).fetch_optional(self.conn()).await?)
            }

            async fn facility_profiles(&mut self, facility_ids: &[uuid::Uuid]) -> Result<Vec<$crate::FacilityProfileRow>, $crate::StoreError> {
                let mut out = Vec::with_capacity(facility_ids.len());
                for chunk in facility_ids.chunks(500) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("SELECT * FROM facility_profiles WHERE facility_id IN (");
                    let mut ids = q.separated(", ");
                    for id in chunk {
                        ids.push_bind(*id);
                    }
                    q.push(")");
                    out.extend(q.build_query_as::<$crate::FacilityProfileRow>().fetch_all(self.conn()).await?);
                }
                Ok(out)
            }

            async fn upsert_facility_profile(&mut self, p: &$crate::FacilityProfileRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO facility_profiles (facility_id, services, opening_hours, accepting, accepting_confirmed_on, \
                     contact_person, languages, note, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (facility_id) DO UPDATE SET services = excluded.services, opening_hours = excluded.opening_hours, \
                     accepting = excluded.accepting, accepting_confirmed_on = excluded.accepting_confirmed_on, \
                     contact_person = excluded.contact_person, languages = excluded.languages, note = excluded.note, \
                     updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(p.facility_id).bind(&p.services).bind(&p.opening_hours).bind(&p.accepting).bind(p.accepting_confirmed_on)
                .bind(&p.contact_person).bind(&p.languages).bind(&p.note).bind(p.updated_by).bind(p.updated_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn import_runs(&mut self, municipality_id: uuid::Uuid, limit: i64) -> Result<Vec<$crate::ImportRunRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM import_runs WHERE municipality_id = $1 ORDER BY imported_at DESC, id DESC LIMIT $2")
                    .bind(municipality_id).bind(limit).fetch_all(self.conn()).await?)
            }

            async fn registry_facilities(&mut self, municipality_id: uuid::Uuid) -> Result<Vec<$crate::RegistryFacility>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, municipality_id, kind, name, name_kana, medical_institution_code, care_provider_number, \
                     postal_code, address, phone, fax, service, latitude, longitude, closed_at, created_at, updated_at \
                     FROM facilities WHERE municipality_id = $1",
                )
                .bind(municipality_id).fetch_all(self.conn()).await?)
            }

            async fn facility_sources(&mut self, municipality_id: uuid::Uuid) -> Result<Vec<$crate::FacilitySourceRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM facility_sources WHERE municipality_id = $1")
                    .bind(municipality_id).fetch_all(self.conn()).await?)
            }

            async fn insert_registry_facilities(&mut self, rows: &[$crate::RegistryFacility]) -> Result<(), $crate::StoreError> {
                $crate::bulk::BulkWrite::insert_facilities(self.conn(), rows).await
            }

            async fn update_registry_facility(&mut self, f: &$crate::RegistryFacility) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "UPDATE facilities SET kind = $2, name = $3, name_kana = $4, medical_institution_code = $5, \
                     care_provider_number = $6, postal_code = $7, address = $8, phone = $9, fax = $10, service = $11, \
                     latitude = $12, longitude = $13, closed_at = $14, updated_at = $15 WHERE id = $1",
                )
                .bind(f.id).bind(&f.kind).bind(&f.name).bind(&f.name_kana).bind(&f.medical_institution_code)
                .bind(&f.care_provider_number).bind(&f.postal_code).bind(&f.address).bind(&f.phone).bind(&f.fax)
                .bind(&f.service).bind(f.latitude).bind(f.longitude).bind(f.closed_at).bind(f.updated_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn insert_facility_sources(&mut self, rows: &[$crate::FacilitySourceRow]) -> Result<(), $crate::StoreError> {
                $crate::bulk::BulkWrite::insert_facility_sources(self.conn(), rows).await
            }

            async fn upsert_facility_sources(&mut self, rows: &[$crate::FacilitySourceRow]) -> Result<(), $crate::StoreError> {
                $crate::bulk::BulkWrite::upsert_facility_sources(self.conn(), rows).await
            }

            async fn current_flags(&mut self, municipality_id: uuid::Uuid) -> Result<Vec<$crate::FacilityFlagRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT g.* FROM facility_flags g JOIN facilities f ON f.id = g.facility_id \
                     WHERE f.municipality_id = $1 AND g.ended_at IS NULL ORDER BY g.facility_id, g.flag",
                )
                .bind(municipality_id).fetch_all(self.conn()).await?)
            }

            async fn insert_flags(&mut self, rows: &[$crate::FacilityFlagRow]) -> Result<(), $crate::StoreError> {
                $crate::bulk::BulkWrite::insert_flags(self.conn(), rows).await
            }

            async fn end_flag(&mut self, id: uuid::Uuid, at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE facility_flags SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL")
                    .bind(id).bind(at).execute(self.conn()).await?;
                Ok(())
            }

            async fn insert_facility_history(&mut self, rows: &[$crate::FacilityHistoryRow]) -> Result<(), $crate::StoreError> {
                $crate::bulk::BulkWrite::insert_facility_history(self.conn(), rows).await
            }

            async fn facility_history(&mut self, facility_id: uuid::Uuid) -> Result<Vec<$crate::FacilityHistoryRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM facility_history WHERE facility_id = $1 ORDER BY changed_at, id")
                    .bind(facility_id).fetch_all(self.conn()).await?)
            }

            async fn insert_import_run(&mut self, r: &$crate::ImportRunRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO import_runs (id, municipality_id, source, file_name, imported_at, imported_by, added, \
                     updated, unchanged, closed, rejected, elsewhere, report) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(r.id).bind(r.municipality_id).bind(&r.source).bind(&r.file_name).bind(r.imported_at)
                .bind(&r.imported_by).bind(r.added).bind(r.updated).bind(r.unchanged).bind(r.closed).bind(r.rejected)
                .bind(r.elsewhere).bind(&r.report)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn count_flagged_on(&mut self, municipality_id: uuid::Uuid, prefix: &str, on: time::Date, at: time::OffsetDateTime) -> Result<i64, $crate::StoreError> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(DISTINCT g.facility_id) FROM facility_flags g JOIN facilities f ON f.id = g.facility_id \
                     WHERE f.municipality_id = $1 AND g.flag LIKE $2 \
                     AND (g.since <= $3 OR (g.since IS NULL AND g.recorded_at <= $4)) \
                     AND (g.ended_at IS NULL OR g.ended_at > $4)",
                )
                .bind(municipality_id).bind(format!("{prefix}%")).bind(on).bind(at)
                .fetch_one(self.conn()).await?)
            }
        }
    };
}
pub(crate) use impl_registry_tx;
