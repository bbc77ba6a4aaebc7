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
    /// Open facilities passing `filter` whose coordinates lie in the box
    /// (degrees, inclusive), at most `limit`.
    async fn public_facilities_in_box(
        &mut self,
        municipality_id: Uuid,
        filter: &PublicFilter,
        latitudes: (f64, f64),
        longitudes: (f64, f64),
        limit: i64,
    ) -> Result<Vec<PublicFacilityRow>, StoreError>;
    /// One open facility of the municipality.
    async fn public_facility(
        &mut self,
        municipality_id: Uuid,
        id: Uuid,
    ) -> Result<Option<PublicFacilityRow>, StoreError>;
    /// The current (not ended) flags of these facilities, by facility and flag.
    async fn public_flags(&mut self, facility_ids: &[Uuid]) -> Result<Vec<PublicFlagRow>, StoreError>;
}

/// Stamps out [`PublicMapTx`] for a backend (see `sql.rs`): the same text on both.
macro_rules! impl_public_map_tx {
    ($tx:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::public_map::PublicMapTx for $tx {
            async fn public_facilities(
                &mut self,
                municipality_id: uuid::Uuid,
                filter: &$crate::PublicFilter,
                limit: i64,
                offset: i64,
            ) -> Result<Vec<$crate::PublicFacilityRow>, $crate::StoreError> {
                Ok(sqlx::query_as(concat!(
                    $crate::public_map::public_facilities_where!(),
                    " ORDER BY COALESCE(f.name_kana, f.name), f.name, f.id LIMIT $10 OFFSET $11"
                ))
                .bind(municipality_id).bind(&filter.kind).bind(&filter.flag_pattern).bind(&filter.address_pattern)
                .bind(&filter.name_pattern).bind(&filter.kana_pattern).bind(filter.located_only)
                .bind(&filter.service_pattern).bind(filter.accepting_only)
                .bind(limit).bind(offset)
                .fetch_all(self.conn()).await?)
            }

            async fn count_public_facilities(
                &mut self,
                municipality_id: uuid::Uuid,
                filter: &$crate::PublicFilter,
            ) -> Result<i64, $crate::StoreError> {
                let sql = concat!("SELECT COUNT(*) FROM (", $crate::public_map::public_facilities_where!(), ") AS matching");
                Ok(sqlx::query_scalar(sql)
                    .bind(municipality_id).bind(&filter.kind).bind(&filter.flag_pattern)
                    .bind(&filter.address_pattern).bind(&filter.name_pattern).bind(&filter.kana_pattern)
                    .bind(filter.located_only).bind(&filter.service_pattern).bind(filter.accepting_only)
                    .fetch_one(self.conn()).await?)
            }

            async fn public_facilities_in_box(
                &mut self,
                municipality_id: uuid::Uuid,
                filter: &$crate::PublicFilter,
                latitudes: (f64, f64),
                longitudes: (f64, f64),
                limit: i64,
            ) -> Result<Vec<$crate::PublicFacilityRow>, $crate::StoreError> {
                // The box is the index's range (municipality, latitude, longitude).
                Ok(sqlx::query_as(concat!(
                    $crate::public_map::public_facilities_where!(),
                    " AND f.latitude BETWEEN $10 AND $11 AND f.longitude BETWEEN $12 AND $13 LIMIT $14"
                ))
                .bind(municipality_id).bind(&filter.kind).bind(&filter.flag_pattern).bind(&filter.address_pattern)
                .bind(&filter.name_pattern).bind(&filter.kana_pattern).bind(true)
                .bind(&filter.service_pattern).bind(filter.accepting_only)
                .bind(latitudes.0).bind(latitudes.1).bind(longitudes.0).bind(longitudes.1).bind(limit)
                .fetch_all(self.conn()).await?)
            }

            async fn public_facility(
                &mut self,
                municipality_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::PublicFacilityRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, kind, name, name_kana, address, phone, fax, service, latitude, longitude \
                     FROM facilities WHERE id = $1 AND municipality_id = $2 AND closed_at IS NULL",
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
        }
    };
}
pub(crate) use impl_public_map_tx;

/// The public list's query: open facilities of municipality `$1`; `$2` kind,
/// `$3` a current flag's pattern, `$4` the address's, `$5`/`$6` the name's or
/// the furigana's, `$7` with coordinates only, `$8` a service's pattern in the
/// profile, `$9` accepting new patients only. `NULL` (false) is "any".
macro_rules! public_facilities_where {
    () => {
        "SELECT f.id, f.kind, f.name, f.name_kana, f.address, f.phone, f.fax, f.service, f.latitude, f.longitude \
         FROM facilities f WHERE f.municipality_id = $1 AND f.closed_at IS NULL \
         AND ($2 IS NULL OR f.kind = $2) \
         AND ($3 IS NULL OR EXISTS (SELECT 1 FROM facility_flags g \
              WHERE g.facility_id = f.id AND g.ended_at IS NULL AND g.flag LIKE $3 ESCAPE '\\')) \
         AND ($4 IS NULL OR f.address LIKE $4 ESCAPE '\\') \
         AND ($5 IS NULL OR f.name LIKE $5 ESCAPE '\\' OR f.name_kana LIKE $6 ESCAPE '\\') \
         AND (NOT $7 OR (f.latitude IS NOT NULL AND f.longitude IS NOT NULL)) \
         AND ($8 IS NULL OR EXISTS (SELECT 1 FROM facility_profiles p \
              WHERE p.facility_id = f.id AND (',' || p.services || ',') LIKE $8 ESCAPE '\\')) \
         AND (NOT $9 OR EXISTS (SELECT 1 FROM facility_profiles p WHERE p.facility_id = f.id AND p.accepting = 'yes'))"
    };
}
pub(crate) use public_facilities_where;

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
