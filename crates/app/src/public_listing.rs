//! What the public map shows of a facility and of a list: the views its use
//! cases (`public_map.rs`) and its nearby index (`nearby.rs`) share.

use std::sync::Arc;
use time::Date;
use tsunagu_domain::facility::{FacilityKind, Location};
use tsunagu_domain::public_query::PublicQuery;
use tsunagu_domain::text;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct PublicMunicipality {
    pub code: String,
    pub name: String,
}

/// A status flag a facility holds now.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicFlag {
    pub code: String,
    pub label_ja: String,
    pub label_en: String,
    /// 算定開始年月日, when the list gives one.
    pub since: Option<Date>,
    /// One of the home-care flags (not another notification of the list).
    pub home_care: bool,
}

/// What anyone may know of a facility.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicFacility {
    pub id: Uuid,
    pub kind: FacilityKind,
    pub name: String,
    pub name_kana: Option<String>,
    pub address: String,
    /// The town part of the address (see [`area_of_address`]); empty when there is none.
    pub area: String,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub service: Option<String>,
    pub location: Option<Location>,
    /// Home-care flags first.
    pub flags: Vec<PublicFlag>,
    /// 医療機関コード (10 digits) and 介護保険事業所番号, when the registry has them.
    pub medical_institution_code: Option<String>,
    pub care_provider_number: Option<String>,
}

impl PublicFacility {
    /// The number for a `tel:` link: digits (and a leading +) only.
    pub fn tel(&self) -> Option<String> {
        self.phone.as_deref().map(tel_digits).filter(|t| !t.is_empty())
    }

    pub fn home_care_flags(&self) -> impl Iterator<Item = &PublicFlag> {
        self.flags.iter().filter(|f| f.home_care)
    }

    pub fn other_flags(&self) -> impl Iterator<Item = &PublicFlag> {
        self.flags.iter().filter(|f| !f.home_care)
    }
}

/// A facility in a list, with its distance from the query's point. Shared,
/// not copied: a "near here" answer is read out of the nearby index.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub facility: Arc<PublicFacility>,
    /// From the query's point, when it has one.
    pub distance_m: Option<f64>,
}

impl std::ops::Deref for Listed {
    type Target = PublicFacility;
    fn deref(&self) -> &PublicFacility {
        &self.facility
    }
}

impl Listed {
    /// The distance as people read it: 「350 m」, 「1.2 km」.
    pub fn distance_text(&self) -> Option<String> {
        self.distance_m.map(format_distance)
    }
}

/// A page of the public list.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicList {
    pub municipality: PublicMunicipality,
    pub query: PublicQuery,
    pub facilities: Vec<Listed>,
    /// Matching facilities on every page; not counted when sorting by
    /// distance (facilities without coordinates are left out then).
    pub total: Option<i64>,
    pub pages: Option<i64>,
    /// There is a page after this one.
    pub has_next: bool,
}

/// The printed list: every matching facility, grouped by area.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicPrint {
    pub municipality: PublicMunicipality,
    pub query: PublicQuery,
    /// (area, its facilities), areas in order, the unnamed area last.
    pub groups: Vec<(String, Vec<Listed>)>,
    pub total: i64,
    /// More matched than one printout holds ([`MAX_LIMIT`]).
    pub truncated: bool,
}

/// Digits of a phone number for `tel:` (full-width digits folded).
pub fn tel_digits(phone: &str) -> String {
    text::fold_full_width_ascii(phone)
        .chars()
        .enumerate()
        .filter(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '+'))
        .map(|(_, c)| c)
        .collect()
}

pub fn format_distance(metres: f64) -> String {
    if metres < 1_000.0 {
        format!("{} m", (metres / 10.0).round() * 10.0)
    } else {
        format!("{:.1} km", metres / 1_000.0)
    }
}

/// The town of an address: what follows the municipality's name, up to the
/// first digit (「千葉県柏市豊四季台1丁目2-3」→「豊四季台」, 「柏市柏４－１０」→「柏」).
/// An address that does not name the municipality is read from its start.
pub fn area_of_address(address: &str, municipality_name: &str) -> String {
    let rest = match address.find(municipality_name).filter(|_| !municipality_name.is_empty()) {
        Some(at) => &address[at + municipality_name.len()..],
        None => address,
    };
    rest.chars()
        .take_while(|c| !c.is_ascii_digit() && !('０'..='９').contains(c) && !c.is_whitespace() && *c != '\u{3000}')
        .collect::<String>()
        .trim_end_matches(['-', '－', '‐'])
        .to_owned()
}
