//! Reading what other systems post in FHIR JSON (issue 6): Observations
//! (vital signs with LOINC codes and UCUM units), Communications (notes),
//! their identifiers and the If-None-Exist condition. Pure functions of the
//! parsed JSON, so that they are fuzzed with the other parsers of outside
//! input; every problem is named with its FHIRPath, none is ignored. The web
//! layer turns [`Problem`]s into an OperationOutcome.

use crate::care::EntryKind;
use crate::interop::{DIASTOLIC_LOINC, SYSTOLIC_LOINC, UCUM, VitalCode, VitalValue};
use serde_json::Value;
use uuid::Uuid;

/// The code system of tsunagu's entry kinds (a Communication's category).
pub const ENTRY_KINDS: &str = "urn:tsunagu:entry-kind";

/// One problem of a posted resource: an OperationOutcome issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The FHIR issue type: `invalid` or `not-supported`.
    pub code: &'static str,
    /// Japanese, then English.
    pub diagnostics: String,
    /// Where: a FHIRPath (`Observation.subject`) or a header name.
    pub expression: String,
}

fn invalid(expression: &str, diagnostics: &str) -> Problem {
    Problem { code: "invalid", diagnostics: diagnostics.to_owned(), expression: expression.to_owned() }
}

/// What a posted Observation says, once read.
#[derive(Debug, PartialEq)]
pub struct PostedMeasurement {
    pub patient: Uuid,
    pub code: VitalCode,
    pub value: VitalValue,
    pub unit: String,
    pub note: String,
}

/// What a posted Communication says, once read.
#[derive(Debug, PartialEq)]
pub struct PostedMessage {
    pub patient: Uuid,
    pub kind: String,
    pub text: String,
    pub reply_to: Option<Uuid>,
}

/// `system|code` (or a bare code) of tsunagu's entry kinds.
pub fn entry_kind_of(token: &str) -> Option<EntryKind> {
    let code = match token.split_once('|') {
        Some((system, code)) if system.is_empty() || system == ENTRY_KINDS => code,
        Some(_) => return None,
        None => token,
    };
    EntryKind::parse(code).ok()
}

/// A quantity's value and UCUM unit.
pub fn quantity(q: &Value, at: &str) -> Result<(f64, String), Problem> {
    let value =
        q["value"].as_f64().ok_or_else(|| invalid(&format!("{at}.value"), "数値が必要です / a number is required"))?;
    if q.get("system").is_some_and(|s| s != UCUM) {
        return Err(invalid(&format!("{at}.system"), "単位は UCUM で / units must be UCUM"));
    }
    let unit = q["code"]
        .as_str()
        .or(q["unit"].as_str())
        .ok_or_else(|| invalid(&format!("{at}.code"), "単位が必要です / a unit is required"))?;
    Ok((value, unit.to_owned()))
}

/// `2026-11-20 10:00:00+09:00`: the measurement's time in Japan, as the note shows it.
fn local_time(at: time::OffsetDateTime) -> String {
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    at.to_offset(crate::clock::JST).format(rfc3339).unwrap_or_default().replacen('T', " ", 1)
}

pub fn read_measurement(body: &Value) -> Result<PostedMeasurement, Vec<Problem>> {
    let mut issues = Vec::new();
    if body["resourceType"] != "Observation" {
        return Err(vec![invalid("Observation.resourceType", "Observation を送ってください / send an Observation")]);
    }
    if !matches!(body["status"].as_str(), Some("final" | "amended" | "corrected" | "preliminary")) {
        issues.push(invalid("Observation.status", "status: final | amended | corrected | preliminary"));
    }
    let codings = body["code"]["coding"].as_array().cloned().unwrap_or_default();
    let code = codings.iter().find_map(|c| {
        let (system, code) = (c["system"].as_str()?, c["code"].as_str()?);
        VitalCode::from_token(&format!("{system}|{code}"))
    });
    if code.is_none() {
        issues.push(invalid(
            "Observation.code",
            "対応するコード: LOINC 8310-5, 85354-9, 8867-4, 59408-5, 9279-1, 29463-7, 2339-0, 72514-3 / supported codes",
        ));
    }
    let patient = body["subject"]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Patient/"))
        .and_then(|id| id.parse::<Uuid>().ok());
    if patient.is_none() {
        issues.push(invalid("Observation.subject", "subject は Patient/{id} / subject must be Patient/{id}"));
    }
    let measured = match code {
        Some(VitalCode::BloodPressure) => {
            let components = body["component"].as_array().cloned().unwrap_or_default();
            let part = |loinc: &str| -> Result<(f64, String), Problem> {
                let c = components
                    .iter()
                    .find(|c| c["code"]["coding"].as_array().is_some_and(|cs| cs.iter().any(|x| x["code"] == loinc)))
                    .ok_or_else(|| {
                        invalid(
                            "Observation.component",
                            "収縮期と拡張期が必要です / systolic and diastolic are required",
                        )
                    })?;
                quantity(&c["valueQuantity"], "Observation.component.valueQuantity")
            };
            match (part(SYSTOLIC_LOINC), part(DIASTOLIC_LOINC)) {
                (Ok((s, unit)), Ok((d, unit2))) if unit == unit2 => {
                    let whole = |x: f64| (x.fract() == 0.0 && (0.0..=1000.0).contains(&x)).then_some(x as u16);
                    match (whole(s), whole(d)) {
                        (Some(s), Some(d)) => Some((VitalValue::Pressure(s, d), unit)),
                        _ => {
                            issues.push(invalid(
                                "Observation.component.valueQuantity.value",
                                "血圧は整数で / whole numbers",
                            ));
                            None
                        }
                    }
                }
                (Ok(_), Ok(_)) => {
                    issues.push(invalid(
                        "Observation.component.valueQuantity.code",
                        "単位をそろえてください / units differ",
                    ));
                    None
                }
                (Err(e), _) | (_, Err(e)) => {
                    issues.push(e);
                    None
                }
            }
        }
        Some(_) => match quantity(&body["valueQuantity"], "Observation.valueQuantity") {
            Ok((x, unit)) => Some((VitalValue::One(x), unit)),
            Err(e) => {
                issues.push(e);
                None
            }
        },
        None => None,
    };
    let mut note: Vec<String> = Vec::new();
    if let Some(at) = body.get("effectiveDateTime") {
        match at
            .as_str()
            .and_then(|s| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok())
        {
            Some(at) => note.push(format!("測定日時 {}", local_time(at))),
            None => {
                issues.push(invalid("Observation.effectiveDateTime", "日時を読めません / cannot read the date-time"))
            }
        }
    }
    for n in body["note"].as_array().into_iter().flatten() {
        if let Some(text) = n["text"].as_str() {
            note.push(text.to_owned());
        }
    }
    match (patient, code, measured) {
        (Some(patient), Some(code), Some((value, unit))) if issues.is_empty() => {
            Ok(PostedMeasurement { patient, code, value, unit, note: note.join("\n") })
        }
        _ => Err(issues),
    }
}

/// A resource's first identifier, as (system, value), if it has one.
pub fn identifier_of(resource: &Value, what: &str) -> Result<Option<(String, String)>, Problem> {
    let Some(first) = resource["identifier"].as_array().and_then(|ids| ids.first()) else {
        return Ok(None);
    };
    match (first["system"].as_str(), first["value"].as_str()) {
        (Some(system), Some(value))
            if !system.is_empty() && !value.is_empty() && system.len() <= 200 && value.len() <= 200 =>
        {
            Ok(Some((system.to_owned(), value.to_owned())))
        }
        _ => Err(invalid(
            &format!("{what}.identifier"),
            "identifier には system と value を / identifier needs system and value",
        )),
    }
}

/// `If-None-Exist: identifier=system|value`: the only condition supported.
pub fn condition(raw: Option<&str>) -> Result<Option<(String, String)>, Problem> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let bad = || Problem {
        code: "not-supported",
        diagnostics: "If-None-Exist は identifier=system|value のみ / only identifier=system|value is supported"
            .to_owned(),
        expression: "If-None-Exist".to_owned(),
    };
    let value = raw.strip_prefix("identifier=").ok_or_else(bad)?;
    let value = percent_decode(value).ok_or_else(bad)?;
    match value.split_once('|') {
        Some((system, v)) if !system.is_empty() && !v.is_empty() => Ok(Some((system.to_owned(), v.to_owned()))),
        _ => Err(bad()),
    }
}

pub fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

pub fn read_message(body: &Value) -> Result<PostedMessage, Vec<Problem>> {
    if body["resourceType"] != "Communication" {
        return Err(vec![invalid(
            "Communication.resourceType",
            "Communication を送ってください / send a Communication",
        )]);
    }
    let mut issues = Vec::new();
    if !matches!(body["status"].as_str(), Some("completed" | "in-progress")) {
        issues.push(invalid("Communication.status", "status: completed"));
    }
    let patient = body["subject"]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Patient/"))
        .and_then(|id| id.parse::<Uuid>().ok());
    if patient.is_none() {
        issues.push(invalid("Communication.subject", "subject は Patient/{id} / subject must be Patient/{id}"));
    }
    let texts: Vec<&str> =
        body["payload"].as_array().into_iter().flatten().filter_map(|p| p["contentString"].as_str()).collect();
    if texts.is_empty() {
        issues.push(invalid(
            "Communication.payload",
            "payload.contentString に本文を / the text goes in payload.contentString",
        ));
    }
    let category = body["category"].as_array().and_then(|c| c.first());
    let kind = match category {
        None => Some(EntryKind::Message),
        Some(c) => c["coding"].as_array().into_iter().flatten().find_map(|x| {
            let code = x["code"].as_str()?;
            entry_kind_of(&format!("{}|{code}", x["system"].as_str().unwrap_or("")))
        }),
    };
    if kind.is_none() {
        issues.push(invalid(
            "Communication.category",
            "category: message | visit_record | medication_change | condition_change | urgent",
        ));
    }
    let reply_to = match body["inResponseTo"].as_array().and_then(|r| r.first()) {
        None => None,
        Some(r) => {
            let id = r["reference"]
                .as_str()
                .and_then(|r| r.strip_prefix("Communication/"))
                .and_then(|id| id.parse::<Uuid>().ok());
            if id.is_none() {
                issues.push(invalid("Communication.inResponseTo", "inResponseTo は Communication/{id}"));
            }
            id
        }
    };
    match (patient, kind) {
        (Some(patient), Some(kind)) if issues.is_empty() => {
            Ok(PostedMessage { patient, kind: kind.code().to_owned(), text: texts.join("\n"), reply_to })
        }
        _ => Err(issues),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn temperature(value: Value) -> Value {
        json!({
            "resourceType": "Observation",
            "status": "final",
            "code": { "coding": [{ "system": "http://loinc.org", "code": "8310-5" }] },
            "subject": { "reference": "Patient/0192f3a0-0000-7000-8000-000000000001" },
            "valueQuantity": value,
        })
    }

    #[test]
    fn a_posted_temperature_is_read() {
        let m = read_measurement(&temperature(json!({ "value": 37.2, "unit": "Cel", "system": UCUM, "code": "Cel" })))
            .unwrap();
        assert_eq!((m.code, m.value, m.unit.as_str()), (VitalCode::Temperature, VitalValue::One(37.2), "Cel"));
    }

    #[test]
    fn a_posted_blood_pressure_needs_both_components() {
        let component = |code: &str, v: f64| json!({ "code": { "coding": [{ "system": "http://loinc.org", "code": code }] }, "valueQuantity": { "value": v, "code": "mm[Hg]", "system": UCUM } });
        let mut bp = temperature(Value::Null);
        bp["code"] = json!({ "coding": [{ "system": "http://loinc.org", "code": "85354-9" }] });
        bp["component"] = json!([component("8480-6", 128.0), component("8462-4", 76.0)]);
        assert_eq!(read_measurement(&bp).unwrap().value, VitalValue::Pressure(128, 76));
        bp["component"] = json!([component("8480-6", 128.0)]);
        assert_eq!(read_measurement(&bp).unwrap_err()[0].expression, "Observation.component");
    }

    #[test]
    fn a_posted_note_is_read_with_its_kind_and_parent() {
        let parent = "0192f3a0-0000-7000-8000-000000000002";
        let note = json!({
            "resourceType": "Communication", "status": "completed",
            "category": [{ "coding": [{ "system": "urn:tsunagu:entry-kind", "code": "visit_record" }] }],
            "subject": { "reference": "Patient/0192f3a0-0000-7000-8000-000000000001" },
            "inResponseTo": [{ "reference": format!("Communication/{parent}") }],
            "payload": [{ "contentString": "訪問しました" }, { "contentString": "変わりなし" }],
        });
        let m = read_message(&note).unwrap();
        assert_eq!((m.kind.as_str(), m.text.as_str()), ("visit_record", "訪問しました\n変わりなし"));
        assert_eq!(m.reply_to.map(|r| r.to_string()).as_deref(), Some(parent));
        let mut bad = note.clone();
        bad["category"] = json!([{ "coding": [{ "system": "http://example.org", "code": "visit_record" }] }]);
        bad["payload"] = json!([]);
        let named: Vec<String> = read_message(&bad).unwrap_err().into_iter().map(|i| i.expression).collect();
        assert_eq!(named, ["Communication.payload", "Communication.category"]);
    }

    #[test]
    fn every_problem_of_a_posted_observation_is_named() {
        let mut bad = temperature(json!({ "value": "warm", "unit": "Cel" }));
        bad["status"] = json!("registered");
        bad["subject"] = json!({ "reference": "Group/1" });
        let named: Vec<String> = read_measurement(&bad).unwrap_err().into_iter().map(|i| i.expression).collect();
        assert_eq!(named, ["Observation.status", "Observation.subject", "Observation.valueQuantity.value"]);
        let wrong_system = temperature(json!({ "value": 37.0, "code": "Cel", "system": "http://example.org" }));
        assert_eq!(read_measurement(&wrong_system).unwrap_err()[0].expression, "Observation.valueQuantity.system");
        assert!(read_measurement(&json!({ "resourceType": "Patient" })).is_err());
    }

    #[test]
    fn if_none_exist_names_one_identifier_percent_encoded_or_not() {
        let wanted = Some(("urn:device:bt".to_owned(), "m-001".to_owned()));
        assert_eq!(condition(Some("identifier=urn:device:bt|m-001")), Ok(wanted.clone()));
        assert_eq!(condition(Some(" identifier=urn%3Adevice%3Abt%7Cm-001 ")), Ok(wanted));
        assert_eq!(condition(None), Ok(None));
        assert_eq!(condition(Some("  ")), Ok(None));
        for unsupported in ["_id=1", "identifier=m-001", "identifier=|m-001", "identifier=a%7", "identifier=%FF|x"] {
            let refused = condition(Some(unsupported)).unwrap_err();
            assert_eq!(
                (refused.code, refused.expression.as_str()),
                ("not-supported", "If-None-Exist"),
                "{unsupported}"
            );
        }
    }

    #[test]
    fn an_identifier_needs_a_system_and_a_value() {
        let with = |id: Value| json!({ "resourceType": "Observation", "identifier": id });
        assert_eq!(identifier_of(&json!({}), "Observation"), Ok(None));
        assert_eq!(
            identifier_of(&with(json!([{ "system": "urn:x", "value": "1" }, { "value": "2" }])), "Observation"),
            Ok(Some(("urn:x".to_owned(), "1".to_owned()))),
            "the first one counts"
        );
        let refused = identifier_of(&with(json!([{ "value": "1" }])), "Observation").unwrap_err();
        assert_eq!(refused.expression, "Observation.identifier");
        assert!(identifier_of(&with(json!([{ "system": "urn:x", "value": "x".repeat(201) }])), "Observation").is_err());
    }
}
