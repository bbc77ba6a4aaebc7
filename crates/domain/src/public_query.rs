//! The public resource map's query as a citizen or a program types it (the
//! map page's form, the public JSON API, the FHIR registry search): kind,
//! status flag, area, name, a point to sort by distance, a service, "accepting
//! new patients", a facility code, the page. Parsed here, where the other
//! parsers of outside input are (and fuzzed with them); the app turns it into
//! the store's filter.

use crate::ValidationError;
use crate::facility::{FacilityKind, Location};
use crate::text;

crate::coded_enum!(
    /// The status flags a citizen can look for: each is the prefix of the
    /// stored flag codes it covers (支援診１〜３ are all support clinics).
    FlagFilter {
        HomeCareSupportClinic = "home_care_support_clinic", "在宅療養支援診療所", "Home care support clinic";
        HomeCareSupportHospital = "home_care_support_hospital", "在宅療養支援病院", "Home care support hospital";
        EnhancedPalliative = "enhanced_palliative", "在宅緩和ケア充実診療所・病院", "Enhanced home palliative care";
        ComprehensiveHomeMedicalManagement = "comprehensive_home_medical_management", "在宅時医学総合管理料の届出",
            "Comprehensive home medical management";
        HomeCancerCare = "home_cancer_care", "在宅がん医療総合診療料の届出", "Comprehensive home cancer care";
    }
);

/// Facilities per page of the list.
pub const PAGE_SIZE: i64 = 20;
/// The most facilities one answer holds (the map's markers, the printed list).
pub const MAX_LIMIT: i64 = 2_000;
/// The last page that may be asked for.
pub const MAX_PAGE: i64 = 1_000;
/// The query as typed (a GET form or the API's parameters); empty is "any".
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicQueryForm<'a> {
    pub kind: &'a str,
    pub flag: &'a str,
    pub area: &'a str,
    pub name: &'a str,
    pub lat: &'a str,
    pub lng: &'a str,
    pub page: &'a str,
    pub limit: &'a str,
    /// A service the facility says it offers (its profile), e.g. `ventilator`.
    pub service: &'a str,
    /// "yes": only those that say they accept new patients now.
    pub accepting: &'a str,
    /// A 10-digit 医療機関コード or 介護保険事業所番号 (any width).
    pub code: &'a str,
}

/// A parsed query of the public list.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicQuery {
    pub kind: Option<FacilityKind>,
    pub flag: Option<FlagFilter>,
    /// Text the address contains (a town, 「豊四季台」).
    pub area: Option<String>,
    /// Text the name or its furigana contains.
    pub name: Option<String>,
    /// Sort by distance from here (facilities without coordinates drop out).
    pub near: Option<Location>,
    pub service: Option<crate::registry::FacilityService>,
    /// Only facilities accepting new patients now.
    pub accepting_only: bool,
    /// The facility with this 医療機関コード or 介護保険事業所番号 (10 digits).
    pub code: Option<String>,
    /// From 1.
    pub page: i64,
    pub per_page: i64,
}

fn number(
    field: &'static str,
    raw: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ValidationError> {
    let raw = text::fold_full_width_ascii(raw.trim());
    if raw.is_empty() {
        return Ok(default);
    }
    let n: i64 = raw.parse().map_err(|_| ValidationError::new(field, "number"))?;
    if range.contains(&n) { Ok(n) } else { Err(ValidationError::new(field, "out_of_range")) }
}

impl PublicQuery {
    /// Parses the filters; `per_page` is the page size unless `limit` says otherwise (up to [`MAX_LIMIT`]).
    pub fn parse(form: &PublicQueryForm<'_>, per_page: i64) -> Result<Self, ValidationError> {
        let kind = match form.kind.trim() {
            "" => None,
            k => Some(FacilityKind::parse(k).map_err(|_| ValidationError::new("kind", "unknown"))?),
        };
        let flag = match form.flag.trim() {
            "" => None,
            f => Some(FlagFilter::parse(f).map_err(|_| ValidationError::new("flag", "unknown"))?),
        };
        Ok(Self {
            kind,
            flag,
            area: text::optional("area", form.area, 50)?,
            name: text::optional("name", form.name, 100)?,
            near: Location::parse(form.lat, form.lng)?,
            service: match form.service.trim() {
                "" => None,
                s => Some(
                    crate::registry::FacilityService::parse(s)
                        .map_err(|_| ValidationError::new("service", "unknown"))?,
                ),
            },
            accepting_only: match form.accepting.trim() {
                "" => false,
                "yes" | "on" | "1" | "true" => true,
                _ => return Err(ValidationError::new("accepting", "unknown")),
            },
            code: match text::fold_full_width_ascii(form.code.trim()).replace(['-', ' '], "") {
                c if c.is_empty() => None,
                c if c.len() == 10 && c.bytes().all(|b| b.is_ascii_digit()) => Some(c),
                _ => return Err(ValidationError::new("code", "format")),
            },
            page: number("page", form.page, 1, 1..=MAX_PAGE)?,
            per_page: number("limit", form.limit, per_page, 1..=MAX_LIMIT)?,
        })
    }

    /// How many facilities come before this page.
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(form: PublicQueryForm<'_>) -> Result<PublicQuery, ValidationError> {
        PublicQuery::parse(&form, PAGE_SIZE)
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let bad = |form: PublicQueryForm<'_>| parse(form).err();
        let d = PublicQueryForm::default();
        assert_eq!(
            bad(PublicQueryForm { lat: "91", lng: "139.9", ..d }),
            Some(ValidationError::new("latitude", "outside_japan"))
        );
        assert_eq!(
            bad(PublicQueryForm { lat: "35.8", lng: "", ..d }),
            Some(ValidationError::new("longitude", "number"))
        );
        assert_eq!(
            bad(PublicQueryForm { lat: "x", lng: "139", ..d }),
            Some(ValidationError::new("latitude", "number"))
        );
        assert_eq!(bad(PublicQueryForm { kind: "spaceport", ..d }), Some(ValidationError::new("kind", "unknown")));
        assert_eq!(bad(PublicQueryForm { flag: "secret", ..d }), Some(ValidationError::new("flag", "unknown")));
        assert_eq!(bad(PublicQueryForm { page: "0", ..d }), Some(ValidationError::new("page", "out_of_range")));
        assert_eq!(bad(PublicQueryForm { limit: "5000", ..d }), Some(ValidationError::new("limit", "out_of_range")));
        assert_eq!(bad(PublicQueryForm { limit: "ten", ..d }), Some(ValidationError::new("limit", "number")));
        let long = "柏".repeat(51);
        assert_eq!(bad(PublicQueryForm { area: &long, ..d }), Some(ValidationError::new("area", "too_long")));
    }
}
