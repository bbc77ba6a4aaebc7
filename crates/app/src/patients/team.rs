//! The care team: adding and removing members, finding colleagues, inviting family.

use super::*;
use tsunagu_domain::record_access::RecordIntent;

pub(crate) fn team_views(team: &[TeamMemberRow], me: Uuid) -> Vec<TeamMemberView> {
    team.iter()
        .map(|m| TeamMemberView {
            membership_id: m.id,
            account_id: m.account_id,
            display_name: m.display_name.clone(),
            profession: Profession::parse(&m.profession).ok(),
            team_role: TeamRole::parse(&m.team_role).ok(),
            active: m.left_at.is_none(),
            is_me: m.account_id == me,
            removable: false,
            facility_name: m.facility_name.clone(),
            phone: m.facility_phone.clone().filter(|p| !p.is_empty()),
        })
        .collect()
}

impl App {
    /// A member adds a colleague (any facility of the municipality) to the team.
    pub async fn add_team_member(
        &self,
        session: &Session,
        patient: PatientId,
        login: &str,
        team_role: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let patient = patient.0;
        let actor = session.actor()?;
        // Family join through their own invitation, with what they may see limited.
        let role = TeamRole::parse(team_role)
            .ok()
            .filter(|r| *r != TeamRole::Family)
            .ok_or(ValidationError::new("team_role", "unknown"))?;
        let login = LoginId::parse(login).map_err(|_| ValidationError::new("member", "unknown_colleague"))?;
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        // Whether the actor may change this team at all, before anything about the colleague is told.
        let any_fitting = TeamChange::Add { role: TeamRole::Other, profession: Profession::Other };
        self.decide(RecordIntent::ChangeTeam(&any_fitting), &loaded, session, meta)?;
        let colleague = tx.account_by_login(login.as_str()).await?;
        let colleague = match colleague {
            Some(c)
                if c.municipality_id == Some(loaded.row.municipality_id)
                    && c.status == AccountStatus::Active
                    && c.profession != Profession::Family =>
            {
                c
            }
            _ => return Err(ValidationError::new("member", "unknown_colleague").into()),
        };
        if loaded.scope.is_member(AccountId(colleague.id)) {
            return Err(ValidationError::new("member", "already_member").into());
        }
        let profession = colleague.profession;
        if !role.fits(profession) {
            return Err(ValidationError::new("team_role", "does_not_fit").into());
        }
        let decided =
            self.decide(RecordIntent::ChangeTeam(&TeamChange::Add { role, profession }), &loaded, session, meta)?;
        let now = self.now();
        tx.insert_team_member(&NewTeamMember {
            id: Uuid::now_v7(),
            patient_id: patient,
            account_id: colleague.id,
            team_role: role.code().to_owned(),
            added_by: actor.account_id.0,
            joined_at: now,
        })
        .await?;
        self.audit(
            tx.as_mut(),
            &decided,
            decided.patient_event(
                now,
                AuditAction::TeamMemberAdded,
                json!({ "member": colleague.login_id, "team_role": role.code() }),
            ),
        )
        .await?;
        let n = NewNotification {
            id: Uuid::now_v7(),
            account_id: colleague.id,
            patient_id: patient,
            entry_id: None,
            kind: "team_added".to_owned(),
            actor_id: actor.account_id.0,
            created_at: now,
        };
        notify(tx.as_mut(), &n).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a membership: one's own (leaving) or a colleague's (removal). Recorded, never deleted.
    pub async fn remove_team_member(
        &self,
        session: &Session,
        patient: PatientId,
        membership: Uuid,
        confirmed: bool,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let patient = patient.0;
        let actor = session.actor()?;
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        self.decide(RecordIntent::Read, &loaded, session, meta)?;
        let member =
            loaded.team.iter().find(|m| m.id == membership && m.left_at.is_none()).ok_or(AppError::NotFound)?;
        let change = if member.account_id == actor.account_id.0 {
            TeamChange::Leave
        } else {
            let facilities = tx.memberships_of_account(member.account_id).await?;
            TeamChange::Remove {
                member: AccountId(member.account_id),
                facilities: facilities.iter().map(|f| FacilityId(f.facility_id)).collect(),
            }
        };
        let decided = self.decide(RecordIntent::ChangeTeam(&change), &loaded, session, meta)?;
        if loaded.scope.team.len() == 1 {
            return Err(ValidationError::new("member", "last_member").into());
        }
        // The team would be left without its primary physician: only once asked twice.
        if !confirmed && loaded.role_of(member.account_id) == Some(TeamRole::PrimaryPhysician) {
            return Err(ValidationError::new("member", "confirm_primary_physician").into());
        }
        let now = self.now();
        tx.end_team_membership(member.id, actor.account_id.0, now).await?;
        let leaving = member.account_id == actor.account_id.0;
        self.audit(
            tx.as_mut(),
            &decided,
            decided.patient_event(
                now,
                AuditAction::TeamMemberRemoved,
                json!({ "member": member.login_id, "left_by_themselves": leaving }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Active colleagues in one's municipality whose login id, name or
    /// furigana contains `query`, to add to a team (at most 20; none for an
    /// empty query or for family accounts).
    pub async fn colleagues(&self, session: &Session, query: &str) -> Result<Vec<Colleague>, AppError> {
        let actor = session.actor()?;
        let Some(municipality) = actor.municipality_id else { return Ok(Vec::new()) };
        // "login — name" as the picker fills it in: search by the login id.
        let query = query.split(" — ").next().unwrap_or_default().trim();
        if query.is_empty() || session.account.profession == Profession::Family {
            return Ok(Vec::new());
        }
        let text = tsunagu_domain::text::fold_full_width_ascii(query).to_lowercase();
        let kana = tsunagu_domain::text::furigana_search_key(query);
        let mut tx = self.store.begin_read().await?;
        Ok(tx
            .search_colleagues(municipality.0, &text, &kana, 20)
            .await?
            .into_iter()
            .map(|a| Colleague { profession: Some(a.profession), login_id: a.login_id, display_name: a.display_name })
            .collect())
    }

    /// A team member invites a family member (家族): a family account joins the
    /// team and sees what is shared with the family. Prints a one-time code.
    pub async fn invite_family(
        &self,
        session: &Session,
        patient: PatientId,
        login: &str,
        name: &str,
        relation: &str,
        meta: &RequestMeta,
    ) -> Result<crate::IssuedCode, AppError> {
        let patient = patient.0;
        let actor = session.actor()?;
        let relation = tsunagu_domain::text::required("relation", relation, 30)?;
        let name = format!("{}（{}）", tsunagu_domain::text::required("display_name", name, 40)?, relation);
        let new = tsunagu_domain::account::NewAccount::parse(login, &name, "", "", "family", &[])?;
        let mut tx = self.begin().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        let decided = self.decide(RecordIntent::ChangeTeam(&TeamChange::InviteFamily), &loaded, session, meta)?;
        let now = self.now();
        let row = crate::accounts::invited_account_row(Some(MunicipalityId(loaded.row.municipality_id)), &new, now);
        tx.insert_account(&row).await.map_err(AppError::conflict_on("login_id"))?;
        let (code, expires_at) = self.new_invitation(tx.as_mut(), row.id, Some(actor.account_id)).await?;
        tx.insert_team_member(&NewTeamMember {
            id: Uuid::now_v7(),
            patient_id: patient,
            account_id: row.id,
            team_role: TeamRole::Family.code().to_owned(),
            added_by: actor.account_id.0,
            joined_at: now,
        })
        .await?;
        let details = json!({ "login_id": row.login_id, "relation": relation });
        self.audit(tx.as_mut(), &decided, decided.patient_event(now, AuditAction::FamilyInvited, details)).await?;
        let account = crate::sessions::load_account(tx.as_mut(), row).await?;
        tx.commit().await?;
        Ok(crate::IssuedCode { account, code, expires_at })
    }
}
