//! What API clients send besides JSON bodies (`crates/domain/src/interop.rs`): token scopes, the
//! token form, search tokens naming a vital sign, posted measurements with their UCUM units, and
//! 医療機関コード split for JP Core. Checks: no panic; a parsed scope list parses again to the
//! same list; a token form that parses is within its limits; an accepted measurement is stored
//! exactly as sent and reads back the same value; a code's parts put together are the code.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tsunagu_domain::interop::{
    ApiTokenDraft, Access, MAX_TOKEN_DAYS, SCOPED_RESOURCES, Scopes, VitalCode, VitalValue, medical_code_parts,
};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    scopes: &'a str,
    name: &'a str,
    days: &'a str,
    token: &'a str,
    code: u8,
    value: f64,
    pressure: (u16, u16),
    pair: bool,
    unit: &'a str,
    use_own_unit: bool,
    medical_code: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    if let Ok(scopes) = Scopes::parse(input.scopes) {
        let again = Scopes::parse(&scopes.code()).expect("a scope list's code parses");
        for resource in SCOPED_RESOURCES {
            for access in [Access::Read, Access::Write] {
                assert_eq!(scopes.allows(resource, access), again.allows(resource, access));
            }
        }
    }
    if let Ok(draft) = ApiTokenDraft::parse(input.name, input.scopes, input.days) {
        assert!((1..=MAX_TOKEN_DAYS).contains(&draft.valid_days));
        assert!(!draft.name.is_empty() && draft.name.chars().count() <= 80);
    }
    let _ = VitalCode::from_token(input.token);
    let code = VitalCode::ALL[usize::from(input.code) % VitalCode::ALL.len()];
    let (system, loinc) = code.coding();
    assert_eq!(VitalCode::from_token(&format!("{system}|{loinc}")), Some(code));
    let value = if input.pair { VitalValue::Pressure(input.pressure.0, input.pressure.1) } else { VitalValue::One(input.value) };
    let unit = if input.use_own_unit { code.unit() } else { input.unit };
    if let Ok(vitals) = code.measurement(value, unit) {
        assert_eq!(unit, code.unit(), "only the code's own unit is accepted");
        assert_eq!(code.values(&vitals), Some(value), "stored exactly as sent");
    }
    if let Some((prefecture, table, number)) = medical_code_parts(input.medical_code) {
        assert_eq!(format!("{prefecture}{table}{number}"), input.medical_code);
    }
});
