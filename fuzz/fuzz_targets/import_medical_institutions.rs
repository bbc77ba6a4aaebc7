//! Any bytes as an uploaded MedicalInstitutions file: never a panic, and every row keeps the promises of `Row`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsunagu_import::{Source, parse};

fuzz_target!(|data: &[u8]| {
    let result = parse(Source::MedicalInstitutions, "02-1_clinic_facility_info_20260601.csv", data);
    tsunagu_fuzz::check_parsed(Source::MedicalInstitutions, &result);
});
