//! Signing in and out: password, then a TOTP code (or a recovery code), with
//! sessions kept in the database so several instances can serve one installation.

use crate::cache::sessions::Known;
use crate::credentials::end_api_tokens;
use crate::credentials::{self, digest};
pub(crate) use crate::session::load_account;
pub use crate::session::{Session, SessionStage};
use crate::{App, AppError, AuditActor, RequestMeta, audit_record};
use serde_json::json;
use tsunagu_domain::account::{AccountStatus, LoginId, NewPassword};
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::ids::AccountId;
use tsunagu_domain::interop::TokenRevocation;
use tsunagu_store::{AccountRow, SessionRow, StoreTx};

/// A new session token to set in the cookie, and where it stands.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub stage: SessionStage,
}

/// What the enrolment page shows: the new secret, to type or scan.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
}

/// The per-account throttling key: the login id as sign-in reads it (full
/// width folded, lower case), so that no spelling of a login escapes its lock.
fn account_key(login: &str) -> String {
    match LoginId::parse(login) {
        Ok(id) => format!("account:{}", id.as_str()),
        // No account has such an id; its attempts still count, under one spelling.
        Err(_) => format!("account:{}", tsunagu_domain::text::fold_full_width_ascii(login.trim()).to_lowercase()),
    }
}

/// Wrong second-factor codes count under a key of their own, which a correct
/// password does not clear: only a completed sign-in does.
fn second_factor_key(login: &str) -> String {
    format!("second_factor:{}", account_key(login))
}

fn address_key(meta: &RequestMeta) -> String {
    format!("address:{}", meta.source_ip.as_deref().unwrap_or("unknown"))
}

impl App {
    async fn throttled(&self, tx: &mut dyn StoreTx, login: &str, meta: &RequestMeta) -> Result<bool, AppError> {
        let since = self.now() - self.settings.throttle_window;
        let by_account = tx.sign_in_failures_since(&account_key(login), since).await?;
        let by_code = tx.sign_in_failures_since(&second_factor_key(login), since).await?;
        let by_address = tx.sign_in_failures_since(&address_key(meta), since).await?;
        Ok(by_account >= self.settings.max_failures_per_account
            || by_code >= self.settings.max_failures_per_account
            || by_address >= self.settings.max_failures_per_address)
    }

    async fn record_failure(
        &self,
        tx: &mut dyn StoreTx,
        login: &str,
        account: Option<&AccountRow>,
        action: AuditAction,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let now = self.now();
        let key = if action == AuditAction::SecondFactorFailed { second_factor_key(login) } else { account_key(login) };
        tx.record_sign_in_failure(&key, now).await?;
        tx.record_sign_in_failure(&address_key(meta), now).await?;
        let label: String = login.trim().chars().filter(|c| !c.is_control()).take(64).collect();
        let actor = AuditActor { account_id: account.map(|a| AccountId(a.id)), label: &label, meta };
        let municipality = account.and_then(|a| a.municipality_id).map(tsunagu_domain::ids::MunicipalityId);
        tx.append_audit(&audit_record(now, municipality, &actor, action, "account", account.map(|a| a.id), json!({})))
            .await?;
        Ok(())
    }

    /// Step one: login id and password. Every refusal looks the same, whether
    /// the account exists or not, and takes the same time.
    pub async fn sign_in(&self, login: &str, password: &str, meta: &RequestMeta) -> Result<SignedIn, AppError> {
        let login_id = LoginId::parse(login).ok();
        let mut tx = self.store.begin_read().await?;
        if self.throttled(tx.as_mut(), login, meta).await? {
            return Err(AppError::Throttled);
        }
        let account = match &login_id {
            Some(id) => tx.account_by_login(id.as_str()).await?,
            None => None,
        };
        drop(tx);

        let stored_hash = account.as_ref().and_then(|a| a.password_hash.clone());
        let password_ok = credentials::verify_password(&self.settings, password.to_owned(), stored_hash).await?;
        let active = account.as_ref().is_some_and(|a| a.status == AccountStatus::Active);

        let mut tx = self.begin().await?;
        let account = match account {
            Some(a) if password_ok && active => a,
            other => {
                self.record_failure(tx.as_mut(), login, other.as_ref(), AuditAction::SignInFailed, meta).await?;
                tx.commit().await?;
                return Err(AppError::SignInRefused);
            }
        };
        tx.clear_sign_in_failures(&account_key(login)).await?;
        let stage = if account.totp_secret.is_some() { SessionStage::SecondFactor } else { SessionStage::Enrol };
        let now = self.now();
        let token = credentials::new_token()?;
        tx.insert_session(&SessionRow {
            token_hash: digest(&token),
            account_id: account.id,
            stage: stage.code().to_owned(),
            csrf_token: credentials::new_token()?,
            pending_totp_secret: None,
            created_at: now,
            last_seen_at: now,
            // Half-signed-in sessions are short-lived.
            expires_at: now + time::Duration::minutes(10),
            source_ip: meta.source_ip.clone(),
            user_agent: meta.user_agent.clone(),
        })
        .await?;
        tx.commit().await?;
        Ok(SignedIn { token, stage })
    }

    /// Looks up a session by its cookie token. Expired sessions (idle or
    /// absolute) are removed and answer `None`.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, AppError> {
        let hash = digest(token);
        let now = self.now();
        if let Some(known) = self.sessions.get(hash.as_slice()) {
            let last_seen = known.last_seen_at.unwrap_or(now);
            let idle_expired = last_seen + self.settings.session_idle_timeout <= now;
            // A session that expired meanwhile is looked up again (and deleted) below.
            if known.session.expires_at > now && !idle_expired && now - last_seen <= time::Duration::minutes(1) {
                return Ok(Some(known.session.clone()));
            }
        }
        let generation = self.sessions.generation();
        let mut tx = self.store.begin_read().await?;
        let Some(row) = tx.session(&hash).await? else {
            return Ok(None);
        };
        let idle_expired = row.last_seen_at + self.settings.session_idle_timeout <= now;
        if row.expires_at <= now || idle_expired {
            drop(tx);
            let mut tx = self.begin().await?;
            tx.delete_session(&hash).await?;
            tx.commit().await?;
            self.sessions_changed().await;
            return Ok(None);
        }
        let Some(account_row) = tx.account(row.account_id).await? else {
            return Ok(None);
        };
        if account_row.status != AccountStatus::Active {
            return Ok(None);
        }
        let account = load_account(tx.as_mut(), account_row).await?;
        drop(tx);
        let stage = SessionStage::parse(&row.stage).ok_or(AppError::Unauthenticated)?;
        // Touch at most once a minute, so reading pages does not mean a write per request.
        let mut last_seen_at = row.last_seen_at;
        if now - row.last_seen_at > time::Duration::minutes(1) {
            let mut tx = self.begin_keeping_all().await?;
            tx.update_session(&SessionRow { last_seen_at: now, ..row.clone() }).await?;
            tx.commit().await?;
            last_seen_at = now;
        }
        let audit_label = account.login_id.clone();
        let session = Session {
            token_hash: hash.clone(),
            stage,
            csrf_token: row.csrf_token,
            account,
            expires_at: row.expires_at,
            audit_label,
            scopes: None,
            client: None,
        };
        let known = Known { session: session.clone(), last_seen_at: Some(last_seen_at) };
        self.sessions.put(hash, std::sync::Arc::new(known), generation);
        Ok(Some(session))
    }

    async fn half_session(
        &self,
        tx: &mut dyn StoreTx,
        token: &str,
        stage: SessionStage,
    ) -> Result<(SessionRow, AccountRow), AppError> {
        let now = self.now();
        let row = tx.session(&digest(token)).await?.ok_or(AppError::Unauthenticated)?;
        if row.stage != stage.code() || row.expires_at <= now {
            return Err(AppError::Unauthenticated);
        }
        let account = tx.account(row.account_id).await?.ok_or(AppError::Unauthenticated)?;
        Ok((row, account))
    }

    /// Replaces a half-signed-in session with a full one under a new token
    /// (so a token seen before sign-in is worthless after it: no fixation).
    async fn promote(
        &self,
        tx: &mut dyn StoreTx,
        old: &SessionRow,
        account: &AccountRow,
        method: &str,
        meta: &RequestMeta,
    ) -> Result<SignedIn, AppError> {
        let now = self.now();
        let token = credentials::new_token()?;
        tx.delete_session(&old.token_hash).await?;
        tx.insert_session(&SessionRow {
            token_hash: digest(&token),
            stage: SessionStage::Full.code().to_owned(),
            csrf_token: credentials::new_token()?,
            pending_totp_secret: None,
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.settings.session_absolute_timeout,
            ..old.clone()
        })
        .await?;
        let actor = AuditActor { account_id: Some(AccountId(account.id)), label: &account.login_id, meta };
        let municipality = account.municipality_id.map(tsunagu_domain::ids::MunicipalityId);
        tx.append_audit(&audit_record(
            now,
            municipality,
            &actor,
            AuditAction::SignIn,
            "account",
            Some(account.id),
            json!({ "method": method }),
        ))
        .await?;
        Ok(SignedIn { token, stage: SessionStage::Full })
    }

    /// Step two: a 6-digit TOTP code, or one of the recovery codes.
    pub async fn verify_second_factor(
        &self,
        token: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<SignedIn, AppError> {
        let mut tx = self.begin().await?;
        let (row, account) = self.half_session(tx.as_mut(), token, SessionStage::SecondFactor).await?;
        if self.throttled(tx.as_mut(), &account.login_id, meta).await? {
            tx.delete_session(&row.token_hash).await?;
            tx.commit().await?;
            self.sessions_changed().await;
            return Err(AppError::Throttled);
        }
        let stored = account.totp_secret.clone().ok_or(AppError::Unauthenticated)?;
        let secret = self.open_secret(&stored, account.id.as_bytes())?;
        let now = self.now();
        let method = match credentials::check_totp(&secret, code, now.unix_timestamp())? {
            // The replay guard: a step, once accepted, is never accepted again.
            Some(step) if tx.advance_totp_step(account.id, i64::try_from(step).unwrap_or(i64::MAX)).await? => "totp",
            Some(_) => "",
            None => {
                let normalized = credentials::normalize_code(code);
                if normalized.len() == 10 && tx.use_recovery_code(account.id, &digest(&normalized), now).await? {
                    "recovery_code"
                } else {
                    ""
                }
            }
        };
        if method.is_empty() {
            self.record_failure(tx.as_mut(), &account.login_id, Some(&account), AuditAction::SecondFactorFailed, meta)
                .await?;
            tx.commit().await?;
            return Err(AppError::SignInRefused);
        }
        if method == "recovery_code" {
            let actor = AuditActor { account_id: Some(AccountId(account.id)), label: &account.login_id, meta };
            let municipality = account.municipality_id.map(tsunagu_domain::ids::MunicipalityId);
            let left = tx.unused_recovery_codes(account.id).await?;
            tx.append_audit(&audit_record(
                now,
                municipality,
                &actor,
                AuditAction::RecoveryCodeUsed,
                "account",
                Some(account.id),
                json!({ "remaining": left }),
            ))
            .await?;
        }
        tx.clear_sign_in_failures(&account_key(&account.login_id)).await?;
        tx.clear_sign_in_failures(&second_factor_key(&account.login_id)).await?;
        let signed_in = self.promote(tx.as_mut(), &row, &account, method, meta).await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(signed_in)
    }

    /// The secret to enrol, created once per half-signed-in session.
    pub async fn enrolment(&self, token: &str) -> Result<Enrolment, AppError> {
        let mut tx = self.begin().await?;
        let (row, account) = self.half_session(tx.as_mut(), token, SessionStage::Enrol).await?;
        let secret = match &row.pending_totp_secret {
            Some(s) => self.open_secret(s, &row.token_hash)?,
            None => {
                let s = credentials::random_bytes::<20>()?.to_vec();
                let stored = self.seal_secret(&s, &row.token_hash)?;
                tx.update_session(&SessionRow { pending_totp_secret: Some(stored), ..row.clone() }).await?;
                s
            }
        };
        tx.commit().await?;
        Ok(Enrolment {
            secret_base32: credentials::secret_base32(&secret),
            otpauth_uri: credentials::otpauth_uri(&self.settings.totp_issuer, &account.login_id, &secret),
        })
    }

    /// Confirms enrolment with a first code from the app; returns the full
    /// session and the recovery codes, which are shown once and never again.
    pub async fn complete_enrolment(
        &self,
        token: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<(SignedIn, Vec<String>), AppError> {
        let mut tx = self.begin().await?;
        let (row, account) = self.half_session(tx.as_mut(), token, SessionStage::Enrol).await?;
        let pending = row.pending_totp_secret.clone().ok_or(AppError::Unauthenticated)?;
        let secret = self.open_secret(&pending, &row.token_hash)?;
        let now = self.now();
        let Some(step) = credentials::check_totp(&secret, code, now.unix_timestamp())? else {
            self.record_failure(tx.as_mut(), &account.login_id, Some(&account), AuditAction::SecondFactorFailed, meta)
                .await?;
            tx.commit().await?;
            return Err(tsunagu_domain::ValidationError::new("code", "wrong_code").into());
        };
        tx.set_totp(account.id, Some(&self.seal_secret(&secret, account.id.as_bytes())?), now).await?;
        tx.advance_totp_step(account.id, i64::try_from(step).unwrap_or(i64::MAX)).await?;
        let codes = self.new_recovery_codes(tx.as_mut(), account.id).await?;
        let actor = AuditActor { account_id: Some(AccountId(account.id)), label: &account.login_id, meta };
        let municipality = account.municipality_id.map(tsunagu_domain::ids::MunicipalityId);
        tx.append_audit(&audit_record(
            now,
            municipality,
            &actor,
            AuditAction::SecondFactorEnrolled,
            "account",
            Some(account.id),
            json!({ "method": "totp" }),
        ))
        .await?;
        let signed_in = self.promote(tx.as_mut(), &row, &account, "totp", meta).await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok((signed_in, codes))
    }

    async fn new_recovery_codes(&self, tx: &mut dyn StoreTx, account_id: uuid::Uuid) -> Result<Vec<String>, AppError> {
        let codes: Vec<String> =
            (0..10).map(|_| credentials::new_code(3).map(|c| c[..12].to_owned())).collect::<Result<_, _>>()?;
        // Stored normalised (10 characters of the 12 shown, without hyphens) and hashed.
        let codes: Vec<String> = codes.into_iter().map(|c| credentials::normalize_code(&c)[..10].to_owned()).collect();
        let hashes: Vec<Vec<u8>> = codes.iter().map(|c| digest(c)).collect();
        tx.replace_recovery_codes(account_id, &hashes).await?;
        Ok(codes.iter().map(|c| format!("{}-{}", &c[..5], &c[5..])).collect())
    }

    /// Ends this session (half or full).
    pub async fn sign_out(&self, token: &str, meta: &RequestMeta) -> Result<(), AppError> {
        let mut tx = self.begin().await?;
        let hash = digest(token);
        if let Some(row) = tx.session(&hash).await? {
            tx.delete_session(&hash).await?;
            if let Some(account) = tx.account(row.account_id).await? {
                let actor = AuditActor { account_id: Some(AccountId(account.id)), label: &account.login_id, meta };
                let municipality = account.municipality_id.map(tsunagu_domain::ids::MunicipalityId);
                tx.append_audit(&audit_record(
                    self.now(),
                    municipality,
                    &actor,
                    AuditAction::SignOut,
                    "account",
                    Some(account.id),
                    json!({}),
                ))
                .await?;
            }
        }
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(())
    }

    /// Ends every session of the account, on every device.
    pub async fn sign_out_everywhere(&self, session: &Session, meta: &RequestMeta) -> Result<u64, AppError> {
        let mut tx = self.begin().await?;
        let now = self.now();
        let me = session.account.id.0;
        let ended = tx.delete_sessions_of_account(me).await?;
        let tokens = end_api_tokens(tx.as_mut(), me, Some(me), now, TokenRevocation::SignedOutEverywhere).await?;
        tx.append_audit(&audit_record(
            now,
            session.account.municipality_id,
            &session.audit_actor(meta),
            AuditAction::SignOutEverywhere,
            "account",
            Some(me),
            json!({ "sessions": ended, "api_tokens_revoked": tokens }),
        ))
        .await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(ended)
    }

    /// How many live sessions the account has (shown on the settings page).
    pub async fn session_count(&self, session: &Session) -> Result<i64, AppError> {
        let mut tx = self.store.begin_read().await?;
        Ok(tx.count_sessions_of_account(session.account.id.0, self.now()).await?)
    }

    /// Changes one's own password; other sessions are ended.
    pub async fn change_password(
        &self,
        session: &Session,
        current: &str,
        new: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        session.actor()?;
        let login = LoginId::parse(&session.account.login_id)?;
        let new = NewPassword::parse(new, &login)?;
        let mut tx = self.store.begin_read().await?;
        let row = tx.account(session.account.id.0).await?.ok_or(AppError::Unauthenticated)?;
        drop(tx);
        if !credentials::verify_password(&self.settings, current.to_owned(), row.password_hash).await? {
            return Err(tsunagu_domain::ValidationError::new("current_password", "wrong").into());
        }
        let hash = credentials::hash_password(&self.settings, new.expose().to_owned()).await?;
        let mut tx = self.begin().await?;
        let now = self.now();
        tx.set_password_hash(row.id, Some(&hash), now).await?;
        // Keep this session; end the others, which may be someone else's.
        let this = tx.session(&session.token_hash).await?;
        tx.delete_sessions_of_account(row.id).await?;
        if let Some(this) = this {
            tx.insert_session(&this).await?;
        }
        let tokens = end_api_tokens(tx.as_mut(), row.id, Some(row.id), now, TokenRevocation::PasswordChanged).await?;
        tx.append_audit(&audit_record(
            now,
            session.account.municipality_id,
            &session.audit_actor(meta),
            AuditAction::PasswordChanged,
            "account",
            Some(row.id),
            json!({ "api_tokens_revoked": tokens }),
        ))
        .await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(())
    }

    /// Issues a fresh set of recovery codes (the old ones stop working).
    pub async fn regenerate_recovery_codes(
        &self,
        session: &Session,
        meta: &RequestMeta,
    ) -> Result<Vec<String>, AppError> {
        session.actor()?;
        let mut tx = self.begin().await?;
        let codes = self.new_recovery_codes(tx.as_mut(), session.account.id.0).await?;
        tx.append_audit(&audit_record(
            self.now(),
            session.account.municipality_id,
            &session.audit_actor(meta),
            AuditAction::RecoveryCodesRegenerated,
            "account",
            Some(session.account.id.0),
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(codes)
    }

    pub async fn unused_recovery_codes(&self, session: &Session) -> Result<i64, AppError> {
        let mut tx = self.store.begin_read().await?;
        Ok(tx.unused_recovery_codes(session.account.id.0).await?)
    }

    /// Remembers the interface language ("ja" or "en") of a signed-in person.
    pub async fn set_language(&self, session: &Session, language: &str) -> Result<(), AppError> {
        let language = match language {
            "ja" | "en" => language,
            _ => return Err(tsunagu_domain::ValidationError::new("language", "unknown").into()),
        };
        let mut tx = self.begin().await?;
        tx.set_language(session.account.id.0, language).await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(())
    }
}

impl App {
    /// Deletes sessions past their absolute expiry (idle ones are refused on use).
    pub async fn sweep_expired_sessions(&self) -> Result<u64, AppError> {
        let mut tx = self.begin().await?;
        let n = tx.delete_expired_sessions(self.now()).await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(n)
    }
}
