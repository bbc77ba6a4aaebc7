//! Attachment files: written durably (temp file, fsync, rename, fsync of the
//! directory) before the database row that refers to them is committed, and
//! read back only through an access-checked, audited use case.

use crate::AppError;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// A file as it arrived in a form.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    pub declared_type: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

fn path_of(dir: &Path, id: Uuid) -> PathBuf {
    // Two-level fan-out keeps directories small; the name is the opaque id only.
    let hex = id.simple().to_string();
    dir.join(&hex[..2]).join(hex)
}

/// Writes the bytes so that they survive a crash once this returns; gives their SHA-256.
pub(crate) async fn store(dir: &Path, id: Uuid, bytes: Vec<u8>) -> Result<Vec<u8>, AppError> {
    let path = path_of(dir, id);
    tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
        std::fs::create_dir_all(&parent)?;
        let temp = parent.join(format!(".{}.tmp", id.simple()));
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, &path)?;
        std::fs::File::open(&parent)?.sync_all()?;
        Ok(Sha256::digest(&bytes).to_vec())
    })
    .await
    .map_err(|e| AppError::Internal(format!("attachment task: {e}")))?
    .map_err(|e| AppError::Internal(format!("attachment write: {e}")))
}

/// Reads a stored file and checks it against its recorded hash.
pub(crate) async fn load(dir: &Path, id: Uuid, sha256: Vec<u8>) -> Result<Vec<u8>, AppError> {
    let path = path_of(dir, id);
    let bytes = tokio::fs::read(&path).await.map_err(|e| AppError::Internal(format!("attachment read: {e}")))?;
    if Sha256::digest(&bytes).as_slice() != sha256.as_slice() {
        return Err(AppError::Internal(format!("attachment {id} does not match its hash")));
    }
    Ok(bytes)
}
