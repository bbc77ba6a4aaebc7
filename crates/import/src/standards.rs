//! 届出受理医療機関名簿（医科） of a 地方厚生局 (施設基準の届出受理状況): one row per notification,
//! grouped here by 医療機関番号 into one row per facility with its flags.
//!
//! Header (24 columns; row 4 of the .xlsx, row 1 of a CSV export), see tests/fixtures/SYNTHETIC.md (the real list: ../shared/fixtures/opendata/SOURCE.md):
//! 項番, 都道府県コード, 都道府県名, 区分, 医療機関番号, 併設医療機関番号, 医療機関記号番号, 医療機関名称,
//! 医療機関所在地（郵便番号）, 医療機関所在地（住所）, 電話番号, FAX番号, 病床数, 受理届出名称, 受理記号,
//! 受理番号, 算定開始年月日, 個別有効開始年月日, 備考（見出し）, 備考（データ）, 市町村コード, 市町村名,
//! 種別コード, 種別

use crate::fields;
use crate::table::{self, Column, Table};
use crate::{FileError, Flag, Parsed, RejectReason, Rejected, Row};
use std::collections::HashMap;
use tsunagu_domain::facility::{FacilityKind, MedicalInstitutionCode};

const PREFECTURE_CODE: usize = 0;
const PREFECTURE_NAME: usize = 1;
const NUMBER: usize = 2;
const NAME: usize = 3;
const POSTAL_CODE: usize = 4;
const ADDRESS: usize = 5;
const PHONE: usize = 6;
const FAX: usize = 7;
const BEDS: usize = 8;
const CODE: usize = 9;
const START: usize = 10;
const MUNICIPALITY_CODE: usize = 11;
const MUNICIPALITY_NAME: usize = 12;

const COLUMNS: [Column; 13] = [
    table::required(&["都道府県コード"]),
    table::optional(&["都道府県名"]),
    table::required(&["医療機関番号"]),
    table::required(&["医療機関名称"]),
    table::optional(&["医療機関所在地（郵便番号）"]),
    table::required(&["医療機関所在地（住所）"]),
    table::optional(&["電話番号"]),
    table::optional(&["FAX番号"]),
    table::optional(&["病床数"]),
    table::required(&["受理記号"]),
    table::required(&["算定開始年月日"]),
    table::optional(&["市町村コード"]),
    table::optional(&["市町村名"]),
];

pub(crate) fn parse(table: &Table) -> Result<Parsed, FileError> {
    let located = table.locate(&COLUMNS)?;
    let col = |i: usize| located.columns.get(i).copied().flatten();
    let mut parsed = Parsed { rows: Vec::new(), rejected: Vec::new(), encoding: table.encoding };
    // 10-digit code → index in parsed.rows; rows stay in order of first appearance.
    let mut index: HashMap<String, usize> = HashMap::new();
    for record in located.data {
        let number = fields::fold_ascii(record.get(col(NUMBER))).trim().to_owned();
        if number.is_empty() {
            parsed.rejected.push(Rejected { line: record.line, source_id: None, reason: RejectReason::MissingId });
            continue;
        }
        let prefecture = fields::fold_ascii(record.get(col(PREFECTURE_CODE))).trim().to_owned();
        let code = match MedicalInstitutionCode::parse(&number, &format!("{prefecture:0>2}"), FacilityKind::Clinic) {
            Ok(code)
                if number.len() == 10
                    || (matches!(prefecture.len(), 1 | 2) && prefecture.bytes().all(|b| b.is_ascii_digit())) =>
            {
                code
            }
            _ => {
                let value = if prefecture.is_empty() { number.clone() } else { format!("{prefecture}-{number}") };
                parsed.rejected.push(Rejected {
                    line: record.line,
                    source_id: Some(number),
                    reason: RejectReason::BadId { value },
                });
                continue;
            }
        };
        let source_id = code.as_str().to_owned();
        let reject = |reason| Rejected { line: record.line, source_id: Some(source_id.clone()), reason };
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
        // A date that cannot be read rejects the notification, not the facility (below).
        let date = match record.get(col(START)) {
            "" => Ok(None),
            raw => crate::parse_era_date(raw).map(Some).ok_or_else(|| RejectReason::BadDate { value: raw.to_owned() }),
        };
        let flag = fields::optional(record.get(col(CODE))).map(|code| Flag::parse(&code));
        let has_beds = !record.get(col(BEDS)).is_empty();

        let at = match index.get(&source_id) {
            Some(&at) => at,
            None => {
                let prefecture_name = record.get(col(PREFECTURE_NAME));
                let full_address = if prefecture_name.is_empty() || address.starts_with(prefecture_name) {
                    address.to_owned()
                } else {
                    format!("{prefecture_name}{address}")
                };
                parsed.rows.push(Row {
                    source_id: source_id.clone(),
                    kind: FacilityKind::Clinic,
                    name: name.to_owned(),
                    name_kana: None,
                    postal_code: fields::postal_code(record.get(col(POSTAL_CODE))),
                    municipality_name: fields::optional(record.get(col(MUNICIPALITY_NAME)))
                        .or_else(|| fields::municipality_from_address(&full_address)),
                    address: full_address,
                    phone: fields::phone(record.get(col(PHONE))),
                    fax: fields::phone(record.get(col(FAX))),
                    latitude: None,
                    longitude: None,
                    municipality_code: fields::municipality_code(record.get(col(MUNICIPALITY_CODE))),
                    service: None,
                    flags: Vec::new(),
                    line: record.line,
                });
                index.insert(source_id.clone(), parsed.rows.len() - 1);
                parsed.rows.len() - 1
            }
        };
        let Some(row) = parsed.rows.get_mut(at) else { continue };
        if has_beds || row.name.contains("病院") {
            row.kind = FacilityKind::Hospital;
        }
        let Some(flag) = flag else { continue };
        match date {
            Err(reason) => parsed.rejected.push(reject(reason)),
            Ok(_) if row.flags.iter().any(|(f, _)| *f == flag) => parsed.rejected.push(reject(RejectReason::Duplicate)),
            Ok(date) => row.flags.push((flag, date)),
        }
    }
    Ok(parsed)
}
