//! 医療情報ネット (ナビイ) open data: the facility-information CSVs, UTF-8 with BOM.
//!
//! Files, as listed on the distribution page
//! https://www.mhlw.go.jp/stf/seisakunitsuite/bunya/kenkou_iryou/iryou/newpage_43373.html
//! (definitions: 医療情報ネット_オープンデータ定義書（利用者向け）, https://www.mhlw.go.jp/content/11121000/001306376.xlsx):
//! `01-1_hospital_facility_info_YYYYMMDD.csv`, `02-1_clinic_facility_info_…`, `03-1_dental_facility_info_…`,
//! `04_maternity_home_…`, `05_pharmacy_…` (the `0N-2_…_speciality_hours_…` files hold hours, not facilities).
//!
//! The facility header of hospitals, clinics and dental clinics, as used by public projects
//! that read the 20250601–20260601 editions (found with the code search of public repositories,
//! e.g. nyampire/jp-healthcare-osm and importers selecting these exact columns):
//!
//! ID, 正式名称, 正式名称（フリガナ）, 略称, 略称（フリガナ）, 英語表記（ローマ字表記）, 機関区分,
//! 都道府県コード, 市区町村コード, 所在地, 所在地座標（緯度）, 所在地座標（経度）, 案内用ホームページアドレス,
//! 毎週決まった曜日に休診（月…日）, 決まった週に休診（定期週）第N週（月…日） (N = 1..5), 祝日に休診,
//! その他の休診日（gw、お盆等）, 一般病床, 療養病床, 療養病床のうち医療保険適用, 療養病床のうち介護保険適用,
//! 精神病床, 結核病床, 感染症病床, 合計病床数
//!
//! Pharmacies name the columns 名称 and フリガナ (and 薬局のホームページアドレス). 機関区分: 1 病院,
//! 2 診療所, 3 歯科診療所, 4 助産所, 5 薬局. The files have no telephone or postal code; a
//! coordinate of 0 means none.

use crate::fields;
use crate::table::{self, Column, Table};
use crate::{FileError, Parsed, RejectReason, Rejected, Row};
use std::collections::HashSet;
use tsunagu_domain::facility::FacilityKind;

const ID: usize = 0;
const NAME: usize = 1;
const NAME_KANA: usize = 2;
const ADDRESS: usize = 3;
const LATITUDE: usize = 4;
const LONGITUDE: usize = 5;
const KIND: usize = 6;
const PREFECTURE_CODE: usize = 7;
const CITY_CODE: usize = 8;
const PHONE: usize = 9;
const FAX: usize = 10;
const POSTAL_CODE: usize = 11;

const COLUMNS: [Column; 12] = [
    table::required(&["ID"]),
    table::required(&["正式名称", "名称"]),
    table::optional(&["正式名称（フリガナ）", "フリガナ"]),
    table::required(&["所在地"]),
    table::optional(&["所在地座標（緯度）"]),
    table::optional(&["所在地座標（経度）"]),
    table::optional(&["機関区分"]),
    table::optional(&["都道府県コード"]),
    table::optional(&["市区町村コード"]),
    table::optional(&["電話番号"]),
    table::optional(&["FAX番号"]),
    table::optional(&["郵便番号"]),
];

/// The kind named by a 機関区分 cell (a code or the kind's name).
fn kind_of_code(cell: &str) -> Option<FacilityKind> {
    match fields::fold_ascii(cell).trim() {
        "1" | "病院" => Some(FacilityKind::Hospital),
        "2" | "診療所" | "一般診療所" => Some(FacilityKind::Clinic),
        "3" | "歯科診療所" => Some(FacilityKind::DentalClinic),
        "4" | "助産所" => Some(FacilityKind::Other),
        "5" | "薬局" => Some(FacilityKind::Pharmacy),
        _ => None,
    }
}

/// The kind named by a file name such as `02-1_clinic_facility_info_20260601.csv` or 「薬局.csv」.
pub(crate) fn kind_of_file_name(file_name: &str) -> Option<FacilityKind> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name).to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| base.contains(w));
    if has(&["pharmacy", "薬局"]) {
        Some(FacilityKind::Pharmacy)
    } else if has(&["dental", "歯科"]) {
        Some(FacilityKind::DentalClinic)
    } else if has(&["hospital", "病院"]) {
        Some(FacilityKind::Hospital)
    } else if has(&["clinic", "診療所"]) {
        Some(FacilityKind::Clinic)
    } else if has(&["maternity", "助産所"]) {
        Some(FacilityKind::Other)
    } else {
        None
    }
}

pub(crate) fn parse(table: &Table, file_name: &str, given: Option<FacilityKind>) -> Result<Parsed, FileError> {
    let located = table.locate(&COLUMNS)?;
    let col = |i: usize| located.columns.get(i).copied().flatten();
    let fallback = kind_of_file_name(file_name).or(given);
    if col(KIND).is_none() && fallback.is_none() {
        return Err(FileError::UnknownKind);
    }
    let mut parsed = Parsed { rows: Vec::new(), rejected: Vec::new(), encoding: table.encoding };
    let mut seen = HashSet::new();
    for record in located.data {
        let id = fields::fold_ascii(record.get(col(ID))).trim().to_owned();
        let reject = |reason| Rejected { line: record.line, source_id: fields::optional(&id), reason };
        if id.is_empty() {
            parsed.rejected.push(reject(RejectReason::MissingId));
            continue;
        }
        let name = record.get(col(NAME));
        if name.is_empty() {
            parsed.rejected.push(reject(RejectReason::MissingName));
            continue;
        }
        let address = record.get(col(ADDRESS));
        if address.is_empty() {
            parsed.rejected.push(reject(RejectReason::MissingAddress));
            continue;
        }
        let kind_cell = record.get(col(KIND));
        let kind = match (kind_cell, fallback) {
            ("", Some(kind)) => kind,
            ("", None) => {
                parsed.rejected.push(reject(RejectReason::UnknownKind { value: String::new() }));
                continue;
            }
            (cell, _) => match kind_of_code(cell) {
                Some(kind) => kind,
                None => {
                    parsed.rejected.push(reject(RejectReason::UnknownKind { value: cell.to_owned() }));
                    continue;
                }
            },
        };
        let coordinates = match fields::coordinates(record.get(col(LATITUDE)), record.get(col(LONGITUDE))) {
            Ok(c) => c,
            Err(reason) => {
                parsed.rejected.push(reject(reason));
                continue;
            }
        };
        if !seen.insert(id.clone()) {
            parsed.rejected.push(reject(RejectReason::Duplicate));
            continue;
        }
        parsed.rows.push(Row {
            source_id: id,
            kind,
            name: name.to_owned(),
            name_kana: fields::optional(record.get(col(NAME_KANA))),
            postal_code: fields::postal_code(record.get(col(POSTAL_CODE))),
            address: address.to_owned(),
            phone: fields::phone(record.get(col(PHONE))),
            fax: fields::phone(record.get(col(FAX))),
            latitude: coordinates.map(|c| c.0),
            longitude: coordinates.map(|c| c.1),
            municipality_code: fields::municipality_code_from_parts(
                record.get(col(PREFECTURE_CODE)),
                record.get(col(CITY_CODE)),
            ),
            municipality_name: fields::municipality_from_address(address),
            service: None,
            flags: Vec::new(),
            line: record.line,
        });
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_file_names_and_codes() {
        assert_eq!(kind_of_file_name("01-1_hospital_facility_info_20260601.csv"), Some(FacilityKind::Hospital));
        assert_eq!(kind_of_file_name("02-1_clinic_facility_info_20260601.csv"), Some(FacilityKind::Clinic));
        assert_eq!(kind_of_file_name("03-1_dental_facility_info_20260601.csv"), Some(FacilityKind::DentalClinic));
        assert_eq!(kind_of_file_name("05_pharmacy_20260601.csv"), Some(FacilityKind::Pharmacy));
        assert_eq!(kind_of_file_name("歯科診療所.csv"), Some(FacilityKind::DentalClinic));
        assert_eq!(kind_of_file_name("export.csv"), None);
        assert_eq!(kind_of_code("１"), Some(FacilityKind::Hospital));
        assert_eq!(kind_of_code("5"), Some(FacilityKind::Pharmacy));
        assert_eq!(kind_of_code("9"), None);
    }
}
