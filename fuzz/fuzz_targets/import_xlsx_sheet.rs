//! Deeper .xlsx fuzzing than `import_facility_standards`: random bytes rarely make a zip
//! archive whose entries decompress and pass their checksums, so here the input is the
//! worksheet XML itself (and, after a `\0SST\0` marker, a shared-strings part), put into a
//! well-formed workbook (the other parts of the synthetic 届出受理 fixture) before parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::{Cursor, Read, Write};
use std::sync::OnceLock;
use tsunagu_import::{Source, parse};
use zip::write::SimpleFileOptions;

const FIXTURE: &[u8] = include_bytes!("../../crates/import/tests/fixtures/todokede_juri_ika_synthetic.xlsx");
const SHEET: &str = "xl/worksheets/sheet1.xml";
const SHARED_STRINGS: &str = "xl/sharedStrings.xml";
const MARKER: &[u8] = b"\0SST\0";

/// The fixture's parts other than the worksheet (and shared strings), read once.
fn other_parts() -> &'static [(String, Vec<u8>)] {
    static PARTS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    PARTS.get_or_init(|| {
        let mut archive = zip::ZipArchive::new(Cursor::new(FIXTURE)).unwrap_or_else(|e| panic!("fixture: {e}"));
        let mut parts = Vec::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).unwrap_or_else(|e| panic!("fixture: {e}"));
            let name = file.name().unwrap_or_else(|e| panic!("fixture: {e}")).into_owned();
            if name == SHEET || name == SHARED_STRINGS {
                continue;
            }
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).unwrap_or_else(|e| panic!("fixture: {e}"));
            parts.push((name, bytes));
        }
        parts
    })
}

fn workbook(sheet: &[u8], shared_strings: Option<&[u8]>) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut add = |name: &str, bytes: &[u8]| {
        writer.start_file(name, stored).unwrap_or_else(|e| panic!("zip: {e}"));
        writer.write_all(bytes).unwrap_or_else(|e| panic!("zip: {e}"));
    };
    for (name, bytes) in other_parts() {
        add(name, bytes);
    }
    add(SHEET, sheet);
    if let Some(strings) = shared_strings {
        add(SHARED_STRINGS, strings);
    }
    writer.finish().unwrap_or_else(|e| panic!("zip: {e}")).into_inner()
}

fuzz_target!(|data: &[u8]| {
    let (sheet, strings) = match data.windows(MARKER.len()).position(|w| w == MARKER) {
        Some(at) => (&data[..at], Some(&data[at + MARKER.len()..])),
        None => (data, None),
    };
    let bytes = workbook(sheet, strings);
    let result = parse(Source::FacilityStandards, "todokede_juri_ika.xlsx", &bytes);
    tsunagu_fuzz::check_parsed(Source::FacilityStandards, &result);
});
