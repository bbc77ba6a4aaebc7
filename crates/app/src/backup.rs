//! Online backups of an SQLite installation and their restore.
//!
//! A backup is a directory `tsunagu-backup-<UTC time>` holding a consistent
//! copy of the database (one snapshot, taken while the server runs), the
//! attachment files, and a `MANIFEST` with the SHA-256 and size of each file.
//! It is written under a `.partial` name and renamed only when complete and
//! synced, so a half-written backup is never mistaken for one. Older
//! generations beyond the number to keep are removed.
//!
//! Restoring checks every checksum first (a damaged backup changes nothing),
//! keeps the database it replaces beside it, and is refused while a server
//! holds the installation (see [`InstallationLock`]).

use crate::{App, AppError};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

const PREFIX: &str = "tsunagu-backup-";
const DATABASE: &str = "tsunagu.db";
const ATTACHMENTS: &str = "attachments";
const MANIFEST: &str = "MANIFEST";

#[derive(Debug, Error)]
pub enum BackupError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    #[error("a tsunagu server is using this installation; stop it before restoring")]
    InUse,
    #[error(transparent)]
    App(#[from] AppError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io { path: path.to_path_buf(), source }
}

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub generation: PathBuf,
    pub files: usize,
    pub bytes: u64,
    /// Older generations removed by the rotation.
    pub removed: Vec<PathBuf>,
}

/// Held by a running server (shared) and by a restore (exclusive): a restore
/// cannot start while a server runs, nor a server while a restore runs.
pub struct InstallationLock(#[allow(dead_code)] File);

impl InstallationLock {
    fn open(data_dir: &Path) -> Result<File, BackupError> {
        std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
        let path = data_dir.join("tsunagu.lock");
        File::options().create(true).truncate(false).write(true).open(&path).map_err(io(&path))
    }

    /// For `serve`: fails only if a restore is under way.
    pub fn serving(data_dir: &Path) -> Result<Self, BackupError> {
        let file = Self::open(data_dir)?;
        file.try_lock_shared().map_err(|_| BackupError::InUse)?;
        Ok(Self(file))
    }

    /// For `restore`: fails if any server holds the installation.
    pub fn restoring(data_dir: &Path) -> Result<Self, BackupError> {
        let file = Self::open(data_dir)?;
        file.try_lock().map_err(|_| BackupError::InUse)?;
        Ok(Self(file))
    }
}

fn sha256_of(path: &Path) -> Result<(String, u64), BackupError> {
    let mut file = BufReader::with_capacity(1 << 16, File::open(path).map_err(io(path))?);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let chunk = file.fill_buf().map_err(io(path))?;
        if chunk.is_empty() {
            break;
        }
        hasher.update(chunk);
        let n = chunk.len();
        size += n as u64;
        file.consume(n);
    }
    Ok((hex(&hasher.finalize()), size))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Every file below `dir`, as paths relative to `dir`, sorted.
fn files_below(dir: &Path) -> Result<Vec<PathBuf>, BackupError> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).map_err(io(&current))? {
            let path = entry.map_err(io(&current))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                out.push(relative.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn copy_synced(from: &Path, to: &Path) -> Result<(), BackupError> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    std::fs::copy(from, to).map_err(io(from))?;
    File::open(to).and_then(|f| f.sync_all()).map_err(io(to))
}

impl App {
    /// Writes a new backup generation into `out` and keeps the newest `keep`.
    pub async fn backup(&self, out: &Path, keep: usize) -> Result<BackupReport, BackupError> {
        let stamp = self.now().format(&time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"));
        let stamp = stamp.map_err(|e| AppError::Internal(e.to_string()))?;
        let name = format!("{PREFIX}{stamp}");
        let partial = out.join(format!(".partial-{name}"));
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial).map_err(io(&partial))?;
        let database = partial.join(DATABASE);
        let target = database.to_str().ok_or_else(|| BackupError::Damaged("the backup path is not UTF-8".into()))?;
        self.store.backup_to(target).await.map_err(AppError::from)?;
        File::open(&database).and_then(|f| f.sync_all()).map_err(io(&database))?;
        // Attachment files never change once written, and each is on disk
        // before the row naming it commits: copying after the snapshot covers
        // every attachment the snapshot knows (and perhaps a few newer ones).
        let attachments = self.settings.attachments_dir.clone();
        let copy_to = partial.join(ATTACHMENTS);
        let finished = partial.clone();
        let written = tokio::task::spawn_blocking(move || -> Result<(usize, u64), BackupError> {
            for relative in files_below(&attachments)? {
                copy_synced(&attachments.join(&relative), &copy_to.join(&relative))?;
            }
            write_manifest(&finished)
        });
        let (files, bytes) = written.await.map_err(|e| AppError::Internal(e.to_string()))??;
        let generation = out.join(&name);
        std::fs::rename(&partial, &generation).map_err(io(&generation))?;
        sync_dir(out)?;
        let removed = rotate(out, keep.max(1))?;
        Ok(BackupReport { generation, files, bytes, removed })
    }
}

fn write_manifest(dir: &Path) -> Result<(usize, u64), BackupError> {
    let mut manifest = String::new();
    let (mut files, mut bytes) = (0, 0);
    for relative in files_below(dir)? {
        let (sha, size) = sha256_of(&dir.join(&relative))?;
        let name = relative.to_string_lossy().replace('\\', "/");
        manifest.push_str(&format!("{sha} {size} {name}\n"));
        files += 1;
        bytes += size;
    }
    let path = dir.join(MANIFEST);
    let mut file = File::create(&path).map_err(io(&path))?;
    file.write_all(manifest.as_bytes()).and_then(|()| file.sync_all()).map_err(io(&path))?;
    sync_dir(dir)?;
    Ok((files, bytes))
}

/// Removes all but the newest `keep` complete generations; returns what it removed.
fn rotate(out: &Path, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let mut generations: Vec<PathBuf> = std::fs::read_dir(out)
        .map_err(io(out))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(PREFIX)))
        .collect();
    generations.sort();
    let excess = generations.len().saturating_sub(keep);
    let removed: Vec<PathBuf> = generations.into_iter().take(excess).collect();
    for old in &removed {
        std::fs::remove_dir_all(old).map_err(io(old))?;
    }
    Ok(removed)
}

/// Checks every file of a backup against its manifest, and that nothing is
/// missing or added. Returns the number of files.
pub fn verify(generation: &Path) -> Result<usize, BackupError> {
    let manifest_path = generation.join(MANIFEST);
    let manifest = std::fs::read_to_string(&manifest_path)
        .map_err(|_| BackupError::Damaged(format!("{} is missing or unreadable", manifest_path.display())))?;
    let mut listed = Vec::new();
    for line in manifest.lines() {
        let mut parts = line.splitn(3, ' ');
        let (Some(sha), Some(size), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(BackupError::Damaged(format!("unreadable manifest line: {line}")));
        };
        if name.split('/').any(|part| part == ".." || part.is_empty()) {
            return Err(BackupError::Damaged(format!("a path leaves the backup: {name}")));
        }
        let path = generation.join(name);
        let (actual, actual_size) = sha256_of(&path).map_err(|_| BackupError::Damaged(format!("{name} is missing")))?;
        if actual != sha || actual_size.to_string() != size {
            return Err(BackupError::Damaged(format!("{name} does not match its checksum")));
        }
        listed.push(PathBuf::from(name));
    }
    if !listed.iter().any(|p| p == Path::new(DATABASE)) {
        return Err(BackupError::Damaged("the database file is not in the manifest".into()));
    }
    let present: Vec<PathBuf> = files_below(generation)?.into_iter().filter(|p| p != Path::new(MANIFEST)).collect();
    listed.sort();
    if present != listed {
        return Err(BackupError::Damaged("files were added to or removed from the backup".into()));
    }
    Ok(listed.len())
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    pub files: usize,
    /// The database that was replaced, kept beside it (none for an empty installation).
    pub previous: Option<PathBuf>,
}

/// Restores a verified backup into the installation whose database file is
/// `database` and whose attachments live in `attachments`. The caller holds
/// [`InstallationLock::restoring`].
pub fn restore(
    generation: &Path,
    database: &Path,
    attachments: &Path,
    _lock: &InstallationLock,
    stamp: &str,
) -> Result<RestoreReport, BackupError> {
    let files = verify(generation)?;
    let dir = database.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let incoming = database.with_extension("db.restoring");
    copy_synced(&generation.join(DATABASE), &incoming)?;
    let previous = if database.exists() {
        let kept = database.with_extension(format!("db.before-restore-{stamp}"));
        std::fs::rename(database, &kept).map_err(io(database))?;
        Some(kept)
    } else {
        None
    };
    // The old journal belongs to the old database.
    for suffix in ["-wal", "-shm"] {
        let journal = PathBuf::from(format!("{}{suffix}", database.display()));
        if journal.exists() {
            std::fs::remove_file(&journal).map_err(io(&journal))?;
        }
    }
    std::fs::rename(&incoming, database).map_err(io(database))?;
    sync_dir(dir)?;
    let from = generation.join(ATTACHMENTS);
    for relative in files_below(&from)? {
        copy_synced(&from.join(&relative), &attachments.join(&relative))?;
    }
    Ok(RestoreReport { files, previous })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tsunagu-backup-unit-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn fake_generation(root: &Path, name: &str) -> PathBuf {
        let g = root.join(name);
        std::fs::create_dir_all(g.join("attachments/ab")).unwrap();
        std::fs::write(g.join(DATABASE), b"SQLite format 3\0...").unwrap();
        std::fs::write(g.join("attachments/ab/abcdef"), b"%PDF-1.7").unwrap();
        write_manifest(&g).unwrap();
        g
    }

    #[test]
    fn a_backup_verifies_and_any_change_to_it_is_caught() {
        let root = scratch();
        let g = fake_generation(&root, "tsunagu-backup-20261125T000000Z");
        assert_eq!(verify(&g).unwrap(), 2);
        std::fs::write(g.join("attachments/ab/abcdef"), b"%PDF-1.8").unwrap();
        assert!(matches!(verify(&g), Err(BackupError::Damaged(_))), "a changed byte");
        write_manifest(&g).unwrap();
        std::fs::write(g.join("attachments/ab/extra"), b"x").unwrap();
        assert!(matches!(verify(&g), Err(BackupError::Damaged(_))), "an added file");
        std::fs::remove_file(g.join("attachments/ab/extra")).unwrap();
        std::fs::remove_file(g.join(DATABASE)).unwrap();
        assert!(matches!(verify(&g), Err(BackupError::Damaged(_))), "a missing file");
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn rotation_keeps_the_newest_generations() {
        let root = scratch();
        for day in ["20261101", "20261102", "20261103"] {
            fake_generation(&root, &format!("tsunagu-backup-{day}T000000Z"));
        }
        std::fs::create_dir_all(root.join(".partial-tsunagu-backup-20261104T000000Z")).unwrap();
        let removed = rotate(&root, 2).unwrap();
        assert_eq!(removed, vec![root.join("tsunagu-backup-20261101T000000Z")]);
        assert!(root.join("tsunagu-backup-20261103T000000Z").exists());
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn a_restore_is_refused_while_a_server_holds_the_installation() {
        let root = scratch();
        let serving = InstallationLock::serving(&root).unwrap();
        assert!(matches!(InstallationLock::restoring(&root), Err(BackupError::InUse)));
        drop(serving);
        let restoring = InstallationLock::restoring(&root).unwrap();
        assert!(matches!(InstallationLock::serving(&root), Err(BackupError::InUse)));
        drop(restoring);
        let _ = std::fs::remove_dir_all(root);
    }
}
