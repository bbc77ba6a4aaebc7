//! Bytes to a table of text cells: encoding detection, CSV and .xlsx reading, and finding
//! the header row by its column names.

use crate::FileError;
use crate::fields::fold_ascii;
use csv::StringRecord;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// How many leading rows may come before the header (the 厚生局 workbooks have three).
const HEADER_SEARCH_ROWS: usize = 20;

/// The most cells a workbook may give (counting the empty ones between filled cells of a row):
/// a whole region's 届出受理医療機関名簿 has a few million; a few kilobytes of compressed XML can
/// claim far more.
const MAX_XLSX_CELLS: usize = 5_000_000;

/// What an .xlsx archive may hold, checked on its zip central directory before calamine
/// expands anything, then again on the bytes actually inflated (a directory can lie).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArchiveLimits {
    /// The sum of the entries' uncompressed sizes. A whole region's 届出受理医療機関名簿 is a
    /// few tens of MB of sheet XML; calamine keeps the shared strings in memory.
    pub uncompressed: u64,
    /// The most an entry larger than `ratio_from` bytes may be compressed: spreadsheet XML
    /// compresses some 10 to 30 times; 100 MB of zeros, a zip bomb, about 1000.
    pub ratio: u64,
    pub ratio_from: u64,
}

pub(crate) const ARCHIVE_LIMITS: ArchiveLimits =
    ArchiveLimits { uncompressed: 100_000_000, ratio: 200, ratio_from: 1_000_000 };

/// The most rows, and cells, a worksheet may declare in its `<dimension>` (checked before its
/// cells are read; the cells actually read are bounded by [`MAX_XLSX_CELLS`]).
const MAX_XLSX_ROWS: u64 = 500_000;
const MAX_DECLARED_CELLS: u64 = MAX_XLSX_CELLS as u64;

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
        // Each name folded once, and each row's cells once into a map: a row of
        // thousands of cells costs one pass, not one per column name.
        let wanted: Vec<Vec<String>> = columns.iter().map(|c| c.names.iter().map(|n| key(n)).collect()).collect();
        for (index, record) in self.records.iter().enumerate().take(HEADER_SEARCH_ROWS) {
            let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
            for (position, field) in record.fields.iter().enumerate() {
                at.entry(key(field)).or_insert(position);
            }
            let found: Vec<Option<usize>> =
                wanted.iter().map(|names| names.iter().find_map(|name| at.get(name).copied())).collect();
            let missing: Vec<String> = columns
                .iter()
                .zip(&found)
                .filter(|(column, at)| column.required && at.is_none())
                .map(|(column, _)| column.names.join(" | "))
                .collect();
            if missing.is_empty() {
                let data = self.records.iter().skip(index + 1).filter(|r| !r.is_blank()).collect();
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

/// Refuses an archive that would expand beyond `limits` ([`ArchiveLimits`]), or that is not a
/// zip archive at all, before anything is kept in memory: first by the sizes its central
/// directory declares, then by inflating each entry into nothing, counting, up to the limit.
pub(crate) fn check_archive(bytes: &[u8], limits: ArchiveLimits) -> Result<(), FileError> {
    let unreadable = |e: zip::result::ZipError| FileError::NotXlsx(e.to_string());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(unreadable)?;
    let too_large = |uncompressed: u64| FileError::XlsxTooLarge { uncompressed, limit: limits.uncompressed };
    let mut declared = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(unreadable)?;
        let (size, compressed) = (entry.size(), entry.compressed_size());
        let ratio = size / compressed.max(1);
        if size > limits.ratio_from && ratio > limits.ratio {
            let entry = entry.name().unwrap_or_default().chars().take(100).collect();
            return Err(FileError::XlsxCompression { entry, ratio });
        }
        declared = declared.saturating_add(size);
        if declared > limits.uncompressed {
            return Err(too_large(declared));
        }
    }
    let mut inflated = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(unreadable)?;
        let room = limits.uncompressed - inflated;
        let mut bounded = std::io::Read::take(entry, room + 1);
        inflated += std::io::copy(&mut bounded, &mut std::io::sink())
            .map_err(|e| FileError::NotXlsx(format!("cannot inflate: {e}")))?;
        if inflated > limits.uncompressed {
            return Err(too_large(inflated));
        }
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, FileError> {
    use calamine::{DataRef, Reader, XlsxError};
    check_archive(bytes, ARCHIVE_LIMITS)?;
    let not_xlsx = |e: XlsxError| FileError::NotXlsx(e.to_string());
    let too_large = || FileError::NotXlsx(format!("more than {MAX_XLSX_CELLS} cells"));
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(not_xlsx)?;
    let sheet =
        workbook.sheet_names().into_iter().next().ok_or_else(|| FileError::NotXlsx("no worksheet".to_owned()))?;
    // Cell by cell, keeping only cells that hold something. (`worksheet_range` allocates every
    // cell between the first and the last: one cell at A1 and one at XFD1048576 made it ask
    // for 17 billion, and the process aborted. Found while fuzzing: docs/fuzzing.md.)
    let mut reader = match workbook.worksheet_cells_reader(&sheet) {
        Ok(reader) => reader,
        Err(XlsxError::NotAWorksheet(_)) => return Err(FileError::Empty),
        Err(e) => return Err(not_xlsx(e)),
    };
    let declared = reader.dimensions();
    let rows = u64::from(declared.end.0.saturating_sub(declared.start.0)) + 1;
    let cells = rows * (u64::from(declared.end.1.saturating_sub(declared.start.1)) + 1);
    if rows > MAX_XLSX_ROWS || cells > MAX_DECLARED_CELLS {
        return Err(FileError::XlsxTooManyCells {
            rows,
            cells,
            max_rows: MAX_XLSX_ROWS,
            max_cells: MAX_DECLARED_CELLS,
        });
    }
    let mut rows: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    let (mut cells, mut first_column) = (0usize, u32::MAX);
    while let Some(cell) = reader.next_cell().map_err(not_xlsx)? {
        if matches!(cell.get_value(), DataRef::Empty) {
            continue;
        }
        cells += 1;
        if cells > MAX_XLSX_CELLS {
            return Err(too_large());
        }
        let (row, column) = cell.get_position();
        first_column = first_column.min(column);
        rows.entry(row).or_default().push((column, cell_text(&cell.get_value().clone().into())));
    }
    // Each row's fields start at the leftmost column used anywhere (as a range would), so a
    // column has the same index in every record; the padding counts against the same limit.
    let mut fields_total = 0usize;
    let mut records = Vec::with_capacity(rows.len());
    for (row, mut row_cells) in rows {
        row_cells.sort_by_key(|&(column, _)| column);
        let width = row_cells.last().map_or(0, |&(column, _)| (column - first_column) as usize + 1);
        fields_total += width;
        if fields_total > MAX_XLSX_CELLS {
            return Err(too_large());
        }
        let mut fields = vec![String::new(); width];
        for (column, text) in row_cells {
            if let Some(field) = fields.get_mut((column - first_column) as usize) {
                *field = text;
            }
        }
        records.push(Record { line: row as usize + 1, fields: fields.into_iter().collect() });
    }
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

    /// A workbook of one sheet, stored (not compressed) in a zip archive.
    fn xlsx(sheet_data: &str) -> Vec<u8> {
        xlsx_with_dimension("", sheet_data)
    }

    /// The same, with a `<dimension ref="...">` before the data (none when empty).
    fn xlsx_with_dimension(dimension: &str, sheet_data: &str) -> Vec<u8> {
        const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let workbook = format!(
            r#"<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#
        );
        let rels = |id: &str, target: &str| {
            format!(
                r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/{id}" Target="{target}"/></Relationships>"#
            )
        };
        let dimension = if dimension.is_empty() { String::new() } else { format!(r#"<dimension ref="{dimension}"/>"#) };
        let sheet = format!(r#"<worksheet xmlns="{MAIN}">{dimension}<sheetData>{sheet_data}</sheetData></worksheet>"#);
        let files = [
            ("_rels/.rels", rels("officeDocument", "xl/workbook.xml")),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", rels("worksheet", "worksheets/sheet1.xml")),
            ("xl/worksheets/sheet1.xml", sheet),
        ];
        let crc32 = |bytes: &[u8]| {
            let mut crc = !0u32;
            for &b in bytes {
                crc ^= u32::from(b);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
                }
            }
            !crc
        };
        let (mut out, mut central) = (Vec::new(), Vec::new());
        for (name, data) in &files {
            let offset = u32::try_from(out.len()).unwrap();
            let (crc, size, name_len) =
                (crc32(data.as_bytes()), u32::try_from(data.len()).unwrap(), u16::try_from(name.len()).unwrap());
            // Signature, version(s), flags, method (0: stored), time, date; then CRC and sizes.
            out.extend(0x0403_4b50u32.to_le_bytes().into_iter().chain([20, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
            out.extend([crc, size, size].iter().flat_map(|v| v.to_le_bytes()));
            out.extend(name_len.to_le_bytes().into_iter().chain([0, 0]).chain(name.bytes()).chain(data.bytes()));
            central.extend(0x0201_4b50u32.to_le_bytes().into_iter().chain([20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
            central.extend([crc, size, size].iter().flat_map(|v| v.to_le_bytes()));
            central.extend(name_len.to_le_bytes().into_iter().chain([0; 12]));
            central.extend(offset.to_le_bytes().into_iter().chain(name.bytes()));
        }
        let (central_at, central_len) = (u32::try_from(out.len()).unwrap(), u32::try_from(central.len()).unwrap());
        out.extend(central);
        let count = u16::try_from(files.len()).unwrap().to_le_bytes();
        out.extend(0x0605_4b50u32.to_le_bytes().into_iter().chain([0, 0, 0, 0]).chain(count).chain(count));
        out.extend(central_len.to_le_bytes().into_iter().chain(central_at.to_le_bytes()).chain([0, 0]));
        out
    }

    /// A zip archive of the given entries, deflated, written by the zip crate; an entry's
    /// content is `size` bytes of its byte, written a megabyte at a time.
    fn deflated(entries: &[(&str, u8, usize)]) -> Vec<u8> {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for &(name, byte, size) in entries {
            writer.start_file(name, options).unwrap();
            let chunk = vec![byte; size.min(1 << 20)];
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk.len());
                writer.write_all(&chunk[..n]).unwrap();
                left -= n;
            }
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn a_zip_bomb_is_refused_before_it_is_expanded() {
        // 100 MB of zeros compress to about 100 KB: refused by its compression ratio.
        let bomb = deflated(&[("[Content_Types].xml", b'<', 100), ("xl/worksheets/sheet1.xml", 0, 100_000_000)]);
        assert!(bomb.len() < 1_000_000, "{}", bomb.len());
        match read("bomb.xlsx", &bomb) {
            Err(FileError::XlsxCompression { entry, ratio }) => {
                assert_eq!(entry, "xl/worksheets/sheet1.xml");
                assert!(ratio > 200, "{ratio}");
            }
            other => panic!("{:?}", other.err()),
        }
        assert_eq!(read("bomb.xlsx", &bomb).err().map(|e| e.code()), Some("xlsx_compression"));
    }

    #[test]
    fn a_workbook_that_would_expand_beyond_the_limit_is_refused() {
        // Many ordinary entries, none compressed suspiciously, whose sum is too much.
        let limits = ArchiveLimits { uncompressed: 50_000, ratio: 200, ratio_from: 1_000_000 };
        let many: Vec<(String, u8, usize)> = (0..8).map(|i| (format!("xl/media/{i}.bin"), b'a', 10_000)).collect();
        let many: Vec<(&str, u8, usize)> = many.iter().map(|(n, b, s)| (n.as_str(), *b, *s)).collect();
        let archive = deflated(&many);
        assert!(
            matches!(check_archive(&archive, limits), Err(FileError::XlsxTooLarge { uncompressed, limit: 50_000 }) if uncompressed > 50_000)
        );
        // Under the limit, the same kind of archive passes the check (and then fails as no workbook).
        assert_eq!(check_archive(&deflated(&many[..4]), limits), Ok(()));
        assert!(matches!(read("a.xlsx", &deflated(&many[..4])), Err(FileError::NotXlsx(_))));
        // The real limit, on two entries of 60 MB (the ratio check left out: runs of one
        // byte compress like a bomb).
        let big = deflated(&[("a", b'x', 60_000_000), ("b", b'y', 60_000_000)]);
        let loose = ArchiveLimits { ratio: u64::MAX, ..ARCHIVE_LIMITS };
        assert!(matches!(check_archive(&big, loose), Err(FileError::XlsxTooLarge { limit: 100_000_000, .. })));
    }

    #[test]
    fn a_worksheet_declaring_too_many_cells_is_refused_before_its_cells_are_read() {
        let row = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c></row>"#;
        assert!(read("a.xlsx", &xlsx_with_dimension("A1:Z1000", row)).is_ok());
        for dimension in ["A1:A600000", "A1:XFD1000", "A1:XFD1048576"] {
            let refused = read("a.xlsx", &xlsx_with_dimension(dimension, row)).err();
            assert!(matches!(refused, Some(FileError::XlsxTooManyCells { .. })), "{dimension}: {refused:?}");
        }
    }

    #[test]
    fn unreadable_workbooks_are_refused_not_panicked_on() {
        // Random bytes named .xlsx, with or without the zip signature in front.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let random: Vec<u8> = (0..20_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        assert!(matches!(read("random.xlsx", &random), Err(FileError::NotXlsx(_))));
        let signed: Vec<u8> = b"PK\x03\x04".iter().chain(&random).copied().collect();
        assert!(matches!(read("random.xlsx", &signed), Err(FileError::NotXlsx(_))));
        // A real workbook cut short.
        let whole = xlsx(r#"<row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c></row>"#);
        for cut in [10, whole.len() / 2, whole.len() - 10] {
            assert!(matches!(read("cut.xlsx", &whole[..cut]), Err(FileError::NotXlsx(_))), "{cut}");
        }
        // A zip archive that is not a workbook.
        let other = deflated(&[("hello.txt", b'h', 1000)]);
        assert!(matches!(read("hello.xlsx", &other), Err(FileError::NotXlsx(_))));
    }

    #[test]
    fn cells_far_apart_do_not_fill_the_space_between() {
        // Found while fuzzing (fuzz/, target import_xlsx_sheet): a sheet with cells at A1 and
        // XFD1048576 made calamine's `worksheet_range` allocate 17 billion cells (an abort).
        let bytes = xlsx(
            r#"<row r="1"><c r="B1" t="inlineStr"><is><t>ID</t></is></c></row><row r="3"><c r="C3"><v>7</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#,
        );
        let table = read("a.xlsx", &bytes).unwrap();
        let lines: Vec<usize> = table.records.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![1, 3, 1_048_576]);
        assert_eq!(table.records[0].get(Some(0)), "ID", "fields start at the leftmost column used");
        assert_eq!(table.records[1].get(Some(1)), "7");
        assert_eq!(table.records[2].fields.len(), 16_383);
        assert_eq!(read("a.xlsx", &xlsx("")).err(), Some(FileError::Empty));
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

    #[test]
    fn a_header_row_of_thousands_of_cells_is_read_once() {
        // Found while fuzzing (import_xlsx_sheet, a timeout): the header search compared every
        // column name with every cell, folding the name again each time, so a few rows
        // spanning the sheet's 16,384 columns took seconds. Now one pass per row.
        let mut header: Vec<String> = (0..16_000).map(|i| format!("空き{i}")).collect();
        header.extend(["ID".to_owned(), "名称".to_owned()]);
        let mut csv = vec![header.join(",")];
        csv.push(format!("{}1,ア", ",".repeat(16_000)));
        let table = read("a.csv", csv.join("\n").as_bytes()).unwrap();
        let located = table.locate(&[required(&["id"]), required(&["正式名称", "名称"])]).unwrap();
        assert_eq!(located.columns, vec![Some(16_000), Some(16_001)]);
        assert_eq!(located.data[0].get(Some(16_001)), "ア");
    }
}
