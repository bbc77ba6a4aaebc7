//! Parsing of Japanese government open-data facility lists, so that the app can import
//! them idempotently. Bytes in, normalised rows out: no I/O, no database.
//!
//! Three kinds of file ([`Source`]):
//! - 介護サービス情報公表システム open data (one CSV per service type): care offices;
//! - 医療情報ネット (ナビイ) open data facility CSVs: hospitals, clinics, dental clinics, pharmacies;
//! - 届出受理医療機関名簿（医科） of a 地方厚生局 (.xlsx or .csv): facility-standard notifications,
//!   one row per notification, grouped here into one row per facility with its [`Flag`]s.
//!
//! A file that cannot be read as the claimed source is refused whole ([`FileError`]); a row
//! that cannot be used is rejected on its own ([`Rejected`]) and every other row is returned.
// No indexing that can panic: .get(), iterators and patterns instead (tests may index).
#![deny(clippy::indexing_slicing)]

mod care;
mod era;
mod fields;
mod medical;
mod standards;
mod synthetic;
mod table;

use tsunagu_domain::facility::FacilityKind;

pub use era::parse_era_date;
pub use synthetic::synthetic_care_offices_csv;

/// Which kind of open-data file is being imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// 介護サービス情報公表システム open data (`jigyosho_<service code>.csv`).
    CareOffices,
    /// 医療情報ネット open data facility information (`0N-1_<kind>_facility_info_<date>.csv`, `05_pharmacy_<date>.csv`).
    MedicalInstitutions,
    /// 届出受理医療機関名簿（医科） of a 地方厚生局 (施設基準の届出受理状況).
    FacilityStandards,
}

impl Source {
    pub const ALL: &'static [Source] = &[Source::CareOffices, Source::MedicalInstitutions, Source::FacilityStandards];

    /// A stable code, for forms and stored import records.
    pub const fn code(self) -> &'static str {
        match self {
            Source::CareOffices => "care_offices",
            Source::MedicalInstitutions => "medical_institutions",
            Source::FacilityStandards => "facility_standards",
        }
    }

    pub const fn label_ja(self) -> &'static str {
        match self {
            Source::CareOffices => "介護サービス事業所（介護サービス情報公表システム）",
            Source::MedicalInstitutions => "医療機関（医療情報ネット）",
            Source::FacilityStandards => "施設基準の届出（届出受理医療機関名簿）",
        }
    }

    pub fn parse(code: &str) -> Option<Source> {
        Source::ALL.iter().copied().find(|s| s.code() == code)
    }
}

/// Optional hints for [`parse_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// The kind of every row of a 医療情報ネット file, used when the file has no 機関区分
    /// column (or the cell is empty) and its name does not tell (hospital/clinic/dental/pharmacy).
    pub medical_kind: Option<FacilityKind>,
}

/// The result of parsing one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub rows: Vec<Row>,
    pub rejected: Vec<Rejected>,
    /// `"UTF-8"`, `"Shift_JIS"` or `"xlsx"`.
    pub encoding: &'static str,
}

/// One facility, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 事業所番号 (care offices), ID (医療情報ネット), or the 10-digit 医療機関コード (facility standards).
    pub source_id: String,
    pub kind: FacilityKind,
    /// As in the source, outer whitespace (full-width spaces included) trimmed.
    pub name: String,
    pub name_kana: Option<String>,
    /// `123-4567`.
    pub postal_code: Option<String>,
    /// The full address, with the 方書 (building) after a full-width space when the file has one
    /// (care offices); for facility standards
    /// the prefecture name is put in front (the 厚生局 lists start at the municipality).
    pub address: String,
    /// Only numbers that [`tsunagu_domain::facility::PhoneNumber`] accepts; full-width digits folded.
    pub phone: Option<String>,
    pub fax: Option<String>,
    /// `None` for 0, empty, or outside Japan (latitude 20..=46, longitude 122..=154).
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The 6-digit 全国地方公共団体コード (with its check digit) where the file has one: the first
    /// column of care offices, 都道府県コード + 市区町村コード of 医療情報ネット, 市町村コード of the
    /// 厚生局 lists (empty in current editions). Prefecture-level codes give `None`.
    pub municipality_code: Option<String>,
    /// 市区町村名 where the file has it, otherwise derived from the address (e.g. 「柏市」).
    pub municipality_name: Option<String>,
    /// サービスの種類 (care offices).
    pub service: Option<String>,
    /// Facility-standard notifications with their 算定開始年月日, in file order (facility standards only).
    pub flags: Vec<(Flag, Option<time::Date>)>,
    /// The first source line (CSV) or sheet row (xlsx) of this facility, 1-based as a person counts.
    pub line: usize,
}

/// A facility-standard notification (受理記号) relevant to home care; other codes are kept as [`Flag::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    /// 支援診１/２/３: 在宅療養支援診療所 (1 機能強化型・単独型, 2 機能強化型・連携型, 3 その他).
    HomeCareSupportClinic(u8),
    /// 支援病１/２/３: 在宅療養支援病院 (1 機能強化型・単独型, 2 機能強化型・連携型, 3 その他).
    HomeCareSupportHospital(u8),
    /// 在緩診実: 在宅緩和ケア充実診療所加算.
    EnhancedPalliativeClinic,
    /// 在緩診病: 在宅緩和ケア充実病院加算.
    EnhancedPalliativeHospital,
    /// 在医総管１/２: 在宅時医学総合管理料及び施設入居時等医学総合管理料 (2 = the 注14 standard).
    ComprehensiveHomeMedicalManagement(u8),
    /// 在総: 在宅がん医療総合診療料.
    HomeCancerCare,
    /// Any other 受理記号, as written in the source (trimmed).
    Other(String),
}

impl Flag {
    /// A stable code for storage: snake_case for known flags, the 受理記号 itself for others.
    /// [`Flag::parse`] reads it back.
    pub fn code(&self) -> String {
        match self {
            Flag::HomeCareSupportClinic(n) => format!("home_care_support_clinic_{n}"),
            Flag::HomeCareSupportHospital(n) => format!("home_care_support_hospital_{n}"),
            Flag::EnhancedPalliativeClinic => "enhanced_palliative_clinic".to_owned(),
            Flag::EnhancedPalliativeHospital => "enhanced_palliative_hospital".to_owned(),
            Flag::ComprehensiveHomeMedicalManagement(n) => format!("comprehensive_home_medical_management_{n}"),
            Flag::HomeCancerCare => "home_cancer_care".to_owned(),
            Flag::Other(code) => code.clone(),
        }
    }

    /// Reads a stable code ([`Flag::code`]) or a 受理記号 as printed by the 厚生局
    /// (full- or half-width digits, e.g. 「支援診２」 or 「支援診2」). Never fails: anything
    /// unknown is [`Flag::Other`].
    pub fn parse(code: &str) -> Flag {
        let trimmed = code.trim();
        let folded: String = fields::fold_ascii(trimmed).chars().filter(|c| !c.is_whitespace()).collect();
        let numbered = |prefix: &str, max: u8| -> Option<u8> {
            let n: u8 = folded.strip_prefix(prefix)?.parse().ok()?;
            (1..=max).contains(&n).then_some(n)
        };
        if let Some(n) = numbered("home_care_support_clinic_", 3).or_else(|| numbered("支援診", 3)) {
            return Flag::HomeCareSupportClinic(n);
        }
        if let Some(n) = numbered("home_care_support_hospital_", 3).or_else(|| numbered("支援病", 3)) {
            return Flag::HomeCareSupportHospital(n);
        }
        if let Some(n) = numbered("comprehensive_home_medical_management_", 2).or_else(|| numbered("在医総管", 2)) {
            return Flag::ComprehensiveHomeMedicalManagement(n);
        }
        match folded.as_str() {
            "enhanced_palliative_clinic" | "在緩診実" => Flag::EnhancedPalliativeClinic,
            "enhanced_palliative_hospital" | "在緩診病" => Flag::EnhancedPalliativeHospital,
            "home_cancer_care" | "在総" => Flag::HomeCancerCare,
            _ => Flag::Other(trimmed.to_owned()),
        }
    }

    pub fn label_ja(&self) -> String {
        let support = |n: u8, kind: &str| match n {
            1 => format!("機能強化型在宅療養支援{kind}（単独型）"),
            2 => format!("機能強化型在宅療養支援{kind}（連携型）"),
            3 => format!("在宅療養支援{kind}"),
            _ => format!("在宅療養支援{kind}（{n}）"),
        };
        match self {
            Flag::HomeCareSupportClinic(n) => support(*n, "診療所"),
            Flag::HomeCareSupportHospital(n) => support(*n, "病院"),
            Flag::EnhancedPalliativeClinic => "在宅緩和ケア充実診療所加算".to_owned(),
            Flag::EnhancedPalliativeHospital => "在宅緩和ケア充実病院加算".to_owned(),
            Flag::ComprehensiveHomeMedicalManagement(1) => {
                "在宅時医学総合管理料・施設入居時等医学総合管理料".to_owned()
            }
            Flag::ComprehensiveHomeMedicalManagement(n) => format!("在宅時医学総合管理料（注14の基準・{n}）"),
            Flag::HomeCancerCare => "在宅がん医療総合診療料".to_owned(),
            Flag::Other(code) => code.clone(),
        }
    }

    pub fn label_en(&self) -> String {
        let support = |n: u8, kind: &str| match n {
            1 => format!("Enhanced home-care support {kind} (single)"),
            2 => format!("Enhanced home-care support {kind} (network)"),
            _ => format!("Home-care support {kind}"),
        };
        match self {
            Flag::HomeCareSupportClinic(n) => support(*n, "clinic"),
            Flag::HomeCareSupportHospital(n) => support(*n, "hospital"),
            Flag::EnhancedPalliativeClinic => "Enhanced home palliative care (clinic)".to_owned(),
            Flag::EnhancedPalliativeHospital => "Enhanced home palliative care (hospital)".to_owned(),
            Flag::ComprehensiveHomeMedicalManagement(n) => format!("Comprehensive home medical management {n}"),
            Flag::HomeCancerCare => "Comprehensive home cancer care".to_owned(),
            Flag::Other(code) => code.clone(),
        }
    }

    /// Whether this is one of the home-care flags (not [`Flag::Other`]).
    pub fn is_home_care(&self) -> bool {
        !matches!(self, Flag::Other(_))
    }
}

/// A source row that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// 1-based, as a person counts lines (CSV) or rows (xlsx).
    pub line: usize,
    pub source_id: Option<String>,
    pub reason: RejectReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectReason {
    MissingId,
    MissingName,
    MissingAddress,
    /// An identifier that cannot be one (a 医療機関番号 that is not 7 digits with a valid check digit).
    BadId {
        value: String,
    },
    /// An unreadable 算定開始年月日: that notification is left out, but the line still gives
    /// (or adds to) its facility, so a facility is never lost over a date.
    BadDate {
        value: String,
    },
    BadCoordinate {
        value: String,
    },
    /// A 医療情報ネット row whose 機関区分 is unknown, or whose kind cannot be told at all.
    UnknownKind {
        value: String,
    },
    /// The same source_id appeared on an earlier line (the first is kept); for facility
    /// standards, the same 受理記号 twice for one facility.
    Duplicate,
}

impl RejectReason {
    pub const fn code(&self) -> &'static str {
        match self {
            RejectReason::MissingId => "missing_id",
            RejectReason::MissingName => "missing_name",
            RejectReason::MissingAddress => "missing_address",
            RejectReason::BadId { .. } => "bad_id",
            RejectReason::BadDate { .. } => "bad_date",
            RejectReason::BadCoordinate { .. } => "bad_coordinate",
            RejectReason::UnknownKind { .. } => "unknown_kind",
            RejectReason::Duplicate => "duplicate",
        }
    }

    pub fn message_ja(&self) -> String {
        match self {
            RejectReason::MissingId => "識別番号（事業所番号・ID・医療機関番号）が空です。".to_owned(),
            RejectReason::MissingName => "名称が空です。".to_owned(),
            RejectReason::MissingAddress => "所在地が空です。".to_owned(),
            RejectReason::BadId { value } => format!("識別番号「{value}」が正しくありません（桁数または検査数字）。"),
            RejectReason::BadDate { value } => {
                format!("日付「{value}」を読み取れません（この届出は取り込まず、医療機関は取り込みました）。")
            }
            RejectReason::BadCoordinate { value } => format!("座標「{value}」が数値ではありません。"),
            RejectReason::UnknownKind { value } => format!("医療機関の種別「{value}」を判別できません。"),
            RejectReason::Duplicate => {
                "同じ識別番号（または同じ届出）が前の行にあります。最初の行を採用しました。".to_owned()
            }
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RejectReason::MissingId => f.write_str("the identifier is empty"),
            RejectReason::MissingName => f.write_str("the name is empty"),
            RejectReason::MissingAddress => f.write_str("the address is empty"),
            RejectReason::BadId { value } => write!(f, "invalid identifier {value:?}"),
            RejectReason::BadDate { value } => write!(f, "unreadable date {value:?}"),
            RejectReason::BadCoordinate { value } => write!(f, "coordinate {value:?} is not a number"),
            RejectReason::UnknownKind { value } => write!(f, "unknown kind of medical institution {value:?}"),
            RejectReason::Duplicate => f.write_str("duplicate of an earlier row (the first is kept)"),
        }
    }
}

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is neither UTF-8 nor Shift_JIS (Windows-31J) text")]
    Encoding,
    #[error("not a readable .xlsx workbook: {0}")]
    NotXlsx(String),
    #[error("the CSV cannot be read: {0}")]
    Malformed(String),
    #[error("required columns are missing (is this the right kind of file?): {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    #[error("the .xlsx workbook would expand to {uncompressed} bytes, more than the {limit} allowed")]
    XlsxTooLarge { uncompressed: u64, limit: u64 },
    #[error("the .xlsx entry {entry} is compressed {ratio} times, more than a workbook ever is (a zip bomb?)")]
    XlsxCompression { entry: String, ratio: u64 },
    #[error(
        "the worksheet declares {rows} rows and {cells} cells, more than the {max_rows} rows or {max_cells} cells allowed"
    )]
    XlsxTooManyCells { rows: u64, cells: u64, max_rows: u64, max_cells: u64 },
    #[error(
        "cannot tell whether the institutions are hospitals, clinics, dental clinics or pharmacies: \
         no 機関区分 column, nothing in the file name, and no kind given"
    )]
    UnknownKind,
}

impl FileError {
    pub const fn code(&self) -> &'static str {
        match self {
            FileError::Empty => "empty",
            FileError::Encoding => "encoding",
            FileError::NotXlsx(_) => "not_xlsx",
            FileError::XlsxTooLarge { .. } => "xlsx_too_large",
            FileError::XlsxCompression { .. } => "xlsx_compression",
            FileError::XlsxTooManyCells { .. } => "xlsx_too_many_cells",
            FileError::Malformed(_) => "malformed",
            FileError::MissingColumns(_) => "missing_columns",
            FileError::UnknownKind => "unknown_kind",
        }
    }

    pub fn message_ja(&self) -> String {
        match self {
            FileError::Empty => "ファイルが空です。".to_owned(),
            FileError::Encoding => {
                "文字コードを判別できません。UTF-8 または Shift_JIS（Windows-31J）のCSVを選んでください。".to_owned()
            }
            FileError::NotXlsx(detail) => format!("Excel（.xlsx）ファイルとして読み取れません（{detail}）。"),
            FileError::XlsxTooLarge { limit, .. } => format!(
                "Excel（.xlsx）ファイルが大きすぎます（展開すると{} MBを超えます）。CSVで保存するか、ファイルを分けてください。",
                limit / 1_000_000
            ),
            FileError::XlsxCompression { entry, .. } => format!(
                "Excel（.xlsx）ファイルの中身（{entry}）の圧縮率が異常です。壊れているか、不正なファイルの可能性があります。"
            ),
            FileError::XlsxTooManyCells { max_rows, max_cells, .. } => format!(
                "Excel（.xlsx）のシートが大きすぎます（{max_rows}行または{max_cells}セルまで）。ファイルを分けてください。"
            ),
            FileError::Malformed(detail) => format!("CSVとして読み取れません（{detail}）。"),
            FileError::MissingColumns(columns) => format!(
                "必要な列がありません：{}。取り込むデータの種類とファイルが合っているか確認してください。",
                columns.join("、")
            ),
            FileError::UnknownKind => "医療機関の種別（病院・診療所・歯科診療所・薬局）を判別できません。\
                 ファイル名を変えずに選ぶか、種別を指定してください。"
                .to_owned(),
        }
    }
}

/// Parses one file of the given source. `file_name` is used only for hints (`.xlsx`, the
/// service code of a care-office file, the kind of a 医療情報ネット file).
pub fn parse(source: Source, file_name: &str, bytes: &[u8]) -> Result<Parsed, FileError> {
    parse_with(source, file_name, bytes, Options::default())
}

/// [`parse`] with [`Options`].
pub fn parse_with(source: Source, file_name: &str, bytes: &[u8], options: Options) -> Result<Parsed, FileError> {
    let table = table::read(file_name, bytes)?;
    match source {
        Source::CareOffices => care::parse(&table, file_name),
        Source::MedicalInstitutions => medical::parse(&table, file_name, options.medical_kind),
        Source::FacilityStandards => standards::parse(&table),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_the_codes_printed_by_the_kouseikyoku() {
        assert_eq!(Flag::parse("支援診２"), Flag::HomeCareSupportClinic(2));
        assert_eq!(Flag::parse(" 支援診2 "), Flag::HomeCareSupportClinic(2));
        assert_eq!(Flag::parse("支援病３"), Flag::HomeCareSupportHospital(3));
        assert_eq!(Flag::parse("在緩診実"), Flag::EnhancedPalliativeClinic);
        assert_eq!(Flag::parse("在緩診病"), Flag::EnhancedPalliativeHospital);
        assert_eq!(Flag::parse("在医総管１"), Flag::ComprehensiveHomeMedicalManagement(1));
        assert_eq!(Flag::parse("在医総管２"), Flag::ComprehensiveHomeMedicalManagement(2));
        assert_eq!(Flag::parse("在総"), Flag::HomeCancerCare);
        assert_eq!(Flag::parse("医療ＤＸ"), Flag::Other("医療ＤＸ".into()));
        assert_eq!(Flag::parse("支援診４"), Flag::Other("支援診４".into()));
    }

    #[test]
    fn flag_codes_round_trip() {
        let all = [
            Flag::HomeCareSupportClinic(1),
            Flag::HomeCareSupportClinic(3),
            Flag::HomeCareSupportHospital(2),
            Flag::EnhancedPalliativeClinic,
            Flag::EnhancedPalliativeHospital,
            Flag::ComprehensiveHomeMedicalManagement(1),
            Flag::ComprehensiveHomeMedicalManagement(2),
            Flag::HomeCancerCare,
            Flag::Other("酸単".into()),
        ];
        for flag in all {
            assert_eq!(Flag::parse(&flag.code()), flag, "{}", flag.code());
            assert!(!flag.label_ja().is_empty());
        }
        assert_eq!(Flag::HomeCareSupportClinic(2).code(), "home_care_support_clinic_2");
        assert_eq!(Flag::HomeCareSupportClinic(3).label_ja(), "在宅療養支援診療所");
    }

    #[test]
    fn sources_have_stable_codes() {
        for source in Source::ALL {
            assert_eq!(Source::parse(source.code()), Some(*source));
        }
    }

    #[test]
    fn every_reason_has_a_message() {
        let reasons = [
            RejectReason::MissingId,
            RejectReason::MissingName,
            RejectReason::MissingAddress,
            RejectReason::BadId { value: "1".into() },
            RejectReason::BadDate { value: "x".into() },
            RejectReason::BadCoordinate { value: "y".into() },
            RejectReason::UnknownKind { value: "9".into() },
            RejectReason::Duplicate,
        ];
        for reason in reasons {
            assert!(!reason.message_ja().is_empty() && !reason.to_string().is_empty() && !reason.code().is_empty());
        }
        let missing = FileError::MissingColumns(vec!["事業所番号".into(), "住所".into()]);
        assert!(missing.message_ja().contains("事業所番号、住所"));
        assert!(missing.to_string().contains("事業所番号, 住所"));
    }
}
