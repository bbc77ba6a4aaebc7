//! Facilities (organisations) of a municipality's home-care network.

use crate::{ValidationError, text};

/// Declares an enum stored by a stable code, with Japanese and English labels.
#[macro_export]
macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $ja:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $crate::text::Label for $name {
            fn code(&self) -> &'static str { $name::code(*self) }
            fn label_ja(&self) -> &'static str { $name::label_ja(*self) }
            fn label_en(&self) -> &'static str { $name::label_en(*self) }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in the database and used in forms.
            pub const fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub const fn label_ja(self) -> &'static str {
                match self { $($name::$variant => $ja),+ }
            }

            pub const fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }

            pub fn parse(code: &str) -> Result<Self, $crate::ValidationError> {
                match code {
                    $($code => Ok($name::$variant),)+
                    _ => Err($crate::ValidationError::new(stringify!($name), "unknown")),
                }
            }
        }

        /// Reading a stored code (the store decodes its rows with this): an
        /// unknown code is an error there, never a default.
        impl TryFrom<String> for $name {
            type Error = $crate::ValidationError;
            fn try_from(code: String) -> Result<Self, Self::Error> {
                $name::parse(&code)
            }
        }
    };
}

coded_enum!(
    /// The kinds of organisation a municipality's network has.
    FacilityKind {
        Clinic = "clinic", "診療所", "Clinic";
        Hospital = "hospital", "病院", "Hospital";
        DentalClinic = "dental_clinic", "歯科診療所", "Dental clinic";
        Pharmacy = "pharmacy", "薬局", "Pharmacy";
        HomeNursingStation = "home_nursing_station", "訪問看護ステーション", "Home nursing station";
        CareManagementOffice = "care_management_office", "居宅介護支援事業所", "Care management office";
        HomeHelpOffice = "home_help_office", "訪問介護事業所", "Home help office";
        CommunitySupportCenter = "community_support_center", "地域包括支援センター", "Community support center";
        CoordinationCenter = "coordination_center", "地域医療連携センター", "Coordination center";
        MunicipalOffice = "municipal_office", "市区町村", "Municipal office";
        Other = "other", "その他", "Other";
    }
);

impl FacilityKind {
    /// The 点数表番号 used in a 10-digit 医療機関コード, for kinds that have one.
    const fn fee_schedule_digit(self) -> Option<char> {
        match self {
            FacilityKind::Clinic | FacilityKind::Hospital => Some('1'),
            FacilityKind::DentalClinic => Some('3'),
            FacilityKind::Pharmacy => Some('4'),
            _ => None,
        }
    }
}

/// 医療機関コード, stored as 10 digits: prefecture (2) + fee schedule (1) + the
/// 7-digit code whose last digit is its check digit (Luhn-style, weights 1,2,1,2,1,2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicalInstitutionCode(String);

impl MedicalInstitutionCode {
    /// Accepts the full 10 digits, or the 7 digits printed on most lists, which
    /// are completed with the municipality's prefecture and the facility kind.
    pub fn parse(raw: &str, prefecture: &str, kind: FacilityKind) -> Result<Self, ValidationError> {
        const FIELD: &str = "medical_institution_code";
        let digits: String =
            text::fold_full_width_ascii(raw).chars().filter(|c| !matches!(c, '-' | ' ' | '.')).collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new(FIELD, "digits"));
        }
        let full = match digits.len() {
            10 => digits,
            7 => {
                let table = kind.fee_schedule_digit().ok_or(ValidationError::new(FIELD, "not_for_kind"))?;
                // Only a 2-digit 都道府県コード completes it; without one the 10 digits are needed.
                if prefecture.len() != 2 || !prefecture.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ValidationError::new(FIELD, "length"));
                }
                format!("{prefecture}{table}{digits}")
            }
            _ => return Err(ValidationError::new(FIELD, "length")),
        };
        let local = full.get(3..).unwrap_or_default();
        if !luhn_check_digit_ok(local) {
            return Err(ValidationError::new(FIELD, "check_digit"));
        }
        Ok(Self(full))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn luhn_check_digit_ok(seven: &str) -> bool {
    let digits: Vec<u32> = seven.bytes().map(|b| u32::from(b - b'0')).collect();
    let Some((&check, body)) = digits.split_last() else {
        return false;
    };
    let sum: u32 = body
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let p = if i % 2 == 1 { d * 2 } else { d };
            p / 10 + p % 10
        })
        .sum();
    (10 - sum % 10) % 10 == check
}

/// 介護保険事業所番号: ten digits, the first two being the prefecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareProviderNumber(String);

impl CareProviderNumber {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let digits: String = text::fold_full_width_ascii(raw).chars().filter(|c| *c != '-' && *c != ' ').collect();
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new("care_provider_number", "ten_digits"));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Japanese phone number: 10 or 11 digits, kept with the hyphens people write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let folded = text::fold_full_width_ascii(raw.trim());
        let digits = folded.chars().filter(char::is_ascii_digit).count();
        let shape_ok = folded.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '(' | ')' | ' '));
        if !shape_ok || !(10..=11).contains(&digits) || !folded.starts_with('0') {
            return Err(ValidationError::new("phone", "format"));
        }
        Ok(Self(folded))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A point inside Japan's bounding box (WGS84).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

impl Location {
    pub fn parse(latitude: &str, longitude: &str) -> Result<Option<Self>, ValidationError> {
        let (lat, lng) = (latitude.trim(), longitude.trim());
        if lat.is_empty() && lng.is_empty() {
            return Ok(None);
        }
        let lat: f64 = lat.parse().map_err(|_| ValidationError::new("latitude", "number"))?;
        let lng: f64 = lng.parse().map_err(|_| ValidationError::new("longitude", "number"))?;
        if !(20.0..=46.0).contains(&lat) {
            return Err(ValidationError::new("latitude", "outside_japan"));
        }
        if !(122.0..=154.0).contains(&lng) {
            return Err(ValidationError::new("longitude", "outside_japan"));
        }
        Ok(Some(Self { latitude: lat, longitude: lng }))
    }

    /// The great-circle distance to `other` in metres (haversine, on a sphere
    /// of the Earth's mean radius): within a city it is off by well under 1 %.
    pub fn distance_m(&self, other: &Location) -> f64 {
        let (phi1, phi2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let d_phi = phi2 - phi1;
        let d_lambda = (other.longitude - self.longitude).to_radians();
        let h = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
    }

    /// A latitude/longitude box holding every point within `radius_m` of this
    /// one (a cheap prefilter for SQL; the exact distance is
    /// [`Location::distance_m`]).
    pub fn bounding_box(&self, radius_m: f64) -> BoundingBox {
        let d_lat = (radius_m / EARTH_RADIUS_M).to_degrees();
        // A degree of longitude shrinks with the cosine of the latitude; Japan
        // is far from the poles, so the cosine never gets near zero here.
        let d_lng = d_lat / self.latitude.to_radians().cos().max(0.01);
        BoundingBox {
            min_latitude: self.latitude - d_lat,
            max_latitude: self.latitude + d_lat,
            min_longitude: self.longitude - d_lng,
            max_longitude: self.longitude + d_lng,
        }
    }
}

/// The Earth's mean radius (IUGG), in metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A range of latitudes and longitudes (degrees, inclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_latitude: f64,
    pub max_latitude: f64,
    pub min_longitude: f64,
    pub max_longitude: f64,
}

impl BoundingBox {
    pub fn contains(&self, p: &Location) -> bool {
        (self.min_latitude..=self.max_latitude).contains(&p.latitude)
            && (self.min_longitude..=self.max_longitude).contains(&p.longitude)
    }
}

/// A facility as entered on the admin form, every field already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct FacilityDetails {
    pub kind: FacilityKind,
    pub name: String,
    pub name_kana: Option<String>,
    pub medical_institution_code: Option<MedicalInstitutionCode>,
    pub care_provider_number: Option<CareProviderNumber>,
    pub postal_code: Option<String>,
    pub address: String,
    pub phone: Option<PhoneNumber>,
    pub location: Option<Location>,
}

/// The raw form fields of a facility.
#[derive(Debug, Clone, Default)]
pub struct FacilityForm<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub name_kana: &'a str,
    pub medical_institution_code: &'a str,
    pub care_provider_number: &'a str,
    pub postal_code: &'a str,
    pub address: &'a str,
    pub phone: &'a str,
    pub latitude: &'a str,
    pub longitude: &'a str,
}

impl FacilityDetails {
    /// Parses a form; `prefecture` completes 7-digit 医療機関コード.
    pub fn parse(form: &FacilityForm<'_>, prefecture: &str) -> Result<Self, ValidationError> {
        let kind = FacilityKind::parse(form.kind).map_err(|_| ValidationError::new("kind", "unknown"))?;
        let postal_code = match text::optional("postal_code", form.postal_code, 10)? {
            None => None,
            Some(raw) => {
                let digits: String = text::fold_full_width_ascii(&raw).chars().filter(char::is_ascii_digit).collect();
                if digits.len() != 7 {
                    return Err(ValidationError::new("postal_code", "seven_digits"));
                }
                Some(format!("{}-{}", &digits[..3], &digits[3..]))
            }
        };
        Ok(Self {
            kind,
            name: text::required("name", form.name, 100)?,
            name_kana: text::optional("name_kana", form.name_kana, 200)?,
            medical_institution_code: match form.medical_institution_code.trim() {
                "" => None,
                raw => Some(MedicalInstitutionCode::parse(raw, prefecture, kind)?),
            },
            care_provider_number: match form.care_provider_number.trim() {
                "" => None,
                raw => Some(CareProviderNumber::parse(raw)?),
            },
            postal_code,
            address: text::required("address", form.address, 200)?,
            phone: match form.phone.trim() {
                "" => None,
                raw => Some(PhoneNumber::parse(raw)?),
            },
            location: Location::parse(form.latitude, form.longitude)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medical_institution_codes_from_the_kashiwa_list_are_valid() {
        for code in ["2190015", "2190031", "2190049", "2190056", "2190064", "2190080"] {
            let parsed = MedicalInstitutionCode::parse(code, "12", FacilityKind::Clinic);
            assert_eq!(parsed.map(|c| c.0), Ok(format!("121{code}")), "{code}");
        }
    }

    #[test]
    fn seven_digits_need_a_two_digit_prefecture() {
        // Found by fuzzing (fuzz/, target domain_forms): with an empty prefecture "202621-1-"
        // became the 8-digit code "12026211"; with "123-" the check digit underflowed (a panic
        // in debug builds).
        for prefecture in ["", "1", "123", "123-", "ab", "１２"] {
            assert_eq!(
                MedicalInstitutionCode::parse("202621-1-", prefecture, FacilityKind::Clinic),
                Err(ValidationError::new("medical_institution_code", "length")),
                "{prefecture:?}"
            );
            assert_eq!(
                MedicalInstitutionCode::parse("2190015", prefecture, FacilityKind::Clinic),
                Err(ValidationError::new("medical_institution_code", "length")),
                "{prefecture:?}"
            );
        }
        let full = MedicalInstitutionCode::parse("1212190015", "", FacilityKind::Clinic);
        assert_eq!(full.map(|c| c.0), Ok("1212190015".to_owned()), "10 digits need no prefecture");
    }

    #[test]
    fn medical_institution_code_with_a_wrong_check_digit_is_refused() {
        assert_eq!(
            MedicalInstitutionCode::parse("2101128", "12", FacilityKind::Clinic),
            Err(ValidationError::new("medical_institution_code", "check_digit"))
        );
        assert_eq!(
            MedicalInstitutionCode::parse("2190015", "12", FacilityKind::HomeNursingStation),
            Err(ValidationError::new("medical_institution_code", "not_for_kind"))
        );
        assert!(MedicalInstitutionCode::parse("1212190015", "99", FacilityKind::Other).is_ok());
    }

    #[test]
    fn phone_numbers() {
        assert!(PhoneNumber::parse("04-7100-0000").is_ok());
        assert!(PhoneNumber::parse("０９０－１２３４－５６７８").is_ok());
        assert!(PhoneNumber::parse("12345").is_err());
        assert!(PhoneNumber::parse("04-7100-000x").is_err());
    }

    #[test]
    fn locations_outside_japan_are_refused() {
        assert_eq!(Location::parse("35.86", "139.97"), Ok(Some(Location { latitude: 35.86, longitude: 139.97 })));
        assert_eq!(Location::parse("", ""), Ok(None));
        assert_eq!(Location::parse("51.5", "0.1"), Err(ValidationError::new("latitude", "outside_japan")));
        assert_eq!(Location::parse("x", "139"), Err(ValidationError::new("latitude", "number")));
    }

    #[test]
    fn haversine_distances_match_known_ones() {
        let kashiwa_station = Location { latitude: 35.8622, longitude: 139.9710 };
        let tokyo_station = Location { latitude: 35.6812, longitude: 139.7671 };
        // About 27.3 km as the crow flies.
        let d = kashiwa_station.distance_m(&tokyo_station);
        assert!((27_100.0..27_500.0).contains(&d), "{d}");
        assert_eq!(kashiwa_station.distance_m(&kashiwa_station), 0.0);
        assert!((d - tokyo_station.distance_m(&kashiwa_station)).abs() < 1e-6, "symmetric");
        // One minute of latitude is about one nautical mile (1,852 m).
        let north = Location { latitude: 35.0 + 1.0 / 60.0, longitude: 139.0 };
        let d = Location { latitude: 35.0, longitude: 139.0 }.distance_m(&north);
        assert!((d - 1_853.2).abs() < 1.0, "{d}");
        // Sapporo to Naha, about 2,245 km: long distances stay right too.
        let sapporo = Location { latitude: 43.0621, longitude: 141.3544 };
        let naha = Location { latitude: 26.2124, longitude: 127.6809 };
        let d = sapporo.distance_m(&naha) / 1000.0;
        assert!((2_230.0..2_260.0).contains(&d), "{d}");
    }

    #[test]
    fn the_bounding_box_holds_the_whole_circle() {
        let centre = Location { latitude: 35.8622, longitude: 139.9710 };
        let bbox = centre.bounding_box(2_000.0);
        assert!(bbox.contains(&centre));
        // Points 1,999 m away in every direction are inside; 2,100 m north or east are not.
        for bearing in (0..360).step_by(15) {
            let b = f64::from(bearing).to_radians();
            let (dn, de) = (1_999.0 * b.cos(), 1_999.0 * b.sin());
            let p = Location {
                latitude: centre.latitude + (dn / EARTH_RADIUS_M).to_degrees(),
                longitude: centre.longitude + (de / (EARTH_RADIUS_M * centre.latitude.to_radians().cos())).to_degrees(),
            };
            assert!(centre.distance_m(&p) < 2_000.0);
            assert!(bbox.contains(&p), "bearing {bearing}");
        }
        let north = Location { latitude: centre.latitude + (2_100.0 / EARTH_RADIUS_M).to_degrees(), ..centre };
        assert!(!bbox.contains(&north));
        let east_by = (2_100.0 / (EARTH_RADIUS_M * centre.latitude.to_radians().cos())).to_degrees();
        assert!(!bbox.contains(&Location { longitude: centre.longitude + east_by, ..centre }));
    }

    #[test]
    fn a_facility_form_is_parsed_whole_or_not_at_all() {
        let form = FacilityForm {
            kind: "clinic",
            name: " つなぐ在宅クリニック ",
            medical_institution_code: "2190015",
            postal_code: "２７７０００５",
            address: "千葉県柏市柏1-1-1",
            phone: "04-7100-0001",
            latitude: "35.8621",
            longitude: "139.9712",
            ..FacilityForm::default()
        };
        let details = FacilityDetails::parse(&form, "12");
        assert_eq!(details.as_ref().map(|d| d.name.as_str()), Ok("つなぐ在宅クリニック"));
        assert_eq!(details.as_ref().map(|d| d.postal_code.clone()), Ok(Some("277-0005".into())));
        let bad = FacilityForm { kind: "spaceport", ..form };
        assert_eq!(FacilityDetails::parse(&bad, "12"), Err(ValidationError::new("kind", "unknown")));
    }
}
