//! Bytes to a table of text cells: encoding detection, CSV and .xlsx reading, and finding
//! the header row by its column names.

use crate::FileError;
use crate::fields::fold_ascii;
use csv::StringRecord;
use std::borrow::Cow;

/// How many leading rows may come before the header (the 厚生局 workbooks have three).
const HEADER_SEARCH_ROWS: usize = 20;

pub(crate) struct Table {
    pub encoding: &'static str,
    pub records: Vec<Record>,
}

pub(crate) struct Record {
    /// 1-based line (CSV) or sheet row (xlsx) where the record starts.
    pub line: usize,
    pub fields: StringRecord,
}

impl Record {
    /// The trimmed cell of a located column, or "" when the column is absent or the row short.
    pub fn get(&self, column: Option<usize>) -> &str {
        column.and_then(|i| self.fields.get(i)).map(str::trim).unwrap_or("")
    }

    fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.trim().is_empty())
    }
}

/// A column the parser looks for: any of `names` (compared without spaces, width or ASCII case).
pub(crate) struct Column {
    pub names: &'static [&'static str],
    pub required: bool,
}

pub(crate) const fn required(names: &'static [&'static str]) -> Column {
    Column { names, required: true }
}

pub(crate) const fn optional(names: &'static [&'static str]) -> Column {
    Column { names, required: false }
}

/// The header found: where each column is, and the data records after it.
pub(crate) struct Located<'a> {
    pub columns: Vec<Option<usize>>,
    pub data: Vec<&'a Record>,
}

impl Table {
    /// Finds the header among the first rows: the first row that has every required column.
    /// Refuses the file, naming the missing columns of the closest row, when none has.
    pub fn locate(&self, columns: &[Column]) -> Result<Located<'_>, FileError> {
        let mut best: Option<(usize, Vec<String>)> = None;
        for (index, record) in self.records.iter().enumerate().take(HEADER_SEARCH_ROWS) {
            let keys: Vec<String> = record.fields.iter().map(key).collect();
            let found: Vec<Option<usize>> = columns
                .iter()
                .map(|column| column.names.iter().find_map(|name| keys.iter().position(|k| *k == key(name))))
                .collect();
            let missing: Vec<String> = columns
                .iter()
                .zip(&found)
                .filter(|(column, at)| column.required && at.is_none())
                .map(|(column, _)| column.names.join(" | "))
                .collect();
            if missing.is_empty() {
                let data = self.records[index + 1..].iter().filter(|r| !r.is_blank()).collect();
                return Ok(Located { columns: found, data });
            }
            if best.as_ref().is_none_or(|(_, fewest)| missing.len() < fewest.len()) {
                best = Some((index, missing));
            }
        }
        let missing = best
            .map(|(_, missing)| missing)
            .unwrap_or_else(|| columns.iter().filter(|c| c.required).map(|c| c.names.join(" | ")).collect());
        Err(FileError::MissingColumns(missing))
    }
}

/// A header name compared without whitespace, full-width forms or ASCII case.
fn key(name: &str) -> String {
    fold_ascii(name).chars().filter(|c| !c.is_whitespace() && *c != '"').flat_map(char::to_lowercase).collect()
}

/// Reads a CSV (UTF-8 with or without BOM, or Shift_JIS) or an .xlsx workbook (first sheet).
pub(crate) fn read(file_name: &str, bytes: &[u8]) -> Result<Table, FileError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    let lower = file_name.to_lowercase();
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(FileError::NotXlsx("legacy .xls format; save it as .xlsx or CSV".to_owned()));
    }
    if lower.ends_with(".xlsx") {
        return Err(FileError::NotXlsx("not a zip archive".to_owned()));
    }
    let (text, encoding) = decode(bytes)?;
    read_csv(&text, encoding)
}

/// BOM → UTF-8; valid UTF-8 → UTF-8; otherwise Shift_JIS (Windows-31J), which must decode
/// without a single error.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, &'static str), FileError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest).map(|s| (Cow::Borrowed(s), "UTF-8")).map_err(|_| FileError::Encoding);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((Cow::Borrowed(text), "UTF-8"));
    }
    encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| (text, "Shift_JIS"))
        .ok_or(FileError::Encoding)
}

fn read_csv(text: &str, encoding: &'static str) -> Result<Table, FileError> {
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let bytes = text.as_bytes();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut records = Vec::new();
    let mut fields = StringRecord::new();
    // The csv crate's own line numbers miss skipped blank lines and CRLF, so count them here
    // from the byte offsets: (cursor, line) is where the previous record ended.
    let (mut cursor, mut line) = (0usize, 1usize);
    let newline_at = |i: usize| match bytes.get(i) {
        Some(b'\n') => true,
        Some(b'\r') => bytes.get(i + 1) != Some(&b'\n'),
        _ => false,
    };
    loop {
        match reader.read_record(&mut fields) {
            Ok(true) => {
                let end = usize::try_from(reader.position().byte()).unwrap_or(bytes.len()).min(bytes.len());
                while cursor < end && matches!(bytes.get(cursor), Some(b'\r' | b'\n')) {
                    line += usize::from(newline_at(cursor));
                    cursor += 1;
                }
                let first_line = line;
                line += (cursor..end).filter(|&i| newline_at(i)).count();
                cursor = end;
                records.push(Record { line: first_line, fields: fields.clone() });
            }
            Ok(false) => break,
            Err(error) => return Err(FileError::Malformed(error.to_string())),
        }
    }
    Ok(Table { encoding, records })
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, FileError> {
    use calamine::Reader;
    let not_xlsx = |e: calamine::XlsxError| FileError::NotXlsx(e.to_string());
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(not_xlsx)?;
    let range = workbook.worksheet_range_at(0).ok_or_else(|| FileError::NotXlsx("no worksheet".to_owned()))?;
    let range = range.map_err(not_xlsx)?;
    let Some((first_row, _)) = range.start() else {
        return Err(FileError::Empty);
    };
    let records: Vec<Record> = range
        .rows()
        .enumerate()
        .map(|(i, row)| Record {
            line: first_row as usize + i + 1,
            fields: row.iter().map(cell_text).collect::<StringRecord>(),
        })
        .collect();
    if records.iter().all(Record::is_blank) {
        return Err(FileError::Empty);
    }
    Ok(Table { encoding: "xlsx", records })
}

/// A cell as the text a person sees: whole numbers without ".0", dates as ISO 8601.
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        Data::DateTime(dt) => float_text(dt.as_f64()),
        Data::Error(_) | Data::Empty => String::new(),
    }
}

fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 { format!("{f:.0}") } else { f.to_string() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_bom_means_utf8() {
        let (text, encoding) = decode("\u{FEFF}事業所名,住所\n".as_bytes()).unwrap();
        assert_eq!((text.as_ref(), encoding), ("事業所名,住所\n", "UTF-8"));
    }

    #[test]
    fn plain_utf8_is_utf8() {
        let (text, encoding) = decode("事業所名,住所\n".as_bytes()).unwrap();
        assert_eq!((text.as_ref(), encoding), ("事業所名,住所\n", "UTF-8"));
    }

    #[test]
    fn shift_jis_is_detected() {
        let source = "事業所名,住所\n架空訪問看護ステーション,千葉県柏市サンプル町１－１　第２ビル\n①髙﨑\n";
        let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(source);
        assert!(!had_errors);
        assert!(std::str::from_utf8(&bytes).is_err());
        let (text, encoding) = decode(&bytes).unwrap();
        assert_eq!((text.as_ref(), encoding), (source, "Shift_JIS"));
    }

    #[test]
    fn invalid_bytes_are_refused() {
        // 0x81 0x20: a Shift_JIS lead byte without a valid trail byte; 0xFF is never valid.
        assert_eq!(decode(b"ID,\x81\x20name\n").err(), Some(FileError::Encoding));
        assert_eq!(decode(b"\xFF\xFEI\x00D\x00").err(), Some(FileError::Encoding));
        assert_eq!(decode(b"\xEF\xBB\xBFID,\x93\xfa\n").err(), Some(FileError::Encoding), "BOM then Shift_JIS");
    }

    #[test]
    fn empty_files_are_refused() {
        assert_eq!(read("a.csv", b"").err(), Some(FileError::Empty));
        assert_eq!(read("a.csv", b" \r\n").err(), Some(FileError::Empty));
        assert_eq!(read("a.csv", b"\xEF\xBB\xBF\r\n").err(), Some(FileError::Empty));
        assert!(matches!(read("a.xlsx", b"ID,name\n"), Err(FileError::NotXlsx(_))));
        assert!(matches!(read("a.csv", b"PK\x03\x04garbage"), Err(FileError::NotXlsx(_))));
    }

    #[test]
    fn the_header_may_follow_a_preamble_and_names_are_compared_loosely() {
        let table = read("a.csv", "タイトル\n\n ＩＤ ,名称(フリガナ),x\n1,ア,\n\n2,イ,\n".as_bytes()).unwrap();
        let located = table.locate(&[required(&["id"]), optional(&["名称（フリガナ）"]), optional(&["none"])]).unwrap();
        assert_eq!(located.columns, vec![Some(0), Some(1), None]);
        let lines: Vec<usize> = located.data.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![4, 6]);
        assert_eq!(located.data[0].get(Some(1)), "ア");
        assert_eq!(located.data[0].get(Some(9)), "");
        let missing = table.locate(&[required(&["ID"]), required(&["事業所番号"]), required(&["正式名称", "名称"])]);
        assert_eq!(missing.err(), Some(FileError::MissingColumns(vec!["事業所番号".into(), "正式名称 | 名称".into()])));
    }
}
