//! tsunagu's data as FHIR R4 resources (JP Core where it applies), and the
//! CapabilityStatement, built from the same tables of search parameters the
//! handlers accept, so that it cannot claim more than they do.

use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tsunagu_app::fhir::{CareTeamRecord, PatientRecord, TimelineEntry};
use tsunagu_app::public_map::{PublicFacility, PublicMunicipality};
use tsunagu_domain::care::EntryKind;
use tsunagu_domain::clock::JST;
use tsunagu_domain::interop::{DIASTOLIC_LOINC, SYSTOLIC_LOINC, UCUM, VitalCode, VitalValue};
use tsunagu_domain::patient::{PatientStatus, Sex};
use tsunagu_domain::policy::ConsentState;

pub(crate) const JP_PATIENT: &str = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient";
pub(crate) const JP_VITAL_SIGNS: &str = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Observation_VitalSigns";
const NAME_REPRESENTATION: &str = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const TEAM_ROLES: &str = "urn:tsunagu:team-role";
pub(crate) const JP_ORGANIZATION: &str = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Organization";
/// What kind of facility (clinic, 訪問看護ステーション, 居宅介護支援, ...): tsunagu's own codes.
pub(crate) const FACILITY_KINDS: &str = "urn:tsunagu:facility-kind";
/// 介護保険事業所番号 (no JP Core identifier system exists for it).
pub(crate) const CARE_PROVIDER_NUMBERS: &str = "urn:tsunagu:care-provider-number";
const JP_CORE_EXTENSIONS: &str = "http://jpfhir.jp/fhir/core/Extension/StructureDefinition";
pub(crate) const MEDICAL_INSTITUTION_NUMBERS: &str =
    "http://jpfhir.jp/fhir/Common/IdSystem/insurance-medical-institution-no";

fn facility_telecom(f: &PublicFacility) -> Vec<Value> {
    let mut telecom = Vec::new();
    if let Some(phone) = f.phone.as_deref().filter(|p| !p.is_empty()) {
        telecom.push(json!({ "system": "phone", "value": phone, "use": "work" }));
    }
    if let Some(fax) = f.fax.as_deref().filter(|p| !p.is_empty()) {
        telecom.push(json!({ "system": "fax", "value": fax, "use": "work" }));
    }
    telecom
}

fn facility_type(f: &PublicFacility) -> Value {
    json!([{ "coding": [{ "system": FACILITY_KINDS, "code": f.kind.code(), "display": f.kind.label_ja() }], "text": f.kind.label_ja() }])
}

/// A facility of the public registry as JP_Organization: the 医療機関コード
/// as an identifier and split into JP Core's three extensions, the
/// 介護保険事業所番号 as an identifier, kind, names, phones, address.
pub(crate) fn organization(m: &PublicMunicipality, f: &PublicFacility) -> Value {
    let mut resource = json!({
        "resourceType": "Organization",
        "id": f.id.to_string(),
        "meta": { "profile": [JP_ORGANIZATION] },
        "active": true,
        "type": facility_type(f),
        "name": f.name,
        "address": [{ "use": "work", "text": f.address, "city": m.name, "country": "JP" }],
    });
    let mut identifiers = Vec::new();
    if let Some(code) = f.medical_institution_code.as_deref()
        && let Some((prefecture, table, number)) = tsunagu_domain::interop::medical_code_parts(code)
    {
        identifiers.push(json!({ "system": MEDICAL_INSTITUTION_NUMBERS, "value": code }));
        resource["extension"] = json!([
            { "url": format!("{JP_CORE_EXTENSIONS}/JP_Organization_PrefectureNo"),
              "valueCoding": { "system": "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/PrefectureNo-2digits", "code": prefecture } },
            { "url": format!("{JP_CORE_EXTENSIONS}/JP_Organization_InsuranceOrganizationCategory"),
              "valueCoding": { "system": "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationFeeScoreType", "code": table } },
            { "url": format!("{JP_CORE_EXTENSIONS}/JP_Organization_InsuranceOrganizationNo"),
              "valueIdentifier": { "system": "urn:oid:1.2.392.100495.20.3.23", "value": number } },
        ]);
    }
    if let Some(number) = f.care_provider_number.as_deref().filter(|n| !n.is_empty()) {
        identifiers.push(json!({ "system": CARE_PROVIDER_NUMBERS, "value": number }));
    }
    if !identifiers.is_empty() {
        resource["identifier"] = json!(identifiers);
    }
    if let Some(kana) = f.name_kana.as_deref().filter(|k| !k.is_empty()) {
        resource["alias"] = json!([kana]);
    }
    let telecom = facility_telecom(f);
    if !telecom.is_empty() {
        resource["telecom"] = json!(telecom);
    }
    resource
}

/// Where a facility of the public registry is (id = the facility's, as its Organization).
pub(crate) fn location(m: &PublicMunicipality, f: &PublicFacility) -> Value {
    let mut resource = json!({
        "resourceType": "Location",
        "id": f.id.to_string(),
        "status": "active",
        "mode": "instance",
        "name": f.name,
        "type": facility_type(f),
        "address": { "use": "work", "text": f.address, "city": m.name, "country": "JP" },
        "managingOrganization": { "reference": format!("Organization/{}", f.id), "display": f.name },
    });
    if let Some(at) = f.location {
        resource["position"] = json!({ "latitude": at.latitude, "longitude": at.longitude });
    }
    let telecom = facility_telecom(f);
    if !telecom.is_empty() {
        resource["telecom"] = json!(telecom);
    }
    resource
}

/// The search extension FHIR defines for `near`: how far a Location is.
pub(crate) fn distance_extension(metres: f64) -> Value {
    json!([{
        "url": "http://hl7.org/fhir/StructureDefinition/location-distance",
        "valueDistance": { "value": (metres.round()) as i64, "unit": "m", "system": UCUM, "code": "m" },
    }])
}
pub(crate) use tsunagu_domain::fhir_input::{ENTRY_KINDS, entry_kind_of};

/// A timeline entry as a Communication: its kind, author, time, text (with
/// any vital signs as a line), and the entry it answers.
pub(crate) fn communication(e: &TimelineEntry) -> Value {
    let mut text = e.note.clone();
    if !e.vitals.is_empty() {
        let summary = e.vitals.summary();
        text = if text.trim().is_empty() { summary } else { format!("{summary}\n{text}") };
    }
    let mut resource = json!({
        "resourceType": "Communication",
        "id": e.id.to_string(),
        "meta": { "versionId": e.version.to_string(), "lastUpdated": instant(e.edited_at) },
        "status": "completed",
        "category": [{ "coding": [{ "system": ENTRY_KINDS, "code": e.kind.code(), "display": e.kind.label_ja() }], "text": e.kind.label_ja() }],
        "priority": if e.kind == EntryKind::Urgent { "urgent" } else { "routine" },
        "subject": { "reference": format!("Patient/{}", e.patient_id) },
        "recipient": [{ "reference": format!("CareTeam/{}", e.patient_id) }],
        "sent": instant(e.created_at),
        "sender": { "display": e.author_name },
        "payload": [{ "contentString": text }],
    });
    if let Some(parent) = e.reply_to {
        resource["inResponseTo"] = json!([{ "reference": format!("Communication/{parent}") }]);
    }
    resource
}

/// (name, type) of each search parameter, per resource.
pub(crate) const PATIENT_SEARCH: &[(&str, &str)] = &[
    ("_id", "token"),
    ("identifier", "token"),
    ("name", "string"),
    ("family", "string"),
    ("given", "string"),
    ("birthdate", "date"),
    ("gender", "token"),
    ("_lastUpdated", "date"),
    ("_sort", "special"),
];
pub(crate) const OBSERVATION_SEARCH: &[(&str, &str)] = &[
    ("patient", "reference"),
    ("subject", "reference"),
    ("code", "token"),
    ("category", "token"),
    ("date", "date"),
    ("_lastUpdated", "date"),
    ("_include", "special"),
    ("_sort", "special"),
];
pub(crate) const COMMUNICATION_SEARCH: &[(&str, &str)] = &[
    ("patient", "reference"),
    ("subject", "reference"),
    ("category", "token"),
    ("sent", "date"),
    ("_lastUpdated", "date"),
    ("_sort", "special"),
];
pub(crate) const ORGANIZATION_SEARCH: &[(&str, &str)] =
    &[("name", "string"), ("type", "token"), ("address-city", "string"), ("identifier", "token")];
pub(crate) const LOCATION_SEARCH: &[(&str, &str)] =
    &[("name", "string"), ("type", "token"), ("address-city", "string"), ("near", "special")];
pub(crate) const AUDIT_EVENT_SEARCH: &[(&str, &str)] =
    &[("patient", "reference"), ("entity", "reference"), ("date", "date")];
pub(crate) const HEALTHCARE_SERVICE_SEARCH: &[(&str, &str)] = &[
    ("name", "string"),
    ("type", "token"),
    ("address-city", "string"),
    ("service-type", "token"),
    ("characteristic", "token"),
];
/// What a facility offers by its own account (訪問診療, 人工呼吸器, ...).
pub(crate) const FACILITY_SERVICES: &str = "urn:tsunagu:facility-service";
/// Whether a facility takes new patients now (`yes`, `limited`, `no`).
pub(crate) const ACCEPTING: &str = "urn:tsunagu:accepting-new-patients";
pub(crate) const PRACTITIONER_SEARCH: &[(&str, &str)] = &[("name", "string")];
pub(crate) const PRACTITIONER_ROLE_SEARCH: &[(&str, &str)] =
    &[("practitioner", "reference"), ("organization", "reference")];
pub(crate) const JP_PRACTITIONER: &str = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Practitioner";
const PROFESSIONS: &str = "urn:tsunagu:profession";
pub(crate) const ENCOUNTER_SEARCH: &[(&str, &str)] = &[
    ("patient", "reference"),
    ("subject", "reference"),
    ("date", "date"),
    ("_lastUpdated", "date"),
    ("_sort", "special"),
];
pub(crate) const JP_ENCOUNTER: &str = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Encounter";
pub(crate) const DOCUMENT_SEARCH: &[(&str, &str)] =
    &[("patient", "reference"), ("subject", "reference"), ("date", "date"), ("_lastUpdated", "date")];
pub(crate) const CARE_TEAM_SEARCH: &[(&str, &str)] = &[("patient", "reference"), ("subject", "reference")];
pub(crate) const CONSENT_SEARCH: &[(&str, &str)] =
    &[("patient", "reference"), ("subject", "reference"), ("category", "token"), ("status", "token")];

pub(crate) fn names(table: &[(&'static str, &str)]) -> Vec<&'static str> {
    table.iter().map(|(n, _)| *n).collect()
}

/// An instant as FHIR writes it, in Japan time.
pub(crate) fn instant(t: OffsetDateTime) -> String {
    t.to_offset(JST).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 1e15 { json!(x as i64) } else { json!(x) }
}

fn gender(sex: Sex) -> &'static str {
    match sex {
        Sex::Female => "female",
        Sex::Male => "male",
        Sex::Other => "other",
        Sex::Unknown => "unknown",
    }
}

/// A Patient (JP_Patient), serialised straight from the record: a patient
/// read or search is the API's most frequent answer, and building it as a
/// `serde_json::Value` tree first cost more than the rest of the request.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PatientResource<'a> {
    resource_type: &'static str,
    id: uuid::Uuid,
    meta: PatientMeta,
    identifier: [System<String>; 1],
    active: bool,
    name: [HumanName<'a>; 2],
    gender: &'static str,
    birth_date: String,
    address: [Address<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    telecom: Option<[Telecom<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<[Contact<'a>; 1]>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PatientMeta {
    last_updated: String,
    profile: [&'static str; 1],
}

#[derive(Serialize)]
struct System<V> {
    system: &'static str,
    value: V,
}

#[derive(Serialize)]
struct HumanName<'a> {
    extension: [CodeExtension; 1],
    #[serde(rename = "use")]
    name_use: &'static str,
    text: String,
    family: &'a str,
    given: [&'a str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeExtension {
    url: &'static str,
    value_code: &'static str,
}

#[derive(Serialize)]
struct Address<'a> {
    #[serde(rename = "use")]
    address_use: &'static str,
    text: &'a str,
    country: &'static str,
}

#[derive(Serialize)]
struct Telecom<'a> {
    system: &'static str,
    value: &'a str,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    telecom_use: Option<&'static str>,
}

#[derive(Serialize)]
struct Contact<'a> {
    relationship: [Text<'static>; 1],
    name: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    telecom: Option<[Telecom<'a>; 1]>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

/// JP_Patient: the kanji name (IDE) and the kana name (SYL) as two HumanNames.
pub(crate) fn patient(p: &PatientRecord) -> PatientResource<'_> {
    let v = &p.view;
    PatientResource {
        resource_type: "Patient",
        id: v.id,
        meta: PatientMeta { last_updated: instant(p.updated_at), profile: [JP_PATIENT] },
        identifier: [System { system: "urn:ietf:rfc:3986", value: format!("urn:uuid:{}", v.id) }],
        active: v.status != PatientStatus::Ended,
        name: [
            human_name(&p.family_name, &p.given_name, "IDE"),
            human_name(&p.family_name_kana, &p.given_name_kana, "SYL"),
        ],
        gender: gender(v.sex),
        birth_date: v.birth_date.to_string(),
        address: [Address { address_use: "home", text: &v.address, country: "JP" }],
        telecom: v.phone.as_deref().map(|phone| [Telecom { system: "phone", value: phone, telecom_use: Some("home") }]),
        contact: v.key_person.as_deref().map(|person| {
            [Contact {
                relationship: [Text { text: "キーパーソン" }],
                name: Text { text: person },
                telecom: v
                    .key_person_phone
                    .as_deref()
                    .map(|phone| [Telecom { system: "phone", value: phone, telecom_use: None }]),
            }]
        }),
    }
}

/// A name as JP Core writes it: kanji (`IDE`) or kana (`SYL`), `text` as
/// family + half-width space + given.
fn human_name<'a>(family: &'a str, given: &'a str, representation: &'static str) -> HumanName<'a> {
    HumanName {
        extension: [CodeExtension { url: NAME_REPRESENTATION, value_code: representation }],
        name_use: "official",
        text: format!("{family} {given}"),
        family,
        given: [given],
    }
}

/// The Observation id of one measurement of an entry.
pub(crate) fn observation_id(entry: uuid::Uuid, code: VitalCode) -> String {
    format!("{entry}-{}", code.suffix())
}

/// One measurement of a measured entry, or `None` if the entry has no such value.
pub(crate) fn observation(m: &TimelineEntry, code: VitalCode) -> Option<Value> {
    let value = code.values(&m.vitals)?;
    let (system, loinc) = code.coding();
    let (ja, en) = code.display();
    let quantity = |x: f64| json!({ "value": number(x), "unit": code.unit(), "system": UCUM, "code": code.unit() });
    let category = if code.is_vital_sign() { ("vital-signs", "Vital Signs") } else { ("survey", "Survey") };
    let mut resource = json!({
        "resourceType": "Observation",
        "id": observation_id(m.id, code),
        "meta": { "versionId": m.version.to_string(), "lastUpdated": instant(m.edited_at) },
        "status": if m.version > 1 { "amended" } else { "final" },
        "category": [{ "coding": [{ "system": OBSERVATION_CATEGORY, "code": category.0, "display": category.1 }] }],
        "code": { "coding": [{ "system": system, "code": loinc, "display": en }], "text": ja },
        "subject": { "reference": format!("Patient/{}", m.patient_id) },
        "effectiveDateTime": instant(m.created_at),
        "issued": instant(m.created_at),
        "performer": [{ "display": m.author_name }],
    });
    if code.is_vital_sign() {
        resource["meta"]["profile"] = json!([JP_VITAL_SIGNS]);
    }
    match value {
        VitalValue::One(x) => resource["valueQuantity"] = quantity(x),
        VitalValue::Pressure(s, d) => {
            let component = |loinc: &str, display: &str, x: u16| {
                json!({
                    "code": { "coding": [{ "system": tsunagu_domain::interop::LOINC, "code": loinc, "display": display }] },
                    "valueQuantity": quantity(f64::from(x)),
                })
            };
            resource["component"] = json!([
                component(SYSTOLIC_LOINC, "Systolic blood pressure", s),
                component(DIASTOLIC_LOINC, "Diastolic blood pressure", d),
            ]);
        }
    }
    if !m.note.trim().is_empty() {
        resource["note"] = json!([{ "text": m.note }]);
    }
    Some(resource)
}

/// A patient's care team, one per patient (its id is the patient's). Each
/// member is a contained PractitionerRole, to carry their facility and phone.
pub(crate) fn care_team(c: &CareTeamRecord) -> Value {
    let patient = &c.patient.view;
    let status = match (patient.status, c.consent) {
        (PatientStatus::Ended, _) => "inactive",
        (_, ConsentState::Pending) => "proposed",
        (_, ConsentState::Withdrawn) => "suspended",
        (_, ConsentState::Active) => "active",
    };
    let mut contained = Vec::new();
    let mut participants = Vec::new();
    for (i, m) in c.members.iter().enumerate() {
        let local = format!("member{}", i + 1);
        let role_code = m.team_role.map(|r| r.code()).unwrap_or("other");
        let role_label = m.team_role.map(|r| r.label_ja()).unwrap_or("その他");
        let mut role = json!({
            "resourceType": "PractitionerRole",
            "id": local,
            "active": m.left_at.is_none(),
            "practitioner": { "reference": format!("Practitioner/{}", m.account_id), "display": m.display_name },
            "code": [{ "coding": [{ "system": TEAM_ROLES, "code": role_code, "display": role_label }], "text": role_label }],
        });
        if let Some(profession) = m.profession {
            role["specialty"] = json!([{ "text": profession.label_ja() }]);
        }
        if let Some(facility) = &m.facility_name {
            role["organization"] = json!({ "display": facility });
        }
        if let Some(phone) = &m.phone {
            role["telecom"] = json!([{ "system": "phone", "value": phone, "use": "work" }]);
        }
        contained.push(role);
        let mut period = json!({ "start": instant(m.joined_at) });
        if let Some(left) = m.left_at {
            period["end"] = json!(instant(left));
        }
        participants.push(json!({
            "role": [{ "coding": [{ "system": TEAM_ROLES, "code": role_code, "display": role_label }], "text": role_label }],
            "member": { "reference": format!("#{local}"), "display": m.display_name },
            "period": period,
        }));
    }
    let mut resource = json!({
        "resourceType": "CareTeam",
        "id": patient.id.to_string(),
        "status": status,
        "name": format!("{} 様の在宅ケアチーム", patient.name),
        "subject": { "reference": format!("Patient/{}", patient.id), "display": patient.name },
        "participant": participants,
    });
    if !contained.is_empty() {
        resource["contained"] = json!(contained);
    }
    resource
}

/// A resource in a Bundle: its type and id make the entry's `fullUrl`.
pub(crate) trait BundleResource: Serialize {
    fn type_and_id(&self) -> (&str, String);
}

impl BundleResource for Value {
    fn type_and_id(&self) -> (&str, String) {
        (self["resourceType"].as_str().unwrap_or(""), self["id"].as_str().unwrap_or("").to_owned())
    }
}

impl BundleResource for PatientResource<'_> {
    fn type_and_id(&self) -> (&str, String) {
        (self.resource_type, self.id.to_string())
    }
}

/// A search's answer (a `searchset` Bundle), serialised as it stands.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Searchset<R> {
    resource_type: &'static str,
    #[serde(rename = "type")]
    bundle_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
    pub link: Vec<Link>,
    entry: Vec<BundleEntry<R>>,
}

#[derive(Serialize)]
pub(crate) struct Link {
    relation: &'static str,
    pub url: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BundleEntry<R> {
    full_url: String,
    resource: R,
    search: SearchMode,
}

#[derive(Serialize)]
struct SearchMode {
    mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    extension: Option<Value>,
}

impl<R> Searchset<R> {
    /// Adds an extension to the `search` of the entry at `index` (a distance, say).
    pub(crate) fn extend_search(&mut self, index: usize, extension: Value) {
        if let Some(entry) = self.entry.get_mut(index) {
            entry.search.extension = Some(extension);
        }
    }
}

/// A search result: `entries` are (resource, "match" | "include").
pub(crate) fn searchset<R: BundleResource>(
    base: &str,
    resource_type: &str,
    query: &str,
    next: Option<String>,
    previous: Option<String>,
    entries: Vec<(R, &'static str)>,
) -> Searchset<R> {
    let mut link = vec![Link { relation: "self", url: format!("{base}/{resource_type}?{query}") }];
    if let Some(next) = next {
        link.push(Link { relation: "next", url: format!("{base}/{resource_type}?{next}") });
    }
    if let Some(previous) = previous {
        link.push(Link { relation: "previous", url: format!("{base}/{resource_type}?{previous}") });
    }
    let entry = entries
        .into_iter()
        .map(|(resource, mode)| {
            let (kind, id) = resource.type_and_id();
            BundleEntry {
                full_url: format!("{base}/{kind}/{id}"),
                resource,
                search: SearchMode { mode, extension: None },
            }
        })
        .collect();
    Searchset { resource_type: "Bundle", bundle_type: "searchset", total: None, link, entry }
}

/// A typed resource as a JSON tree, where it joins resources built as trees
/// (an `_include`, an export). Plain structs of strings cannot fail to convert.
pub(crate) fn tree(resource: impl Serialize) -> Value {
    serde_json::to_value(resource).unwrap_or(Value::Null)
}

/// What this server does, exactly.
pub(crate) fn capability_statement(base: &str, now: OffsetDateTime) -> Value {
    let params = |table: &[(&str, &str)]| -> Vec<Value> {
        table.iter().map(|(name, kind)| json!({ "name": name, "type": kind })).collect()
    };
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(now),
        "publisher": "tsunagu",
        "kind": "instance",
        "software": { "name": "tsunagu", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "tsunagu: 在宅医療・介護連携の情報共有 FHIR API", "url": base },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "interaction": [
                { "code": "transaction", "documentation": "Bundles of POSTed Observations and Communications (with request.ifNoneExist), all or nothing." },
                { "code": "batch", "documentation": "The same entries, each written on its own and answered with its own status (a refused one with its OperationOutcome)." },
            ],
            "documentation": "Names match anywhere in the kanji or kana name (width and hiragana/katakana folded). \
                A search returns only the caller's own patients. Paging: _count (1-100) and _offset. \
                Observation searches need patient (or subject); _count counts the entries that carry measurements. \
                Unsupported parameters are refused with an OperationOutcome.",
            "security": {
                "cors": false,
                "service": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR" }] }],
                "description": "Bearer API tokens (made on the account page, or with `tsunagu client create`), acting for their owner under the same access rules, narrowed by SMART-style scopes such as user/Patient.read and user/Observation.write.",
            },
            "resource": [
                {
                    "type": "Organization",
                    "profile": JP_ORGANIZATION,
                    "documentation": "The public resource registry: no token needed (rate-limited per address).",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": params(ORGANIZATION_SEARCH),
                },
                {
                    "type": "Location",
                    "documentation": "The public resource registry: no token needed. near=latitude|longitude|distance|unit (km or m), nearest first.",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": params(LOCATION_SEARCH),
                },
                {
                    "type": "HealthcareService",
                    "documentation": "What each facility of the public registry offers and whether it takes new patients now: no token needed.",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": params(HEALTHCARE_SERVICE_SEARCH),
                },
                {
                    "type": "Patient",
                    "profile": JP_PATIENT,
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "operation": [{ "name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything" }],
                    "searchParam": params(PATIENT_SEARCH),
                },
                {
                    "type": "Observation",
                    "supportedProfile": [JP_VITAL_SIGNS],
                    "interaction": [{ "code": "read" }, { "code": "vread" }, { "code": "history-instance" }, { "code": "search-type" }, { "code": "create" }],
                    "versioning": "versioned",
                    "conditionalCreate": true,
                    "searchInclude": ["Observation:patient", "Observation:subject"],
                    "searchParam": params(OBSERVATION_SEARCH),
                },
                {
                    "type": "Communication",
                    "interaction": [{ "code": "read" }, { "code": "vread" }, { "code": "history-instance" }, { "code": "search-type" }, { "code": "create" }],
                    "versioning": "versioned",
                    "conditionalCreate": true,
                    "searchParam": params(COMMUNICATION_SEARCH),
                },
                {
                    "type": "Encounter",
                    "profile": JP_ENCOUNTER,
                    "documentation": "Visit records (訪問記録) as home-health encounters.",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": params(ENCOUNTER_SEARCH),
                },
                {
                    "type": "DocumentReference",
                    "documentation": "Photos and PDFs attached to the timeline; the bytes at Binary/{id}.",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": params(DOCUMENT_SEARCH),
                },
                {
                    "type": "Binary",
                    "documentation": "An attachment's bytes, as stored (SHA-256 checked on every read).",
                    "interaction": [{ "code": "read" }],
                },
                {
                    "type": "Practitioner",
                    "profile": JP_PRACTITIONER,
                    "documentation": "Colleagues of the caller's municipality (as when adding someone to a team).",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": params(PRACTITIONER_SEARCH),
                },
                {
                    "type": "PractitionerRole",
                    "documentation": "A colleague's profession at each facility they work at (team roles are in CareTeam).",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": params(PRACTITIONER_ROLE_SEARCH),
                },
                {
                    "type": "AuditEvent",
                    "documentation": "Who read a patient's record (its access history), as the record's page shows it.",
                    "interaction": [{ "code": "search-type" }],
                    "searchParam": params(AUDIT_EVENT_SEARCH),
                },
                {
                    "type": "CareTeam",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": params(CARE_TEAM_SEARCH),
                },
                {
                    "type": "Consent",
                    "documentation": "Consent to sharing (category LOINC 59284-0) and every revision of the advance care plan (人生会議, 75320-2; the current one active).",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": params(CONSENT_SEARCH),
                },
            ],
        }],
    })
}

/// Text for XHTML narrative.
fn xml_escape(raw: &str) -> String {
    raw.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A human-readable narrative: one paragraph per (label, value).
fn narrative(lines: &[(&str, String)]) -> Value {
    let body: String =
        lines.iter().map(|(label, value)| format!("<p>{}: {}</p>", xml_escape(label), xml_escape(value))).collect();
    json!({ "status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{body}</div>") })
}

/// The patient's consent to sharing (newest first in `n`, numbered oldest = 1).
pub(crate) fn consent(patient: uuid::Uuid, n: usize, c: &tsunagu_app::patients::ConsentView) -> Value {
    let method = tsunagu_domain::patient::ConsentMethod::parse(&c.method).map(|m| m.label_ja()).unwrap_or("");
    let mut lines = vec![("同意日", c.given_on.to_string()), ("方法", method.to_owned()), ("範囲", c.scope.clone())];
    if let Some(proxy) = &c.proxy_name {
        lines.push(("代理人", format!("{proxy}（{}）", c.proxy_relation.as_deref().unwrap_or(""))));
    }
    let mut period = json!({ "start": c.given_on.to_string() });
    if let Some(w) = c.withdrawn_at {
        lines.push(("撤回", instant(w)));
        period["end"] = json!(instant(w));
    }
    json!({
        "resourceType": "Consent",
        "id": format!("{patient}-consent-{n}"),
        "text": narrative(&lines),
        "status": if c.withdrawn_at.is_none() { "active" } else { "inactive" },
        "scope": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy" }] },
        "category": [{ "coding": [{ "system": tsunagu_domain::interop::LOINC, "code": "59284-0", "display": "Patient Consent" }], "text": "在宅医療・介護の情報共有への同意" }],
        "patient": { "reference": format!("Patient/{patient}") },
        "dateTime": c.given_on.to_string(),
        "policyRule": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN" }] },
        "provision": { "type": "permit", "period": period },
    })
}

/// One revision of the advance care plan (人生会議) as an advance-directive Consent.
pub(crate) fn advance_care_plan(
    patient: uuid::Uuid,
    n: usize,
    current: bool,
    a: &tsunagu_app::patients::AcpView,
) -> Value {
    let label = |v: Option<&'static str>| v.unwrap_or("未記入").to_owned();
    let mut lines = vec![
        ("話し合った日", a.discussed_on.to_string()),
        ("参加者", a.participants.clone()),
        ("療養したい場所", label(a.place_of_care.map(|p| p.label_ja()))),
        ("最期を迎えたい場所", label(a.place_of_death.map(|p| p.label_ja()))),
        ("延命治療について", label(a.treatment.map(|t| t.label_ja()))),
    ];
    if let Some(proxy) = &a.proxy_name {
        lines.push(("代理意思決定者", format!("{proxy}（{}）", a.proxy_relation.as_deref().unwrap_or(""))));
    }
    if let Some(wishes) = &a.wishes {
        lines.push(("本人の希望", wishes.clone()));
    }
    lines.push(("記録", format!("{} {}", a.recorder_name, instant(a.recorded_at))));
    json!({
        "resourceType": "Consent",
        "id": format!("{patient}-acp-{n}"),
        "text": narrative(&lines),
        "status": if current { "active" } else { "inactive" },
        "scope": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "adr" }] },
        "category": [{ "coding": [{ "system": tsunagu_domain::interop::LOINC, "code": "75320-2", "display": "Advance directive" }], "text": "人生会議（ACP）" }],
        "patient": { "reference": format!("Patient/{patient}") },
        "dateTime": a.discussed_on.to_string(),
        "policyRule": { "text": "人生会議（アドバンス・ケア・プランニング）での本人の意思" },
        "provision": { "type": "permit" },
    })
}

/// A patient's whole record as one Bundle: the Patient (match), then the
/// care team, consents, every ACP revision, the timeline as Communications
/// and its measurements as Observations.
pub(crate) fn everything(base: &str, export: &tsunagu_app::fhir::PatientExport) -> Searchset<Value> {
    let id = export.team.patient.view.id;
    let mut entries: Vec<(Value, &'static str)> =
        vec![(tree(patient(&export.team.patient)), "match"), (care_team(&export.team), "include")];
    let total = export.consents.len();
    for (i, c) in export.consents.iter().enumerate() {
        entries.push((consent(id, total - i, c), "include"));
    }
    let total = export.acp.len();
    for (i, a) in export.acp.iter().enumerate() {
        entries.push((advance_care_plan(id, total - i, i == 0, a), "include"));
    }
    for e in &export.entries {
        entries.push((communication(e), "include"));
        if e.kind == EntryKind::VisitRecord {
            entries.push((encounter(e), "include"));
        }
        for code in VitalCode::ALL {
            if let Some(o) = observation(e, code) {
                entries.push((o, "include"));
            }
        }
    }
    for d in &export.documents {
        entries.push((document_reference(base, d), "include"));
    }
    let mut bundle = searchset(base, &format!("Patient/{id}/$everything"), "", None, None, entries);
    if let Some(own) = bundle.link.first_mut() {
        own.url = format!("{base}/Patient/{id}/$everything");
    }
    bundle.total = Some(1);
    bundle
}

/// One look at a patient's record (its access history) as an AuditEvent:
/// who, when, what they did (the audit log's action), which record.
pub(crate) fn audit_event(patient: uuid::Uuid, a: &tsunagu_app::patients::AccessView) -> Value {
    json!({
        "resourceType": "AuditEvent",
        "id": a.id.to_string(),
        "type": { "system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "RESTful Operation" },
        "subtype": [{ "system": "urn:tsunagu:audit-action", "code": a.action.code(), "display": a.action.label_ja() }],
        "action": "R",
        "recorded": instant(a.at),
        "outcome": "0",
        "agent": [{ "who": { "display": a.who }, "requestor": true }],
        "source": { "observer": { "display": "tsunagu" } },
        "entity": [{ "what": { "reference": format!("Patient/{patient}") } }],
    })
}

/// What a facility of the public registry offers, by its own account: its
/// services, whether it takes new patients now (and when that was confirmed),
/// opening hours and languages (id = the facility's).
pub(crate) fn healthcare_service(
    m: &PublicMunicipality,
    f: &PublicFacility,
    profile: &tsunagu_app::registry::ProfileView,
) -> Value {
    let mut resource = json!({
        "resourceType": "HealthcareService",
        "id": f.id.to_string(),
        "active": true,
        "providedBy": { "reference": format!("Organization/{}", f.id), "display": f.name },
        "location": [{ "reference": format!("Location/{}", f.id) }],
        "category": facility_type(f),
        "name": f.name,
        "coverageArea": [{ "display": m.name }],
    });
    if !profile.services.is_empty() {
        resource["type"] = json!(profile
            .services
            .iter()
            .map(|s| json!({ "coding": [{ "system": FACILITY_SERVICES, "code": s.code(), "display": s.label_ja() }], "text": s.label_ja() }))
            .collect::<Vec<_>>());
    }
    if let Some(accepting) = profile.accepting {
        let text = match profile.accepting_confirmed_on {
            Some(on) => format!("新規の受け入れ: {}（{on} 確認）", accepting.label_ja()),
            None => format!("新規の受け入れ: {}", accepting.label_ja()),
        };
        resource["characteristic"] = json!([{ "coding": [{ "system": ACCEPTING, "code": accepting.code(), "display": accepting.label_ja() }], "text": text }]);
    }
    if let Some(hours) = profile.opening_hours.as_deref().filter(|h| !h.is_empty()) {
        resource["availabilityExceptions"] = json!(hours);
    }
    if let Some(languages) = profile.languages.as_deref().filter(|l| !l.is_empty()) {
        resource["communication"] = json!([{ "text": languages }]);
    }
    if let Some(note) = profile.note.as_deref().filter(|n| !n.is_empty()) {
        resource["comment"] = json!(note);
    }
    let telecom = facility_telecom(f);
    if !telecom.is_empty() {
        resource["telecom"] = json!(telecom);
    }
    resource
}

/// A colleague (JP_Practitioner): the name (and its kana, when known) as
/// HumanNames like a patient's, the profession, where they work.
pub(crate) fn practitioner(p: &tsunagu_app::fhir::PractitionerRecord) -> Value {
    let name = |text: &str, representation: &str| {
        let mut n = json!({
            "extension": [{ "url": NAME_REPRESENTATION, "valueCode": representation }],
            "use": "official",
            "text": text,
        });
        if let Some((family, given)) = text.split_once([' ', '　']) {
            n["family"] = json!(family);
            n["given"] = json!([given.trim()]);
        }
        n
    };
    let mut names = vec![name(&p.display_name, "IDE")];
    if let Some(kana) = p.display_name_kana.as_deref().filter(|k| !k.is_empty()) {
        names.push(name(kana, "SYL"));
    }
    let mut resource = json!({
        "resourceType": "Practitioner",
        "id": p.id.to_string(),
        "meta": { "profile": [JP_PRACTITIONER] },
        "active": p.active,
        "name": names,
        "qualification": [{ "code": { "coding": [{ "system": PROFESSIONS, "code": p.profession.code(), "display": p.profession.label_ja() }], "text": p.profession.label_ja() } }],
    });
    if !p.facilities.is_empty() {
        let names: Vec<&str> = p.facilities.iter().map(|w| w.name.as_str()).collect();
        resource["text"] = narrative(&[("勤務先", names.join("、"))]);
    }
    resource
}

/// A practitioner's roles: their profession at each facility they work at
/// (`{practitioner}-{n}`, facilities in id order from 1), or one role without
/// a facility (`{practitioner}-0`). Team roles (主治医, ...) are the CareTeam's.
pub(crate) fn practitioner_roles(p: &tsunagu_app::fhir::PractitionerRecord) -> Vec<Value> {
    let role = |id: String, workplace: Option<&tsunagu_app::fhir::Workplace>| {
        let mut r = json!({
            "resourceType": "PractitionerRole",
            "id": id,
            "active": p.active,
            "practitioner": { "reference": format!("Practitioner/{}", p.id), "display": p.display_name },
            "code": [{ "coding": [{ "system": PROFESSIONS, "code": p.profession.code(), "display": p.profession.label_ja() }], "text": p.profession.label_ja() }],
        });
        if let Some(w) = workplace {
            r["organization"] = json!({ "reference": format!("Organization/{}", w.facility), "display": w.name });
        }
        r
    };
    let mut workplaces: Vec<&tsunagu_app::fhir::Workplace> = p.facilities.iter().collect();
    workplaces.sort_by_key(|w| w.facility);
    if workplaces.is_empty() {
        return vec![role(format!("{}-0", p.id), None)];
    }
    workplaces.into_iter().enumerate().map(|(i, w)| role(format!("{}-{}", p.id, i + 1), Some(w))).collect()
}

/// A visit record (訪問記録) as a home-health Encounter: who visited, when;
/// what was done and found is the record's text (and its Communication).
pub(crate) fn encounter(e: &TimelineEntry) -> Value {
    json!({
        "resourceType": "Encounter",
        "id": e.id.to_string(),
        "meta": { "versionId": e.version.to_string(), "lastUpdated": instant(e.edited_at), "profile": [JP_ENCOUNTER] },
        "status": "finished",
        "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH", "display": "home health" },
        "type": [{ "text": EntryKind::VisitRecord.label_ja() }],
        "subject": { "reference": format!("Patient/{}", e.patient_id) },
        "participant": [{ "individual": { "reference": format!("Practitioner/{}", e.author_id), "display": e.author_name } }],
        "period": { "start": instant(e.created_at) },
        "reasonCode": [{ "text": e.note.chars().take(200).collect::<String>() }],
    })
}

/// An attachment (a photo or a PDF on a timeline entry) as a DocumentReference;
/// its bytes are at `Binary/{id}` (read with the same token, audited).
pub(crate) fn document_reference(base: &str, d: &tsunagu_app::fhir::DocumentRecord) -> Value {
    let kind = if d.content_type.starts_with("image/") { "写真" } else { "PDF" };
    json!({
        "resourceType": "DocumentReference",
        "id": d.id.to_string(),
        "status": "current",
        "type": { "text": kind },
        "subject": { "reference": format!("Patient/{}", d.patient_id) },
        "date": instant(d.created_at),
        "description": d.file_name,
        "content": [{ "attachment": {
            "contentType": d.content_type,
            "url": format!("{base}/Binary/{}", d.id),
            "size": d.size_bytes,
            "title": d.file_name,
            "creation": instant(d.created_at),
        } }],
        "context": { "related": [{ "reference": format!("Communication/{}", d.entry_id) }] },
    })
}
