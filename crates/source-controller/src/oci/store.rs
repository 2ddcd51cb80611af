//! Helpers shared by the OCIRepository and Bucket reconcilers: Secrets, timeouts, storage
//! of a single file, the `latest.tar.gz` link and the Ready summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferroflux_api::meta::{Artifact, Condition};
use ferroflux_artifact::{ArtifactRecord, Storage};
use ferroflux_runtime::conditions::{self, Conditions};
use ferroflux_runtime::driver::Context;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use crate::error::SourceError;

/// The name of the link to the current artifact, advertised as `status.url`.
pub const LATEST_LINK: &str = "latest.tar.gz";

/// The data of a Secret in `namespace`, or `None` when it does not exist.
pub async fn secret_data(
    context: &Context,
    namespace: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, ByteString>>, SourceError> {
    let secrets: Api<Secret> = Api::namespaced(context.client.clone(), namespace);
    Ok(secrets
        .get_opt(name)
        .await?
        .map(|secret| secret.data.unwrap_or_default()))
}

/// `spec.timeout` parsed, 60s when unset.
pub fn timeout(spec: Option<&str>) -> Result<Duration, SourceError> {
    spec.map(ferroflux_runtime::duration::parse)
        .transpose()
        .map_err(|e| SourceError::InvalidSpec {
            reason: "InvalidDuration",
            message: e.to_string(),
        })
        .map(|t| t.unwrap_or(Duration::from_secs(60)))
}

/// The proxy URL of a Flux proxy Secret (`address`, optional `username`/`password`).
pub fn proxy_url(secret: &str, data: &BTreeMap<String, ByteString>) -> Result<String, SourceError> {
    let get = |key: &str| {
        data.get(key)
            .map(|v| String::from_utf8_lossy(&v.0).trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let address = get("address").ok_or_else(|| {
        SourceError::Authentication(format!(
            "failed to get proxy address: invalid proxy secret '{secret}': key 'address' is missing"
        ))
    })?;
    match (get("username"), get("password")) {
        (Some(user), Some(password)) => {
            let (scheme, rest) = address.split_once("://").unwrap_or(("http", &address));
            Ok(format!("{scheme}://{user}:{password}@{rest}"))
        }
        _ => Ok(address),
    }
}

/// Stores the file at `source` as the object's artifact `file_name` (the copy layer
/// operation).
pub async fn store_file(
    storage: &Storage,
    object: (&str, &str, &str),
    revision: &str,
    file_name: &str,
    source: PathBuf,
) -> Result<Artifact, SourceError> {
    let (kind, namespace, name) = object;
    let storage = storage.clone();
    let mut record = storage.artifact_for(kind, namespace, name, revision, file_name);
    tokio::task::spawn_blocking(move || {
        storage
            .copy_file(&mut record, &source)
            .map_err(|e| SourceError::Storage {
                reason: "ArchiveOperationFailed",
                message: format!("unable to copy artifact to storage: {e}"),
            })?;
        Ok(record.into())
    })
    .await
    .map_err(|e| SourceError::Storage {
        reason: "ArchiveOperationFailed",
        message: e.to_string(),
    })?
}

/// Points `latest.tar.gz` at the artifact and returns the link's URL; `None` when the
/// link cannot be made (Flux only logs that).
pub fn link_latest(storage: &Storage, artifact: &Artifact) -> Option<String> {
    match storage.symlink(&ArtifactRecord::from(artifact.clone()), LATEST_LINK) {
        Ok(url) => Some(url),
        Err(e) => {
            tracing::warn!(error = %e, "failed to update the latest artifact link");
            None
        }
    }
}

/// A temporary working directory, with Flux's error.
pub fn workspace() -> Result<tempfile::TempDir, SourceError> {
    tempfile::tempdir().map_err(|e| SourceError::Storage {
        reason: "DirectoryCreationFailed",
        message: format!("failed to create temporary working directory: {e}"),
    })
}

/// Extracts a gzip tarball at `archive` into `dest` within Flux's default limits.
pub async fn extract(archive: &Path, dest: &Path) -> Result<(), String> {
    let (archive, dest) = (archive.to_path_buf(), dest.to_path_buf());
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&archive).map_err(|e| e.to_string())?;
        ferroflux_artifact::extract_tar_gz(
            std::io::BufReader::new(file),
            &dest,
            &ferroflux_artifact::ExtractLimits::default(),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Applies the outcome of a source reconciliation to the conditions, like Flux's
/// summarize helper: on success the negative conditions go and Ready summarizes
/// `summary`; on failure the error's condition is set.
pub fn summarize(
    list: &mut Vec<Condition>,
    generation: i64,
    context: &Context,
    result: Result<(), &SourceError>,
    summary: &[&str],
    negative: &[&str],
) {
    let mut conditions = Conditions::new(list, generation, context.clock.as_ref());
    match result {
        Ok(()) => {
            for condition in ["FetchFailed", "StorageOperationFailed", "ArtifactOutdated"] {
                conditions.delete(condition);
            }
            // The driver clears these after a success too; a stale Stalled would
            // otherwise win the summary and keep Ready False.
            conditions.delete("Reconciling");
            conditions.delete("Stalled");
            if let Some(ready) =
                conditions::summarize(conditions.list(), "Ready", summary, negative)
            {
                conditions.put(ready);
            }
        }
        Err(error @ SourceError::Verification { .. }) => {
            use ferroflux_runtime::ReconcileError as _;
            conditions.mark_false("SourceVerified", error.reason(), error.to_string());
        }
        Err(error) => {
            use ferroflux_runtime::ReconcileError as _;
            if let Some(condition) = error.condition() {
                conditions.mark_true(condition, error.reason(), error.to_string());
            }
        }
    }
}
