"""Checks tsunagu's FHIR API with tools nobody on the project wrote.

fhirpy (a FHIR client) finds a patient by kana, reads the care team and
posts vital signs, as an EHR would; every resource the server returns on the
way (and a few errors) must validate against the fhir.resources R4B models,
and the JP Core name rules are asserted. Usage: check.py BASE_URL TOKEN
"""

import json
import sys
import urllib.error
import urllib.request

from fhir.resources.R4B import get_fhir_model_class
from fhirpy import SyncFHIRClient

BASE, TOKEN = sys.argv[1], sys.argv[2]
checked = 0


def validate(resource: dict) -> None:
    """Validates a resource (and, for a Bundle, each entry) against R4B."""
    global checked
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    checked += 1
    for entry in resource.get("entry", []):
        # A batch-response entry that failed has no resource, only an outcome.
        for part in (entry.get("resource"), entry.get("response", {}).get("outcome")):
            if part is not None:
                validate(part)


def post_bundle(bundle: dict) -> dict:
    """POSTs a transaction or batch Bundle to the base and validates the answer."""
    request = urllib.request.Request(
        BASE,
        data=json.dumps(bundle).encode(),
        method="POST",
        headers={"Content-Type": "application/fhir+json", "Authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(request) as response:
        answer = json.load(response)
    validate(answer)
    return answer


def get(path: str, token: str | None = TOKEN) -> tuple[int, dict]:
    request = urllib.request.Request(BASE + path, headers={"Accept": "application/fhir+json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request) as response:
            assert response.headers["Content-Type"].startswith("application/fhir+json")
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def is_katakana(text: str) -> bool:
    return all("\u30a0" <= c <= "\u30ff" for c in text.replace(" ", ""))


def check_jp_core_names(patient: dict) -> None:
    kanji, kana = patient["name"]
    rep = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
    assert kanji["extension"] == [{"url": rep, "valueCode": "IDE"}], kanji
    assert kana["extension"] == [{"url": rep, "valueCode": "SYL"}], kana
    for name in (kanji, kana):
        assert name["text"] == f"{name['family']} {name['given'][0]}", name
    assert is_katakana(kana["text"]), kana


# The CapabilityStatement, without a token.
status, metadata = get("/metadata", token=None)
assert status == 200 and metadata["fhirVersion"] == "4.0.1", metadata
validate(metadata)

client = SyncFHIRClient(BASE, authorization=f"Bearer {TOKEN}", extra_headers={"Accept": "application/fhir+json"})

# Find a patient by kana typed in hiragana (the demo's 柏木 トメ, カシワギ).
patients = client.resources("Patient").search(name="かしわぎ").fetch()
assert len(patients) == 1, patients
patient = patients[0].serialize()
validate(patient)
check_jp_core_names(patient)
assert patient["name"][0]["text"] == "柏木 トメ", patient["name"]
status, bundle = get("/Patient?name=%E3%81%8B%E3%81%97%E3%82%8F%E3%81%8E")
validate(bundle)

# Every patient of the doctor, page by page: each validates.
status, page = get("/Patient?_count=2")
pages = 0
while True:
    assert status == 200, page
    validate(page)
    for entry in page.get("entry", []):
        check_jp_core_names(entry["resource"])
    pages += 1
    following = [link["url"] for link in page["link"] if link["relation"] == "next"]
    if not following:
        break
    status, page = get(following[0][len(BASE):])
assert pages >= 2, pages

# The care team.
teams = client.resources("CareTeam").search(patient=patient["id"]).fetch()
assert len(teams) == 1
team = teams[0].serialize()
validate(team)
roles = {p["role"][0]["coding"][0]["code"] for p in team["participant"]}
assert {"primary_physician", "visiting_nurse"} <= roles, roles

# The team's members as Practitioners (JP_Practitioner), and colleagues by name.
member = team["contained"][0]["practitioner"]["reference"]
status, practitioner = get("/" + member)
assert status == 200, practitioner
validate(practitioner)
status, colleagues = get("/Practitioner?name=suzuki")
assert status == 200 and colleagues.get("entry"), colleagues
validate(colleagues)
# Their roles: profession and facility.
status, roles = get(f"/PractitionerRole?practitioner={member}")
assert status == 200 and roles["entry"][0]["resource"]["practitioner"]["reference"] == member, roles
validate(roles)
status, role = get(f"/PractitionerRole/{roles['entry'][0]['resource']['id']}")
assert status == 200, role
validate(role)
# A facility's staff, by the organization of that role (the member works at one).
assert "organization" in role, role
status, staff = get(f"/PractitionerRole?organization={role['organization']['reference']}")
assert status == 200 and any(r["resource"]["id"] == role["id"] for r in staff["entry"]), staff
validate(staff)

# Vital signs from a "device": a temperature and a blood pressure.
reference = {"reference": f"Patient/{patient['id']}"}
category = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}]
ucum = "http://unitsofmeasure.org"
temperature = client.resource(
    "Observation",
    status="final",
    category=category,
    code={"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
    subject=reference,
    effectiveDateTime="2026-11-29T08:00:00+09:00",
    valueQuantity={"value": 37.4, "unit": "Cel", "system": ucum, "code": "Cel"},
)
temperature.save()
assert temperature.id and temperature["status"] == "final", temperature.serialize()
validate(temperature.serialize())
pressure = client.resource(
    "Observation",
    status="final",
    category=category,
    code={"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
    subject=reference,
    component=[
        {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 132, "system": ucum, "code": "mm[Hg]"}},
        {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": 84, "system": ucum, "code": "mm[Hg]"}},
    ],
)
pressure.save()
validate(pressure.serialize())

# The Location the server answered is readable (vread), and so is the history.
status, version = get(f"/Observation/{temperature.id}/_history/1")
assert status == 200 and version["id"] == temperature.id, version
validate(version)
status, history = get(f"/Communication/{temperature.id.split('-bt')[0]}/_history")
assert status == 200 and history["type"] == "history", history
validate(history)

# Read back: the measurements with the patient included.
found = client.resources("Observation").search(patient=patient["id"], code="http://loinc.org|8310-5").fetch()
assert any(o.id == temperature.id for o in found), [o.id for o in found]
status, bundle = get(f"/Observation?patient={patient['id']}&_include=Observation:patient")
assert status == 200
validate(bundle)
assert any(e["search"]["mode"] == "include" for e in bundle["entry"])
status, one = get(f"/Observation/{pressure.id}")
assert status == 200 and [c["valueQuantity"]["value"] for c in one["component"]] == [132, 84], one
validate(one)

# A note from the EHR to the team, and the timeline read back as Communications.
note = client.resource(
    "Communication",
    status="completed",
    category=[{"coding": [{"system": "urn:tsunagu:entry-kind", "code": "message"}]}],
    subject=reference,
    payload=[{"contentString": "本日の処方を変更しました。詳細は訪問時に説明します。"}],
)
note.save()
validate(note.serialize())
status, timeline = get(f"/Communication?patient={patient['id']}&_count=50")
assert status == 200, timeline
validate(timeline)
assert any(e["resource"]["id"] == note.id for e in timeline["entry"]), "the note is on the timeline"

# A transaction Bundle with a conditional create, sent twice (a retry): the
# second answer finds the first measurement instead of making another.
spo2 = {
    "resourceType": "Observation",
    "status": "final",
    "identifier": [{"system": "urn:example:oximeter", "value": "reading-1"}],
    "category": category,
    "code": {"coding": [{"system": "http://loinc.org", "code": "59408-5"}]},
    "subject": reference,
    "valueQuantity": {"value": 95, "unit": "%", "system": ucum, "code": "%"},
}
transaction = {
    "resourceType": "Bundle",
    "type": "transaction",
    "entry": [{"resource": spo2, "request": {"method": "POST", "url": "Observation", "ifNoneExist": "identifier=urn:example:oximeter|reading-1"}}],
}
validate(transaction)
answers = []
for _ in range(2):
    answer = post_bundle(transaction)
    answers.append(answer["entry"][0]["response"]["status"])
assert answers == ["201 Created", "200 OK"], answers

# A batch: each entry on its own; an implausible reading is refused alone.
implausible = dict(spo2, identifier=[{"system": "urn:example:oximeter", "value": "reading-2"}])
implausible["valueQuantity"] = dict(spo2["valueQuantity"], value=140)
batch = {
    "resourceType": "Bundle",
    "type": "batch",
    "entry": [
        {"resource": dict(spo2, identifier=[{"system": "urn:example:oximeter", "value": "reading-3"}]), "request": {"method": "POST", "url": "Observation"}},
        {"resource": implausible, "request": {"method": "POST", "url": "Observation"}},
    ],
}
validate(batch)
answer = post_bundle(batch)
statuses = [e["response"]["status"] for e in answer["entry"]]
assert answer["type"] == "batch-response" and statuses == ["201 Created", "422 Unprocessable Entity"], answer
assert answer["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome", answer

# The whole record for a transfer: every resource in it validates.
status, record = get(f"/Patient/{patient['id']}/$everything")
assert status == 200 and record["entry"][0]["resource"]["id"] == patient["id"], record
validate(record)
kinds = {e["resource"]["resourceType"] for e in record["entry"]}
assert {"Patient", "CareTeam", "Consent", "Communication", "Observation"} <= kinds, kinds

# Visit records as Encounters.
status, visits = get(f"/Encounter?patient={patient['id']}")
assert status == 200, visits
validate(visits)

# Consent to sharing and the advance care plans, searched and read one by one.
status, consents = get(f"/Consent?patient={patient['id']}")
assert status == 200 and consents["entry"], consents
validate(consents)
first = consents["entry"][0]["resource"]
status, one = get(f"/Consent/{first['id']}")
assert status == 200 and one == first, one
validate(one)

# Photos and PDFs of the timeline (the demo may have none: the Bundle still validates).
status, documents = get(f"/DocumentReference?patient={patient['id']}")
assert status == 200, documents
validate(documents)

# Who read the record: the access history as AuditEvents (this check's own reads included).
status, history = get(f"/AuditEvent?patient={patient['id']}&_count=100")
assert status == 200 and any("FHIR check" in e["resource"]["agent"][0]["who"]["display"] for e in history["entry"]), history
validate(history)

# The public registry, without a token: organizations and locations nearest first.
anonymous = SyncFHIRClient(BASE, extra_headers={"Accept": "application/fhir+json"})
organizations = anonymous.resources("Organization").search(**{"address-city": "122173"}).limit(100).fetch()
assert organizations, "the demo's facilities"
for organization in organizations:
    validate(organization.serialize())
status, near = get("/Location?address-city=122173&near=35.8617|139.9708|50|km&_count=10", token=None)
assert status == 200, near
validate(near)
status, services = get("/HealthcareService?address-city=122173&_count=50", token=None)
assert status == 200 and services.get("entry"), services
validate(services)

# Errors are OperationOutcomes that validate too.
for path, token, expected in [
    ("/Patient?nickname=x", TOKEN, 400),
    ("/Patient/00000000-0000-7000-8000-000000000000", TOKEN, 404),
    ("/Patient", None, 401),
    ("/Medication", TOKEN, 404),
]:
    status, outcome = get(path, token)
    assert status == expected and outcome["resourceType"] == "OperationOutcome", (path, status, outcome)
    validate(outcome)

print(f"FHIR check passed: {checked} resources validated against fhir.resources R4B; fhirpy searched, read and posted (vital signs and a note).")
