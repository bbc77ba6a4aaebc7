//! What other systems post to the FHIR API (`tsunagu_domain::fhir_input`): any bytes as JSON
//! to the Observation, Communication and identifier readers, and as text to the If-None-Exist
//! reader. Never a panic; every problem names where it is; an accepted Observation has a
//! code, a unit and a value the domain can check like the form (and, when the check passes,
//! stores exactly); an accepted Communication has a known kind; If-None-Exist reads back what
//! it is given, percent-encoded or not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tsunagu_domain::care::EntryKind;
use tsunagu_domain::fhir_input::{condition, identifier_of, percent_decode, read_measurement, read_message};
use tsunagu_domain::interop::VitalValue;

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    if let Ok(json) = serde_json::from_slice::<Value>(data) {
        match read_measurement(&json) {
            Ok(m) => {
                assert!(!m.unit.is_empty(), "{json}");
                match m.value {
                    VitalValue::One(x) => assert!(x.is_finite(), "{json}"),
                    VitalValue::Pressure(s, d) => assert!(s <= 1000 && d <= 1000, "{json}"),
                }
                assert_eq!(read_measurement(&json), Ok(m), "read twice, read alike");
            }
            Err(problems) => {
                assert!(!problems.is_empty(), "a refusal names its problems: {json}");
                assert!(problems.iter().all(|p| p.expression.starts_with("Observation")), "{problems:?}");
            }
        }
        match read_message(&json) {
            Ok(m) => {
                assert!(EntryKind::parse(&m.kind).is_ok(), "{json}");
                assert!(json["payload"].is_array(), "{json}");
            }
            Err(problems) => {
                assert!(!problems.is_empty(), "{json}");
                assert!(problems.iter().all(|p| p.expression.starts_with("Communication")), "{problems:?}");
            }
        }
        if let Ok(Some((system, value))) = identifier_of(&json, "Observation") {
            assert!(!system.is_empty() && !value.is_empty() && system.len() <= 200 && value.len() <= 200);
        }
    }
    let text = String::from_utf8_lossy(data);
    assert_eq!(percent_decode(&encode(&text)).as_deref(), Some(text.as_ref()), "{text:?}");
    if let Ok(Some((system, value))) = condition(Some(&text)) {
        assert!(!system.is_empty() && !value.is_empty());
        let again = format!("identifier={}", encode(&format!("{system}|{value}")));
        assert_eq!(condition(Some(&again)), Ok(Some((system, value))), "{text:?}");
    }
});
