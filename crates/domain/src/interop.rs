//! Interoperability rules that are not about HTTP: what an API token's scopes
//! allow (SMART on FHIR style, `user/Patient.read`), the form that creates a
//! token, and how tsunagu's vital signs are coded for others (LOINC and UCUM,
//! as JP Core's vital-sign profiles ask).

use crate::care::{VitalSigns, VitalsForm};
use crate::{ValidationError, coded_enum};

coded_enum!(
    /// Why an API token stopped working before its expiry. Every way the
    /// account's credentials end ends its tokens too: a token never outlives
    /// the credentials that made it.
    TokenRevocation {
        Owner = "owner", "本人が失効", "Revoked by its owner";
        SignedOutEverywhere = "signed_out_everywhere", "すべての端末からサインアウトしたため", "Signed out everywhere";
        PasswordChanged = "password_changed", "パスワードを変更したため", "Password changed";
        CredentialsReissued = "credentials_reissued", "ID・パスワードが再発行されたため", "Credentials reissued";
        AccountDisabled = "account_disabled", "アカウントが停止されたため", "Account disabled";
    }
);

/// The FHIR resource types a token's scope may name.
pub const SCOPED_RESOURCES: &[&str] = &[
    "Patient",
    "Consent",
    "Observation",
    "CareTeam",
    "Communication",
    "Encounter",
    "DocumentReference",
    "AuditEvent",
    "Practitioner",
    "PractitionerRole",
];

/// Reading or writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// One granted scope: `user/{Resource|*}.{read|write|*}`. Only the `user`
/// context exists: a token acts for the person who made it, under exactly
/// their access rights; the scope can only narrow them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// `None` is `*`, every resource type.
    pub resource: Option<String>,
    pub read: bool,
    pub write: bool,
}

impl Scope {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let bad = || ValidationError::new("scopes", "unknown_scope");
        let rest = raw.strip_prefix("user/").ok_or_else(bad)?;
        let (resource, access) = rest.split_once('.').ok_or_else(bad)?;
        let resource = match resource {
            "*" => None,
            r if SCOPED_RESOURCES.contains(&r) => Some(r.to_owned()),
            _ => return Err(bad()),
        };
        // SMART v1 (read/write/*) and the v2 letters (c, r, u, d, s).
        let (read, write) = match access {
            "read" => (true, false),
            "write" => (false, true),
            "*" => (true, true),
            v2 if !v2.is_empty() && v2.chars().all(|c| "cruds".contains(c)) => {
                (v2.contains('r') || v2.contains('s'), v2.contains('c') || v2.contains('u') || v2.contains('d'))
            }
            _ => return Err(bad()),
        };
        Ok(Self { resource, read, write })
    }

    fn allows(&self, resource: &str, access: Access) -> bool {
        self.resource.as_deref().is_none_or(|r| r == resource)
            && match access {
                Access::Read => self.read,
                Access::Write => self.write,
            }
    }

    pub fn code(&self) -> String {
        let access = match (self.read, self.write) {
            (true, true) => "*",
            (true, false) => "read",
            _ => "write",
        };
        format!("user/{}.{access}", self.resource.as_deref().unwrap_or("*"))
    }
}

/// A token's scopes, space-separated as in OAuth 2.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let mut scopes: Vec<Scope> = Vec::new();
        for part in raw.split(|c: char| c.is_whitespace() || c == ',').filter(|p| !p.is_empty()) {
            let scope = Scope::parse(part)?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err(ValidationError::new("scopes", "required"));
        }
        Ok(Self(scopes))
    }

    pub fn allows(&self, resource: &str, access: Access) -> bool {
        self.0.iter().any(|s| s.allows(resource, access))
    }

    pub fn code(&self) -> String {
        self.0.iter().map(Scope::code).collect::<Vec<_>>().join(" ")
    }
}

/// What a person asks for when they make an API token.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiTokenDraft {
    pub name: String,
    pub scopes: Scopes,
    pub valid_days: i64,
}

/// The longest a token may live: a year, then it must be made again.
pub const MAX_TOKEN_DAYS: i64 = 366;

impl ApiTokenDraft {
    pub fn parse(name: &str, scopes: &str, valid_days: &str) -> Result<Self, ValidationError> {
        let name = crate::text::required("name", name, 80)?;
        let scopes = Scopes::parse(scopes)?;
        let days = crate::text::fold_full_width_ascii(valid_days.trim());
        let valid_days: i64 = days.parse().map_err(|_| ValidationError::new("valid_days", "number"))?;
        if !(1..=MAX_TOKEN_DAYS).contains(&valid_days) {
            return Err(ValidationError::new("valid_days", "out_of_range"));
        }
        Ok(Self { name, scopes, valid_days })
    }
}

/// A 医療機関コード's parts as JP Core's Organization carries them:
/// (都道府県番号 2 digits, 点数表 1 digit, 医療機関番号 7 digits).
pub fn medical_code_parts(code: &str) -> Option<(&str, &str, &str)> {
    if code.len() != 10 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((&code[..2], &code[2..3], &code[3..]))
}

/// A vital sign as others code it: LOINC, the UCUM unit, and where it sits
/// in [`VitalSigns`]. Blood pressure is one panel with two components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VitalCode {
    Temperature,
    BloodPressure,
    Pulse,
    Spo2,
    RespiratoryRate,
    Weight,
    BloodGlucose,
    Pain,
    BowelMovements,
}

pub const LOINC: &str = "http://loinc.org";
pub const UCUM: &str = "http://unitsofmeasure.org";
/// tsunagu's own code for what LOINC has no vital-sign code for.
pub const LOCAL_CODES: &str = "urn:tsunagu:observation";
pub const SYSTOLIC_LOINC: &str = "8480-6";
pub const DIASTOLIC_LOINC: &str = "8462-4";

impl VitalCode {
    pub const ALL: [VitalCode; 9] = [
        VitalCode::Temperature,
        VitalCode::BloodPressure,
        VitalCode::Pulse,
        VitalCode::Spo2,
        VitalCode::RespiratoryRate,
        VitalCode::Weight,
        VitalCode::BloodGlucose,
        VitalCode::Pain,
        VitalCode::BowelMovements,
    ];

    /// The code system and code.
    pub fn coding(self) -> (&'static str, &'static str) {
        match self {
            VitalCode::Temperature => (LOINC, "8310-5"),
            VitalCode::BloodPressure => (LOINC, "85354-9"),
            VitalCode::Pulse => (LOINC, "8867-4"),
            VitalCode::Spo2 => (LOINC, "59408-5"),
            VitalCode::RespiratoryRate => (LOINC, "9279-1"),
            VitalCode::Weight => (LOINC, "29463-7"),
            VitalCode::BloodGlucose => (LOINC, "2339-0"),
            VitalCode::Pain => (LOINC, "72514-3"),
            VitalCode::BowelMovements => (LOCAL_CODES, "bowel-movements"),
        }
    }

    /// (Japanese, English) display.
    pub fn display(self) -> (&'static str, &'static str) {
        match self {
            VitalCode::Temperature => ("体温", "Body temperature"),
            VitalCode::BloodPressure => ("血圧", "Blood pressure panel"),
            VitalCode::Pulse => ("脈拍", "Heart rate"),
            VitalCode::Spo2 => ("SpO2", "Oxygen saturation by pulse oximetry"),
            VitalCode::RespiratoryRate => ("呼吸数", "Respiratory rate"),
            VitalCode::Weight => ("体重", "Body weight"),
            VitalCode::BloodGlucose => ("血糖", "Glucose [Mass/volume] in Blood"),
            VitalCode::Pain => ("疼痛スケール", "Pain severity 0-10 numeric rating"),
            VitalCode::BowelMovements => ("排便回数", "Bowel movements since the last visit"),
        }
    }

    /// The UCUM unit of the value (of each component, for blood pressure).
    pub fn unit(self) -> &'static str {
        match self {
            VitalCode::Temperature => "Cel",
            VitalCode::BloodPressure => "mm[Hg]",
            VitalCode::Pulse | VitalCode::RespiratoryRate => "/min",
            VitalCode::Spo2 => "%",
            VitalCode::Weight => "kg",
            VitalCode::BloodGlucose => "mg/dL",
            VitalCode::Pain => "{score}",
            VitalCode::BowelMovements => "{count}",
        }
    }

    /// A short id suffix: an Observation is `{entry}-{suffix}`.
    pub fn suffix(self) -> &'static str {
        match self {
            VitalCode::Temperature => "bt",
            VitalCode::BloodPressure => "bp",
            VitalCode::Pulse => "hr",
            VitalCode::Spo2 => "spo2",
            VitalCode::RespiratoryRate => "rr",
            VitalCode::Weight => "bw",
            VitalCode::BloodGlucose => "glu",
            VitalCode::Pain => "pain",
            VitalCode::BowelMovements => "bm",
        }
    }

    /// Whether FHIR's vital-signs profile covers it (category `vital-signs`).
    pub fn is_vital_sign(self) -> bool {
        !matches!(self, VitalCode::BloodGlucose | VitalCode::Pain | VitalCode::BowelMovements)
    }

    pub fn from_suffix(suffix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.suffix() == suffix)
    }

    /// The code named by a search token: `code`, `system|code` or `|code`.
    pub fn from_token(token: &str) -> Option<Self> {
        let (system, code) = match token.split_once('|') {
            Some(("", code)) => (None, code),
            Some((system, code)) => (Some(system), code),
            None => (None, token),
        };
        Self::ALL.into_iter().find(|c| {
            let (s, k) = c.coding();
            k == code && system.is_none_or(|sys| sys == s)
        })
    }

    /// The value(s) recorded for this code: one, or (systolic, diastolic).
    pub fn values(self, v: &VitalSigns) -> Option<VitalValue> {
        let one = |x: Option<f64>| x.map(VitalValue::One);
        match self {
            VitalCode::Temperature => one(v.temperature_c),
            VitalCode::BloodPressure => match (v.systolic, v.diastolic) {
                (Some(s), Some(d)) => Some(VitalValue::Pressure(s, d)),
                _ => None,
            },
            VitalCode::Pulse => one(v.pulse.map(f64::from)),
            VitalCode::Spo2 => one(v.spo2.map(f64::from)),
            VitalCode::RespiratoryRate => one(v.respiratory_rate.map(f64::from)),
            VitalCode::Weight => one(v.weight_kg),
            VitalCode::BloodGlucose => one(v.blood_glucose.map(f64::from)),
            VitalCode::Pain => one(v.pain.map(f64::from)),
            VitalCode::BowelMovements => one(v.bowel_movements.map(f64::from)),
        }
    }

    /// The vital signs holding just this measurement, checked like the form
    /// (plausible ranges, systolic above diastolic). `unit` must be the one
    /// of [`VitalCode::unit`]: tsunagu converts nothing.
    pub fn measurement(self, value: VitalValue, unit: &str) -> Result<VitalSigns, ValidationError> {
        if unit != self.unit() {
            return Err(ValidationError::new("valueQuantity", "unit"));
        }
        let text = |x: f64| if x.fract() == 0.0 { format!("{x:.0}") } else { x.to_string() };
        let (first, second) = match (self, value) {
            (VitalCode::BloodPressure, VitalValue::Pressure(s, d)) => (s.to_string(), d.to_string()),
            (VitalCode::BloodPressure, VitalValue::One(_)) | (_, VitalValue::Pressure(..)) => {
                return Err(ValidationError::new("component", "shape"));
            }
            (_, VitalValue::One(x)) => (text(x), String::new()),
        };
        let mut form = VitalsForm::default();
        match self {
            VitalCode::BloodPressure => {
                form.systolic = &first;
                form.diastolic = &second;
            }
            VitalCode::Temperature => form.temperature_c = &first,
            VitalCode::Pulse => form.pulse = &first,
            VitalCode::Spo2 => form.spo2 = &first,
            VitalCode::RespiratoryRate => form.respiratory_rate = &first,
            VitalCode::Weight => form.weight_kg = &first,
            VitalCode::BloodGlucose => form.blood_glucose = &first,
            VitalCode::Pain => form.pain = &first,
            VitalCode::BowelMovements => form.bowel_movements = &first,
        }
        VitalSigns::parse(&form)
    }
}

/// A measured value: one number, or a blood pressure pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VitalValue {
    One(f64),
    Pressure(u16, u16),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_narrow_to_resource_and_access() {
        let s = Scopes::parse("user/Patient.read user/Observation.write").unwrap();
        assert!(s.allows("Patient", Access::Read));
        assert!(!s.allows("Patient", Access::Write));
        assert!(s.allows("Observation", Access::Write));
        assert!(!s.allows("Observation", Access::Read));
        assert!(!s.allows("CareTeam", Access::Read));
        let all = Scopes::parse("user/*.read").unwrap();
        assert!(all.allows("CareTeam", Access::Read) && !all.allows("CareTeam", Access::Write));
        let v2 = Scopes::parse("user/Observation.cr").unwrap();
        assert!(v2.allows("Observation", Access::Read) && v2.allows("Observation", Access::Write));
        assert_eq!(Scopes::parse("user/Patient.rs,user/Patient.read").unwrap().code(), "user/Patient.read");
    }

    #[test]
    fn unknown_scopes_are_refused_not_ignored() {
        for bad in ["", "system/Patient.read", "user/Patient", "user/Foo.read", "user/Patient.x", "patient/*.read"] {
            assert!(Scopes::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn token_drafts_are_checked() {
        let d = ApiTokenDraft::parse(" 電子カルテ連携 ", "user/*.read", "９０").unwrap();
        assert_eq!((d.name.as_str(), d.valid_days), ("電子カルテ連携", 90));
        assert_eq!(ApiTokenDraft::parse("", "user/*.read", "30").unwrap_err().field, "name");
        assert_eq!(ApiTokenDraft::parse("x", "user/*.read", "0").unwrap_err().field, "valid_days");
        assert_eq!(ApiTokenDraft::parse("x", "user/*.read", "367").unwrap_err().field, "valid_days");
    }

    #[test]
    fn a_medical_institution_code_splits_as_jp_core_asks() {
        assert_eq!(medical_code_parts("1210123456"), Some(("12", "1", "0123456")));
        assert_eq!(medical_code_parts("121012345"), None);
        assert_eq!(medical_code_parts("12101234５6"), None);
    }

    #[test]
    fn codes_round_trip_and_are_found_by_token() {
        for code in VitalCode::ALL {
            assert_eq!(VitalCode::from_suffix(code.suffix()), Some(code));
            let (system, c) = code.coding();
            assert_eq!(VitalCode::from_token(c), Some(code));
            assert_eq!(VitalCode::from_token(&format!("{system}|{c}")), Some(code));
            assert_eq!(VitalCode::from_token(&format!("|{c}")), Some(code));
        }
        assert_eq!(VitalCode::from_token("http://snomed.info/sct|8310-5"), None);
    }

    #[test]
    fn measurements_are_checked_like_the_form() {
        let v = VitalCode::Temperature.measurement(VitalValue::One(37.2), "Cel").unwrap();
        assert_eq!(v.temperature_c, Some(37.2));
        assert_eq!(VitalCode::Temperature.values(&v), Some(VitalValue::One(37.2)));
        assert_eq!(VitalCode::Temperature.measurement(VitalValue::One(99.0), "Cel").unwrap_err().code, "implausible");
        assert_eq!(VitalCode::Temperature.measurement(VitalValue::One(98.6), "[degF]").unwrap_err().code, "unit");
        let bp = VitalCode::BloodPressure.measurement(VitalValue::Pressure(128, 76), "mm[Hg]").unwrap();
        assert_eq!((bp.systolic, bp.diastolic), (Some(128), Some(76)));
        assert!(VitalCode::BloodPressure.measurement(VitalValue::Pressure(70, 90), "mm[Hg]").is_err());
        assert!(VitalCode::Pulse.measurement(VitalValue::One(72.5), "/min").is_err(), "a pulse is whole");
        let spo2 = VitalCode::Spo2.measurement(VitalValue::One(96.0), "%").unwrap();
        assert_eq!(spo2.spo2, Some(96));
    }
}
