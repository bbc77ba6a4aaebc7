//! The public resource map's reads (item ア/キ): a municipality's open
//! facilities with their current status flags, filtered, paged, and those in a
//! latitude/longitude box (the prefilter of "nearest to a point"; the exact
//! distance is the domain's). Public data only: no account, patient or
//! registry-internal column leaves here. A trait of its own (a supertrait of
//! [`crate::StoreTx`]), as [`crate::BackupSystemTx`].

use crate::StoreError;
use async_trait::async_trait;
use time::Date;
use uuid::Uuid;

/// What a citizen may see of a facility.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PublicFacilityRow {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub name_kana: Option<String>,
    pub address: String,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub service: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// 医療機関コード (10 digits) and 介護保険事業所番号: public, from the open data.
    pub medical_institution_code: Option<String>,
    pub care_provider_number: Option<String>,
}

/// An open, located facility with what its profile says of it (the in-memory
/// nearby index is built from these).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PublicLocatedRow {
    #[sqlx(flatten)]
    pub facility: PublicFacilityRow,
    /// The profile's services, comma-separated codes.
    pub services: Option<String>,
    /// The profile's 新規受入 ("yes", "no", ...).
    pub accepting: Option<String>,
}

/// Where a facility lies.
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct PublicLocationRow {
    pub id: Uuid,
    pub latitude: f64,
    pub longitude: f64,
}

/// The band of the location index a latitude falls in (~1.1 km high): the
/// same arithmetic as the generated column `facilities.lat_cell`
/// (migration 0015), so that a box's bands are exactly the rows' bands.
pub fn lat_cell(latitude: f64) -> i32 {
    ((latitude + 90.0) * 100.0).floor() as i32
}

/// A status flag a facility holds now, from `since` (when known).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PublicFlagRow {
    pub facility_id: Uuid,
    pub flag: String,
    pub since: Option<Date>,
}

/// Filters of the public list; `None` is "any". The text filters are
/// `LIKE` patterns the caller has escaped (with `\`, see [`like_contains`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublicFilter {
    /// A facility kind code.
    pub kind: Option<String>,
    /// Facilities holding a current flag matching this pattern.
    pub flag_pattern: Option<String>,
    /// Matched against the address.
    pub address_pattern: Option<String>,
    /// Matched against the name, or (the second) against the furigana.
    pub name_pattern: Option<String>,
    pub kana_pattern: Option<String>,
    /// Only facilities with coordinates.
    pub located_only: bool,
    /// Facilities whose profile lists this service (a pattern over ",code,").
    pub service_pattern: Option<String>,
    /// Only facilities whose profile says they accept new patients.
    pub accepting_only: bool,
    /// The facility with this 医療機関コード or 介護保険事業所番号.
    pub code: Option<String>,
}

/// A `LIKE` pattern for "contains `text`", its wildcards escaped with `\`.
pub fn like_contains(text: &str) -> String {
    format!("%{}%", like_escape(text))
}

/// A `LIKE` pattern for "starts with `text`", its wildcards escaped with `\`.
pub fn like_prefix(text: &str) -> String {
    format!("{}%", like_escape(text))
}

fn like_escape(text: &str) -> String {
    text.chars().fold(String::with_capacity(text.len()), |mut out, c| {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

#[async_trait]
pub trait PublicMapTx: Send {
    /// Open facilities of a municipality passing `filter`, in furigana order, a page of them.
    async fn public_facilities(
        &mut self,
        municipality_id: Uuid,
        filter: &PublicFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<PublicFacilityRow>, StoreError>;
    /// How many open facilities of a municipality pass `filter`.
    async fn count_public_facilities(
        &mut self,
        municipality_id: Uuid,
        filter: &PublicFilter,
    ) -> Result<i64, StoreError>;
    /// Where the open facilities passing `filter` inside the box lie (degrees,
    /// inclusive), at most `limit` of them: only what the distance needs.
    async fn public_locations_in_box(
        &mut self,
        municipality_id: Uuid,
        filter: &PublicFilter,
        latitudes: (f64, f64),
        longitudes: (f64, f64),
        limit: i64,
    ) -> Result<Vec<PublicLocationRow>, StoreError>;
    /// These open facilities of the municipality (in no particular order).
    async fn public_facilities_by_id(
        &mut self,
        municipality_id: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<PublicFacilityRow>, StoreError>;
    /// One open facility of the municipality.
    async fn public_facility(
        &mut self,
        municipality_id: Uuid,
        id: Uuid,
    ) -> Result<Option<PublicFacilityRow>, StoreError>;
    /// The current (not ended) flags of these facilities, by facility and flag.
    async fn public_flags(&mut self, facility_ids: &[Uuid]) -> Result<Vec<PublicFlagRow>, StoreError>;
    /// Every open facility of the municipality that has coordinates, with its
    /// profile's services and 新規受入 (in no particular order).
    async fn public_located_facilities(&mut self, municipality_id: Uuid) -> Result<Vec<PublicLocatedRow>, StoreError>;
    /// The current flags of every open facility of the municipality.
    async fn public_flags_in(&mut self, municipality_id: Uuid) -> Result<Vec<PublicFlagRow>, StoreError>;
}

/// Stamps out [`PublicMapTx`] for a backend (see `sql.rs`): the same text on
/// both. The filter's conditions are written only when asked for (every
/// value bound), so that each backend's planner sees an indexable query.
macro_rules! impl_public_map_tx {
    ($tx:ident, $db:ty) => {
        /// `FROM facilities f WHERE` the open facilities of the municipality passing `filter`.
        fn push_public_filter(q: &mut sqlx::QueryBuilder<$db>, municipality_id: uuid::Uuid, filter: &$crate::PublicFilter) {
            q.push(" FROM facilities f WHERE f.closed_at IS NULL AND f.municipality_id = ").push_bind(municipality_id);
            if let Some(kind) = &filter.kind {
                q.push(" AND f.kind = ").push_bind(kind.clone());
            }
            if let Some(flag) = &filter.flag_pattern {
                q.push(" AND EXISTS (SELECT 1 FROM facility_flags g WHERE g.facility_id = f.id AND g.ended_at IS NULL \
                        AND g.flag LIKE ").push_bind(flag.clone()).push(" ESCAPE '\\')");
            }
            if let Some(address) = &filter.address_pattern {
                q.push(" AND f.address LIKE ").push_bind(address.clone()).push(" ESCAPE '\\'");
            }
            if let Some(name) = &filter.name_pattern {
                // Furigana as published may hold spaces; the pattern has none.
                q.push(" AND (f.name LIKE ").push_bind(name.clone())
                    .push(" ESCAPE '\\' OR REPLACE(REPLACE(f.name_kana, ' ', ''), '　', '') LIKE ")
                    .push_bind(filter.kana_pattern.clone().unwrap_or_else(|| name.clone())).push(" ESCAPE '\\')");
            }
            if filter.located_only {
                q.push(" AND f.latitude IS NOT NULL AND f.longitude IS NOT NULL");
            }
            if let Some(service) = &filter.service_pattern {
                q.push(" AND EXISTS (SELECT 1 FROM facility_profiles p WHERE p.facility_id = f.id \
                        AND (',' || p.services || ',') LIKE ").push_bind(service.clone()).push(" ESCAPE '\\')");
            }
            if filter.accepting_only {
                q.push(" AND EXISTS (SELECT 1 FROM facility_profiles p WHERE p.facility_id = f.id AND p.accepting = 'yes')");
            }
            if let Some(code) = &filter.code {
                q.push(" AND (f.medical_institution_code = ").push_bind(code.clone())
                    .push(" OR f.care_provider_number = ").push_bind(code.clone()).push(")");
            }
        }

        #[async_trait::async_trait]
        impl $crate::public_map::PublicMapTx for $tx {
            async fn public_facilities(
                &mut self,
                municipality_id: uuid::Uuid,
                filter: &$crate::PublicFilter,
                limit: i64,
                offset: i64,
            ) -> Result<Vec<$crate::PublicFacilityRow>, $crate::StoreError> {
                let mut q = sqlx::QueryBuilder::<$db>::new(concat!("SELECT ", $crate::public_map::public_columns!()));
                push_public_filter(&mut q, municipality_id, filter);
                q.push(" ORDER BY COALESCE(f.name_kana, f.name), f.name, f.id LIMIT ").push_bind(limit)
                    .push(" OFFSET ").push_bind(offset);
                Ok(q.build_query_as().fetch_all(self.conn()).await?)
            }

            async fn count_public_facilities(
                &mut self,
                municipality_id: uuid::Uuid,
                filter: &$crate::PublicFilter,
            ) -> Result<i64, $crate::StoreError> {
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*)");
                push_public_filter(&mut q, municipality_id, filter);
                Ok(q.build_query_scalar().fetch_one(self.conn()).await?)
            }

            async fn public_locations_in_box(
                &mut self,
                municipality_id: uuid::Uuid,
                filter: &$crate::PublicFilter,
                latitudes: (f64, f64),
                longitudes: (f64, f64),
                limit: i64,
            ) -> Result<Vec<$crate::PublicLocationRow>, $crate::StoreError> {
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT f.id, f.latitude, f.longitude");
                let located = $crate::PublicFilter { located_only: true, ..filter.clone() };
                push_public_filter(&mut q, municipality_id, &located);
                // One index range (municipality, band, longitudes) per band of
                // the box, a band either side in case a rounding differs; a
                // box too tall for a list of bands reads the latitudes instead.
                let first = $crate::public_map::lat_cell(latitudes.0).saturating_sub(1);
                let last = $crate::public_map::lat_cell(latitudes.1).saturating_add(1);
                if last - first <= $crate::public_map::MAX_BANDS {
                    q.push(" AND f.lat_cell IN (");
                    let mut cells = q.separated(", ");
                    for cell in first..=last {
                        cells.push_bind(cell);
                    }
                    q.push(")");
                }
                q.push(" AND f.longitude BETWEEN ").push_bind(longitudes.0).push(" AND ").push_bind(longitudes.1)
                    .push(" AND f.latitude BETWEEN ").push_bind(latitudes.0).push(" AND ").push_bind(latitudes.1)
                    .push(" LIMIT ").push_bind(limit);
                Ok(q.build_query_as().fetch_all(self.conn()).await?)
            }

            async fn public_facilities_by_id(
                &mut self,
                municipality_id: uuid::Uuid,
                ids: &[uuid::Uuid],
            ) -> Result<Vec<$crate::PublicFacilityRow>, $crate::StoreError> {
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(500) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(concat!(
                        "SELECT ",
                        $crate::public_map::public_columns!(),
                        " FROM facilities f WHERE f.closed_at IS NULL AND f.municipality_id = "
                    ));
                    q.push_bind(municipality_id).push(" AND f.id IN (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    q.push(")");
                    out.extend(q.build_query_as::<$crate::PublicFacilityRow>().fetch_all(self.conn()).await?);
                }
                Ok(out)
            }

            async fn public_facility(
                &mut self,
                municipality_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::PublicFacilityRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    concat!(
                        "SELECT ",
                        $crate::public_map::public_columns!(),
                        " FROM facilities f WHERE f.id = $1 AND f.municipality_id = $2 AND f.closed_at IS NULL"
                    ),
                )
                .bind(id).bind(municipality_id).fetch_optional(self.conn()).await?)
            }

            async fn public_flags(&mut self, facility_ids: &[uuid::Uuid]) -> Result<Vec<$crate::PublicFlagRow>, $crate::StoreError> {
                let mut out = Vec::new();
                for chunk in facility_ids.chunks(500) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "SELECT facility_id, flag, since FROM facility_flags WHERE ended_at IS NULL AND facility_id IN (",
                    );
                    let mut ids = q.separated(", ");
                    for id in chunk {
                        ids.push_bind(*id);
                    }
                    q.push(") ORDER BY facility_id, flag");
                    let rows: Vec<$crate::PublicFlagRow> = q.build_query_as().fetch_all(self.conn()).await?;
                    out.extend(rows);
                }
                Ok(out)
            }

            async fn public_located_facilities(
                &mut self,
                municipality_id: uuid::Uuid,
            ) -> Result<Vec<$crate::PublicLocatedRow>, $crate::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::public_map::public_columns!(),
                    ", p.services, p.accepting FROM facilities f \
                     LEFT JOIN facility_profiles p ON p.facility_id = f.id \
                     WHERE f.municipality_id = $1 AND f.closed_at IS NULL \
                     AND f.latitude IS NOT NULL AND f.longitude IS NOT NULL"
                ))
                .bind(municipality_id)
                .fetch_all(self.conn())
                .await?)
            }

            async fn public_flags_in(&mut self, municipality_id: uuid::Uuid) -> Result<Vec<$crate::PublicFlagRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT g.facility_id, g.flag, g.since FROM facility_flags g \
                     JOIN facilities f ON f.id = g.facility_id \
                     WHERE f.municipality_id = $1 AND f.closed_at IS NULL AND g.ended_at IS NULL \
                     ORDER BY g.facility_id, g.flag",
                )
                .bind(municipality_id)
                .fetch_all(self.conn())
                .await?)
            }
        }
    };
}
pub(crate) use impl_public_map_tx;

/// What a citizen may see of a facility, as selected from `facilities f`.
macro_rules! public_columns {
    () => {
        "f.id, f.kind, f.name, f.name_kana, f.address, f.phone, f.fax, f.service, f.latitude, f.longitude, \
         f.medical_institution_code, f.care_provider_number"
    };
}
pub(crate) use public_columns;

/// The most latitude bands one box query lists (a 600 km box spans ~1,080).
pub const MAX_BANDS: i32 = 1_200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("柏"), "%柏%");
        assert_eq!(like_contains("100%_\\"), "%100\\%\\_\\\\%");
        assert_eq!(like_prefix("home_care"), "home\\_care%");
    }
}
