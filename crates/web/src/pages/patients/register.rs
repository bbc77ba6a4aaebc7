//! Registering a patient.

use super::*;
use tsunagu_domain::coordination::PatientFields;

/// The patient form as typed: the patient (as the domain keeps typed
/// details) and the registering professional's team role.
#[derive(Default, Clone)]
pub(crate) struct PatientFormValues {
    pub(crate) patient: PatientFields,
    pub(crate) team_role: String,
}

impl PatientFormValues {
    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut v = Self::default();
        for (k, value) in pairs {
            let p = &mut v.patient;
            let slot = match k.as_str() {
                "family_name" => &mut p.family_name,
                "given_name" => &mut p.given_name,
                "family_name_kana" => &mut p.family_name_kana,
                "given_name_kana" => &mut p.given_name_kana,
                "birth_date" => &mut p.birth_date,
                "sex" => &mut p.sex,
                "address" => &mut p.address,
                "daily_living_area" => &mut p.daily_living_area,
                "phone" => &mut p.phone,
                "key_person" => &mut p.key_person,
                "key_person_phone" => &mut p.key_person_phone,
                "care_level" => &mut p.care_level,
                "main_diagnoses" => &mut p.main_diagnoses,
                "allergies" => &mut p.allergies,
                "team_role" => &mut v.team_role,
                "special_care" => {
                    p.special_care.push(value);
                    continue;
                }
                _ => continue,
            };
            *slot = value;
        }
        v
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "patient_new.html")]
pub(super) struct NewPatientPage {
    t: Tr,
    c: Chrome,
    form: PatientFormValues,
    sexes: &'static [Sex],
    care_levels: &'static [CareLevel],
    special_cares: &'static [SpecialCare],
    team_roles: &'static [TeamRole],
}

pub(super) fn new_patient_page(ctx: &Ctx, form: PatientFormValues, error: Option<String>) -> NewPatientPage {
    let mut c = ctx.chrome(None);
    c.error = error;
    NewPatientPage {
        t: ctx.t,
        c,
        form,
        sexes: Sex::ALL,
        care_levels: CareLevel::ALL,
        special_cares: SpecialCare::ALL,
        team_roles: TeamRole::ALL,
    }
}

pub(crate) async fn new_patient(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    state.app.may_register_patients(session)?;
    let form = PatientFormValues {
        patient: PatientFields { sex: "female".into(), care_level: "none".into(), ..PatientFields::default() },
        team_role: "visiting_nurse".into(),
    };
    Ok(new_patient_page(&ctx, form, None).into_response())
}

pub(crate) async fn create_patient(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(pairs): Verified<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let v = PatientFormValues::from_pairs(pairs);
    let form = v.patient.form();
    match state.app.register_patient(session, &form, &v.team_role, &ctx.meta).await {
        Ok(p) => Ok(Redirect::to(&format!("/patients/{}?notice=created", p.id)).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, new_patient_page(&ctx, v, Some(message))).into_response())
        }
    }
}
