//! Any bytes as an uploaded CareOffices file: never a panic, and every row keeps the promises of `Row`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsunagu_import::{Source, parse};

fuzz_target!(|data: &[u8]| {
    let result = parse(Source::CareOffices, "jigyosho_130.csv", data);
    tsunagu_fuzz::check_parsed(Source::CareOffices, &result);
});
