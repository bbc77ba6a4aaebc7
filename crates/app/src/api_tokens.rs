//! API tokens: a professional makes a token for an EHR, a device or a script;
//! it acts as that person (the same policy, the same audit trail, which names
//! the token), narrowed by its scopes, until it expires or is revoked. Only
//! the token's SHA-256 is stored; the token itself is shown once.

use crate::cache::sessions::Known;
use crate::credentials::{digest, new_token};
use crate::municipalities::enforce;
use crate::session::{SessionStage, load_account};
use crate::{App, AppError, AuditActor, RequestMeta, Session, audit_record};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use tsunagu_domain::account::AccountStatus;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::ids::{AccountId, MunicipalityId};
use tsunagu_domain::interop::{ApiTokenDraft, Scopes, TokenRevocation};
use tsunagu_domain::policy;
use tsunagu_store::ApiTokenRow;
use uuid::Uuid;

/// Every token starts so, which lets secret scanners recognise a leaked one.
pub const TOKEN_PREFIX: &str = "tsunagu_";

/// A token as its owner sees it in the list (never the token itself).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiTokenView {
    pub id: Uuid,
    pub name: String,
    pub scopes: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked (told to its owner in the list).
    pub revoked_reason: Option<TokenRevocation>,
    pub live: bool,
}

/// A token just made: the only time its text exists outside the caller.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub id: Uuid,
    pub token: String,
    pub expires_at: OffsetDateTime,
}

fn view(r: ApiTokenRow, now: OffsetDateTime) -> ApiTokenView {
    ApiTokenView {
        live: r.revoked_at.is_none() && r.expires_at > now,
        id: r.id,
        name: r.name,
        scopes: r.scopes,
        created_at: r.created_at,
        expires_at: r.expires_at,
        revoked_at: r.revoked_at,
        revoked_reason: r.revoked_reason.as_deref().and_then(|c| TokenRevocation::parse(c).ok()),
    }
}

impl App {
    /// Whether the signed-in person may have API tokens (and so is offered them).
    pub fn may_create_api_tokens(&self, session: &Session) -> bool {
        session.scopes.is_none()
            && session.actor().is_ok_and(|a| policy::create_api_token(&a, session.account.profession).is_allowed())
    }

    /// Makes a token that acts for the signed-in person.
    pub async fn create_api_token(
        &self,
        session: &Session,
        name: &str,
        scopes: &str,
        valid_days: &str,
        meta: &RequestMeta,
    ) -> Result<NewApiToken, AppError> {
        if session.scopes.is_some() {
            // A token does not make more tokens.
            return Err(AppError::Forbidden);
        }
        let actor = session.actor()?;
        enforce(policy::create_api_token(&actor, session.account.profession))?;
        let draft = ApiTokenDraft::parse(name, scopes, valid_days)?;
        self.insert_token(session.account.id, actor.municipality_id, &draft, &session.audit_actor(meta)).await
    }

    /// The operator's way, from the shell (`tsunagu client create`): a token
    /// for the account `login`, which must be allowed to have one.
    pub async fn create_api_token_for(
        &self,
        login: &str,
        name: &str,
        scopes: &str,
        valid_days: &str,
    ) -> Result<NewApiToken, AppError> {
        let draft = ApiTokenDraft::parse(name, scopes, valid_days)?;
        let mut tx = self.store.begin_read().await?;
        let row = tx.account_by_login(&login.trim().to_lowercase()).await?.ok_or(AppError::NotFound)?;
        let account = load_account(tx.as_mut(), row).await?;
        drop(tx);
        if account.status != AccountStatus::Active {
            return Err(AppError::Forbidden);
        }
        let actor = crate::session::actor_of(&account);
        enforce(policy::create_api_token(&actor, account.profession))?;
        let meta = RequestMeta { source_ip: None, user_agent: Some("tsunagu client create".into()) };
        let label = format!("{} (shell)", account.login_id);
        let who = AuditActor { account_id: Some(account.id), label: &label, meta: &meta };
        self.insert_token(account.id, actor.municipality_id, &draft, &who).await
    }

    async fn insert_token(
        &self,
        account: AccountId,
        municipality: Option<MunicipalityId>,
        draft: &ApiTokenDraft,
        who: &AuditActor<'_>,
    ) -> Result<NewApiToken, AppError> {
        let token = format!("{TOKEN_PREFIX}{}", new_token()?);
        let now = self.now();
        let row = ApiTokenRow {
            id: Uuid::now_v7(),
            account_id: account.0,
            name: draft.name.clone(),
            scopes: draft.scopes.code(),
            token_hash: digest(&token),
            created_at: now,
            expires_at: now + Duration::days(draft.valid_days),
            revoked_at: None,
            revoked_by: None,
            revoked_reason: None,
        };
        let mut tx = self.begin().await?;
        tx.insert_api_token(&row).await?;
        tx.append_audit(&audit_record(
            now,
            municipality,
            who,
            AuditAction::ApiTokenCreated,
            "api_token",
            Some(row.id),
            json!({ "name": row.name, "scopes": row.scopes, "expires_at": row.expires_at.date().to_string() }),
        ))
        .await?;
        tx.commit().await?;
        Ok(NewApiToken { id: row.id, token, expires_at: row.expires_at })
    }

    /// The signed-in person's tokens, newest first.
    pub async fn api_tokens(&self, session: &Session) -> Result<Vec<ApiTokenView>, AppError> {
        session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let rows = tx.api_tokens_of_account(session.account.id.0).await?;
        let now = self.now();
        Ok(rows.into_iter().map(|r| view(r, now)).collect())
    }

    /// Revokes one of one's own tokens; it stops working at once.
    pub async fn revoke_api_token(&self, session: &Session, id: Uuid, meta: &RequestMeta) -> Result<(), AppError> {
        if session.scopes.is_some() {
            return Err(AppError::Forbidden);
        }
        let actor = session.actor()?;
        let now = self.now();
        let mut tx = self.begin().await?;
        if !tx.revoke_api_token(id, actor.account_id.0, actor.account_id.0, now).await? {
            return Err(AppError::NotFound);
        }
        tx.append_audit(&audit_record(
            now,
            actor.municipality_id,
            &session.audit_actor(meta),
            AuditAction::ApiTokenRevoked,
            "api_token",
            Some(id),
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        self.sessions_changed().await;
        Ok(())
    }

    /// The session an API token stands for: its owner, narrowed by its
    /// scopes; `None` for an unknown, expired or revoked token, or an owner
    /// who may no longer sign in.
    pub async fn api_session(&self, token: &str) -> Result<Option<Session>, AppError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = digest(token);
        if let Some(known) = self.sessions.get(hash.as_slice())
            && known.session.expires_at > self.now()
        {
            return Ok(Some(known.session.clone()));
        }
        let generation = self.sessions.generation();
        let mut tx = self.store.begin_read().await?;
        let Some(row) = tx.api_token_by_hash(&hash).await? else {
            return Ok(None);
        };
        if row.revoked_at.is_some() || row.expires_at <= self.now() {
            return Ok(None);
        }
        let Some(account) = tx.account(row.account_id).await? else {
            return Ok(None);
        };
        let account = load_account(tx.as_mut(), account).await?;
        if account.status != AccountStatus::Active {
            return Ok(None);
        }
        let scopes = Scopes::parse(&row.scopes)?;
        let session = Session {
            token_hash: hash.clone(),
            stage: SessionStage::Full,
            csrf_token: String::new(),
            audit_label: format!("{} ({})", account.login_id, row.name),
            account,
            expires_at: row.expires_at,
            scopes: Some(scopes),
            client: Some(row.name),
        };
        self.sessions.put(
            hash,
            std::sync::Arc::new(Known { session: session.clone(), last_seen_at: None }),
            generation,
        );
        Ok(Some(session))
    }
}
