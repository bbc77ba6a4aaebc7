//! Secrets: password hashes, session tokens, one-time codes, TOTP.

use crate::{AppError, Settings};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};

fn argon2(settings: &Settings) -> Result<Argon2<'static>, AppError> {
    let params = Params::new(settings.argon2_memory_kib, settings.argon2_iterations, 1, None)
        .map_err(|e| AppError::Internal(format!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with argon2id, off the async runtime (it takes tens of ms by design).
pub async fn hash_password(settings: &Settings, password: String) -> Result<String, AppError> {
    let hasher = argon2(settings)?;
    tokio::task::spawn_blocking(move || {
        hasher
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("hashing task: {e}")))?
}

/// Checks a password against a stored hash. With no stored hash (unknown
/// account) it checks against a throwaway hash so that the answer takes the
/// same time either way and reveals nothing.
pub async fn verify_password(settings: &Settings, password: String, stored: Option<String>) -> Result<bool, AppError> {
    let hasher = argon2(settings)?;
    let known = stored.is_some();
    let stored = match stored {
        Some(s) => s,
        None => dummy_hash(settings).await?,
    };
    let ok = tokio::task::spawn_blocking(move || hasher.verify_password(password.as_bytes(), stored.as_str()).is_ok())
        .await
        .map_err(|e| AppError::Internal(format!("hashing task: {e}")))?;
    Ok(ok && known)
}

async fn dummy_hash(settings: &Settings) -> Result<String, AppError> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY.get_or_try_init(|| hash_password(settings, "tsunagu dummy password".to_owned())).await.cloned()
}

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AppError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    Ok(buf)
}

/// A session token for a cookie (256 bits, URL-safe).
pub fn new_token() -> Result<String, AppError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// What is stored for a token or code: its SHA-256, so a copy of the database
/// does not let anyone sign in. (These are random, so no salt or stretching is needed.)
pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Letters and digits that cannot be misread on paper (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A one-time code of `groups` groups of four, e.g. `K7QM-2XPA-9RTE` (≈ 5 bits a character).
pub fn new_code(groups: usize) -> Result<String, AppError> {
    let bytes = random_bytes::<32>()?;
    let chars: Vec<char> = bytes
        .iter()
        .take(groups * 4)
        .filter_map(|b| CODE_ALPHABET.get(usize::from(*b) % CODE_ALPHABET.len()).map(|c| char::from(*c)))
        .collect();
    Ok(chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-"))
}

/// Normalises a typed code: upper-case, no spaces or hyphens, full-width folded.
pub fn normalize_code(raw: &str) -> String {
    tsunagu_domain::text::fold_full_width_ascii(raw)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The TOTP of a secret: SHA-1, 6 digits, 30 s, one step of clock skew either way (RFC 6238 defaults
/// that every authenticator app understands).
pub fn totp(secret: &[u8]) -> Result<Totp, AppError> {
    Builder::new()
        .with_secret(Secret::new(secret.to_vec().into_boxed_slice()))
        .with_skew(1)
        .build()
        .map_err(|e| AppError::Internal(format!("totp: {e}")))
}

/// The matched time step if `code` is right at `unix_seconds`.
pub fn check_totp(secret: &[u8], code: &str, unix_seconds: i64) -> Result<Option<u64>, AppError> {
    let code: String = tsunagu_domain::text::fold_full_width_ascii(code).chars().filter(char::is_ascii_digit).collect();
    if code.len() != 6 {
        return Ok(None);
    }
    let at = u64::try_from(unix_seconds).unwrap_or(0);
    Ok(totp(secret)?.check(&code, at))
}

/// Base32 of a secret, for typing into an authenticator app.
pub fn secret_base32(secret: &[u8]) -> String {
    Secret::new(secret.to_vec().into_boxed_slice()).to_base32()
}

/// The `otpauth://` URI an authenticator app reads from a QR code.
pub fn otpauth_uri(issuer: &str, login_id: &str, secret: &[u8]) -> String {
    let issuer: String = issuer.chars().filter(char::is_ascii_alphanumeric).collect();
    format!(
        "otpauth://totp/{issuer}:{login_id}?secret={}&issuer={issuer}&algorithm=SHA1&digits=6&period=30",
        secret_base32(secret)
    )
}

/// Revokes every live API token of `account` in `tx`, because the credentials
/// that made them ended; the names of those revoked (for the audit event).
pub(crate) async fn end_api_tokens(
    tx: &mut dyn tsunagu_store::StoreTx,
    account: uuid::Uuid,
    by: Option<uuid::Uuid>,
    at: time::OffsetDateTime,
    reason: tsunagu_domain::interop::TokenRevocation,
) -> Result<Vec<String>, crate::AppError> {
    Ok(tx.revoke_api_tokens_of_account(account, by, at, reason.code()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_and_unambiguous() -> Result<(), AppError> {
        let code = new_code(3)?;
        assert_eq!(code.len(), 14);
        assert!(code.chars().all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))));
        assert_ne!(code, new_code(3)?);
        assert_eq!(normalize_code(" ｋ７qm-2xpa "), "K7QM2XPA");
        Ok(())
    }

    #[test]
    fn totp_matches_rfc_6238_test_vector() -> Result<(), AppError> {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T = 59 s -> 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = b"12345678901234567890";
        assert_eq!(check_totp(secret, "287082", 59)?, Some(1));
        assert_eq!(check_totp(secret, "287083", 59)?, None);
        assert_eq!(check_totp(secret, "２８７０８２", 59)?, Some(1));
        Ok(())
    }

    #[tokio::test]
    async fn password_hashes_verify_and_unknown_accounts_never_do() -> Result<(), AppError> {
        let settings = Settings { argon2_memory_kib: 1024, argon2_iterations: 1, ..Settings::default() };
        let hash = hash_password(&settings, "correct horse battery".into()).await?;
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&settings, "correct horse battery".into(), Some(hash.clone())).await?);
        assert!(!verify_password(&settings, "wrong horse battery".into(), Some(hash)).await?);
        assert!(!verify_password(&settings, "tsunagu dummy password".into(), None).await?);
        Ok(())
    }
}
