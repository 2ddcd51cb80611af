//! The HelmChart reconciler: a chart from a HelmRepository index (pulled, or repackaged
//! when values files or version metadata apply) or packaged from a GitRepository or
//! Bucket artifact, stored as `helmchart/<ns>/<name>/<chart>-<version>.tgz`.
//!
//! Phases, as Flux's: storage housekeeping → source lookup (its artifact must exist) →
//! resolve name and version (semver constraint, `reconcileStrategy` metadata, generation
//! when values files are set) → stop when the stored artifact has that name and version
//! and the generation was observed → build (download or package, merge values files,
//! dependencies) → store, `latest.tar.gz` symlink → conditions and event.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use ferroflux_api::meta::Artifact;
use ferroflux_api::source::v1::{
    Bucket, GitRepository, HelmChart, HelmChartSourceKind, HelmChartStatus, HelmRepository,
    HelmRepositoryType, ReconcileStrategy,
};
use ferroflux_artifact::{ArtifactRecord, Storage};
use ferroflux_runtime::FluxStatus;
use ferroflux_runtime::conditions::Conditions;
use ferroflux_runtime::driver::{Context, Outcome, Reconciler};
use ferroflux_runtime::events::EventType;
use ferroflux_runtime::watches::cached_get;
use kube::ResourceExt;
use kube::runtime::reflector::Store;
use serde_json::Map;
use tracing::info;

use super::build::{self, go_list};
use super::deps;
use super::error::{BuildReason, HelmError};
use super::http::{GetError, RepoClient};
use super::index::{self, ChartVersion};
use super::oci::ChartRegistry;
use super::repository::HelmLimits;
use super::status::{ConditionSet, conclude, mark_stored};
use crate::storage::SourceStorage;

/// The storage directory kind.
pub const KIND: &str = "helmchart";

const CONDITIONS: ConditionSet = ConditionSet {
    negative: &[
        "StorageOperationFailed",
        "FetchFailed",
        "BuildFailed",
        "ArtifactOutdated",
        "Reconciling",
        "Stalled",
    ],
    summary: &[
        "StorageOperationFailed",
        "FetchFailed",
        "BuildFailed",
        "ArtifactOutdated",
        "ArtifactInStorage",
        "SourceVerified",
        "Stalled",
        "Reconciling",
    ],
};

/// Reconciles HelmCharts into stored chart packages.
pub struct HelmChartReconciler {
    storage: SourceStorage,
    files: Arc<Storage>,
    limits: HelmLimits,
    /// Watch caches of the source kinds; `None` reads every source from the API server.
    stores: Option<SourceStores>,
}

/// Watch caches of the chart source kinds (kept by the watches that enqueue HelmCharts
/// on source changes). A source missing from its cache (created a moment ago) is read
/// from the API server.
pub struct SourceStores {
    /// Every HelmRepository.
    pub helm_repositories: Store<HelmRepository>,
    /// Every GitRepository.
    pub git_repositories: Store<GitRepository>,
    /// Every Bucket.
    pub buckets: Store<Bucket>,
}

/// What the chart comes from.
enum Source {
    /// A `default` HelmRepository and its stored index.
    Repository(Box<HelmRepository>, Artifact),
    /// An `oci` HelmRepository (no index, no artifact).
    Oci(Box<HelmRepository>),
    /// A GitRepository or Bucket tarball.
    Tarball(HelmChartSourceKind, Artifact),
}

/// A chart version chosen in a remote repository and where to download it.
enum Remote {
    /// From a `default` HelmRepository's index.
    Index(RepoClient, Box<ChartVersion>),
    /// The version (tag) in an OCI HelmRepository.
    Oci(Box<ChartRegistry>, String),
}

/// The outcome of a build, as Flux's `chart.Build`.
pub struct Build {
    /// Chart name.
    pub name: String,
    /// Chart version, with any build metadata.
    pub version: String,
    /// Whether the chart was (re)packaged rather than stored as pulled.
    pub packaged: bool,
    /// The values files merged into `values.yaml`.
    pub values_files: Vec<String>,
    /// The package, `None` when the stored artifact is up to date.
    pub data: Option<Vec<u8>>,
}

impl Build {
    /// Flux's `Build.Summary`.
    pub fn summary(&self) -> String {
        let action = if self.packaged { "packaged" } else { "pulled" };
        let mut text = format!(
            "{action} '{}' chart with version '{}'",
            self.name, self.version
        );
        if !self.values_files.is_empty() {
            text.push_str(" and merged values files ");
            text.push_str(&go_list(&self.values_files));
        }
        text
    }

    fn reason(&self) -> &'static str {
        if self.packaged {
            "ChartPackageSucceeded"
        } else {
            "ChartPullSucceeded"
        }
    }
}

impl HelmChartReconciler {
    /// A reconciler storing charts through `storage` (retention) and `files` (writes).
    pub fn new(storage: SourceStorage, files: Arc<Storage>, limits: HelmLimits) -> Self {
        Self {
            storage,
            files,
            limits,
            stores: None,
        }
    }

    /// Reads sources from `stores` first.
    #[must_use]
    pub fn with_stores(mut self, stores: SourceStores) -> Self {
        self.stores = Some(stores);
        self
    }
}

impl Reconciler<HelmChart> for HelmChartReconciler {
    type Error = HelmError;

    async fn reconcile(
        &self,
        context: &Context,
        object: &HelmChart,
        status: &mut HelmChartStatus,
    ) -> Result<Outcome, HelmError> {
        let generation = object.metadata.generation.unwrap_or_default();
        let result = self.run(context, object, status).await;
        conclude(context, status, generation, &CONDITIONS, &result);
        result
    }

    async fn cleanup(&self, _: &Context, object: &HelmChart) -> Result<(), HelmError> {
        self.storage
            .remove_all(
                KIND,
                &object.namespace().unwrap_or_default(),
                &object.name_any(),
            )
            .map_err(|e| HelmError::storage("StatOperationFailed", e))
    }
}

impl HelmChartReconciler {
    async fn run(
        &self,
        context: &Context,
        object: &HelmChart,
        status: &mut HelmChartStatus,
    ) -> Result<Outcome, HelmError> {
        let namespace = object.namespace().unwrap_or_default();
        let name = object.name_any();
        let generation = object.metadata.generation.unwrap_or_default();
        self.housekeeping(context, status, generation, &namespace, &name);

        crate::oci::cosign::reset_verified(
            &mut Conditions::new(status.conditions_mut(), generation, context.clock.as_ref()),
            object.spec.verify.is_some(),
        );
        let mut verified_version = None;
        let source = self.source(context, object).await?;
        let constraint = object.spec.version.clone().unwrap_or_default();
        let build = match &source {
            Source::Repository(repo, artifact) => {
                status.observed_source_artifact_revision = Some(artifact.revision.clone());
                let client = RepoClient::for_repository(&context.client, repo).await?;
                let versions = self.index_versions(artifact, &object.spec.chart).await?;
                let chosen = index::select_version(&object.spec.chart, versions, &constraint)
                    .map_err(|e| {
                        HelmError::build(
                            BuildReason::ChartReference,
                            format!("failed to get chart version for remote reference: {e}"),
                        )
                    })?;
                if object.spec.verify.is_some() {
                    // As in Flux: charts of HTTP repositories cannot be verified, and a
                    // chart asked to be verified is never stored unverified.
                    return Err(HelmError::build(
                        BuildReason::Verification,
                        "not implemented: charts from HTTP Helm repositories carry no cosign signature; verify charts from an OCI HelmRepository",
                    ));
                }
                self.build_remote(object, status, Remote::Index(client, Box::new(chosen)))
                    .await?
            }
            Source::Oci(repo) => {
                let registry = ChartRegistry::connect(&context.client, repo).await?;
                let keys = verification_keys(context, object).await?;
                let version = registry.version(&object.spec.chart, &constraint).await?;
                if let Some(keys) = &keys {
                    registry.verify(&object.spec.chart, &version, keys).await?;
                }
                let build = self
                    .build_remote(object, status, Remote::Oci(Box::new(registry), version))
                    .await?;
                if keys.is_some() {
                    verified_version = Some(build.version.clone());
                }
                build
            }
            Source::Tarball(kind, artifact) => {
                status.observed_source_artifact_revision = Some(artifact.revision.clone());
                self.build_local(context, object, status, *kind, artifact)
                    .await?
            }
        };
        if let Some(version) = verified_version {
            Conditions::new(status.conditions_mut(), generation, context.clock.as_ref()).mark_true(
                "SourceVerified",
                "Succeeded",
                format!("verified signature of version {version}"),
            );
        }
        let summary = build.summary();
        let Some(data) = build.data.clone() else {
            status.observed_chart_name = Some(build.name.clone());
            mark_stored(context, status, generation, build.reason(), &summary);
            return Ok(Outcome::Done);
        };

        if status.artifact.is_some() {
            Conditions::new(status.conditions_mut(), generation, context.clock.as_ref()).mark_true(
                "ArtifactOutdated",
                "NewChart",
                summary.clone(),
            );
        }
        context
            .mark_reconciling(object, status, &format!("building artifact: {summary}"))
            .await?;
        let (artifact, url) = self
            .store(&namespace, &name, &build.name, &build.version, data)
            .await?;
        let new_digest = status
            .artifact
            .as_ref()
            .is_none_or(|previous| previous.digest != artifact.digest);
        status.artifact = Some(artifact.clone());
        status.url = url;
        status.observed_chart_name = Some(build.name.clone());
        status.observed_values_files =
            (!build.values_files.is_empty()).then(|| build.values_files.clone());
        mark_stored(context, status, generation, build.reason(), &summary);
        if new_digest {
            info!(%name, %namespace, version = %build.version, "{summary}");
            let metadata = BTreeMap::from([
                ("revision".to_owned(), artifact.revision.clone()),
                ("digest".to_owned(), artifact.digest.clone()),
            ]);
            context
                .recorder
                .publish(
                    object,
                    EventType::Normal,
                    build.reason(),
                    &summary,
                    metadata,
                )
                .await;
        }
        Ok(Outcome::Done)
    }

    fn housekeeping(
        &self,
        context: &Context,
        status: &mut HelmChartStatus,
        generation: i64,
        namespace: &str,
        name: &str,
    ) {
        if let Some(artifact) = &status.artifact {
            if self.storage.exists(artifact) {
                status.artifact = Some(self.storage.with_current_url(artifact));
            } else {
                status.artifact = None;
                Conditions::new(status.conditions_mut(), generation, context.clock.as_ref())
                    .delete("ArtifactInStorage");
            }
        }
        self.storage
            .collect_garbage(KIND, namespace, name, status.artifact.as_ref());
    }

    /// The source object and its artifact (Flux's `getSource` + artifact check).
    async fn source(&self, context: &Context, object: &HelmChart) -> Result<Source, HelmError> {
        let namespace = object.namespace().unwrap_or_default();
        let reference = &object.spec.source_ref;
        let (kind_name, plural) = match reference.kind {
            HelmChartSourceKind::HelmRepository => ("HelmRepository", "helmrepositories"),
            HelmChartSourceKind::GitRepository => ("GitRepository", "gitrepositories"),
            HelmChartSourceKind::Bucket => ("Bucket", "buckets"),
        };
        let unavailable = || HelmError::Source {
            reason: "SourceUnavailable",
            message: format!(
                "failed to get source: {plural}.source.toolkit.fluxcd.io \"{}\" not found",
                reference.name
            ),
            stalled: false,
        };
        let client = &context.client;
        let stores = self.stores.as_ref();
        let (artifact, repository) = match reference.kind {
            HelmChartSourceKind::HelmRepository => {
                let store = stores.map(|s| &s.helm_repositories);
                let repo = cached_get(client, store, &namespace, &reference.name)
                    .await?
                    .ok_or_else(unavailable)?;
                if repo.spec.type_ == Some(HelmRepositoryType::Oci) {
                    // An OCI HelmRepository has no artifact: charts come from the registry.
                    return Ok(Source::Oci(Box::new(repo)));
                }
                (
                    repo.status.as_ref().and_then(|s| s.artifact.clone()),
                    Some(repo),
                )
            }
            HelmChartSourceKind::GitRepository => {
                let store = stores.map(|s| &s.git_repositories);
                let repo = cached_get(client, store, &namespace, &reference.name)
                    .await?
                    .ok_or_else(unavailable)?;
                (repo.status.and_then(|s| s.artifact), None)
            }
            HelmChartSourceKind::Bucket => {
                let store = stores.map(|s| &s.buckets);
                let bucket = cached_get(client, store, &namespace, &reference.name)
                    .await?
                    .ok_or_else(unavailable)?;
                (bucket.status.and_then(|s| s.artifact), None)
            }
        };
        let artifact = artifact.filter(|a| self.storage.exists(a)).ok_or_else(|| {
            HelmError::NoSourceArtifact(format!(
                "no artifact available for {kind_name} source '{}'",
                reference.name
            ))
        })?;
        Ok(match repository {
            Some(repo) => Source::Repository(Box::new(repo), artifact),
            None => Source::Tarball(reference.kind, artifact),
        })
    }

    /// Whether the stored artifact already holds `name`/`version` for this generation.
    fn cached(status: &HelmChartStatus, generation: i64, name: &str, version: &str) -> bool {
        status.observed_generation == Some(generation)
            && status.observed_chart_name.as_deref() == Some(name)
            && status
                .artifact
                .as_ref()
                .is_some_and(|a| a.revision == version)
    }

    async fn build_remote(
        &self,
        object: &HelmChart,
        status: &HelmChartStatus,
        remote: Remote,
    ) -> Result<Build, HelmError> {
        let generation = object.metadata.generation.unwrap_or_default();
        let (name, chosen_version) = match &remote {
            Remote::Index(_, chosen) => (chosen.name.clone(), chosen.version.clone()),
            Remote::Oci(_, version) => (object.spec.chart.clone(), version.clone()),
        };
        let values_files = object.spec.values_files.clone().unwrap_or_default();
        let version = if values_files.is_empty() {
            chosen_version.clone()
        } else {
            build::with_metadata(&chosen_version, &generation.to_string())
                .map_err(|e| HelmError::build(BuildReason::MetadataPatch, e))?
        };
        let packaged = version != chosen_version;
        if Self::cached(status, generation, &name, &version) {
            return Ok(Build {
                name,
                version,
                packaged,
                values_files: status.observed_values_files.clone().unwrap_or_default(),
                data: None,
            });
        }
        let data = match &remote {
            Remote::Index(client, chosen) => self.download(client, chosen).await?,
            Remote::Oci(registry, version) => {
                registry
                    .download(&name, version, self.limits.chart_max_size)
                    .await?
            }
        };
        if !packaged {
            return Ok(Build {
                name,
                version,
                packaged,
                values_files: Vec::new(),
                data: Some(data),
            });
        }
        let mut files = build::read_archive(
            &data,
            self.limits.chart_file_max_size,
            self.limits.chart_max_size,
        )
        .map_err(|e| {
            HelmError::build(
                BuildReason::ChartPackage,
                format!("failed to load downloaded chart: {e}"),
            )
        })?;
        let ignore_missing = object.spec.ignore_missing_values_files.unwrap_or(false);
        let (values, used) = merge_values(
            &values_files,
            ignore_missing,
            |name| {
                files
                    .iter()
                    .find(|f| f.name == name)
                    .map(|f| f.data.clone())
            },
            false,
        )?;
        build::patch(&mut files, &version, Some(&values));
        let data = build::write_archive(&name, &files)
            .map_err(|e| HelmError::build(BuildReason::ChartPackage, e))?;
        Ok(Build {
            name,
            version,
            packaged,
            values_files: used,
            data: Some(data),
        })
    }

    /// One chart's versions from a HelmRepository's stored index.
    async fn index_versions(
        &self,
        artifact: &Artifact,
        chart: &str,
    ) -> Result<Option<Vec<ChartVersion>>, HelmError> {
        let path = self
            .files
            .local_path(&ArtifactRecord::from(artifact.clone()))
            .map_err(|e| HelmError::build(BuildReason::ChartPull, e.to_string()))?;
        deps::versions_from_file(path, chart.to_owned()).await
    }

    /// Downloads a chart version's package (Flux's `DownloadChart`).
    async fn download(
        &self,
        client: &RepoClient,
        chosen: &ChartVersion,
    ) -> Result<Vec<u8>, HelmError> {
        deps::download(client, chosen, self.limits.chart_max_size).await
    }

    async fn build_local(
        &self,
        context: &Context,
        object: &HelmChart,
        status: &HelmChartStatus,
        kind: HelmChartSourceKind,
        artifact: &Artifact,
    ) -> Result<Build, HelmError> {
        let generation = object.metadata.generation.unwrap_or_default();
        let workdir = tempfile::tempdir().map_err(|e| {
            HelmError::storage(
                "DirectoryCreationFailed",
                format!("failed to create temporary working directory: {e}"),
            )
        })?;
        let root = workdir.path().join("source");
        self.extract(artifact, &root).await?;
        let chart_path = secure_join(&root, &object.spec.chart).ok_or_else(|| {
            HelmError::build(
                BuildReason::ChartReference,
                format!("chart path '{}' leaves the source", object.spec.chart),
            )
        })?;
        let is_dir = chart_path.is_dir();
        let (archive_files, metadata) = if is_dir {
            (None, build::metadata_at(&chart_path))
        } else {
            match std::fs::read(&chart_path) {
                Ok(data) => {
                    let files = build::read_archive(
                        &data,
                        self.limits.chart_file_max_size,
                        self.limits.chart_max_size,
                    );
                    match files {
                        Ok(files) => {
                            let metadata = build::metadata(&files);
                            (Some(files), metadata)
                        }
                        Err(e) => (None, Err(e)),
                    }
                }
                Err(_) => (
                    None,
                    Err(format!("no chart found at path '{}'", object.spec.chart)),
                ),
            }
        };
        let metadata = metadata.map_err(|e| HelmError::build(BuildReason::ChartReference, e))?;
        let values_files = object.spec.values_files.clone().unwrap_or_default();
        let meta = version_metadata(object, kind, &artifact.revision, &values_files, generation);
        let version = if meta.is_empty() {
            metadata.version.clone()
        } else {
            build::with_metadata(&metadata.version, &meta)
                .map_err(|e| HelmError::build(BuildReason::MetadataPatch, e))?
        };
        let packaged = is_dir || !meta.is_empty() || !values_files.is_empty();
        if Self::cached(status, generation, &metadata.name, &version) {
            return Ok(Build {
                name: metadata.name,
                version,
                packaged,
                values_files: status.observed_values_files.clone().unwrap_or_default(),
                data: None,
            });
        }
        let mut files = match archive_files {
            Some(files) => files,
            None => ferroflux_helm::loader::collect_dir_files(&chart_path)
                .map_err(|e| HelmError::build(BuildReason::ChartPackage, e.to_string()))?,
        };
        let ignore_missing = object.spec.ignore_missing_values_files.unwrap_or(false);
        let (values, used) = merge_values(
            &values_files,
            ignore_missing,
            |name| secure_join(&root, name).and_then(|p| std::fs::read(p).ok()),
            true,
        )?;
        build::patch(
            &mut files,
            &version,
            (!values_files.is_empty()).then_some(&values),
        );
        if is_dir {
            deps::build_dependencies(
                context,
                object,
                &root,
                &chart_path,
                &metadata,
                &mut files,
                &self.files,
                &self.limits,
            )
            .await?;
        }
        let data = build::write_archive(&metadata.name, &files)
            .map_err(|e| HelmError::build(BuildReason::ChartPackage, e))?;
        Ok(Build {
            name: metadata.name,
            version,
            packaged,
            values_files: used,
            data: Some(data),
        })
    }

    /// Extracts a source artifact from this controller's storage.
    async fn extract(&self, artifact: &Artifact, dest: &Path) -> Result<(), HelmError> {
        let local = self
            .files
            .local_path(&ArtifactRecord::from(artifact.clone()))
            .map_err(|e| {
                HelmError::storage(
                    "ReadOperationFailed",
                    format!("failed to open source artifact: {e}"),
                )
            })?;
        let dest = dest.to_path_buf();
        let limits = ferroflux_artifact::FetchOptions::default().limits;
        tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&local)?;
            ferroflux_artifact::extract_tar_gz(std::io::BufReader::new(file), &dest, &limits)
                .map_err(std::io::Error::other)?;
            Ok::<_, std::io::Error>(())
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r)
        .map_err(|e| HelmError::Fetch(format!("artifact untar error: {e}")))
    }

    /// Stores the package and points `latest.tar.gz` at it.
    async fn store(
        &self,
        namespace: &str,
        name: &str,
        chart: &str,
        version: &str,
        data: Vec<u8>,
    ) -> Result<(Artifact, Option<String>), HelmError> {
        let mut record = self.files.artifact_for(
            KIND,
            namespace,
            name,
            version,
            &format!("{chart}-{version}.tgz"),
        );
        let files = self.files.clone();
        tokio::task::spawn_blocking(move || {
            files.copy_from(&mut record, data.as_slice()).map_err(|e| {
                HelmError::storage(
                    "ArchiveOperationFailed",
                    format!("unable to copy Helm chart to storage: {e}"),
                )
            })?;
            let url = files.symlink(&record, "latest.tar.gz").ok();
            Ok((record.into(), url))
        })
        .await
        .map_err(|e| HelmError::storage("ArchiveOperationFailed", e))?
    }
}

/// The build metadata Flux appends: the source revision's first 12 hex characters with
/// the `Revision` strategy (Git/Bucket), then the generation when values files are set.
fn version_metadata(
    object: &HelmChart,
    kind: HelmChartSourceKind,
    revision: &str,
    values_files: &[String],
    generation: i64,
) -> String {
    let mut meta = String::new();
    if object.spec.reconcile_strategy == Some(ReconcileStrategy::Revision) {
        let hex = match kind {
            HelmChartSourceKind::GitRepository => git_hash(revision),
            _ => revision.trim_start_matches("sha256:"),
        };
        meta.push_str(&hex[..hex.len().min(12)]);
    }
    if !values_files.is_empty() {
        if !meta.is_empty() {
            meta.push('.');
        }
        meta.push_str(&generation.to_string());
    }
    meta
}

/// The commit hash of a Git revision: `main@sha1:<hex>`, `sha1:<hex>` or legacy `main/<hex>`.
fn git_hash(revision: &str) -> &str {
    if let Some((_, hash)) = revision.rsplit_once(':') {
        return hash;
    }
    revision.rsplit_once('/').map_or(revision, |(_, hash)| hash)
}

/// `relative` under `root`, refusing paths that leave it.
pub fn secure_join(root: &Path, relative: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir | Component::RootDir => {}
            _ => return None,
        }
    }
    Some(path)
}

/// Merges values files in order; returns the merged map and the files that contributed.
fn merge_values(
    names: &[String],
    ignore_missing: bool,
    read: impl Fn(&str) -> Option<Vec<u8>>,
    local: bool,
) -> Result<(Map<String, serde_json::Value>, Vec<String>), HelmError> {
    let mut merged = Map::new();
    let mut used = Vec::new();
    for name in names {
        let Some(data) = read(name) else {
            if ignore_missing {
                continue;
            }
            let message = if local {
                format!("no values file found at path '{name}' (reference '{name}')")
            } else {
                format!("no values file found at path '{name}'")
            };
            return Err(HelmError::build(BuildReason::ValuesFiles, message));
        };
        let values = build::parse_values(name, &data)
            .map_err(|e| HelmError::build(BuildReason::ValuesFiles, e))?;
        build::merge_maps(&mut merged, values);
        used.push(name.clone());
    }
    Ok((merged, used))
}

/// Maps a chart download failure to Flux's reasons (authentication when the error
/// mentions it).
pub fn download_error(error: GetError, max: u64) -> HelmError {
    let why = match error {
        GetError::Url(e) | GetError::Http(e) => e,
        GetError::TooLarge => format!("chart exceeds the maximum chart size of {max} bytes"),
    };
    let error = HelmError::build(
        BuildReason::ChartPull,
        format!("failed to download chart for remote reference: {why}"),
    );
    let text = error.to_string();
    // Whole phrases only: a bare "401" also matches port numbers in the URL.
    let auth = [
        "401 Unauthorized",
        "403 Forbidden",
        "unauthorized",
        "authentication required",
        "tls:",
        "TLS",
        "certificate",
    ];
    if auth.iter().any(|needle| text.contains(needle)) {
        return HelmError::Authentication(format!(
            "failed to authenticate with the Helm repository: {text}"
        ));
    }
    error
}

/// The public keys `spec.verify` trusts, `None` without `spec.verify`.
async fn verification_keys(
    context: &Context,
    object: &HelmChart,
) -> Result<Option<Vec<crate::oci::cosign::PublicKey>>, HelmError> {
    let Some(verify) = &object.spec.verify else {
        return Ok(None);
    };
    let secret = verify.secret_ref.as_ref().map(|r| r.name.as_str());
    let namespace = object.namespace().unwrap_or_default();
    let failed = |message: String, stalled: bool| HelmError::Verification {
        message: format!(
            "failed to verify the signature using provider '{}': {message}",
            crate::oci::cosign::provider_name(verify.provider, secret.is_some()),
        ),
        stalled,
    };
    let keys =
        crate::oci::cosign::trusted_keys(&context.client, &namespace, verify.provider, secret)
            .await
            .map_err(|e| failed(e.message, e.stalled))?;
    if keys.is_empty() {
        return Err(failed(
            format!(
                "no public keys found in secret '{namespace}/{}'",
                secret.unwrap_or_default()
            ),
            false,
        ));
    }
    Ok(Some(keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_hashes_and_joins() {
        assert_eq!(git_hash("main@sha1:abcdef0123456789"), "abcdef0123456789");
        assert_eq!(git_hash("sha1:abc"), "abc");
        assert_eq!(git_hash("main/abc"), "abc");
        assert!(secure_join(Path::new("/r"), "../x").is_none());
        assert_eq!(
            secure_join(Path::new("/r"), "./charts/app").unwrap(),
            Path::new("/r/charts/app")
        );
    }

    #[test]
    fn download_errors_are_authentication_only_for_auth_failures() {
        let missing = GetError::Http(
            "failed to fetch http://127.0.0.1:40167/public/gone-1.0.0.tgz : 404 Not Found".into(),
        );
        assert!(matches!(
            download_error(missing, 10),
            HelmError::Build { .. }
        ));
        let denied =
            GetError::Http("failed to fetch http://127.0.0.1:1/x.tgz : 401 Unauthorized".into());
        assert!(matches!(
            download_error(denied, 10),
            HelmError::Authentication(_)
        ));
    }
}
