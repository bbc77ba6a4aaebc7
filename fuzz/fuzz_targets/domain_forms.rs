//! The domain's parsers of typed-in text (every form field and query parameter ends in one of
//! these, the municipality's public pages and the public map's query included): never a panic; what they accept is what their types promise; and a parsed value,
//! rendered as the pages and the API render it and parsed again, comes back unchanged.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use time::macros::date;
use time::{Date, OffsetDateTime};
use tsunagu_domain::account::{Email, LoginId, NewAccount, NewPassword};
use tsunagu_domain::care::{AttachmentFile, EntryDraft, TeamRole, VitalSigns, VitalsForm, mentions};
use tsunagu_domain::clock::JST;
use tsunagu_domain::facility::{
    CareProviderNumber, FacilityDetails, FacilityForm, FacilityKind, Location, MedicalInstitutionCode, PhoneNumber,
};
use tsunagu_domain::municipality::{MunicipalityCode, NewMunicipality};
use tsunagu_domain::on_call::{Span, parse_local_datetime, parse_month};
use tsunagu_domain::patient::{
    AdvanceCarePlan, AdvanceCarePlanForm, ConsentDetails, PatientDetails, PatientForm, StatusChange, parse_date,
};
use tsunagu_domain::public_pages::{ArticleDraft, EnteredFigure, FiscalYear, PublicEventDraft, PublicEventForm};
use tsunagu_domain::public_query::{MAX_LIMIT, MAX_PAGE, PublicQuery, PublicQueryForm};
use tsunagu_domain::registry::{FacilityProfile, FacilityProfileForm, services_from_code};
use tsunagu_domain::text;

const TODAY: Date = date!(2026 - 11 - 25);

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    s: [&'a str; 16],
    list: Vec<&'a str>,
    bytes: &'a [u8],
    flag: bool,
}

fuzz_target!(|input: Input<'_>| {
    let s = &input.s;
    free_text(s);
    identifiers(s);
    places_and_times(s);
    vitals_and_entries(s, input.flag);
    patient(s, &input.list);
    facility(s, &input.list);
    account(s, &input.list);
    public_pages(s, input.flag);
    public_query(s);
    attachment(s, input.bytes);
});

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn free_text(s: &[&str; 16]) {
    for raw in s {
        for max in [0, 1, 40, 500] {
            let one = text::optional("f", raw, max);
            assert_eq!(text::required("f", raw, max).ok(), one.clone().ok().flatten(), "{raw:?}");
            if let Ok(Some(v)) = &one {
                assert!(v.chars().count() <= max && v.trim() == v && !v.chars().any(char::is_control), "{raw:?}");
                assert_eq!(text::optional("f", v, max).as_ref(), Ok(&Some(v.clone())), "{raw:?}");
            }
            if let Ok(Some(v)) = text::optional_multiline("f", raw, max) {
                assert!(v.chars().count() <= max && v.trim() == v && !v.contains('\r'), "{raw:?}");
                assert!(!v.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{raw:?}");
                assert_eq!(text::optional_multiline("f", &v, max), Ok(Some(v.clone())), "{raw:?}");
            }
        }
        let folded = text::fold_full_width_ascii(raw);
        assert_eq!(text::fold_full_width_ascii(&folded), folded, "{raw:?}");
        let key = text::search_key(raw);
        assert!(!key.chars().any(char::is_whitespace), "{raw:?} -> {key:?}");
        assert_eq!(text::search_key(&key), key, "search keys are stable: {raw:?}");
        let kana = text::katakana_search_key(raw);
        assert_eq!(text::katakana_search_key(&kana), kana, "{raw:?}");
    }
}

fn identifiers(s: &[&str; 16]) {
    for raw in s {
        if let Ok(p) = PhoneNumber::parse(raw) {
            let digits = p.as_str().bytes().filter(u8::is_ascii_digit).count();
            assert!((10..=11).contains(&digits) && p.as_str().starts_with('0'), "{raw:?}");
            assert_eq!(PhoneNumber::parse(p.as_str()), Ok(p), "{raw:?}");
        }
        if let Ok(c) = CareProviderNumber::parse(raw) {
            assert!(c.as_str().len() == 10 && c.as_str().bytes().all(|b| b.is_ascii_digit()), "{raw:?}");
            assert_eq!(CareProviderNumber::parse(c.as_str()), Ok(c), "{raw:?}");
        }
        if let Ok(c) = MunicipalityCode::parse(raw) {
            assert_eq!(c.prefecture().len(), 2, "{raw:?}");
            assert_eq!(MunicipalityCode::parse(c.as_str()).as_ref(), Ok(&c), "{raw:?}");
            assert_eq!(serde_json::to_string(&c).ok().and_then(|j| serde_json::from_str(&j).ok()), Some(c), "{raw:?}");
        }
        for kind in FacilityKind::ALL {
            // Whatever the prefecture text (an import takes it from the file), a code that is
            // accepted is the 10 digits the type promises.
            if let Ok(c) = MedicalInstitutionCode::parse(raw, s[15], *kind) {
                assert!(
                    c.as_str().len() == 10 && c.as_str().bytes().all(|b| b.is_ascii_digit()),
                    "{raw:?} {:?}",
                    s[15]
                );
                assert_eq!(MedicalInstitutionCode::parse(c.as_str(), "99", *kind), Ok(c), "{raw:?}");
            }
        }
        let _ = services_from_code(raw);
        let _ = tsunagu_import::Source::parse(raw);
    }
    if let Ok(m) = NewMunicipality::parse(s[0], s[1]) {
        assert_eq!(NewMunicipality::parse(m.code.as_str(), &m.name), Ok(m));
    }
}

fn places_and_times(s: &[&str; 16]) {
    for pair in s.chunks(2) {
        let (lat, lng) = (pair[0], pair[1]);
        if let Ok(Some(l)) = Location::parse(lat, lng) {
            assert!((20.0..=46.0).contains(&l.latitude) && (122.0..=154.0).contains(&l.longitude), "{l:?}");
            assert_eq!(Location::parse(&l.latitude.to_string(), &l.longitude.to_string()), Ok(Some(l)));
            assert_eq!(l.distance_m(&l), 0.0);
            assert!(l.bounding_box(1000.0).contains(&l));
        }
    }
    let mut times: Vec<OffsetDateTime> = Vec::new();
    for raw in s {
        if let Ok(d) = parse_date("f", raw) {
            assert_eq!(parse_date("f", &iso(d)), Ok(d), "{raw:?}");
        }
        if let Ok((year, month)) = parse_month(raw) {
            assert_eq!(parse_month(&format!("{year:04}-{:02}", u8::from(month))), Ok((year, month)), "{raw:?}");
        }
        if let Ok(t) = parse_local_datetime("f", raw) {
            assert_eq!(t.offset(), time::UtcOffset::UTC, "{raw:?}");
            let local = t.to_offset(JST);
            let rendered =
                format!("{}T{:02}:{:02}:{:02}", iso(local.date()), local.hour(), local.minute(), local.second());
            assert_eq!(parse_local_datetime("f", &rendered), Ok(t), "{raw:?} -> {rendered:?}");
            times.push(t);
        }
    }
    for pair in times.windows(2) {
        if let Ok(span) = Span::parse(pair[0], pair[1]) {
            assert!(span.start < span.end && span.contains(span.start) && !span.contains(span.end));
        }
    }
}

fn vitals_form<'a>(v: &'a [&'a str]) -> VitalsForm<'a> {
    VitalsForm {
        temperature_c: v[0],
        systolic: v[1],
        diastolic: v[2],
        pulse: v[3],
        spo2: v[4],
        respiratory_rate: v[5],
        weight_kg: v[6],
        blood_glucose: v[7],
        pain: v[8],
        bowel_movements: v[9],
    }
}

/// The values as the API turns them back into form text (`Vitals::texts` in the web crate).
fn vitals_texts(v: &VitalSigns) -> [String; 10] {
    fn text<T: ToString>(v: Option<T>) -> String {
        v.map(|x| x.to_string()).unwrap_or_default()
    }
    [
        text(v.temperature_c),
        text(v.systolic),
        text(v.diastolic),
        text(v.pulse),
        text(v.spo2),
        text(v.respiratory_rate),
        text(v.weight_kg),
        text(v.blood_glucose),
        text(v.pain),
        text(v.bowel_movements),
    ]
}

fn vitals_and_entries(s: &[&str; 16], needs_reply: bool) {
    for window in [&s[..10], &s[6..]] {
        let Ok(v) = VitalSigns::parse(&vitals_form(window)) else { continue };
        let within = |x: Option<f64>, lo: f64, hi: f64| x.is_none_or(|x| (lo..=hi).contains(&x));
        assert!(within(v.temperature_c, 30.0, 43.0) && within(v.weight_kg, 1.0, 300.0), "{v:?}");
        assert!(v.systolic.zip(v.diastolic).is_none_or(|(s, d)| s > d), "{v:?}");
        assert_eq!(v.systolic.is_some(), v.diastolic.is_some(), "{v:?}");
        assert!(v.spo2.is_none_or(|x| (50..=100).contains(&x)) && v.pain.is_none_or(|x| x <= 10), "{v:?}");
        let texts = vitals_texts(&v);
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        assert_eq!(VitalSigns::parse(&vitals_form(&refs)).as_ref(), Ok(&v));
        let stored = serde_json::to_string(&v).ok().and_then(|j| serde_json::from_str::<VitalSigns>(&j).ok());
        assert_eq!(stored.as_ref(), Some(&v), "the vitals column reads back");
        let _ = v.summary();
    }
    let none = VitalsForm::default();
    for (kind, body) in [(s[0], s[1]), (s[10], s[11])] {
        let vitals = vitals_form(&s[2..12]);
        for form in [&none, &vitals] {
            let Ok(draft) = EntryDraft::parse(kind, body, form, needs_reply) else { continue };
            assert_eq!(draft.kind.code(), kind);
            assert!(!draft.body.is_empty() || !draft.vitals.is_empty());
            let role = TeamRole::parse(s[13]).ok();
            if let Ok(d) = draft.clone().for_audience(s[12], role) {
                assert_eq!(d.clone().for_audience(d.audience.code(), role).map(|x| x.audience), Ok(d.audience));
            }
        }
    }
    for raw in s {
        let found = mentions(raw);
        for (i, login) in found.iter().enumerate() {
            assert!(login.len() >= 3 && !login.ends_with('.') && !found[..i].contains(login), "{raw:?} {found:?}");
            assert!(login.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
        }
    }
}

fn patient(s: &[&str; 16], list: &[&str]) {
    let form = PatientForm {
        family_name: s[0],
        given_name: s[1],
        family_name_kana: s[2],
        given_name_kana: s[3],
        birth_date: s[4],
        sex: s[5],
        address: s[6],
        daily_living_area: s[7],
        phone: s[8],
        key_person: s[9],
        key_person_phone: s[10],
        care_level: s[11],
        main_diagnoses: s[12],
        allergies: s[13],
        special_care: list.to_vec(),
    };
    if let Ok(p) = PatientDetails::parse(&form, TODAY) {
        assert!(p.birth_date <= TODAY);
        let birth = iso(p.birth_date);
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        let (area, phone, key, key_phone, diag, allergies) = (
            opt(&p.daily_living_area),
            opt(&p.phone),
            opt(&p.key_person),
            opt(&p.key_person_phone),
            opt(&p.main_diagnoses),
            opt(&p.allergies),
        );
        let again = PatientForm {
            family_name: &p.family_name,
            given_name: &p.given_name,
            family_name_kana: &p.family_name_kana,
            given_name_kana: &p.given_name_kana,
            birth_date: &birth,
            sex: p.sex.code(),
            address: &p.address,
            daily_living_area: &area,
            phone: &phone,
            key_person: &key,
            key_person_phone: &key_phone,
            care_level: p.care_level.code(),
            main_diagnoses: &diag,
            allergies: &allergies,
            special_care: p.special_care.iter().map(|c| c.code()).collect(),
        };
        assert_eq!(PatientDetails::parse(&again, TODAY).as_ref(), Ok(&p));
        let _ = p.search_key();
        let _ = tsunagu_domain::patient::age(p.birth_date, TODAY);
    }
    if let Ok(c) = ConsentDetails::parse(s[4], s[5], s[6], s[7], s[8], TODAY) {
        let (name, relation) = (c.proxy_name.clone().unwrap_or_default(), c.proxy_relation.clone().unwrap_or_default());
        let again = ConsentDetails::parse(&iso(c.given_on), c.method.code(), &name, &relation, &c.scope, TODAY);
        assert_eq!(again.as_ref(), Ok(&c));
    }
    let acp = AdvanceCarePlanForm {
        discussed_on: s[8],
        participants: s[9],
        place_of_care: s[10],
        place_of_death: s[11],
        treatment: s[12],
        proxy_name: s[13],
        proxy_relation: s[14],
        wishes: s[15],
    };
    if let Ok(plan) = AdvanceCarePlan::parse(&acp, TODAY) {
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        let (discussed, name, relation, wishes) =
            (iso(plan.discussed_on), opt(&plan.proxy_name), opt(&plan.proxy_relation), opt(&plan.wishes));
        let again = AdvanceCarePlanForm {
            discussed_on: &discussed,
            participants: &plan.participants,
            place_of_care: plan.place_of_care.code(),
            place_of_death: plan.place_of_death.code(),
            treatment: plan.treatment.code(),
            proxy_name: &name,
            proxy_relation: &relation,
            wishes: &wishes,
        };
        assert_eq!(AdvanceCarePlan::parse(&again, TODAY).as_ref(), Ok(&plan));
    }
    if let Ok(change) = StatusChange::parse(s[0], s[1], s[2], TODAY) {
        let (outcome, day) = change.outcome.map(|(o, d)| (o.code(), iso(d))).unwrap_or_default();
        assert_eq!(StatusChange::parse(change.status.code(), outcome, &day, TODAY).as_ref(), Ok(&change));
    }
}

fn facility(s: &[&str; 16], list: &[&str]) {
    let form = FacilityForm {
        kind: s[0],
        name: s[1],
        name_kana: s[2],
        medical_institution_code: s[3],
        care_provider_number: s[4],
        postal_code: s[5],
        address: s[6],
        phone: s[7],
        latitude: s[8],
        longitude: s[9],
    };
    for prefecture in ["12", s[15]] {
        let Ok(f) = FacilityDetails::parse(&form, prefecture) else { continue };
        let opt = |o: Option<&str>| o.unwrap_or_default().to_owned();
        let (lat, lng) = f.location.map(|l| (l.latitude.to_string(), l.longitude.to_string())).unwrap_or_default();
        let (kana, code, number, postal, phone) = (
            opt(f.name_kana.as_deref()),
            opt(f.medical_institution_code.as_ref().map(MedicalInstitutionCode::as_str)),
            opt(f.care_provider_number.as_ref().map(CareProviderNumber::as_str)),
            opt(f.postal_code.as_deref()),
            opt(f.phone.as_ref().map(PhoneNumber::as_str)),
        );
        let again = FacilityForm {
            kind: f.kind.code(),
            name: &f.name,
            name_kana: &kana,
            medical_institution_code: &code,
            care_provider_number: &number,
            postal_code: &postal,
            address: &f.address,
            phone: &phone,
            latitude: &lat,
            longitude: &lng,
        };
        assert_eq!(FacilityDetails::parse(&again, "99").as_ref(), Ok(&f));
    }
    let profile = FacilityProfileForm {
        services: list.to_vec(),
        opening_hours: s[10],
        accepting: s[11],
        contact_person: s[12],
        languages: s[13],
        note: s[14],
    };
    if let Ok(p) = FacilityProfile::parse(&profile, TODAY) {
        assert_eq!(services_from_code(&p.services_code()), p.services);
        assert_eq!(p.accepting.is_some(), p.accepting_confirmed_on == Some(TODAY));
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        let (hours, contact, languages, note) =
            (opt(&p.opening_hours), opt(&p.contact_person), opt(&p.languages), opt(&p.note));
        let code = p.services_code();
        let again = FacilityProfileForm {
            services: code.split(',').collect(),
            opening_hours: &hours,
            accepting: p.accepting.map(|a| a.code()).unwrap_or_default(),
            contact_person: &contact,
            languages: &languages,
            note: &note,
        };
        assert_eq!(FacilityProfile::parse(&again, TODAY).as_ref(), Ok(&p));
    }
}

fn account(s: &[&str; 16], list: &[&str]) {
    for raw in s {
        if let Ok(login) = LoginId::parse(raw) {
            assert_eq!(LoginId::parse(login.as_str()).as_ref(), Ok(&login), "{raw:?}");
            let _ = NewPassword::parse(s[15], &login);
        }
        if let Ok(email) = Email::parse(raw) {
            assert_eq!(Email::parse(email.as_str()).as_ref(), Ok(&email), "{raw:?}");
        }
    }
    if let Ok(a) = NewAccount::parse(s[0], s[1], s[2], s[3], s[4], list) {
        let roles: Vec<&str> = a.roles.iter().map(|r| r.code()).collect();
        let kana = a.display_name_kana.clone().unwrap_or_default();
        let email = a.email.as_ref().map(Email::as_str).unwrap_or_default();
        let b = NewAccount::parse(a.login_id.as_str(), &a.display_name, &kana, email, a.profession.code(), &roles);
        let b = b.unwrap_or_else(|e| panic!("{a:?} does not parse again: {e}"));
        assert_eq!(
            (&b.login_id, &b.display_name, &b.display_name_kana, &b.email, b.profession, &b.roles),
            (&a.login_id, &a.display_name, &a.display_name_kana, &a.email, a.profession, &a.roles)
        );
    }
}

fn attachment(s: &[&str; 16], bytes: &[u8]) {
    let Ok(file) = AttachmentFile::inspect(s[0], s[1], bytes) else { return };
    let name = &file.file_name;
    assert!(!name.is_empty() && name.chars().count() <= 100, "{name:?}");
    assert!(!name.chars().any(|c| c.is_control() || matches!(c, '"' | '<' | '>' | ';' | '/' | '\\')), "{name:?}");
    assert_eq!(AttachmentFile::inspect(file.content_type, name, bytes).as_ref(), Ok(&file));
}

fn public_pages(s: &[&str; 16], published: bool) {
    if let Ok(year) = FiscalYear::parse("year", s[0]) {
        assert_eq!(FiscalYear::parse("year", &year.0.to_string()), Ok(year), "{:?}", s[0]);
        assert!(year.first_day() < year.end(), "{year:?}");
    }
    if let Ok(f) = EnteredFigure::parse(s[1], s[2], s[3], s[4]) {
        assert!((0..=10_000_000).contains(&f.value), "{f:?}");
        let note = f.note.clone().unwrap_or_default();
        let again = EnteredFigure::parse(f.metric.code(), &f.year.0.to_string(), &f.value.to_string(), &note);
        assert_eq!(again.as_ref(), Ok(&f));
    }
    if let Ok(a) = ArticleDraft::parse(s[5], s[6], published) {
        assert!(a.title.chars().count() <= ArticleDraft::MAX_TITLE && !a.body.is_empty(), "{a:?}");
        assert_eq!(ArticleDraft::parse(&a.title, &a.body, published).as_ref(), Ok(&a));
    }
    let form = PublicEventForm { title: s[7], date: s[8], starts: s[9], ends: s[10], place: s[11], description: s[12] };
    if let Ok(e) = PublicEventDraft::parse(&form) {
        assert!(e.ends_at.is_none_or(|end| end > e.starts_at), "{e:?}");
        let local = e.starts_at.to_offset(JST);
        let clock = |t: OffsetDateTime| {
            let t = t.to_offset(JST);
            format!("{:02}:{:02}", t.hour(), t.minute())
        };
        let (date, starts, ends) = (iso(local.date()), clock(e.starts_at), e.ends_at.map(clock).unwrap_or_default());
        let description = e.description.clone().unwrap_or_default();
        let again = PublicEventForm {
            title: &e.title,
            date: &date,
            starts: &starts,
            ends: &ends,
            place: &e.place,
            description: &description,
        };
        assert_eq!(PublicEventDraft::parse(&again).as_ref(), Ok(&e));
    }
}

fn public_query(s: &[&str; 16]) {
    let form = PublicQueryForm {
        kind: s[0],
        flag: s[1],
        area: s[2],
        name: s[3],
        lat: s[4],
        lng: s[5],
        page: s[6],
        limit: s[7],
        service: s[8],
        accepting: s[9],
        code: s[10],
    };
    let Ok(q) = PublicQuery::parse(&form, 20) else { return };
    assert!((1..=MAX_PAGE).contains(&q.page) && (1..=MAX_LIMIT).contains(&q.per_page), "{q:?}");
    assert!(q.offset() >= 0, "{q:?}");
    if let Some(code) = &q.code {
        assert!(code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit()), "{code:?}");
    }
    // Rendered as the map's links render it, it parses to the same query.
    let (page, limit) = (q.page.to_string(), q.per_page.to_string());
    let (lat, lng) = q.near.map(|l| (l.latitude.to_string(), l.longitude.to_string())).unwrap_or_default();
    let again = PublicQueryForm {
        kind: q.kind.map(|k| k.code()).unwrap_or(""),
        flag: q.flag.map(|f| f.code()).unwrap_or(""),
        area: q.area.as_deref().unwrap_or(""),
        name: q.name.as_deref().unwrap_or(""),
        lat: &lat,
        lng: &lng,
        page: &page,
        limit: &limit,
        service: q.service.map(|v| v.code()).unwrap_or(""),
        accepting: if q.accepting_only { "yes" } else { "" },
        code: q.code.as_deref().unwrap_or(""),
    };
    assert_eq!(PublicQuery::parse(&again, 20).as_ref(), Ok(&q));
}
