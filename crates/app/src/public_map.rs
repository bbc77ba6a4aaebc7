//! The public resource map (item ア/キ), without signing in: a municipality's
//! open facilities, filtered by kind, status flag (在宅療養支援診療所 ...), area
//! and name, or sorted by distance from a point; one facility with its current
//! flags; an A4 list grouped by area. Public data only — name, kind, address,
//! phone, fax, service, flags and coordinates — read in a read transaction; no
//! session, nothing about patients or accounts, and (public data) no audit event.

use crate::nearby::{Indexed, Lookup, NearbyIndex};
pub use crate::public_listing::*;
use crate::{App, AppError};
use std::collections::HashMap;
use std::sync::Arc;
use tsunagu_domain::ValidationError;
use tsunagu_domain::facility::{FacilityKind, Location};
use tsunagu_domain::municipality::MunicipalityCode;
pub use tsunagu_domain::public_query::{FlagFilter, MAX_LIMIT, PAGE_SIZE, PublicQuery, PublicQueryForm};
use tsunagu_domain::text;
use tsunagu_import::Flag;
use tsunagu_store::{
    PublicFacilityRow, PublicFilter, PublicFlagRow, PublicLocatedRow, PublicLocationRow, StoreTx, like_contains,
    like_prefix,
};
use uuid::Uuid;

/// A bound on one box query: far above any municipality's number of facilities.
const BOX_CAP: i64 = 50_000;
/// The radii (metres) of the boxes tried in turn when looking for the nearest.
/// The first box's radius (metres): a town's nearest facilities lie within it.
const FIRST_RADIUS_M: f64 = 2_000.0;
/// The largest box; beyond it every located facility is read.
const LAST_RADIUS_M: f64 = 600_000.0;

/// The store's filter for a query.
fn filter_of(q: &PublicQuery) -> PublicFilter {
    PublicFilter {
        kind: q.kind.map(|k| k.code().to_owned()),
        flag_pattern: q.flag.map(|f| like_prefix(f.code())),
        address_pattern: q.area.as_deref().map(like_contains),
        name_pattern: q.name.as_deref().map(like_contains),
        kana_pattern: q.name.as_deref().map(|n| like_contains(&text::furigana_search_key(n))),
        located_only: q.near.is_some(),
        service_pattern: q.service.map(|s| like_contains(&format!(",{},", s.code()))),
        accepting_only: q.accepting_only,
        code: q.code.clone(),
    }
}

fn flags_of(rows: &[PublicFlagRow]) -> HashMap<Uuid, Vec<PublicFlag>> {
    let mut by_facility: HashMap<Uuid, Vec<PublicFlag>> = HashMap::new();
    for row in rows {
        let flag = Flag::parse(&row.flag);
        by_facility.entry(row.facility_id).or_default().push(PublicFlag {
            code: row.flag.clone(),
            label_ja: flag.label_ja(),
            label_en: flag.label_en(),
            since: row.since,
            home_care: flag.is_home_care(),
        });
    }
    for flags in by_facility.values_mut() {
        flags.sort_by(|a, b| b.home_care.cmp(&a.home_care).then_with(|| a.code.cmp(&b.code)));
    }
    by_facility
}

fn location_of(row: &PublicFacilityRow) -> Option<Location> {
    match (row.latitude, row.longitude) {
        (Some(latitude), Some(longitude)) => Some(Location { latitude, longitude }),
        _ => None,
    }
}

/// Views of rows, with their flags and (from `near`) distances.
async fn views(
    tx: &mut dyn StoreTx,
    municipality: &PublicMunicipality,
    rows: Vec<PublicFacilityRow>,
    near: Option<Location>,
) -> Result<Vec<Listed>, AppError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut flags = flags_of(&tx.public_flags(&ids).await?);
    Ok(rows
        .into_iter()
        .map(|row| {
            let facility = view_of(row, &mut flags, municipality);
            let distance_m = near.zip(facility.location).map(|(p, l)| p.distance_m(&l));
            Listed { facility: Arc::new(facility), distance_m }
        })
        .collect())
}

/// A row as citizens see it, taking its flags out of `flags`.
fn view_of(
    row: PublicFacilityRow,
    flags: &mut HashMap<Uuid, Vec<PublicFlag>>,
    municipality: &PublicMunicipality,
) -> PublicFacility {
    let location = location_of(&row);
    PublicFacility {
        id: row.id,
        kind: FacilityKind::parse(&row.kind).unwrap_or(FacilityKind::Other),
        area: area_of_address(&row.address, &municipality.name),
        flags: flags.remove(&row.id).unwrap_or_default(),
        location,
        name: row.name,
        name_kana: row.name_kana,
        address: row.address,
        phone: row.phone,
        fax: row.fax,
        service: row.service,
        medical_institution_code: row.medical_institution_code,
        care_provider_number: row.care_provider_number,
    }
}

/// The nearby index of a municipality, read whole (see `nearby.rs`).
fn nearby_index(
    generation: u64,
    municipality: &PublicMunicipality,
    rows: Vec<PublicLocatedRow>,
    flag_rows: &[PublicFlagRow],
) -> NearbyIndex {
    let mut flags = flags_of(flag_rows);
    let indexed = rows
        .into_iter()
        .filter_map(|row| {
            let PublicLocatedRow { facility, services, accepting } = row;
            let location = location_of(&facility)?;
            let kind_code = facility.kind.clone();
            Some(Indexed {
                facility: Arc::new(view_of(facility, &mut flags, municipality)),
                location,
                kind_code,
                services: services.map(|s| format!(",{s},")).unwrap_or_default(),
                accepting: accepting.as_deref() == Some("yes"),
            })
        })
        .collect();
    NearbyIndex::new(generation, indexed)
}

/// The next box's radius when `within` of the `n` wanted lay within `radius`:
/// from the density seen (area grows with the square of the radius), with a
/// margin, so that one more round trip usually suffices; ×4 when none did.
fn next_radius(radius: f64, within: usize, n: usize) -> f64 {
    let grown =
        if within == 0 { radius * 4.0 } else { (radius * (n as f64 / within as f64).sqrt() * 1.3).max(radius * 1.5) };
    grown.min(LAST_RADIUS_M)
}

/// The `n` located facilities nearest to `point` that pass `filter`, nearest
/// first: boxes of growing radius are read (index ranges, locations only)
/// until `n` lie within the radius — then no facility outside the box can be
/// nearer — and only the `n` found are read whole.
async fn nearest(
    tx: &mut dyn StoreTx,
    municipality_id: Uuid,
    filter: &PublicFilter,
    point: Location,
    n: usize,
) -> Result<Vec<PublicFacilityRow>, AppError> {
    let by_distance = |rows: Vec<PublicLocationRow>| {
        let mut measured: Vec<(f64, Uuid)> = rows
            .into_iter()
            .map(|r| (point.distance_m(&Location { latitude: r.latitude, longitude: r.longitude }), r.id))
            .collect();
        measured.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        measured
    };
    let mut found = None;
    let mut radius = FIRST_RADIUS_M;
    loop {
        let b = point.bounding_box(radius);
        let rows = tx
            .public_locations_in_box(
                municipality_id,
                filter,
                (b.min_latitude, b.max_latitude),
                (b.min_longitude, b.max_longitude),
                BOX_CAP,
            )
            .await?;
        let measured = by_distance(rows);
        let within = measured.iter().filter(|(d, _)| *d <= radius).count();
        if within >= n {
            found = Some(measured);
            break;
        }
        if radius >= LAST_RADIUS_M {
            break;
        }
        radius = next_radius(radius, within, n);
    }
    let measured = match found {
        Some(m) => m,
        // Fewer than n within the largest radius: every located facility.
        None => by_distance(
            tx.public_locations_in_box(municipality_id, filter, (-90.0, 90.0), (-180.0, 180.0), BOX_CAP).await?,
        ),
    };
    let ids: Vec<Uuid> = measured.into_iter().take(n).map(|(_, id)| id).collect();
    let mut rows: HashMap<Uuid, PublicFacilityRow> =
        tx.public_facilities_by_id(municipality_id, &ids).await?.into_iter().map(|r| (r.id, r)).collect();
    Ok(ids.iter().filter_map(|id| rows.remove(id)).collect())
}

impl App {
    /// The municipality a public URL names by its code; an unknown or
    /// malformed code is "not found".
    pub async fn public_municipality(&self, code: &str) -> Result<PublicMunicipality, AppError> {
        let mut tx = self.store.begin_read().await?;
        Ok(self.public_municipality_of(tx.as_mut(), code).await?.1)
    }

    /// A page of the public list: in furigana order, or nearest first when
    /// the query has a point.
    pub async fn public_facilities(&self, code: &str, query: &PublicQuery) -> Result<PublicList, AppError> {
        // From the nearby index: cheaper to answer again than to keep.
        if let Some(list) = self.nearest_from_memory(code, query) {
            return Ok(list);
        }
        let key = format!("{code}|{query:?}");
        if let Some(kept) = self.public_lists.get(&key) {
            return Ok(PublicList::clone(&kept));
        }
        let generation = self.public_lists.generation();
        let list = self.read_public_facilities(code, query).await?;
        self.public_lists.put(key, std::sync::Arc::new(list.clone()), generation);
        Ok(list)
    }

    async fn read_public_facilities(&self, code: &str, query: &PublicQuery) -> Result<PublicList, AppError> {
        let mut tx = self.store.begin_read().await?;
        let (id, m) = self.public_municipality_of(tx.as_mut(), code).await?;
        let filter = filter_of(query);
        let list = match query.near {
            None => {
                let total = tx.count_public_facilities(id, &filter).await?;
                let rows = tx.public_facilities(id, &filter, query.per_page, query.offset()).await?;
                let pages = ((total + query.per_page - 1) / query.per_page).max(1);
                let has_next = query.page < pages;
                (rows, Some(total), Some(pages), has_next)
            }
            // Nearest first: no count of every match (it would cost more than
            // the search); one more than the page tells whether there is a next.
            Some(point) => {
                let skip = usize::try_from(query.offset()).unwrap_or(usize::MAX);
                let wanted = skip.saturating_add(usize::try_from(query.per_page).unwrap_or(usize::MAX));
                let rows = nearest(tx.as_mut(), id, &filter, point, wanted.saturating_add(1)).await?;
                let has_next = rows.len() > wanted;
                (rows.into_iter().skip(skip).take(wanted - skip).collect(), None, None, has_next)
            }
        };
        let (rows, total, pages, has_next) = list;
        let facilities = views(tx.as_mut(), &m, rows, query.near).await?;
        Ok(PublicList { municipality: m, query: query.clone(), facilities, total, pages, has_next })
    }

    /// The nearest first from the nearby index, when the query has a point,
    /// the municipality is known, its index is fresh and knows every filter;
    /// `None` sends the query to SQL (and, the first time, starts building
    /// the index in the background).
    fn nearest_from_memory(&self, code: &str, query: &PublicQuery) -> Option<PublicList> {
        let point = query.near?;
        let (id, municipality) = self.public_municipality_of_known(code)?;
        let index = match self.nearby.lookup(id) {
            Lookup::Ready(index) => index,
            Lookup::Build(ticket) => {
                let app = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = app.build_nearby_index(ticket, id, municipality).await {
                        tracing::warn!(error = %e, "could not build the nearby index; answering from SQL");
                    }
                });
                return None;
            }
            Lookup::NotNow => return None,
        };
        let skip = usize::try_from(query.offset()).unwrap_or(usize::MAX);
        let wanted = skip.saturating_add(usize::try_from(query.per_page).unwrap_or(usize::MAX));
        // One more than the page tells whether there is a next.
        let mut facilities = index.nearest(query, point, wanted.saturating_add(1), skip)?;
        let has_next = facilities.len() > wanted - skip;
        facilities.truncate(wanted - skip);
        Some(PublicList { municipality, query: query.clone(), facilities, total: None, pages: None, has_next })
    }

    /// Reads a municipality's located facilities whole and puts their index
    /// in place (unless public data changed meanwhile).
    async fn build_nearby_index(
        &self,
        ticket: crate::nearby::BuildTicket,
        id: Uuid,
        municipality: PublicMunicipality,
    ) -> Result<(), AppError> {
        let mut tx = self.store.begin_read().await?;
        let rows = tx.public_located_facilities(id).await?;
        let flags = tx.public_flags_in(id).await?;
        drop(tx);
        let generation = ticket.generation();
        // Some hundred milliseconds for a national-size registry: off the request threads.
        let index = tokio::task::spawn_blocking(move || nearby_index(generation, &municipality, rows, &flags))
            .await
            .map_err(|e| AppError::Internal(format!("building the nearby index: {e}")))?;
        tracing::debug!(facilities = index.len(), "nearby index built");
        ticket.install(index);
        Ok(())
    }

    /// Builds the nearby index of the municipality now (if it is not fresh),
    /// so that the first citizens' "near here" need not wait for SQL.
    pub async fn prepare_nearby_index(&self, code: &str) -> Result<(), AppError> {
        let mut tx = self.store.begin_read().await?;
        let (id, municipality) = self.public_municipality_of(tx.as_mut(), code).await?;
        drop(tx);
        if let Lookup::Build(ticket) = self.nearby.lookup(id) {
            self.build_nearby_index(ticket, id, municipality).await?;
        }
        Ok(())
    }

    /// How many facilities the municipality's nearby index holds, when it
    /// is built and fresh (else `None`).
    pub fn nearby_index_size(&self, code: &str) -> Option<usize> {
        let (id, _) = self.public_municipality_of_known(code)?;
        self.nearby.fresh(id).map(|index| index.len())
    }

    fn public_municipality_of_known(&self, code: &str) -> Option<(Uuid, PublicMunicipality)> {
        self.municipalities_by_code.lock().ok()?.get(code).cloned()
    }

    /// One open facility of the municipality with its current flags.
    pub async fn public_facility(
        &self,
        code: &str,
        facility: Uuid,
    ) -> Result<(PublicMunicipality, PublicFacility), AppError> {
        let mut tx = self.store.begin_read().await?;
        let (id, m) = self.public_municipality_of(tx.as_mut(), code).await?;
        let row = tx.public_facility(id, facility).await?.ok_or(AppError::NotFound)?;
        let mut found = views(tx.as_mut(), &m, vec![row], None).await?;
        let f = found.pop().ok_or(AppError::NotFound)?;
        Ok((m, Arc::unwrap_or_clone(f.facility)))
    }

    /// What each of these facilities (from a public list or read) says about
    /// itself, in their order, in one query; one without a profile has the empty one.
    pub async fn public_profiles(&self, facilities: &[Uuid]) -> Result<Vec<crate::registry::ProfileView>, AppError> {
        let mut tx = self.store.begin_read().await?;
        let mut rows: HashMap<Uuid, tsunagu_store::FacilityProfileRow> =
            tx.facility_profiles(facilities).await?.into_iter().map(|p| (p.facility_id, p)).collect();
        Ok(facilities.iter().map(|id| crate::registry::profile_view(rows.remove(id))).collect())
    }

    /// The municipality whose public registry `city` names (its code or its
    /// name, e.g. 柏市), or, when none is named, the installation's only one.
    pub async fn public_registry_code(&self, city: Option<&str>) -> Result<String, AppError> {
        let mut tx = self.store.begin_read().await?;
        let all = tx.municipalities().await?;
        let found = match city.map(str::trim) {
            Some(c) => all.into_iter().find(|m| m.code == c || m.name == c),
            None if all.len() == 1 => all.into_iter().next(),
            None => return Err(ValidationError::new("address-city", "required").into()),
        };
        found.map(|m| m.code).ok_or(AppError::NotFound)
    }

    /// An open facility of any municipality, by its id (the FHIR registry's read).
    pub async fn public_facility_by_id(
        &self,
        facility: Uuid,
    ) -> Result<(PublicMunicipality, PublicFacility), AppError> {
        let mut tx = self.store.begin_read().await?;
        let row = tx.facility(facility).await?.ok_or(AppError::NotFound)?;
        let m = tx.municipality(row.municipality_id).await?.ok_or(AppError::NotFound)?;
        drop(tx);
        self.public_facility(&m.code, facility).await
    }

    /// What an open facility says about itself (services, hours, accepting
    /// new patients): public by nature, shown on its public page.
    pub async fn public_profile(&self, code: &str, facility: Uuid) -> Result<crate::registry::ProfileView, AppError> {
        let mut tx = self.store.begin_read().await?;
        let (id, _) = self.public_municipality_of(tx.as_mut(), code).await?;
        tx.public_facility(id, facility).await?.ok_or(AppError::NotFound)?;
        Ok(crate::registry::profile_view(tx.facility_profile(facility).await?))
    }

    /// Every matching facility (up to [`MAX_LIMIT`]) grouped by area, for printing.
    pub async fn public_print(&self, code: &str, query: &PublicQuery) -> Result<PublicPrint, AppError> {
        let mut tx = self.store.begin_read().await?;
        let (id, m) = self.public_municipality_of(tx.as_mut(), code).await?;
        let filter = PublicFilter { located_only: false, ..filter_of(query) };
        let total = tx.count_public_facilities(id, &filter).await?;
        let rows = tx.public_facilities(id, &filter, MAX_LIMIT, 0).await?;
        let mut groups: Vec<(String, Vec<Listed>)> = Vec::new();
        for f in views(tx.as_mut(), &m, rows, None).await? {
            match groups.iter_mut().find(|(area, _)| *area == f.area) {
                Some((_, members)) => members.push(f),
                None => groups.push((f.area.clone(), vec![f])),
            }
        }
        // Areas in order, the unnamed one last; in each, by kind then furigana (the query's order).
        groups.sort_by(|a, b| a.0.is_empty().cmp(&b.0.is_empty()).then_with(|| a.0.cmp(&b.0)));
        for (_, members) in &mut groups {
            members.sort_by_key(|f| FacilityKind::ALL.iter().position(|k| *k == f.kind));
        }
        Ok(PublicPrint { municipality: m, query: query.clone(), groups, total, truncated: total > MAX_LIMIT })
    }
}

impl App {
    /// The municipality a public URL names (an unknown or malformed code is
    /// "not found"); a found one is remembered (municipalities are never
    /// renamed or removed), saving every public answer a query.
    pub(crate) async fn public_municipality_of(
        &self,
        tx: &mut dyn StoreTx,
        code: &str,
    ) -> Result<(Uuid, PublicMunicipality), AppError> {
        if let Some(known) = self.public_municipality_of_known(code) {
            return Ok(known);
        }
        let parsed = MunicipalityCode::parse(code).map_err(|_| AppError::NotFound)?;
        let row = tx.municipality_by_code(parsed.as_str()).await?.ok_or(AppError::NotFound)?;
        let found = (row.id, PublicMunicipality { code: row.code, name: row.name });
        if let Ok(mut known) = self.municipalities_by_code.lock() {
            known.insert(code.to_owned(), found.clone());
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(form: PublicQueryForm<'_>) -> Result<PublicQuery, ValidationError> {
        PublicQuery::parse(&form, PAGE_SIZE)
    }

    #[test]
    fn an_empty_query_is_everything_on_page_one() {
        let q = parse(PublicQueryForm::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (q.kind, q.flag, &q.area, &q.name, q.near, q.page, q.per_page),
            (None, None, &None, &None, None, 1, 20)
        );
        assert_eq!(filter_of(&q), PublicFilter::default());
    }

    #[test]
    fn filters_become_escaped_patterns() {
        let q = parse(PublicQueryForm {
            kind: "home_nursing_station",
            flag: "home_care_support_clinic",
            area: " 豊四季台 ",
            name: "さくら",
            lat: "35.86",
            lng: "139.97",
            page: "２",
            limit: "",
            service: "ventilator",
            accepting: "yes",
            code: "",
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(q.kind, Some(FacilityKind::HomeNursingStation));
        assert_eq!(filter_of(&q).service_pattern.as_deref(), Some("%,ventilator,%"));
        assert!(filter_of(&q).accepting_only);
        assert_eq!(q.near, Some(Location { latitude: 35.86, longitude: 139.97 }));
        assert_eq!((q.page, q.offset()), (2, 20));
        let f = filter_of(&q);
        assert_eq!(f.kind.as_deref(), Some("home_nursing_station"));
        assert_eq!(f.flag_pattern.as_deref(), Some("home\\_care\\_support\\_clinic%"));
        assert_eq!(f.address_pattern.as_deref(), Some("%豊四季台%"));
        assert_eq!(f.name_pattern.as_deref(), Some("%さくら%"));
        assert_eq!(f.kana_pattern.as_deref(), Some("%サクラ%"), "hiragana finds the katakana furigana");
        assert!(f.located_only, "sorting by distance needs coordinates");
        let wild = parse(PublicQueryForm { name: "100%", ..PublicQueryForm::default() });
        assert_eq!(wild.map(|q| filter_of(&q).name_pattern), Ok(Some("%100\\%%".to_owned())));
        // A facility code in any width, with hyphens; ten digits or nothing.
        let coded = parse(PublicQueryForm { code: "１２-１２３４５６７８", ..PublicQueryForm::default() });
        assert_eq!(coded.map(|q| filter_of(&q).code), Ok(Some("1212345678".to_owned())));
        let short = parse(PublicQueryForm { code: "123456789", ..PublicQueryForm::default() });
        assert_eq!(short.err(), Some(ValidationError::new("code", "format")));
    }

    #[test]
    fn areas_are_the_town_part_of_the_address() {
        assert_eq!(area_of_address("千葉県柏市豊四季台1丁目2-3", "柏市"), "豊四季台");
        assert_eq!(area_of_address("柏市柏４－１０－１１", "柏市"), "柏");
        assert_eq!(area_of_address("千葉県柏市見本町１－２－３見本ビル２階", "柏市"), "見本町");
        assert_eq!(area_of_address("千葉県柏市若柴178-4", "柏市"), "若柴");
        assert_eq!(area_of_address("千葉県柏市十余二 字 中野", "柏市"), "十余二", "stops at a space too");
        assert_eq!(area_of_address("千葉県柏市1-1", "柏市"), "");
        assert_eq!(area_of_address("藤心650", "柏市"), "藤心", "read from the start when the city is not named");
    }

    #[test]
    fn boxes_grow_by_the_density_seen_and_stop_at_the_largest() {
        assert_eq!(next_radius(2_000.0, 0, 20), 8_000.0);
        // 5 of 20 within 2 km: four times the area, so twice the radius, with a margin.
        assert_eq!(next_radius(2_000.0, 5, 20), 2_000.0 * 2.0 * 1.3);
        // Almost there: at least half as far again.
        assert_eq!(next_radius(10_000.0, 19, 20), 15_000.0);
        assert_eq!(next_radius(500_000.0, 0, 20), LAST_RADIUS_M);
    }

    #[test]
    fn phone_numbers_and_distances_for_people() {
        assert_eq!(tel_digits("04-0000-1002"), "0400001002");
        assert_eq!(tel_digits("０４－００００－０００３"), "0400000003");
        assert_eq!(tel_digits("+81 4-7100-0000"), "+81471000000");
        assert_eq!(format_distance(349.0), "350 m");
        assert_eq!(format_distance(1_234.0), "1.2 km");
    }
}
