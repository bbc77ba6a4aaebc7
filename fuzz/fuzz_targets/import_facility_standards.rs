//! Any bytes as an uploaded 届出受理医療機関名簿, named .xlsx when they start like a zip
//! archive and .csv otherwise: never a panic, and every row keeps the promises of `Row`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsunagu_import::{Source, parse};

fuzz_target!(|data: &[u8]| {
    let name = if data.starts_with(b"PK") { "todokede_juri_ika.xlsx" } else { "todokede_juri_ika.csv" };
    let result = parse(Source::FacilityStandards, name, data);
    tsunagu_fuzz::check_parsed(Source::FacilityStandards, &result);
});
