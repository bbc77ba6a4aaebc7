//! The nearby index: a municipality's open, located facilities in memory on a
//! grid of cells, so that "the n nearest that pass these filters" costs no
//! database round trip. `public_map.rs` answers from it when it is fresh and
//! knows every filter of the query; otherwise SQL gives the same answer (same
//! rows, same order: distance, then id).
//!
//! Fresh means built under the current public-data generation (a registry
//! write here, or one another instance announces, moves it on) and younger
//! than [`MAX_AGE`], which bounds what a writer nobody hears of (an import
//! run from the shell beside the server) can leave stale. `public_cache`
//! zero (nothing public kept in memory) switches it off. It is built in the
//! background the first time it is wanted; until it is there, SQL answers.

use crate::public_listing::{Listed, PublicFacility};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tsunagu_domain::clock::monotonic_now;
use tsunagu_domain::facility::{EARTH_RADIUS_M, Location};
use tsunagu_domain::public_query::PublicQuery;
use tsunagu_domain::registry::FacilityService;
use uuid::Uuid;

/// How long an index is used at most: what bounds a change nobody announced
/// (an import run from the shell beside a server on SQLite). Rebuilding a
/// national-size registry costs about a second of one core, so not often.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(60);

/// A cell's height and width, in degrees (about 2.2 km by 1.8 km in Japan).
const CELL_DEGREES: f64 = 0.02;

/// A facility as the index holds it.
#[derive(Debug, Clone)]
pub(crate) struct Indexed {
    /// Shared with the answers (each adds its own distance).
    pub facility: Arc<PublicFacility>,
    pub location: Location,
    /// The stored kind code (compared as SQL compares it).
    pub kind_code: String,
    /// The profile's services as `,code,code,` (empty without a profile).
    pub services: String,
    /// The profile says it accepts new patients now.
    pub accepting: bool,
}

/// The filters of a query the index can apply exactly as SQL does.
#[derive(Clone, Copy)]
struct Filter<'a> {
    kind: Option<&'static str>,
    flag: Option<&'static str>,
    area: Option<&'a str>,
    /// The service's bit (see [`service_bits`]).
    service: Option<u64>,
    accepting_only: bool,
}

impl<'a> Filter<'a> {
    /// `None` when the query filters by something the index leaves to SQL:
    /// a name (furigana folding), a facility code, or an area with Latin
    /// letters (SQLite's `LIKE` ignores their case, PostgreSQL's does not).
    fn of(query: &'a PublicQuery) -> Option<Self> {
        if query.name.is_some() || query.code.is_some() {
            return None;
        }
        let area = query.area.as_deref();
        if area.is_some_and(|a| a.chars().any(|c| c.is_ascii_alphabetic())) {
            return None;
        }
        Some(Self {
            kind: query.kind.map(|k| k.code()),
            flag: query.flag.map(|f| f.code()),
            area,
            service: query.service.map(|s| service_bits(&format!(",{},", s.code()))),
            accepting_only: query.accepting_only,
        })
    }

    /// What the spot alone tells (kind is the grid's).
    fn passes_spot(&self, spot: &Spot) -> bool {
        self.service.is_none_or(|bit| spot.services & bit != 0) && (!self.accepting_only || spot.accepting)
    }

    /// Whether the facility itself must be read (its flags, its address).
    fn reads_facility(&self) -> bool {
        self.flag.is_some() || self.area.is_some()
    }

    fn passes_facility(&self, f: &Indexed) -> bool {
        self.flag.is_none_or(|prefix| f.facility.flags.iter().any(|g| g.code.starts_with(prefix)))
            && self.area.is_none_or(|a| f.facility.address.contains(a))
    }
}

/// The services of `,code,code,` as bits, in the order of
/// `FacilityService::ALL`: a code counts only as SQL's `LIKE '%,code,%'`
/// would find it (exactly, between commas).
const _: () = assert!(FacilityService::ALL.len() <= 64, "one bit per service");

fn service_bits(services: &str) -> u64 {
    FacilityService::ALL
        .iter()
        .enumerate()
        .filter(|(_, s)| services.contains(&format!(",{},", s.code())))
        .fold(0, |bits, (i, _)| bits | (1u64 << i))
}

/// What a search reads of every facility it passes, kept together in its
/// cell (a national-size registry does not fit in the caches: the facility
/// itself is read only for its answer, or for a flag or area filter).
#[derive(Debug, Clone, Copy)]
struct Spot {
    location: Location,
    id: u128,
    position: u32,
    services: u64,
    accepting: bool,
}

/// One municipality's located facilities, on a grid for every kind and one
/// for all kinds together (a kind is the filter nearly every search has).
pub(crate) struct NearbyIndex {
    generation: u64,
    built_at: Instant,
    facilities: Vec<Indexed>,
    all: Grid,
    by_kind: HashMap<String, Grid>,
    /// The largest |latitude| of a facility.
    farthest_latitude: f64,
}

/// Spots by cell.
#[derive(Default)]
struct Grid {
    cells: HashMap<u64, Vec<Spot>, BuildCellHasher>,
    len: usize,
    /// The smallest and largest cell rows and columns holding a facility.
    rows: (i32, i32),
    columns: (i32, i32),
}

impl Grid {
    fn add(&mut self, cell: (i32, i32), spot: Spot) {
        if self.len == 0 {
            (self.rows, self.columns) = ((cell.0, cell.0), (cell.1, cell.1));
        }
        self.rows = (self.rows.0.min(cell.0), self.rows.1.max(cell.0));
        self.columns = (self.columns.0.min(cell.1), self.columns.1.max(cell.1));
        self.cells.entry(cell_key(cell)).or_default().push(spot);
        self.len += 1;
    }
}

fn cell_of(location: &Location) -> (i32, i32) {
    ((location.latitude / CELL_DEGREES).floor() as i32, (location.longitude / CELL_DEGREES).floor() as i32)
}

fn cell_key((row, column): (i32, i32)) -> u64 {
    (u64::from(row as u32) << 32) | u64::from(column as u32)
}

/// Hashes a cell key in a few instructions (SipHash, the default, guards
/// against chosen keys; these are computed from coordinates we hold).
#[derive(Default, Clone, Copy)]
struct BuildCellHasher;

struct CellHasher(u64);

impl std::hash::BuildHasher for BuildCellHasher {
    type Hasher = CellHasher;
    fn build_hasher(&self) -> CellHasher {
        CellHasher(0)
    }
}

impl std::hash::Hasher for CellHasher {
    fn finish(&self) -> u64 {
        // splitmix64's finaliser: every bit of the key reaches every bit.
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

impl NearbyIndex {
    pub fn new(generation: u64, facilities: Vec<Indexed>) -> Self {
        let mut all = Grid::default();
        let mut by_kind: HashMap<String, Grid> = HashMap::new();
        for (i, f) in facilities.iter().enumerate() {
            let spot = Spot {
                location: f.location,
                id: f.facility.id.as_u128(),
                position: u32::try_from(i).unwrap_or(u32::MAX),
                services: service_bits(&f.services),
                accepting: f.accepting,
            };
            let cell = cell_of(&f.location);
            all.add(cell, spot);
            by_kind.entry(f.kind_code.clone()).or_default().add(cell, spot);
        }
        let farthest_latitude = facilities.iter().map(|f| f.location.latitude.abs()).fold(0.0, f64::max);
        Self { generation, built_at: monotonic_now(), facilities, all, by_kind, farthest_latitude }
    }

    pub fn len(&self) -> usize {
        self.facilities.len()
    }

    /// The `n` facilities nearest to `point` that pass the query's filters,
    /// nearest first (ties by id), each with its distance, leaving out the
    /// first `skip` (a later page: only the page is copied); `None` when the
    /// query has a filter the index leaves to SQL.
    pub fn nearest(&self, query: &PublicQuery, point: Location, n: usize, skip: usize) -> Option<Vec<Listed>> {
        let filter = Filter::of(query)?;
        let grid = match filter.kind {
            Some(kind) => self.by_kind.get(kind),
            None => Some(&self.all),
        };
        let Some(grid) = grid.filter(|g| g.len > 0) else { return Some(Vec::new()) };
        let reads_facility = filter.reads_facility();
        // (distance, id as a number: ties go by id, as in SQL, without a memcmp each, position)
        // n comes from the query (pages × page size): reserve a bounded amount, grow if needed.
        let mut found: Vec<(f64, u128, u32)> = Vec::with_capacity(n.saturating_mul(4).min(4_096));
        let consider = |spot: &Spot, found: &mut Vec<(f64, u128, u32)>| {
            if filter.passes_spot(spot)
                && (!reads_facility
                    || self.facilities.get(spot.position as usize).is_some_and(|f| filter.passes_facility(f)))
            {
                found.push((point.distance_m(&spot.location), spot.id, spot.position));
            }
        };
        let by_distance = |a: &(f64, u128, u32), b: &(f64, u128, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        let centre = cell_of(&point);
        // Rings of cells around the point's, until the n-th nearest found is
        // nearer than anything a further ring could hold.
        let widest =
            [centre.0 - grid.rows.0, grid.rows.1 - centre.0, centre.1 - grid.columns.0, grid.columns.1 - centre.1]
                .into_iter()
                .max()
                .unwrap_or(0)
                .max(0);
        let farthest_latitude = point.latitude.abs().max(self.farthest_latitude);
        let mut ring = 0;
        loop {
            // A ring of more cells than hold anything: read every spot.
            if 8 * i64::from(ring) > grid.cells.len() as i64 {
                found.clear();
                for spot in grid.cells.values().flatten() {
                    consider(spot, &mut found);
                }
                break;
            }
            for_each_ring_cell(centre, ring, |cell| {
                for spot in grid.cells.get(&cell_key(cell)).map(Vec::as_slice).unwrap_or_default() {
                    consider(spot, &mut found);
                }
            });
            if ring >= widest {
                break;
            }
            if n > 0 && found.len() >= n {
                // The n nearest so far, the n-th last (no full sort per ring).
                found.select_nth_unstable_by(n - 1, by_distance);
                found.truncate(n);
                if found.last().is_some_and(|(d, _, _)| *d < beyond_ring(ring, farthest_latitude)) {
                    break;
                }
            }
            ring += 1;
        }
        found.sort_unstable_by(by_distance);
        found.truncate(n);
        Some(
            found
                .into_iter()
                .skip(skip)
                .filter_map(|(d, _, i)| {
                    let facility = Arc::clone(&self.facilities.get(i as usize)?.facility);
                    Some(Listed { facility, distance_m: Some(d) })
                })
                .collect(),
        )
    }
}

/// Calls `visit` with each cell `ring` steps (in rows or columns) from `centre`.
fn for_each_ring_cell(centre: (i32, i32), ring: i32, mut visit: impl FnMut((i32, i32))) {
    if ring == 0 {
        visit(centre);
        return;
    }
    for d in -ring..=ring {
        visit((centre.0 - ring, centre.1 + d));
        visit((centre.0 + ring, centre.1 + d));
    }
    for d in (1 - ring)..ring {
        visit((centre.0 + d, centre.1 - ring));
        visit((centre.0 + d, centre.1 + ring));
    }
}

/// A distance (metres) below which nothing outside the first `ring` rings
/// lies: such a facility is at least `ring` whole cells away in latitude or
/// in longitude. A degree of longitude is taken where it is narrowest (at
/// `farthest_latitude` from the equator, the point's or any facility's), and
/// a margin covers a great circle being a little shorter than the parallel.
fn beyond_ring(ring: i32, farthest_latitude: f64) -> f64 {
    let degrees = f64::from(ring) * CELL_DEGREES;
    let metres_per_degree = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
    let narrowest = metres_per_degree * farthest_latitude.min(89.0).to_radians().cos();
    0.99 * degrees * metres_per_degree.min(narrowest)
}

/// What a caller is to do about a municipality's index.
pub(crate) enum Lookup {
    Ready(Arc<NearbyIndex>),
    /// None is there or fresh: build one (the ticket says under which
    /// generation) and answer from SQL meanwhile.
    Build(BuildTicket),
    /// Being built, or switched off: answer from SQL.
    NotNow,
}

/// The indexes of every municipality asked about, and the generation of
/// public data they must have been read under.
pub(crate) struct NearbyIndexes {
    max_age: Duration,
    generation: AtomicU64,
    slots: Mutex<HashMap<Uuid, Slot>>,
}

enum Slot {
    Building,
    Built(Arc<NearbyIndex>),
}

impl NearbyIndexes {
    /// Indexes used for at most `max_age` each (zero: never built).
    pub fn new(max_age: Duration) -> Arc<Self> {
        Arc::new(Self { max_age, generation: AtomicU64::new(0), slots: Mutex::new(HashMap::new()) })
    }

    pub fn lookup(self: &Arc<Self>, municipality: Uuid) -> Lookup {
        if self.max_age.is_zero() {
            return Lookup::NotNow;
        }
        if let Some(index) = self.fresh(municipality) {
            return Lookup::Ready(index);
        }
        let Ok(mut slots) = self.slots.lock() else { return Lookup::NotNow };
        match slots.get(&municipality) {
            Some(Slot::Building) => Lookup::NotNow,
            _ => {
                slots.insert(municipality, Slot::Building);
                let generation = self.generation.load(Ordering::Acquire);
                Lookup::Build(BuildTicket { indexes: Arc::clone(self), municipality, generation, settled: false })
            }
        }
    }

    /// The municipality's index if it is built and fresh (starts no build).
    pub fn fresh(&self, municipality: Uuid) -> Option<Arc<NearbyIndex>> {
        let generation = self.generation.load(Ordering::Acquire);
        match self.slots.lock().ok()?.get(&municipality)? {
            Slot::Built(index) if index.generation == generation && index.built_at.elapsed() < self.max_age => {
                Some(Arc::clone(index))
            }
            _ => None,
        }
    }

    /// Public data changed: no index built before may be used.
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut slots) = self.slots.lock() {
            slots.clear();
        }
    }
}

/// The right to build one municipality's index; dropped unused (a failed
/// read, a panic), it lets the next caller try again.
pub(crate) struct BuildTicket {
    indexes: Arc<NearbyIndexes>,
    municipality: Uuid,
    generation: u64,
    settled: bool,
}

impl BuildTicket {
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Puts a built index in place, unless public data changed meanwhile
    /// (then the next caller builds again).
    pub fn install(mut self, index: NearbyIndex) {
        self.settled = true;
        let Ok(mut slots) = self.indexes.slots.lock() else { return };
        if index.generation == self.indexes.generation.load(Ordering::Acquire) {
            slots.insert(self.municipality, Slot::Built(Arc::new(index)));
        } else if matches!(slots.get(&self.municipality), Some(Slot::Building)) {
            slots.remove(&self.municipality);
        }
    }
}

impl Drop for BuildTicket {
    fn drop(&mut self) {
        if !self.settled
            && let Ok(mut slots) = self.indexes.slots.lock()
            && matches!(slots.get(&self.municipality), Some(Slot::Building))
        {
            slots.remove(&self.municipality);
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the tests let an index grow old on the real clock
mod tests {
    use super::*;
    use crate::public_listing::PublicFlag;
    use tsunagu_domain::facility::FacilityKind;
    use tsunagu_domain::public_query::{FlagFilter, PublicQueryForm};

    /// A small deterministic generator (no dependency for a test's noise).
    struct Noise(u64);
    impl Noise {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn unit(&mut self) -> f64 {
            (self.next() % 1_000_000) as f64 / 1_000_000.0
        }
    }

    fn facility(noise: &mut Noise, i: u128, centre: Location, spread: f64) -> Indexed {
        let location = Location {
            latitude: centre.latitude + (noise.unit() - 0.5) * spread,
            longitude: centre.longitude + (noise.unit() - 0.5) * spread,
        };
        let kind = [FacilityKind::Clinic, FacilityKind::HomeNursingStation, FacilityKind::Hospital]
            [(noise.next() % 3) as usize];
        let flags = if noise.next().is_multiple_of(4) {
            vec![PublicFlag {
                code: format!("{}_1", FlagFilter::HomeCareSupportClinic.code()),
                label_ja: String::new(),
                label_en: String::new(),
                since: None,
                home_care: true,
            }]
        } else {
            Vec::new()
        };
        let services = if noise.next().is_multiple_of(3) {
            format!(",visiting_care,{},", FacilityService::Ventilator.code())
        } else {
            String::new()
        };
        let address = if noise.next().is_multiple_of(2) { "柏市豊四季台1-1" } else { "柏市柏1-1" };
        Indexed {
            facility: Arc::new(PublicFacility {
                id: Uuid::from_u128(i),
                kind,
                name: format!("施設{i}"),
                name_kana: None,
                address: address.to_owned(),
                area: String::new(),
                phone: None,
                fax: None,
                service: None,
                location: Some(location),
                flags,
                medical_institution_code: None,
                care_provider_number: None,
            }),
            location,
            kind_code: kind.code().to_owned(),
            services,
            accepting: noise.next().is_multiple_of(2),
        }
    }

    fn query(kind: &str, flag: &str, area: &str, service: &str, accepting: &str) -> PublicQuery {
        let form =
            PublicQueryForm { kind, flag, area, service, accepting, lat: "35.8", lng: "139.9", ..Default::default() };
        PublicQuery::parse(&form, 20).expect("a valid query")
    }

    /// Every facility passing the filter, by (distance, id): what SQL
    /// answers, written as SQL's conditions read.
    fn by_brute_force(all: &[Indexed], query: &PublicQuery, point: Location, n: usize) -> Vec<(Uuid, f64)> {
        let passes = |f: &Indexed| {
            query.kind.is_none_or(|k| f.kind_code == k.code())
                && query.flag.is_none_or(|p| f.facility.flags.iter().any(|g| g.code.starts_with(p.code())))
                && query.area.as_deref().is_none_or(|a| f.facility.address.contains(a))
                && query.service.is_none_or(|s| f.services.contains(&format!(",{},", s.code())))
                && (!query.accepting_only || f.accepting)
        };
        let mut found: Vec<(f64, Uuid)> =
            all.iter().filter(|f| passes(f)).map(|f| (point.distance_m(&f.location), f.facility.id)).collect();
        found.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        found.into_iter().take(n).map(|(d, id)| (id, d)).collect()
    }

    #[test]
    fn the_nearest_are_those_a_full_scan_finds_in_the_same_order() {
        let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
        let kashiwa = Location { latitude: 35.8676, longitude: 139.9758 };
        // A dense town, a few far-off facilities, and duplicates on one spot (ties by id).
        let mut all: Vec<Indexed> = (0..3_000).map(|i| facility(&mut noise, i, kashiwa, 0.3)).collect();
        all.extend(
            (3_000..3_020).map(|i| facility(&mut noise, i, Location { latitude: 43.06, longitude: 141.35 }, 2.0)),
        );
        let twin = all[0].location;
        for i in 3_020..3_025 {
            let mut f = facility(&mut noise, i, twin, 0.0);
            f.location = twin;
            all.push(f);
        }
        let index = NearbyIndex::new(0, all.clone());
        let queries = [
            query("", "", "", "", ""),
            query("home_nursing_station", "", "", "", ""),
            query("home_nursing_station", "", "", "ventilator", "yes"),
            query("", "home_care_support_clinic", "豊四季台", "", ""),
            query("hospital", "home_care_support_clinic", "", "ventilator", "yes"),
            query("pharmacy", "", "", "", ""),
        ];
        for round in 0..200 {
            let point = if round == 0 {
                twin
            } else {
                Location { latitude: 33.0 + noise.unit() * 12.0, longitude: 130.0 + noise.unit() * 14.0 }
            };
            let point = if round % 2 == 0 {
                point
            } else {
                Location { latitude: kashiwa.latitude + noise.unit() * 0.2, ..kashiwa }
            };
            for q in &queries {
                for n in [0, 1, 21, 61] {
                    let got: Vec<(Uuid, f64)> = index
                        .nearest(q, point, n, 0)
                        .expect("the index knows these filters")
                        .iter()
                        .map(|f| (f.id, f.distance_m.expect("a distance")))
                        .collect();
                    let expected = by_brute_force(&all, q, point, n);
                    assert_eq!(got, expected, "{q:?} from {point:?}, n = {n}");
                    // A later page is the same order's slice.
                    let page: Vec<Uuid> =
                        index.nearest(q, point, n, n / 2).unwrap_or_default().iter().map(|f| f.id).collect();
                    let slice: Vec<Uuid> = expected.iter().skip(n / 2).map(|(id, _)| *id).collect();
                    assert_eq!(page, slice, "{q:?} from {point:?}, n = {n}, from {}", n / 2);
                }
            }
        }
    }

    #[test]
    fn names_codes_and_latin_areas_are_left_to_sql() {
        let index = NearbyIndex::new(0, Vec::new());
        let point = Location { latitude: 35.8, longitude: 139.9 };
        let named = PublicQuery { name: Some("さくら".into()), ..query("", "", "", "", "") };
        assert!(index.nearest(&named, point, 20, 0).is_none());
        let coded = PublicQuery { code: Some("1234567890".into()), ..query("", "", "", "", "") };
        assert!(index.nearest(&coded, point, 20, 0).is_none());
        assert!(index.nearest(&query("", "", "Tower", "", ""), point, 20, 0).is_none());
        assert_eq!(index.nearest(&query("", "", "豊四季台", "", ""), point, 20, 0).map(|v| v.len()), Some(0));
    }

    #[test]
    fn services_count_only_as_sql_finds_them() {
        let ventilator = service_bits(",ventilator,");
        assert_ne!(ventilator, 0);
        assert_eq!(service_bits(",home_death,ventilator,") & ventilator, ventilator);
        assert_eq!(service_bits(", ventilator,") & ventilator, 0, "SQL's LIKE would not find it either");
        assert_eq!(service_bits(",ventilators,"), 0);
        assert_eq!(service_bits(""), 0);
    }

    #[test]
    fn rings_are_the_cells_at_that_step() {
        let ring_cells = |centre, ring| {
            let mut cells = Vec::new();
            for_each_ring_cell(centre, ring, |c| cells.push(c));
            cells.sort_unstable();
            cells
        };
        assert_eq!(ring_cells((0, 0), 0), vec![(0, 0)]);
        assert_eq!(ring_cells((5, 5), 1), vec![(4, 4), (4, 5), (4, 6), (5, 4), (5, 6), (6, 4), (6, 5), (6, 6)]);
        let three = ring_cells((0, 0), 3);
        assert_eq!(three.len(), 24);
        assert!(three.iter().all(|(r, c)| r.abs().max(c.abs()) == 3));
    }

    #[test]
    fn an_index_is_used_until_public_data_changes_or_it_grows_old() {
        let indexes = NearbyIndexes::new(Duration::from_secs(60));
        let m = Uuid::from_u128(1);
        let Lookup::Build(ticket) = indexes.lookup(m) else { panic!("nothing built yet") };
        assert!(matches!(indexes.lookup(m), Lookup::NotNow), "one build at a time");
        let generation = ticket.generation();
        ticket.install(NearbyIndex::new(generation, Vec::new()));
        assert!(matches!(indexes.lookup(m), Lookup::Ready(_)));

        // Read before a change, installed after it: never used.
        let Lookup::Build(stale) = ({
            indexes.clear();
            indexes.lookup(m)
        }) else {
            panic!("a change forgets the index")
        };
        let before = stale.generation();
        indexes.clear();
        stale.install(NearbyIndex::new(before, Vec::new()));
        assert!(matches!(indexes.lookup(m), Lookup::Build(_)));

        // A ticket dropped unused (a failed read) lets the next caller build.
        drop(indexes.lookup(m));
        let Lookup::Build(_) = indexes.lookup(m) else { panic!("a dropped ticket frees the slot") };

        // Too old: built again; and zero keeps none at all.
        let short = NearbyIndexes::new(Duration::from_millis(1));
        let Lookup::Build(t) = short.lookup(m) else { panic!() };
        let g = t.generation();
        t.install(NearbyIndex::new(g, Vec::new()));
        std::thread::sleep(Duration::from_millis(5));
        assert!(matches!(short.lookup(m), Lookup::Build(_)));
        assert!(matches!(NearbyIndexes::new(Duration::ZERO).lookup(m), Lookup::NotNow));
    }
}
