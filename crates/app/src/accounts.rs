//! ID issuing as the coordination centre does it: an admin issues an ID with a
//! printable one-time code; the person redeems it, sets a password, and enrols
//! a second factor at first sign-in. Facility admins manage their own staff.

use crate::credentials::end_api_tokens;
use crate::credentials::{self, digest};
use crate::municipalities::{enforce, municipality_row};
use crate::session::{Session, load_account};
use crate::views::{AccountView, parse_roles, store_roles};
use crate::{App, AppError, AuditActor, RequestMeta, audit_record};
use serde_json::json;
use time::OffsetDateTime;
use tsunagu_domain::ValidationError;
use tsunagu_domain::account::{AccountStatus, LoginId, NewAccount, NewPassword, Role};
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::ids::{AccountId, FacilityId, InvitationId, MunicipalityId};
use tsunagu_domain::interop::TokenRevocation;
use tsunagu_domain::policy::{self, AccountScope};
use tsunagu_store::{AccountRow, InvitationRow, MembershipRow, StoreTx};

/// The form an admin fills in to issue an ID.
#[derive(Debug, Clone, Default)]
pub struct AccountAdminForm<'a> {
    pub login_id: &'a str,
    pub display_name: &'a str,
    pub display_name_kana: &'a str,
    pub email: &'a str,
    pub profession: &'a str,
    pub roles: Vec<&'a str>,
    pub facility_id: Option<FacilityId>,
}

/// A one-time code to hand to the person (printed, or read out).
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub account: AccountView,
    pub code: String,
    pub expires_at: OffsetDateTime,
}

async fn scope_of(tx: &mut dyn StoreTx, row: &AccountRow) -> Result<AccountScope, AppError> {
    let memberships = tx.memberships_of_account(row.id).await?;
    let mut roles = parse_roles(&row.roles)?;
    if memberships.iter().any(|m| m.is_admin) {
        roles.push(Role::FacilityAdmin);
    }
    Ok(AccountScope {
        account_id: AccountId(row.id),
        municipality_id: row.municipality_id.map(MunicipalityId),
        roles,
        facilities: memberships.iter().map(|m| FacilityId(m.facility_id)).collect(),
        // The main practice is the first membership (memberships come in the order made).
        anchors: memberships
            .iter()
            .enumerate()
            .filter(|(i, m)| *i == 0 || m.is_admin)
            .map(|(_, m)| FacilityId(m.facility_id))
            .collect(),
    })
}

/// What an admin may do with an account they see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountPowers {
    /// Reissue its credentials, stop or resume it, attach it to a facility.
    pub manage: bool,
    /// The facilities whose membership they may end.
    pub remove_memberships: Vec<FacilityId>,
}

/// The row of a newly issued ID: invited, no password or second factor yet.
pub(crate) fn invited_account_row(
    municipality: Option<MunicipalityId>,
    new: &NewAccount,
    now: OffsetDateTime,
) -> AccountRow {
    AccountRow {
        id: AccountId::new().0,
        municipality_id: municipality.map(|m| m.0),
        login_id: new.login_id.as_str().to_owned(),
        display_name: new.display_name.clone(),
        display_name_kana: new.display_name_kana.clone(),
        email: new.email.as_ref().map(|e| e.as_str().to_owned()),
        profession: new.profession,
        roles: store_roles(&new.roles),
        status: AccountStatus::Invited,
        password_hash: None,
        totp_secret: None,
        totp_last_step: None,
        language: "ja".to_owned(),
        created_at: now,
        updated_at: now,
    }
}

impl App {
    fn who<'a>(session: &'a Session, meta: &'a RequestMeta) -> AuditActor<'a> {
        AuditActor { account_id: Some(session.account.id), label: &session.audit_label, meta }
    }

    /// Issues an ID in a municipality, optionally attached to a facility.
    pub async fn issue_account(
        &self,
        session: &Session,
        municipality: MunicipalityId,
        form: &AccountAdminForm<'_>,
        meta: &RequestMeta,
    ) -> Result<IssuedCode, AppError> {
        let actor = session.actor()?;
        let new = NewAccount::parse(
            form.login_id,
            form.display_name,
            form.display_name_kana,
            form.email,
            form.profession,
            &form.roles,
        )?;
        enforce(policy::issue_account(&actor, municipality, form.facility_id, &new.roles))?;
        self.insert_invited_account(Some(municipality), &new, form.facility_id, &Self::who(session, meta)).await
    }

    /// Creates an invited account and its code. Shared by the web, the shell and the demo.
    pub(crate) async fn insert_invited_account(
        &self,
        municipality: Option<MunicipalityId>,
        new: &NewAccount,
        facility: Option<FacilityId>,
        actor: &AuditActor<'_>,
    ) -> Result<IssuedCode, AppError> {
        let is_facility_admin = new.roles.contains(&Role::FacilityAdmin);
        if is_facility_admin && facility.is_none() {
            return Err(ValidationError::new("facility_id", "required_for_facility_admin").into());
        }
        if municipality.is_none() && new.roles.iter().any(|r| *r != Role::Operator && *r != Role::Professional) {
            return Err(ValidationError::new("municipality_code", "required").into());
        }
        let mut tx = self.begin().await?;
        if let Some(m) = municipality {
            municipality_row(tx.as_mut(), m).await?;
        }
        if let Some(f) = facility {
            let row = tx.facility(f.0).await?.ok_or(AppError::NotFound)?;
            if Some(MunicipalityId(row.municipality_id)) != municipality {
                return Err(AppError::NotFound);
            }
        }
        let now = self.now();
        let row = invited_account_row(municipality, new, now);
        tx.insert_account(&row).await.map_err(AppError::conflict_on("login_id"))?;
        if let Some(f) = facility {
            tx.upsert_membership(&MembershipRow {
                account_id: row.id,
                facility_id: f.0,
                is_admin: is_facility_admin,
                created_at: now,
            })
            .await?;
        }
        let (code, expires_at) = self.new_invitation(tx.as_mut(), row.id, actor.account_id).await?;
        let details = json!({
            "login_id": row.login_id, "profession": row.profession.code(), "roles": row.roles,
            "facility_id": facility.map(|f| f.0), "expires_at": expires_at.unix_timestamp(),
        });
        tx.append_audit(&audit_record(
            now,
            municipality,
            actor,
            AuditAction::AccountInvited,
            "account",
            Some(row.id),
            details,
        ))
        .await?;
        let account = load_account(tx.as_mut(), row).await?;
        tx.commit().await?;
        Ok(IssuedCode { account, code, expires_at })
    }

    pub(crate) async fn new_invitation(
        &self,
        tx: &mut dyn StoreTx,
        account_id: uuid::Uuid,
        created_by: Option<AccountId>,
    ) -> Result<(String, OffsetDateTime), AppError> {
        let now = self.now();
        tx.close_invitations(account_id, now).await?;
        let code = credentials::new_code(3)?;
        let expires_at = now + self.settings.invitation_validity;
        tx.insert_invitation(&InvitationRow {
            id: InvitationId::new().0,
            account_id,
            code_hash: digest(&credentials::normalize_code(&code)),
            created_by: created_by.map(|a| a.0),
            created_at: now,
            expires_at,
            used_at: None,
        })
        .await?;
        Ok((code, expires_at))
    }

    /// The accounts an admin manages: a whole municipality for its admins and
    /// coordinators, their own facilities' staff for facility admins.
    pub async fn accounts(
        &self,
        session: &Session,
        municipality: MunicipalityId,
    ) -> Result<Vec<AccountView>, AppError> {
        let actor = session.actor()?;
        enforce(policy::list_accounts(&actor, municipality))?;
        let mut tx = self.store.begin_read().await?;
        let mut out = Vec::new();
        for row in tx.accounts(Some(municipality.0)).await? {
            let scope = scope_of(tx.as_mut(), &row).await?;
            let visible = row.id == actor.account_id.0 || policy::view_account(&actor, &scope).is_allowed();
            if visible {
                out.push(load_account(tx.as_mut(), row).await?);
            }
        }
        Ok(out)
    }

    /// Loads an account that the session may manage.
    async fn managed_account(
        &self,
        tx: &mut dyn StoreTx,
        session: &Session,
        id: AccountId,
    ) -> Result<AccountRow, AppError> {
        let actor = session.actor()?;
        let row = tx.account(id.0).await?.ok_or(AppError::NotFound)?;
        let scope = scope_of(tx, &row).await?;
        enforce(policy::manage_account(&actor, &scope))?;
        Ok(row)
    }

    /// An account an admin may see, with what they may do with it (the page
    /// offers only that: no button that answers "forbidden").
    pub async fn account(&self, session: &Session, id: AccountId) -> Result<(AccountView, AccountPowers), AppError> {
        let actor = session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let row = tx.account(id.0).await?.ok_or(AppError::NotFound)?;
        let scope = scope_of(tx.as_mut(), &row).await?;
        enforce(policy::view_account(&actor, &scope))?;
        let powers = AccountPowers {
            manage: policy::manage_account(&actor, &scope).is_allowed(),
            remove_memberships: scope
                .facilities
                .iter()
                .copied()
                .filter(|f| policy::remove_membership(&actor, &scope, *f).is_allowed())
                .collect(),
        };
        Ok((load_account(tx.as_mut(), row).await?, powers))
    }

    /// Stops or resumes an account. Stopping ends its sessions at once.
    pub async fn set_account_enabled(
        &self,
        session: &Session,
        id: AccountId,
        enabled: bool,
        meta: &RequestMeta,
    ) -> Result<AccountView, AppError> {
        let mut tx = self.begin().await?;
        let row = self.managed_account(tx.as_mut(), session, id).await?;
        let now = self.now();
        let (status, action) = if enabled {
            let status = if row.password_hash.is_some() { AccountStatus::Active } else { AccountStatus::Invited };
            (status, AuditAction::AccountEnabled)
        } else {
            tx.delete_sessions_of_account(row.id).await?;
            (AccountStatus::Disabled, AuditAction::AccountDisabled)
        };
        let tokens = if enabled {
            Vec::new()
        } else {
            let by = Some(session.account.id.0);
            end_api_tokens(tx.as_mut(), row.id, by, now, TokenRevocation::AccountDisabled).await?
        };
        tx.set_account_status(row.id, status.code(), now).await?;
        tx.append_audit(&audit_record(
            now,
            row.municipality_id.map(MunicipalityId),
            &Self::who(session, meta),
            action,
            "account",
            Some(row.id),
            json!({ "login_id": row.login_id, "api_tokens_revoked": tokens }),
        ))
        .await?;
        let updated = tx.account(row.id).await?.ok_or(AppError::NotFound)?;
        let view = load_account(tx.as_mut(), updated).await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(view)
    }

    /// A new one-time code for someone who forgot their password or lost their
    /// phone: redeeming it sets a new password and requires a new second factor.
    pub async fn reissue_code(
        &self,
        session: &Session,
        id: AccountId,
        meta: &RequestMeta,
    ) -> Result<IssuedCode, AppError> {
        let mut tx = self.begin().await?;
        let row = self.managed_account(tx.as_mut(), session, id).await?;
        let (code, expires_at) = self.new_invitation(tx.as_mut(), row.id, Some(session.account.id)).await?;
        // A reissue is asked for when the old credentials are lost or suspect:
        // everything they made ends now, not when the new code is redeemed.
        let now = self.now();
        let sessions = tx.delete_sessions_of_account(row.id).await?;
        let by = Some(session.account.id.0);
        let tokens = end_api_tokens(tx.as_mut(), row.id, by, now, TokenRevocation::CredentialsReissued).await?;
        tx.append_audit(&audit_record(
            now,
            row.municipality_id.map(MunicipalityId),
            &Self::who(session, meta),
            AuditAction::InvitationReissued,
            "account",
            Some(row.id),
            json!({ "login_id": row.login_id, "sessions": sessions, "api_tokens_revoked": tokens }),
        ))
        .await?;
        let account = load_account(tx.as_mut(), row).await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(IssuedCode { account, code, expires_at })
    }

    /// Attaches an account to a facility (or changes whether it administers it).
    pub async fn add_membership(
        &self,
        session: &Session,
        id: AccountId,
        facility: FacilityId,
        is_admin: bool,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let mut tx = self.begin().await?;
        let row = self.managed_account(tx.as_mut(), session, id).await?;
        let facility_row = tx.facility(facility.0).await?.ok_or(AppError::NotFound)?;
        if facility_row.municipality_id != row.municipality_id.unwrap_or_default() {
            return Err(AppError::NotFound);
        }
        let roles = if is_admin { vec![Role::FacilityAdmin] } else { vec![Role::Professional] };
        enforce(policy::issue_account(&actor, MunicipalityId(facility_row.municipality_id), Some(facility), &roles))?;
        tx.upsert_membership(&MembershipRow {
            account_id: row.id,
            facility_id: facility.0,
            is_admin,
            created_at: self.now(),
        })
        .await?;
        tx.append_audit(&audit_record(
            self.now(),
            Some(MunicipalityId(facility_row.municipality_id)),
            &Self::who(session, meta),
            AuditAction::MembershipAdded,
            "account",
            Some(row.id),
            json!({ "facility_id": facility.0, "is_admin": is_admin }),
        ))
        .await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(())
    }

    pub async fn remove_membership(
        &self,
        session: &Session,
        id: AccountId,
        facility: FacilityId,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        let mut tx = self.begin().await?;
        let row = tx.account(id.0).await?.ok_or(AppError::NotFound)?;
        let scope = scope_of(tx.as_mut(), &row).await?;
        enforce(policy::remove_membership(&actor, &scope, facility))?;
        if !tx.remove_membership(row.id, facility.0).await? {
            return Err(AppError::NotFound);
        }
        tx.append_audit(&audit_record(
            self.now(),
            row.municipality_id.map(MunicipalityId),
            &Self::who(session, meta),
            AuditAction::MembershipRemoved,
            "account",
            Some(row.id),
            json!({ "facility_id": facility.0 }),
        ))
        .await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(())
    }

    /// The person redeems their code: the login id they were given, the code,
    /// and a new password. Any earlier password, second factor and sessions are gone.
    pub async fn redeem_invitation(
        &self,
        code: &str,
        login: &str,
        password: &str,
        meta: &RequestMeta,
    ) -> Result<String, AppError> {
        let login_id = LoginId::parse(login)?;
        let password = NewPassword::parse(password, &login_id)?;
        let address = format!("address:{}", meta.source_ip.as_deref().unwrap_or("unknown"));
        let now = self.now();
        let mut tx = self.begin().await?;
        if tx.sign_in_failures_since(&address, now - self.settings.throttle_window).await?
            >= self.settings.max_failures_per_address
        {
            return Err(AppError::Throttled);
        }
        let invitation = tx.invitation_by_code_hash(&digest(&credentials::normalize_code(code))).await?;
        let account = match &invitation {
            Some(i) if i.used_at.is_none() && i.expires_at > now => tx.account(i.account_id).await?,
            _ => None,
        };
        let account = match account {
            Some(a) if a.login_id == login_id.as_str() && a.status != AccountStatus::Disabled => a,
            _ => {
                tx.record_sign_in_failure(&address, now).await?;
                tx.commit().await?;
                return Err(ValidationError::new("code", "invalid_or_expired").into());
            }
        };
        drop(tx);
        let hash = credentials::hash_password(&self.settings, password.expose().to_owned()).await?;
        let mut tx = self.begin().await?;
        tx.set_password_hash(account.id, Some(&hash), now).await?;
        tx.set_totp(account.id, None, now).await?;
        tx.replace_recovery_codes(account.id, &[]).await?;
        tx.set_account_status(account.id, AccountStatus::Active.code(), now).await?;
        tx.delete_sessions_of_account(account.id).await?;
        let tokens = end_api_tokens(tx.as_mut(), account.id, None, now, TokenRevocation::CredentialsReissued).await?;
        tx.close_invitations(account.id, now).await?;
        let actor = AuditActor { account_id: Some(AccountId(account.id)), label: &account.login_id, meta };
        tx.append_audit(&audit_record(
            now,
            account.municipality_id.map(MunicipalityId),
            &actor,
            AuditAction::InvitationRedeemed,
            "account",
            Some(account.id),
            json!({ "api_tokens_revoked": tokens }),
        ))
        .await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(account.login_id)
    }

    /// From the shell (`tsunagu user create`): issues an ID without a signed-in
    /// admin, e.g. the installation's first operator. The shell is trusted.
    pub async fn issue_account_from_shell(
        &self,
        municipality_code: Option<&str>,
        new: &NewAccount,
        facility: Option<FacilityId>,
    ) -> Result<IssuedCode, AppError> {
        let municipality = match municipality_code {
            Some(code) => {
                let mut tx = self.store.begin_read().await?;
                let code = tsunagu_domain::municipality::MunicipalityCode::parse(code)?;
                Some(MunicipalityId(tx.municipality_by_code(code.as_str()).await?.ok_or(AppError::NotFound)?.id))
            }
            None => None,
        };
        let meta = RequestMeta::default();
        self.insert_invited_account(
            municipality,
            new,
            facility,
            &AuditActor { account_id: None, label: "shell", meta: &meta },
        )
        .await
    }

    /// From the shell (`tsunagu user reset`): a new one-time code for any account.
    pub async fn reissue_code_from_shell(&self, login: &str) -> Result<IssuedCode, AppError> {
        let login_id = LoginId::parse(login)?;
        let mut tx = self.begin().await?;
        let row = tx.account_by_login(login_id.as_str()).await?.ok_or(AppError::NotFound)?;
        let (code, expires_at) = self.new_invitation(tx.as_mut(), row.id, None).await?;
        tx.delete_sessions_of_account(row.id).await?;
        end_api_tokens(tx.as_mut(), row.id, None, self.now(), TokenRevocation::CredentialsReissued).await?;
        if row.status == AccountStatus::Disabled {
            tx.set_account_status(row.id, AccountStatus::Invited.code(), self.now()).await?;
        }
        let meta = RequestMeta::default();
        let actor = AuditActor { account_id: None, label: "shell", meta: &meta };
        tx.append_audit(&audit_record(
            self.now(),
            row.municipality_id.map(MunicipalityId),
            &actor,
            AuditAction::InvitationReissued,
            "account",
            Some(row.id),
            json!({ "login_id": row.login_id }),
        ))
        .await?;
        let account = load_account(tx.as_mut(), row).await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(IssuedCode { account, code, expires_at })
    }
}
