//! What every import target checks about a parse result, whatever the bytes were.
//!
//! A fuzz target panics (and so reports a finding) when the parser panics, loops, or
//! returns a result that breaks one of the promises documented on [`tsunagu_import::Row`].

use tsunagu_domain::facility::PhoneNumber;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_import::{FileError, Parsed, Source};

/// Checks the promises of [`tsunagu_import::Parsed`] and of each row.
pub fn check_parsed(source: Source, result: &Result<Parsed, FileError>) {
    let parsed = match result {
        Ok(parsed) => parsed,
        Err(error) => {
            // Every refusal can be shown to a person.
            assert!(!error.message_ja().is_empty() && !error.to_string().is_empty() && !error.code().is_empty());
            return;
        }
    };
    assert!(matches!(parsed.encoding, "UTF-8" | "Shift_JIS" | "xlsx"), "{}", parsed.encoding);
    let mut ids = std::collections::HashSet::new();
    for row in &parsed.rows {
        assert!(row.line >= 1, "{row:?}");
        assert!(!row.source_id.trim().is_empty(), "{row:?}");
        assert!(ids.insert(row.source_id.as_str()), "two rows with one source_id: {row:?}");
        assert!(!row.name.trim().is_empty() && row.name.trim() == row.name, "{row:?}");
        assert!(!row.address.trim().is_empty(), "{row:?}");
        if source == Source::FacilityStandards {
            assert!(
                row.source_id.len() == 10 && row.source_id.bytes().all(|b| b.is_ascii_digit()),
                "a 医療機関コード is 10 digits: {row:?}"
            );
        }
        if let Some(postal) = &row.postal_code {
            let b = postal.as_bytes();
            assert!(
                b.len() == 8 && b[3] == b'-' && b.iter().enumerate().all(|(i, c)| i == 3 || c.is_ascii_digit()),
                "{row:?}"
            );
        }
        for phone in [&row.phone, &row.fax].into_iter().flatten() {
            assert_eq!(PhoneNumber::parse(phone).map(|p| p.as_str().to_owned()).as_ref(), Ok(phone), "{row:?}");
        }
        assert_eq!(row.latitude.is_some(), row.longitude.is_some(), "{row:?}");
        if let (Some(lat), Some(lng)) = (row.latitude, row.longitude) {
            assert!((20.0..=46.0).contains(&lat) && (122.0..=154.0).contains(&lng), "{row:?}");
        }
        if let Some(code) = &row.municipality_code {
            let parsed = MunicipalityCode::parse(code);
            assert_eq!(parsed.as_ref().map(MunicipalityCode::as_str), Ok(code.as_str()), "{row:?}");
            assert!(code.get(2..5) != Some("000"), "a prefecture's code: {row:?}");
        }
        if let Some(name) = &row.municipality_name {
            assert!(!name.is_empty(), "{row:?}");
        }
        for (i, (flag, _)) in row.flags.iter().enumerate() {
            assert!(!row.flags[..i].iter().any(|(f, _)| f == flag), "a 受理記号 twice: {row:?}");
            assert_eq!(&tsunagu_import::Flag::parse(&flag.code()), flag, "{row:?}");
        }
    }
    for rejected in &parsed.rejected {
        assert!(rejected.line >= 1, "{rejected:?}");
        assert!(!rejected.reason.message_ja().is_empty());
    }
}
