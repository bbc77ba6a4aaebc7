//! Registering a patient.

use super::*;

/// The patient form as typed.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct PatientFormValues {
    pub(crate) family_name: String,
    pub(crate) given_name: String,
    pub(crate) family_name_kana: String,
    pub(crate) given_name_kana: String,
    pub(crate) birth_date: String,
    pub(crate) sex: String,
    pub(crate) address: String,
    pub(crate) daily_living_area: String,
    pub(crate) phone: String,
    pub(crate) key_person: String,
    pub(crate) key_person_phone: String,
    pub(crate) care_level: String,
    pub(crate) main_diagnoses: String,
    pub(crate) allergies: String,
    pub(crate) team_role: String,
    pub(crate) special_care: Vec<String>,
}

impl PatientFormValues {
    /// The fields as the domain parses them.
    pub(crate) fn form(&self) -> PatientForm<'_> {
        PatientForm {
            family_name: &self.family_name,
            given_name: &self.given_name,
            family_name_kana: &self.family_name_kana,
            given_name_kana: &self.given_name_kana,
            birth_date: &self.birth_date,
            sex: &self.sex,
            address: &self.address,
            daily_living_area: &self.daily_living_area,
            phone: &self.phone,
            key_person: &self.key_person,
            key_person_phone: &self.key_person_phone,
            care_level: &self.care_level,
            main_diagnoses: &self.main_diagnoses,
            allergies: &self.allergies,
            special_care: self.special_care.iter().map(String::as_str).collect(),
        }
    }

    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut v = Self::default();
        for (k, value) in pairs {
            let slot = match k.as_str() {
                "family_name" => &mut v.family_name,
                "given_name" => &mut v.given_name,
                "family_name_kana" => &mut v.family_name_kana,
                "given_name_kana" => &mut v.given_name_kana,
                "birth_date" => &mut v.birth_date,
                "sex" => &mut v.sex,
                "address" => &mut v.address,
                "daily_living_area" => &mut v.daily_living_area,
                "phone" => &mut v.phone,
                "key_person" => &mut v.key_person,
                "key_person_phone" => &mut v.key_person_phone,
                "care_level" => &mut v.care_level,
                "main_diagnoses" => &mut v.main_diagnoses,
                "allergies" => &mut v.allergies,
                "team_role" => &mut v.team_role,
                "special_care" => {
                    v.special_care.push(value);
                    continue;
                }
                _ => continue,
            };
            *slot = value;
        }
        v
    }

    pub(crate) fn has_care(&self, code: &str) -> bool {
        self.special_care.iter().any(|c| c == code)
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
        sex: "female".into(),
        care_level: "none".into(),
        team_role: "visiting_nurse".into(),
        ..PatientFormValues::default()
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
    let form = v.form();
    match state.app.register_patient(session, &form, &v.team_role, &ctx.meta).await {
        Ok(p) => Ok(Redirect::to(&format!("/patients/{}?notice=created", p.id)).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, new_patient_page(&ctx, v, Some(message))).into_response())
        }
    }
}
