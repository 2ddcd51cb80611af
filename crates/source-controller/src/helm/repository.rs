//! The HelmRepository reconciler: from a Helm repository's `index.yaml` to a stored index.
//!
//! Phases, as Flux's: storage housekeeping → (type `oci`: no artifact, status cleared) →
//! URL and credentials → download `index.yaml` (size-capped) → revision = sha256 of the
//! downloaded bytes, stop when it matches the artifact → load and validate the index →
//! store it as Go-style JSON in `index-<hex>.yaml`, point the `index.yaml` symlink at it
//! (`status.url`) → conditions and the `NewArtifact` event.

use std::collections::BTreeMap;
use std::sync::Arc;

use ferroflux_api::source::v1::{HelmRepository, HelmRepositoryStatus, HelmRepositoryType};
use ferroflux_artifact::{Algorithm, Hasher, Storage};
use ferroflux_runtime::FluxStatus;
use ferroflux_runtime::conditions::Conditions;
use ferroflux_runtime::driver::{Context, Outcome, Reconciler};
use ferroflux_runtime::events::EventType;
use kube::ResourceExt;
use tracing::info;

use super::error::HelmError;
use super::http::{GetError, RepoClient};
use super::index;
use super::status::{ConditionSet, conclude, human_size, mark_stored};
use crate::storage::SourceStorage;

/// The storage directory kind.
pub const KIND: &str = "helmrepository";

const CONDITIONS: ConditionSet = ConditionSet {
    negative: &[
        "StorageOperationFailed",
        "FetchFailed",
        "ArtifactOutdated",
        "Reconciling",
        "Stalled",
    ],
    summary: &[
        "StorageOperationFailed",
        "FetchFailed",
        "ArtifactOutdated",
        "ArtifactInStorage",
        "Stalled",
        "Reconciling",
    ],
};

/// Limits on downloads (`--helm-*` flags).
#[derive(Clone, Copy, Debug)]
#[expect(clippy::struct_field_names, reason = "named after the flags")]
pub struct HelmLimits {
    /// Largest index accepted, in bytes.
    pub index_max_size: u64,
    /// Largest chart accepted, in bytes.
    pub chart_max_size: u64,
    /// Largest single file in a chart, in bytes.
    pub chart_file_max_size: u64,
}

/// Reconciles HelmRepositories into stored indexes.
pub struct HelmRepositoryReconciler {
    storage: SourceStorage,
    files: Arc<Storage>,
    limits: HelmLimits,
}

impl HelmRepositoryReconciler {
    /// A reconciler storing indexes through `storage` (retention) and `files` (writes).
    pub fn new(storage: SourceStorage, files: Arc<Storage>, limits: HelmLimits) -> Self {
        Self {
            storage,
            files,
            limits,
        }
    }
}

impl Reconciler<HelmRepository> for HelmRepositoryReconciler {
    type Error = HelmError;

    async fn reconcile(
        &self,
        context: &Context,
        object: &HelmRepository,
        status: &mut HelmRepositoryStatus,
    ) -> Result<Outcome, HelmError> {
        let generation = object.metadata.generation.unwrap_or_default();
        if object.spec.type_ == Some(HelmRepositoryType::Oci) {
            return self.make_static(object, status);
        }
        let result = self.run(context, object, status).await;
        conclude(context, status, generation, &CONDITIONS, &result);
        result
    }

    async fn cleanup(&self, _: &Context, object: &HelmRepository) -> Result<(), HelmError> {
        self.storage
            .remove_all(
                KIND,
                &object.namespace().unwrap_or_default(),
                &object.name_any(),
            )
            .map_err(|e| HelmError::storage("StatOperationFailed", e))
    }
}

impl HelmRepositoryReconciler {
    /// Flux's `migrationToStatic`: an OCI HelmRepository is only a data container for
    /// HelmCharts; its artifacts are removed and its status emptied.
    fn make_static(
        &self,
        object: &HelmRepository,
        status: &mut HelmRepositoryStatus,
    ) -> Result<Outcome, HelmError> {
        self.storage
            .remove_all(
                KIND,
                &object.namespace().unwrap_or_default(),
                &object.name_any(),
            )
            .map_err(|e| HelmError::storage("StatOperationFailed", e))?;
        *status = HelmRepositoryStatus::default();
        Ok(Outcome::Done)
    }

    async fn run(
        &self,
        context: &Context,
        object: &HelmRepository,
        status: &mut HelmRepositoryStatus,
    ) -> Result<Outcome, HelmError> {
        let namespace = object.namespace().unwrap_or_default();
        let name = object.name_any();
        let generation = object.metadata.generation.unwrap_or_default();
        self.housekeeping(context, status, generation, &namespace, &name);

        validate_url(&object.spec.url)?;
        let client = RepoClient::for_repository(&context.client, object).await?;
        let index_url = client.index_url();
        let raw = client
            .get(&index_url, self.limits.index_max_size)
            .await
            .map_err(|e| {
                let why = match e {
                    GetError::Url(e) => {
                        return HelmError::InvalidUrl(format!("invalid Helm repository URL: {e}"));
                    }
                    GetError::Http(message) => message,
                    GetError::TooLarge => format!(
                        "index exceeds the maximum index file size of {} bytes",
                        self.limits.index_max_size
                    ),
                };
                HelmError::Fetch(format!("failed to fetch Helm repository index: {why}"))
            })?;
        let revision = sha256(&raw);

        if let Some(artifact) = &status.artifact
            && artifact.revision == revision
        {
            let message = format!("stored artifact: revision '{revision}'");
            mark_stored(context, status, generation, "Succeeded", &message);
            return Ok(Outcome::Done);
        }

        let size = raw.len();
        let (json, versions) = tokio::task::spawn_blocking(move || convert(raw))
            .await
            .map_err(|e| HelmError::Indexation(e.to_string()))??;
        info!(%name, %namespace, size, versions, "loaded Helm repository index");
        let message = format!("new index revision '{revision}'");
        if status.artifact.is_some() {
            Conditions::new(status.conditions_mut(), generation, context.clock.as_ref()).mark_true(
                "ArtifactOutdated",
                "NewRevision",
                message.clone(),
            );
        }
        context
            .mark_reconciling(object, status, &format!("building artifact: {message}"))
            .await?;

        let (artifact, url) = self.store(&namespace, &name, &revision, json).await?;
        let new_digest = status
            .artifact
            .as_ref()
            .is_none_or(|previous| previous.digest != artifact.digest);
        status.url = Some(url);
        status.artifact = Some(artifact.clone());
        let stored = format!("stored artifact: revision '{revision}'");
        mark_stored(context, status, generation, "Succeeded", &stored);
        if new_digest {
            let size = artifact.size.map_or_else(
                || "unknown size".to_owned(),
                |s| format!("size {}", human_size(s)),
            );
            let message = format!("stored fetched index of {size} from '{}'", client.url);
            info!(%name, %namespace, %revision, "{message}");
            let metadata = BTreeMap::from([
                ("revision".to_owned(), revision.clone()),
                ("digest".to_owned(), artifact.digest.clone()),
            ]);
            context
                .recorder
                .publish(object, EventType::Normal, "NewArtifact", &message, metadata)
                .await;
        }
        Ok(Outcome::Done)
    }

    /// Drops an advertised artifact that is gone, refreshes its URL, collects garbage.
    fn housekeeping(
        &self,
        context: &Context,
        status: &mut HelmRepositoryStatus,
        generation: i64,
        namespace: &str,
        name: &str,
    ) {
        if let Some(artifact) = &status.artifact {
            if self.storage.exists(artifact) {
                status.artifact = Some(self.storage.with_current_url(artifact));
            } else {
                status.artifact = None;
                status.url = None;
                Conditions::new(status.conditions_mut(), generation, context.clock.as_ref())
                    .delete("ArtifactInStorage");
            }
        }
        self.storage
            .collect_garbage(KIND, namespace, name, status.artifact.as_ref());
    }

    /// Stores the converted index and updates the `index.yaml` symlink; returns the
    /// artifact and the symlink's URL.
    async fn store(
        &self,
        namespace: &str,
        name: &str,
        revision: &str,
        json: std::fs::File,
    ) -> Result<(ferroflux_api::meta::Artifact, String), HelmError> {
        let hex = revision.trim_start_matches("sha256:");
        let mut record = self.files.artifact_for(
            KIND,
            namespace,
            name,
            revision,
            &format!("index-{hex}.yaml"),
        );
        let files = self.files.clone();
        tokio::task::spawn_blocking(move || {
            files
                .copy_from(&mut record, std::io::BufReader::new(json))
                .map_err(|e| {
                    HelmError::storage(
                        "ArchiveOperationFailed",
                        format!("unable to save artifact to storage: {e}"),
                    )
                })?;
            let url = files.symlink(&record, "index.yaml").unwrap_or_default();
            Ok((record.into(), url))
        })
        .await
        .map_err(|e| HelmError::storage("ArchiveOperationFailed", e))?
    }
}

/// Validates and converts a raw index into Go-style JSON in a temporary file (rewound);
/// returns the file and the number of chart versions.
fn convert(raw: Vec<u8>) -> Result<(std::fs::File, usize), HelmError> {
    let temp_error = |e: std::io::Error| {
        HelmError::storage(
            "ArchiveOperationFailed",
            format!("unable to get JSON index from chart repo: {e}"),
        )
    };
    let mut temp = tempfile::tempfile().map_err(temp_error)?;
    let mut writer = std::io::BufWriter::new(&mut temp);
    let versions = index::convert_to_json(raw, &mut writer).map_err(|e| {
        HelmError::Indexation(format!(
            "failed to load Helm repository from index YAML: {e}"
        ))
    })?;
    std::io::Write::flush(&mut writer).map_err(temp_error)?;
    drop(writer);
    std::io::Seek::rewind(&mut temp).map_err(temp_error)?;
    Ok((temp, versions))
}

/// Flux refuses `oci://` for `default` repositories and unparsable URLs.
fn validate_url(url: &str) -> Result<(), HelmError> {
    if url.starts_with("oci://") {
        return Err(HelmError::InvalidUrl(
            "invalid Helm repository URL: 'oci' URL scheme cannot be used with 'default' HelmRepository type".to_owned(),
        ));
    }
    reqwest::Url::parse(url)
        .map(|_| ())
        .map_err(|e| HelmError::InvalidUrl(format!("invalid Helm repository URL: {e}")))
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    let mut hasher = Hasher::new(Algorithm::Sha256);
    hasher.update(bytes);
    hasher.finalize().to_string()
}
