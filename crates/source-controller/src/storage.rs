//! The source-controller's use of artifact storage, with its errors mapped to Flux's
//! reasons. Blocking file work runs on blocking threads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ferroflux_api::meta::Artifact;
use ferroflux_artifact::{ArtifactRecord, FetchOptions, IgnoreMatcher, Storage};
use tracing::{debug, error};

use crate::error::SourceError;

/// Artifact storage with the retention settings of this controller.
#[derive(Clone)]
pub struct SourceStorage {
    storage: Arc<Storage>,
    ttl: Duration,
    records: usize,
}

fn storage_error(reason: &'static str) -> impl Fn(ferroflux_artifact::StorageError) -> SourceError {
    move |e| SourceError::Storage {
        reason,
        message: e.to_string(),
    }
}

impl SourceStorage {
    /// Wraps `storage`, keeping superseded artifacts for `ttl` and at most `records` files.
    pub fn new(storage: Storage, ttl: Duration, records: usize) -> Self {
        Self {
            storage: Arc::new(storage),
            ttl,
            records,
        }
    }

    /// Whether the artifact's file is still in storage.
    pub fn exists(&self, artifact: &Artifact) -> bool {
        self.storage.exists(&ArtifactRecord::from(artifact.clone()))
    }

    /// The artifact with its URL derived from the current advertised address.
    pub fn with_current_url(&self, artifact: &Artifact) -> Artifact {
        let mut record = ArtifactRecord::from(artifact.clone());
        self.storage.set_artifact_url(&mut record);
        record.into()
    }

    /// Removes superseded artifacts of an object (failures are logged, as in Flux).
    pub fn collect_garbage(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        current: Option<&Artifact>,
    ) {
        let current_file = current
            .map(|a| a.path.rsplit('/').next().unwrap_or_default().to_owned())
            .unwrap_or_default();
        match self
            .storage
            .gc(kind, namespace, name, &current_file, self.ttl, self.records)
        {
            Ok(removed) if !removed.is_empty() => {
                debug!(count = removed.len(), "garbage collected artifacts");
            }
            Ok(_) => {}
            Err(e) => error!(error = %e, "artifact garbage collection failed"),
        }
    }

    /// Archives `dir` (minus ignored paths) as the object's artifact `file_name`.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site; a struct would only rename the arguments"
    )]
    pub async fn archive(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        revision: &str,
        file_name: &str,
        dir: &Path,
        ignore: Option<&str>,
    ) -> Result<Artifact, SourceError> {
        let storage = self.storage.clone();
        let mut record = storage.artifact_for(kind, namespace, name, revision, file_name);
        let (dir, ignore) = (dir.to_path_buf(), ignore.map(str::to_owned));
        tokio::task::spawn_blocking(move || {
            let matcher = IgnoreMatcher::for_directory(&dir, ignore.as_deref()).map_err(|e| {
                SourceError::Storage {
                    reason: "ArchiveOperationFailed",
                    message: format!("failed to load ignore rules: {e}"),
                }
            })?;
            let filter = move |path: &Path, is_dir: bool| matcher.is_excluded(path, is_dir);
            storage
                .archive(&mut record, &dir, &filter)
                .map_err(storage_error("ArchiveOperationFailed"))?;
            Ok(record.into())
        })
        .await
        .map_err(|e| SourceError::Storage {
            reason: "ArchiveOperationFailed",
            message: e.to_string(),
        })?
    }

    /// Downloads another object's artifact and copies its `from_path` into `dest`.
    pub async fn copy_included(
        &self,
        artifact: &Artifact,
        from_path: Option<&str>,
        dest: &Path,
    ) -> Result<(), SourceError> {
        let scratch = tempfile::tempdir().map_err(|e| SourceError::Storage {
            reason: "DirectoryCreationFailed",
            message: format!("failed to create temporary directory: {e}"),
        })?;
        // The artifact is in our own storage: extract it from disk instead of over HTTP.
        let local = self
            .storage
            .local_path(&ArtifactRecord::from(artifact.clone()))
            .map_err(storage_error("StatOperationFailed"))?;
        let (source, extract_to) = (local, scratch.path().to_path_buf());
        let limits = FetchOptions::default().limits;
        tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&source)?;
            ferroflux_artifact::extract_tar_gz(std::io::BufReader::new(file), &extract_to, &limits)
                .map_err(std::io::Error::other)?;
            Ok::<_, std::io::Error>(())
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r)
        .map_err(|e| {
            SourceError::IncludeUnavailable(format!("failed to extract included artifact: {e}"))
        })?;
        let from = scratch.path().join(
            from_path
                .unwrap_or("")
                .trim_start_matches("./")
                .trim_start_matches('/'),
        );
        if !from.starts_with(scratch.path())
            || from
                .components()
                .any(|c| c == std::path::Component::ParentDir)
        {
            return Err(SourceError::IncludeUnavailable(format!(
                "fromPath '{}' escapes the included artifact",
                from_path.unwrap_or_default()
            )));
        }
        copy_tree(&from, dest).map_err(|e| {
            SourceError::IncludeUnavailable(format!("failed to copy included artifact: {e}"))
        })
    }

    /// Removes every artifact of a deleted object.
    pub fn remove_all(&self, kind: &str, namespace: &str, name: &str) -> Result<(), SourceError> {
        self.storage
            .remove_all(kind, namespace, name)
            .map(|_| ())
            .map_err(storage_error("StatOperationFailed"))
    }
}

/// Copies a directory tree (regular files and directories only).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    if from.is_file() {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to)?;
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target: PathBuf = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
