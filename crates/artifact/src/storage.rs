//! The artifact store: where files live, atomic writes with digests, locks, verification,
//! symlinks and removal. Archiving is in `archive.rs`, garbage collection in `gc.rs`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Component, Path, PathBuf};

use jiff::Timestamp;
use tempfile::NamedTempFile;

use crate::digest::{Digest, DigestError, HashingWriter, digest_reader};
use crate::record::{
    ArtifactRecord, DEFAULT_STORAGE_ADDRESS, advertised_address_with, artifact_dir, artifact_path,
    artifact_url,
};

/// What went wrong with artifact storage.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A file system operation failed.
    #[error("{action} '{path}': {source}")]
    Io {
        /// What was being done, e.g. "creating temporary file in".
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// An artifact path is empty, absolute or climbs out of the storage root.
    #[error("invalid artifact path '{0}'")]
    InvalidPath(String),
    /// The directory to archive does not exist or is not a directory.
    #[error("invalid dir path: {0}")]
    InvalidDir(PathBuf),
    /// The artifact has no digest to verify against.
    #[error("artifact has no digest")]
    NoDigest,
    /// The artifact's digest is malformed.
    #[error("failed to parse artifact digest '{digest}': {source}")]
    InvalidDigest {
        /// The digest as found in the record.
        digest: String,
        /// Why it was refused.
        source: DigestError,
    },
    /// The stored file no longer hashes to the recorded digest.
    #[error("computed digest doesn't match '{expected}'")]
    DigestMismatch {
        /// The recorded digest.
        expected: String,
        /// What the file hashes to now.
        computed: String,
    },
}

impl StorageError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}

/// Artifact storage rooted at a local directory and advertised under a host name.
#[derive(Clone, Debug)]
pub struct Storage {
    root: PathBuf,
    advertised_host: String,
}

impl Storage {
    /// A store at `root` whose URLs use `advertised_host`. An empty host is derived from the
    /// default storage address like Flux does (`localhost:9090`).
    pub fn new(root: PathBuf, advertised_host: String) -> Self {
        let advertised_host = if advertised_host.is_empty() {
            advertised_address_with("", DEFAULT_STORAGE_ADDRESS, || None)
                .unwrap_or_else(|_| "localhost:9090".to_owned())
        } else {
            advertised_host
        };
        Self {
            root,
            advertised_host,
        }
    }

    /// The storage root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host (or URL prefix) artifact URLs are built from.
    pub fn advertised_host(&self) -> &str {
        &self.advertised_host
    }

    /// A new record for an object's artifact file, with path and URL set and no digest yet.
    pub fn artifact_for(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        revision: &str,
        file_name: &str,
    ) -> ArtifactRecord {
        let path = artifact_path(kind, namespace, name, file_name);
        ArtifactRecord {
            url: artifact_url(&self.advertised_host, &path),
            path,
            revision: revision.to_owned(),
            digest: String::new(),
            last_update_time: Timestamp::now(),
            size: None,
            metadata: None,
        }
    }

    /// Re-derives the URL from the current advertised host: Flux does this on every
    /// reconcile so a changed `--storage-adv-addr` heals existing statuses.
    pub fn set_artifact_url(&self, artifact: &mut ArtifactRecord) {
        if !artifact.path.is_empty() {
            artifact.url = artifact_url(&self.advertised_host, &artifact.path);
        }
    }

    /// The local file of an artifact. Refuses paths that would leave the storage root.
    pub fn local_path(&self, artifact: &ArtifactRecord) -> Result<PathBuf, StorageError> {
        self.resolve(&artifact.path)
    }

    /// The local directory holding an object's artifacts.
    pub fn object_dir(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<PathBuf, StorageError> {
        self.resolve(&artifact_dir(kind, namespace, name))
    }

    fn resolve(&self, relative: &str) -> Result<PathBuf, StorageError> {
        let path = Path::new(relative);
        let mut resolved = self.root.clone();
        let mut depth = 0_usize;
        for component in path.components() {
            match component {
                Component::Normal(part) => {
                    resolved.push(part);
                    depth += 1;
                }
                Component::CurDir => {}
                _ => return Err(StorageError::InvalidPath(relative.to_owned())),
            }
        }
        if depth == 0 {
            return Err(StorageError::InvalidPath(relative.to_owned()));
        }
        Ok(resolved)
    }

    /// Whether the artifact exists in storage as a regular file.
    pub fn exists(&self, artifact: &ArtifactRecord) -> bool {
        self.local_path(artifact)
            .and_then(|p| fs::symlink_metadata(&p).map_err(StorageError::io("stat", p)))
            .is_ok_and(|m| m.file_type().is_file())
    }

    /// Atomically stores everything `reader` yields as the artifact's file (a Helm chart, an
    /// index), setting digest, size and update time on the record.
    pub fn copy_from(
        &self,
        artifact: &mut ArtifactRecord,
        mut reader: impl Read,
    ) -> Result<(), StorageError> {
        self.write_atomically(artifact, |file, path| {
            let mut writer = HashingWriter::new(BufWriter::with_capacity(64 * 1024, file));
            io::copy(&mut reader, &mut writer).map_err(StorageError::io("writing", path))?;
            let (buffered, digest, size) = writer.finish();
            buffered
                .into_inner()
                .map_err(|e| StorageError::io("writing", path)(e.into_error()))?;
            Ok((digest, size))
        })
    }

    /// Atomically copies the file at `source` into storage as the artifact's file.
    pub fn copy_file(
        &self,
        artifact: &mut ArtifactRecord,
        source: &Path,
    ) -> Result<(), StorageError> {
        let file = File::open(source).map_err(StorageError::io("opening", source))?;
        self.copy_from(artifact, file)
    }

    /// Runs `write` against a temporary file next to the artifact, under the artifact's lock,
    /// then renames it into place so readers never see a partial file.
    pub(crate) fn write_atomically(
        &self,
        artifact: &mut ArtifactRecord,
        write: impl FnOnce(&File, &Path) -> Result<(Digest, u64), StorageError>,
    ) -> Result<(), StorageError> {
        let local = self.local_path(artifact)?;
        let dir = local
            .parent()
            .expect("a resolved artifact path has a parent");
        create_dir_all(dir)?;
        let _lock = ArtifactLock::acquire(&local)?;
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{}.", artifact.file_name()))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(StorageError::io("creating temporary file in", dir))?;
        let (digest, size) = write(temp.as_file(), temp.path())?;
        persist(temp, &local)?;
        artifact.digest = digest.to_string();
        artifact.size = Some(i64::try_from(size).unwrap_or(i64::MAX));
        artifact.last_update_time = Timestamp::now();
        Ok(())
    }

    /// Recomputes the stored file's digest and compares it with the record, to notice
    /// artifacts that disappeared from storage or were corrupted.
    pub fn verify(&self, artifact: &ArtifactRecord) -> Result<(), StorageError> {
        if artifact.digest.is_empty() {
            return Err(StorageError::NoDigest);
        }
        let expected =
            Digest::parse(&artifact.digest).map_err(|source| StorageError::InvalidDigest {
                digest: artifact.digest.clone(),
                source,
            })?;
        let local = self.local_path(artifact)?;
        let file = File::open(&local).map_err(StorageError::io("opening", &local))?;
        let computed = digest_reader(expected.algorithm(), io::BufReader::new(file))
            .map_err(StorageError::io("reading", &local))?;
        if computed == expected {
            Ok(())
        } else {
            Err(StorageError::DigestMismatch {
                expected: expected.to_string(),
                computed: computed.to_string(),
            })
        }
    }

    /// Points `link_name` in the artifact's directory at the artifact (for example
    /// `latest.tar.gz`), replacing any previous link atomically, and returns the link's URL.
    pub fn symlink(
        &self,
        artifact: &ArtifactRecord,
        link_name: &str,
    ) -> Result<String, StorageError> {
        let local = self.local_path(artifact)?;
        let dir = local
            .parent()
            .expect("a resolved artifact path has a parent");
        let link = dir.join(link_name);
        let temp_link = dir.join(format!("{link_name}.tmp"));
        match fs::remove_file(&temp_link) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(StorageError::io("removing", &temp_link)(e));
            }
            _ => {}
        }
        // A relative target keeps the link valid wherever the volume is mounted; Flux
        // writes an absolute one, which breaks when the storage root moves.
        std::os::unix::fs::symlink(artifact.file_name(), &temp_link)
            .map_err(StorageError::io("creating symlink", &temp_link))?;
        fs::rename(&temp_link, &link).map_err(StorageError::io("renaming", &link))?;
        let link_path = match artifact.path.rsplit_once('/') {
            Some((parent, _)) => format!("{parent}/{link_name}"),
            None => link_name.to_owned(),
        };
        Ok(artifact_url(&self.advertised_host, &link_path))
    }

    /// Removes an object's whole artifact directory (object deletion). Returns the directory
    /// if it existed.
    pub fn remove_all(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<PathBuf>, StorageError> {
        let dir = self.object_dir(kind, namespace, name)?;
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(Some(dir)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::io("removing", dir)(e)),
        }
    }

    /// Removes every file in the artifact's directory except the artifact itself and symlinks.
    pub fn remove_all_but_current(
        &self,
        artifact: &ArtifactRecord,
    ) -> Result<Vec<PathBuf>, StorageError> {
        let local = self.local_path(artifact)?;
        let dir = local
            .parent()
            .expect("a resolved artifact path has a parent");
        let mut removed = Vec::new();
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(removed),
            Err(e) => return Err(StorageError::io("reading", dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(StorageError::io("reading", dir))?;
            let path = entry.path();
            let file_type = entry.file_type().map_err(StorageError::io("stat", &path))?;
            if path != local && file_type.is_file() {
                fs::remove_file(&path).map_err(StorageError::io("removing", &path))?;
                removed.push(path);
            }
        }
        Ok(removed)
    }
}

/// Creates a directory and its parents owner-only, as Flux's `MkdirAll(dir, 0o700)`.
pub(crate) fn create_dir_all(dir: &Path) -> Result<(), StorageError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(StorageError::io("creating directory", dir))
}

fn persist(temp: NamedTempFile, target: &Path) -> Result<(), StorageError> {
    temp.persist(target)
        .map(drop)
        .map_err(|e| StorageError::io("renaming temporary file to", target)(e.error))
}

/// An advisory lock on `<artifact file>.lock`, held while the artifact is written so two
/// writers (or a writer and the garbage collector) never interleave. Released on drop.
#[derive(Debug)]
pub struct ArtifactLock {
    file: File,
}

impl ArtifactLock {
    /// Blocks until the lock beside `artifact_file` is held.
    pub fn acquire(artifact_file: &Path) -> Result<Self, StorageError> {
        let mut lock_path = artifact_file.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock_path = PathBuf::from(lock_path);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(StorageError::io("opening lock file", &lock_path))?;
        file.lock()
            .map_err(StorageError::io("locking", &lock_path))?;
        Ok(Self { file })
    }
}

impl Drop for ArtifactLock {
    fn drop(&mut self) {
        // Closing the descriptor releases the lock anyway; unlocking first makes it explicit.
        let _ = self.file.unlock();
        let _ = self.file.flush();
    }
}

#[cfg(test)]
#[path = "storage_tests.rs"]
mod tests;
