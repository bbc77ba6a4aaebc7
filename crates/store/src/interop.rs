//! Storage for interoperability (issue 6): API tokens, and the patient search
//! the FHIR API runs (only ever within one member's own patients). A trait
//! of its own (a supertrait of [`crate::StoreTx`]), as [`crate::PublicMapTx`].

use crate::StoreError;
use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApiTokenRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub scopes: String,
    pub token_hash: Vec<u8>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<Uuid>,
    /// A `TokenRevocation` code.
    pub revoked_reason: Option<String>,
}

#[async_trait]
pub trait InteropTx: Send {
    async fn insert_api_token(&mut self, t: &ApiTokenRow) -> Result<(), StoreError>;
    async fn api_token_by_hash(&mut self, token_hash: &[u8]) -> Result<Option<ApiTokenRow>, StoreError>;
    /// Newest first, revoked ones included.
    async fn api_tokens_of_account(&mut self, account_id: Uuid) -> Result<Vec<ApiTokenRow>, StoreError>;
    /// Revokes the account's token if it is live; whether it was.
    async fn revoke_api_token(
        &mut self,
        id: Uuid,
        account_id: Uuid,
        by: Uuid,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Revokes every live token of the account; the names of those it revoked.
    async fn revoke_api_tokens_of_account(
        &mut self,
        account_id: Uuid,
        by: Option<Uuid>,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<Vec<String>, StoreError>;
    /// Records the identifier another system gave an entry; a taken one is a conflict.
    async fn insert_entry_identifier(
        &mut self,
        patient_id: Uuid,
        system: &str,
        value: &str,
        entry_id: Uuid,
    ) -> Result<(), StoreError>;
    /// The entry of the patient that another system identified so, if any.
    async fn entry_by_identifier(
        &mut self,
        patient_id: Uuid,
        system: &str,
        value: &str,
    ) -> Result<Option<Uuid>, StoreError>;
    /// The attachments of the granted patient's entries that the grant's reader
    /// sees (their own, and those of the grant's audiences), newest first.
    async fn visible_attachments(
        &mut self,
        grant: &crate::RecordGrant,
    ) -> Result<Vec<crate::AttachmentRow>, StoreError>;
}

/// Stamps out [`InteropTx`] for a backend (see `sql.rs`): the same text on both.
macro_rules! impl_interop_tx {
    ($tx:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::interop::InteropTx for $tx {
            async fn insert_api_token(&mut self, t: &$crate::ApiTokenRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO api_tokens (id, account_id, name, scopes, token_hash, created_at, expires_at, \
                     revoked_at, revoked_by, revoked_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(t.id)
                .bind(t.account_id)
                .bind(&t.name)
                .bind(&t.scopes)
                .bind(&t.token_hash)
                .bind(t.created_at)
                .bind(t.expires_at)
                .bind(t.revoked_at)
                .bind(t.revoked_by)
                .bind(&t.revoked_reason)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn api_token_by_hash(
                &mut self,
                token_hash: &[u8],
            ) -> Result<Option<$crate::ApiTokenRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM api_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(self.conn())
                    .await?)
            }

            async fn api_tokens_of_account(
                &mut self,
                account_id: uuid::Uuid,
            ) -> Result<Vec<$crate::ApiTokenRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM api_tokens WHERE account_id = $1 ORDER BY created_at DESC, id DESC")
                    .bind(account_id)
                    .fetch_all(self.conn())
                    .await?)
            }

            async fn revoke_api_token(
                &mut self,
                id: uuid::Uuid,
                account_id: uuid::Uuid,
                by: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $4, revoked_by = $3, revoked_reason = 'owner' \
                     WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(account_id)
                .bind(by)
                .bind(at)
                .execute(self.conn())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_api_tokens_of_account(
                &mut self,
                account_id: uuid::Uuid,
                by: Option<uuid::Uuid>,
                at: time::OffsetDateTime,
                reason: &str,
            ) -> Result<Vec<String>, $crate::StoreError> {
                // Expired tokens are left as they are: they ended on their own.
                Ok(sqlx::query_scalar(
                    "UPDATE api_tokens SET revoked_at = $2, revoked_by = $3, revoked_reason = $4 \
                     WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING name",
                )
                .bind(account_id)
                .bind(at)
                .bind(by)
                .bind(reason)
                .fetch_all(self.conn())
                .await?)
            }

            async fn insert_entry_identifier(
                &mut self,
                patient_id: uuid::Uuid,
                system: &str,
                value: &str,
                entry_id: uuid::Uuid,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO entry_identifiers (patient_id, system, value, entry_id) VALUES ($1, $2, $3, $4)",
                )
                .bind(patient_id)
                .bind(system)
                .bind(value)
                .bind(entry_id)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn entry_by_identifier(
                &mut self,
                patient_id: uuid::Uuid,
                system: &str,
                value: &str,
            ) -> Result<Option<uuid::Uuid>, $crate::StoreError> {
                Ok(sqlx::query_scalar(
                    "SELECT entry_id FROM entry_identifiers WHERE patient_id = $1 AND system = $2 AND value = $3",
                )
                .bind(patient_id)
                .bind(system)
                .bind(value)
                .fetch_optional(self.conn())
                .await?)
            }

            // The audience condition is tsunagu_domain::care::visible_audiences in SQL, as in `timeline`.
            async fn visible_attachments(
                &mut self,
                grant: &$crate::RecordGrant,
            ) -> Result<Vec<$crate::AttachmentRow>, $crate::StoreError> {
                use tsunagu_domain::care::Audience;
                Ok(sqlx::query_as(
                    "SELECT a.* FROM attachments a JOIN entries e ON e.id = a.entry_id WHERE a.patient_id = $1 \
                     AND (e.author_id = $2 OR ($3 AND e.audience = 'team') OR ($4 AND e.audience = 'family') \
                          OR ($5 AND e.audience = 'physicians')) \
                     ORDER BY a.created_at DESC, a.id DESC",
                )
                .bind(grant.patient().0)
                .bind(grant.reader().0)
                .bind(grant.shows_audience(Audience::Team))
                .bind(grant.shows_audience(Audience::WithFamily))
                .bind(grant.shows_audience(Audience::Physicians))
                .fetch_all(self.conn())
                .await?)
            }
        }
    };
}

pub(crate) use impl_interop_tx;
