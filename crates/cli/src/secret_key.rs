//! The installation's sealing key for second-factor secrets: a file of 64
//! hex digits beside the database (not in it, and not in its backups), made on
//! the first start, readable by its owner only. Instances on one PostgreSQL
//! database must share the same file (`secret_key_file`).

use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;
use tsunagu_app::sealing::SealingKey;

#[derive(Debug, Error)]
pub enum KeyError {
    #[error("cannot read the secret key {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot create the secret key {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a secret key (64 hex digits expected)")]
    Malformed { path: PathBuf },
    #[error("cannot make a secret key: {0}")]
    Random(String),
}

fn parse(text: &str) -> Option<SealingKey> {
    let hex = text.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(SealingKey::from_bytes(key))
}

/// Reads the key at `path`, or makes it if there is none (two instances
/// starting at once end up with the same one: only one creation wins).
pub fn load_or_create(path: &Path) -> Result<(SealingKey, bool), KeyError> {
    let read = |path: &Path| -> Result<SealingKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read { path: path.to_owned(), source })?;
        parse(&text).ok_or_else(|| KeyError::Malformed { path: path.to_owned() })
    };
    if path.exists() {
        return Ok((read(path)?, false));
    }
    let create = |source| KeyError::Create { path: path.to_owned(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(create)?;
    }
    let key = SealingKey::generate().map_err(|e| KeyError::Random(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            let hex: String = key.bytes().iter().map(|b| format!("{b:02x}")).collect();
            file.write_all(format!("{hex}\n").as_bytes()).and_then(|()| file.sync_all()).map_err(create)?;
            Ok((key, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok((read(path)?, false)),
        Err(e) => Err(create(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("tsunagu-key-{}", uuid::Uuid::now_v7()));
        let path = dir.join("data").join("secret.key");
        let (made, new) = load_or_create(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(new);
        let (read, new) = load_or_create(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!new);
        assert_eq!(made.bytes(), read.bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
            assert_eq!(mode, 0o600, "readable by its owner only");
        }
        std::fs::write(&path, "not a key").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(load_or_create(&path), Err(KeyError::Malformed { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
