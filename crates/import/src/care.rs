//! 介護サービス情報公表システム open data: one CSV per service type (`jigyosho_<code>.csv`),
//! UTF-8 with BOM, 24 columns.
//!
//! The header, as published by 厚生労働省 (e.g. https://www.mhlw.go.jp/content/12300000/jigyosho_430.csv)
//! and quoted verbatim by public projects that import it (found with the code search of public
//! repositories: a design document for jigyosho_430.csv listing "全24列", and the test fixtures
//! of importers of jigyosho_110/120.csv):
//!
//! 都道府県コード又は市町村コード, No, 都道府県名, 市区町村名, 事業所名, 事業所名カナ, サービスの種類,
//! 住所, 方書（ビル名等）, 緯度, 経度, 電話番号, FAX番号, 法人番号, 法人の名称, 事業所番号,
//! 利用可能曜日, 利用可能曜日特記事項, 定員, URL,
//! 高齢者の方と障害者の方が同時一体的に利用できるサービス, 介護保険の通常の指定基準を満たしている,
//! 障害福祉の通常の指定基準を満たしている, 備考
//!
//! The first column is the 6-digit 全国地方公共団体コード (with check digit); 住所 includes the prefecture.

use crate::fields;
use crate::table::{self, Column, Table};
use crate::{FileError, Parsed, RejectReason, Rejected, Row};
use std::collections::HashSet;
use tsunagu_domain::facility::FacilityKind;

const MUNICIPALITY_CODE: usize = 0;
const MUNICIPALITY_NAME: usize = 1;
const NAME: usize = 2;
const NAME_KANA: usize = 3;
const SERVICE: usize = 4;
const ADDRESS: usize = 5;
const BUILDING: usize = 6;
const LATITUDE: usize = 7;
const LONGITUDE: usize = 8;
const PHONE: usize = 9;
const FAX: usize = 10;
const ID: usize = 11;

const COLUMNS: [Column; 12] = [
    table::optional(&["都道府県コード又は市町村コード", "都道府県コード又は市区町村コード"]),
    table::optional(&["市区町村名"]),
    table::required(&["事業所名"]),
    table::optional(&["事業所名カナ"]),
    table::required(&["サービスの種類"]),
    table::required(&["住所"]),
    table::optional(&["方書（ビル名等）", "方書"]),
    table::optional(&["緯度"]),
    table::optional(&["経度"]),
    table::optional(&["電話番号"]),
    table::optional(&["FAX番号"]),
    table::required(&["事業所番号"]),
];

/// Service-type codes used in the file names, and the サービスの種類 they stand for.
const SERVICE_CODES: &[(&str, &str)] = &[
    ("110", "訪問介護"),
    ("130", "訪問看護"),
    ("430", "居宅介護支援"),
    ("760", "定期巡回・随時対応型訪問介護看護"),
    ("770", "複合型サービス（看護小規模多機能型居宅介護）"),
];

/// The facility kind of a サービスの種類 (the exact service name: 「定期巡回・随時対応型訪問介護看護」
/// and 「夜間対応型訪問介護」 are not home help offices).
pub(crate) fn kind_of_service(service: &str) -> FacilityKind {
    match service.trim() {
        "訪問看護" | "介護予防訪問看護" => FacilityKind::HomeNursingStation,
        "居宅介護支援" => FacilityKind::CareManagementOffice,
        "訪問介護" => FacilityKind::HomeHelpOffice,
        _ => FacilityKind::Other,
    }
}

/// The service named by a `jigyosho_<code>` file name, if any.
fn service_from_file_name(file_name: &str) -> Option<&'static str> {
    let stem = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    SERVICE_CODES.iter().find(|(code, _)| stem.contains(&format!("_{code}")) || stem.starts_with(code)).map(|(_, s)| *s)
}

pub(crate) fn parse(table: &Table, file_name: &str) -> Result<Parsed, FileError> {
    let located = table.locate(&COLUMNS)?;
    let col = |i: usize| located.columns.get(i).copied().flatten();
    let file_service = service_from_file_name(file_name);
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
        let service = fields::optional(record.get(col(SERVICE))).or_else(|| file_service.map(str::to_owned));
        let building = record.get(col(BUILDING));
        let address = if building.is_empty() || address.ends_with(building) {
            address.to_owned()
        } else {
            format!("{address}\u{3000}{building}")
        };
        parsed.rows.push(Row {
            source_id: id,
            kind: service.as_deref().map_or(FacilityKind::Other, kind_of_service),
            name: name.to_owned(),
            name_kana: fields::optional(record.get(col(NAME_KANA))),
            postal_code: None,
            municipality_name: fields::optional(record.get(col(MUNICIPALITY_NAME)))
                .or_else(|| fields::municipality_from_address(&address)),
            address,
            phone: fields::phone(record.get(col(PHONE))),
            fax: fields::phone(record.get(col(FAX))),
            latitude: coordinates.map(|c| c.0),
            longitude: coordinates.map(|c| c.1),
            municipality_code: fields::municipality_code(record.get(col(MUNICIPALITY_CODE))),
            service,
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
    fn services_map_to_kinds() {
        assert_eq!(kind_of_service("訪問看護"), FacilityKind::HomeNursingStation);
        assert_eq!(kind_of_service("居宅介護支援"), FacilityKind::CareManagementOffice);
        assert_eq!(kind_of_service("訪問介護"), FacilityKind::HomeHelpOffice);
        assert_eq!(kind_of_service("定期巡回・随時対応型訪問介護看護"), FacilityKind::Other);
        assert_eq!(kind_of_service("夜間対応型訪問介護"), FacilityKind::Other);
        assert_eq!(kind_of_service("看護小規模多機能型居宅介護"), FacilityKind::Other);
    }

    #[test]
    fn file_names_name_services() {
        assert_eq!(service_from_file_name("jigyosho_130.csv"), Some("訪問看護"));
        assert_eq!(service_from_file_name("downloads/jigyosho_430.csv"), Some("居宅介護支援"));
        assert_eq!(service_from_file_name("110_訪問介護.csv"), Some("訪問介護"));
        assert_eq!(service_from_file_name("offices.csv"), None);
    }
}
