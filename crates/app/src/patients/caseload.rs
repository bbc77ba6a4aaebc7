//! Registering a patient, and each member's list of their patients.

use super::*;

/// The patients of a caseload (see [`App::kept_caseload`]) the actor may
/// read, with their consent state: the policy decides on each, with the actor
/// as the one active member the caseload was read for.
pub(crate) fn readable_caseload<'a>(
    caseload: &'a [MemberPatientRow],
    actor: &'a Actor,
) -> impl Iterator<Item = (&'a MemberPatientRow, ConsentState)> + 'a {
    caseload.iter().filter_map(move |member| {
        let row = &member.patient;
        let consent = match member.consent_in_force {
            None => ConsentState::Pending,
            Some(true) => ConsentState::Active,
            Some(false) => ConsentState::Withdrawn,
        };
        let scope = PatientScope {
            patient_id: PatientId(row.id),
            municipality_id: MunicipalityId(row.municipality_id),
            created_by: AccountId(row.created_by),
            consent,
            // The caseload holds the reader's own memberships: being a member
            // is all `read_patient` asks of the team.
            team: vec![TeamSeat { account_id: actor.account_id, role: TeamRole::Other, profession: Profession::Other }],
            emergency_access: vec![],
        };
        policy::read_patient(actor, &scope).is_allowed().then_some((member, consent))
    })
}

/// The row of a newly registered patient, at home.
pub(crate) fn new_patient_row(
    details: PatientDetails,
    municipality: MunicipalityId,
    created_by: AccountId,
    now: OffsetDateTime,
) -> PatientRow {
    PatientRow {
        id: Uuid::now_v7(),
        municipality_id: municipality.0,
        created_by: created_by.0,
        search_key: details.search_key(),
        family_name: details.family_name,
        given_name: details.given_name,
        family_name_kana: details.family_name_kana,
        given_name_kana: details.given_name_kana,
        birth_date: details.birth_date,
        sex: details.sex,
        address: details.address,
        daily_living_area: details.daily_living_area,
        phone: details.phone,
        key_person: details.key_person,
        key_person_phone: details.key_person_phone,
        care_level: details.care_level,
        main_diagnoses: details.main_diagnoses,
        allergies: details.allergies,
        special_care: details.special_care.iter().map(|c| c.code()).collect::<Vec<_>>().join(","),
        status: PatientStatus::AtHome,
        outcome: None,
        outcome_date: None,
        created_at: now,
        updated_at: now,
    }
}

impl App {
    /// Whether the admin pages' entrance (and the menu's link to it) is for the session.
    pub fn may_enter_admin(&self, session: &Session) -> Result<(), AppError> {
        enforce(policy::enter_admin(&session.actor()?))
    }

    /// Whether the signed-in person may register patients (and so be offered the form).
    pub fn may_register_patients(&self, session: &Session) -> Result<(), AppError> {
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::Forbidden)?;
        enforce(policy::create_patient(&actor, municipality))?;
        if session.account.profession == Profession::Family {
            return Err(AppError::Forbidden);
        }
        Ok(())
    }

    /// A professional registers a patient they care for; they become the first
    /// member of the team. Nobody else sees the patient until consent is recorded.
    pub async fn register_patient(
        &self,
        session: &Session,
        form: &PatientForm<'_>,
        my_role: &str,
        meta: &RequestMeta,
    ) -> Result<PatientView, AppError> {
        self.may_register_patients(session)?;
        let actor = session.actor()?;
        let municipality = actor.municipality_id.ok_or(AppError::Forbidden)?;
        let details = PatientDetails::parse(form, self.today())?;
        let role = TeamRole::parse(my_role).map_err(|_| ValidationError::new("team_role", "unknown"))?;
        let now = self.now();
        let row = new_patient_row(details, municipality, actor.account_id, now);
        let mut tx = self.begin().await?;
        tx.insert_patient(&row).await?;
        tx.insert_team_member(&NewTeamMember {
            id: Uuid::now_v7(),
            patient_id: row.id,
            account_id: actor.account_id.0,
            team_role: role.code().to_owned(),
            added_by: actor.account_id.0,
            joined_at: now,
        })
        .await?;
        tx.append_audit(&audit_record(
            now,
            Some(municipality),
            &Self::audit_patient(session, meta),
            AuditAction::PatientRegistered,
            "patient",
            Some(row.id),
            json!({ "team_role": role.code() }),
        ))
        .await?;
        tx.commit().await?;
        patient_view(&row, self.today())
    }

    /// Everyone's own patient list, unread and urgent first. `query` filters by
    /// name or kana (width and katakana/hiragana folded).
    pub async fn my_patients(
        &self,
        session: &Session,
        query: &str,
        meta: &RequestMeta,
    ) -> Result<Vec<PatientSummary>, AppError> {
        let actor = session.actor()?;
        let rows = self.kept_caseload(actor.account_id.0).await?;
        let mut tx = self.store.begin_read().await?;
        let counts = tx.patient_counts(actor.account_id.0).await?;
        drop(tx);
        let key = search_key(query);
        let today = self.today();
        let mut out = Vec::new();
        for (member, consent) in readable_caseload(&rows, &actor) {
            let row = &member.patient;
            if !key.is_empty() && !row.search_key.contains(&key) {
                continue;
            }
            let c = counts.iter().find(|c| c.patient_id == row.id);
            out.push(PatientSummary {
                patient: patient_view(row, today)?,
                consent,
                unread: c.map_or(0, |c| c.unread),
                urgent_unacknowledged: c.map_or(0, |c| c.urgent_unacknowledged),
                needs_reply: c.map_or(0, |c| c.needs_reply),
                without_primary_physician: !member.has_primary_physician,
            });
        }
        out.sort_by_key(|s| (-s.urgent_unacknowledged, -(s.unread.min(1)), s.patient.name_kana.clone()));
        if !out.is_empty() {
            self.record_audited_read(audit_record(
                self.now(),
                actor.municipality_id,
                &Self::audit_patient(session, meta),
                AuditAction::PatientListViewed,
                "patient_list",
                None,
                json!({ "patients": out.iter().map(|s| s.patient.id).collect::<Vec<_>>() }),
            ))
            .await?;
        }
        Ok(out)
    }
}
