//! Second-factor secrets sealed with a key that is not in the database: a
//! copy of the database or of a backup alone does not give anyone the codes of
//! the authenticator apps (MHLW guideline 6.0, encryption of stored
//! credentials). ChaCha20-Poly1305 (ring), a random nonce per seal, the
//! account (or the half-signed-in session) as associated data, so that a
//! sealed secret moved to another account does not open.
//!
//! Stored form: `tsv1` ‖ key id (4 bytes of the key's SHA-256) ‖ nonce (12) ‖
//! ciphertext and tag. Anything else is a secret stored before sealing
//! existed; it is read as it is and sealed at the next start
//! ([`crate::App::seal_second_factors`]).

use crate::AppError;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"tsv1";
const HEADER: usize = MAGIC.len() + 4 + NONCE_LEN;

/// The installation's key for sealing secrets (32 bytes, kept in a file
/// beside the database, not in it).
#[derive(Clone)]
pub struct SealingKey {
    key: [u8; 32],
    id: [u8; 4],
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingKey({})", self.id.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }
}

impl SealingKey {
    pub fn from_bytes(key: [u8; 32]) -> Self {
        let [a, b, c, d, ..] = <[u8; 32]>::from(Sha256::digest(key));
        Self { key, id: [a, b, c, d] }
    }

    /// A new random key.
    pub fn generate() -> Result<Self, AppError> {
        Ok(Self::from_bytes(crate::credentials::random_bytes::<32>()?))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.key
    }

    fn aead(&self) -> Result<LessSafeKey, AppError> {
        let unbound =
            UnboundKey::new(&CHACHA20_POLY1305, &self.key).map_err(|_| AppError::Internal("sealing key".to_owned()))?;
        Ok(LessSafeKey::new(unbound))
    }

    /// Seals `secret` for `owner` (an account id, a session's token hash).
    pub fn seal(&self, secret: &[u8], owner: &[u8]) -> Result<Vec<u8>, AppError> {
        let nonce_bytes = crate::credentials::random_bytes::<NONCE_LEN>()?;
        let mut sealed = secret.to_vec();
        self.aead()?
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::from(owner), &mut sealed)
            .map_err(|_| AppError::Internal("sealing failed".to_owned()))?;
        let mut out = Vec::with_capacity(HEADER + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The secret in `stored` (sealed for `owner`, or stored before sealing).
    /// A secret sealed with another key, or for another owner, or altered, is
    /// an error: never a wrong secret.
    pub fn open(&self, stored: &[u8], owner: &[u8]) -> Result<Vec<u8>, SealError> {
        if !is_sealed(stored) {
            return Ok(stored.to_vec());
        }
        if stored.get(MAGIC.len()..MAGIC.len() + 4) != Some(&self.id[..]) {
            return Err(SealError::OtherKey);
        }
        let nonce: [u8; NONCE_LEN] =
            stored.get(MAGIC.len() + 4..HEADER).and_then(|n| n.try_into().ok()).ok_or(SealError::OtherKey)?;
        let mut sealed = stored.get(HEADER..).ok_or(SealError::OtherKey)?.to_vec();
        let aead = self.aead().map_err(|_| SealError::Damaged)?;
        let plain = aead
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(owner), &mut sealed)
            .map_err(|_| SealError::Damaged)?;
        Ok(plain.to_vec())
    }

    /// Whether `stored` was sealed with this key (or is not sealed at all).
    pub fn opens(&self, stored: &[u8]) -> bool {
        !is_sealed(stored) || stored.get(MAGIC.len()..MAGIC.len() + 4) == Some(&self.id[..])
    }
}

/// Whether `stored` is a sealed secret (rather than one stored before sealing).
pub fn is_sealed(stored: &[u8]) -> bool {
    stored.starts_with(MAGIC) && stored.len() >= HEADER
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the secret was sealed with another key")]
    OtherKey,
    #[error("the sealed secret is damaged or belongs to someone else")]
    Damaged,
}

impl From<SealError> for AppError {
    fn from(e: SealError) -> Self {
        AppError::Internal(format!("second factor: {e}"))
    }
}

impl crate::App {
    /// `secret` as it is to be stored for `owner`: sealed when the installation has a key.
    pub(crate) fn seal_secret(&self, secret: &[u8], owner: &[u8]) -> Result<Vec<u8>, AppError> {
        match &self.settings.sealing_key {
            Some(key) => key.seal(secret, owner),
            None => Ok(secret.to_vec()),
        }
    }

    /// The secret stored for `owner`.
    pub(crate) fn open_secret(&self, stored: &[u8], owner: &[u8]) -> Result<Vec<u8>, AppError> {
        match &self.settings.sealing_key {
            Some(key) => Ok(key.open(stored, owner)?),
            None if is_sealed(stored) => {
                Err(AppError::Internal("a sealed second factor, and no sealing key".to_owned()))
            }
            None => Ok(stored.to_vec()),
        }
    }

    /// At start: refuses a key that is not the one the stored secrets were
    /// sealed with (a lost or swapped key file would lock everyone out), and
    /// seals what was stored before sealing existed. Returns how many were sealed.
    pub async fn seal_second_factors(&self) -> Result<usize, AppError> {
        let Some(key) = &self.settings.sealing_key else { return Ok(0) };
        let mut tx = self.begin().await?;
        let stored = tx.totp_secrets().await?;
        if stored.iter().any(|(_, s)| !key.opens(s)) {
            return Err(AppError::Internal(
                "the second factors in the database were sealed with another key: put the installation's \
                 secret.key back (or point secret_key_file at it)"
                    .to_owned(),
            ));
        }
        let mut sealed = 0;
        for (id, secret) in stored.iter().filter(|(_, s)| !is_sealed(s)) {
            tx.replace_totp_secret(*id, &key.seal(secret, id.as_bytes())?).await?;
            sealed += 1;
        }
        if sealed > 0 {
            // A change to every such account's credentials: on the installation's record.
            let meta = crate::RequestMeta { source_ip: None, user_agent: Some("tsunagu serve".into()) };
            let actor = crate::AuditActor { account_id: None, label: "tsunagu serve", meta: &meta };
            let record = crate::audit_record(
                self.now(),
                None,
                &actor,
                tsunagu_domain::audit::AuditAction::SecondFactorsSealed,
                "installation",
                None,
                serde_json::json!({ "accounts": sealed }),
            );
            tx.append_audit(&record).await?;
        }
        tx.commit().await?;
        Ok(sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_owner_with_its_key() {
        let key = SealingKey::from_bytes([7; 32]);
        let secret = b"twenty bytes secret!";
        let sealed = key.seal(secret, b"account-1").unwrap_or_default();
        assert!(is_sealed(&sealed) && !sealed.windows(secret.len()).any(|w| w == secret), "not in the clear");
        assert_ne!(sealed, key.seal(secret, b"account-1").unwrap_or_default(), "a fresh nonce each time");
        assert_eq!(key.open(&sealed, b"account-1"), Ok(secret.to_vec()));
        assert_eq!(key.open(&sealed, b"account-2"), Err(SealError::Damaged), "moved to another account");
        let other = SealingKey::from_bytes([8; 32]);
        assert_eq!(other.open(&sealed, b"account-1"), Err(SealError::OtherKey));
        assert!(key.opens(&sealed) && !other.opens(&sealed));
        let mut altered = sealed.clone();
        if let Some(last) = altered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(key.open(&altered, b"account-1"), Err(SealError::Damaged));
    }

    #[test]
    fn a_secret_stored_before_sealing_reads_as_it_is() {
        let key = SealingKey::from_bytes([7; 32]);
        assert_eq!(key.open(b"plain secret bytes..", b"x"), Ok(b"plain secret bytes..".to_vec()));
        assert!(key.opens(b"plain secret bytes.."));
        assert!(
            format!("{key:?}").starts_with("SealingKey(") && !format!("{key:?}").contains("7, 7"),
            "the key is never printed"
        );
    }
}
