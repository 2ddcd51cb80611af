//! Chart downloads and the dependencies of charts packaged from a source: `file://`
//! charts next to it in the source, and repository charts resolved through the
//! HelmRepository in the namespace with the same URL (Flux's dependency manager), or
//! anonymously when no HelmRepository matches.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferroflux_api::source::v1::{HelmChart, HelmRepository, HelmRepositoryType};
use ferroflux_artifact::{ArtifactRecord, Storage};
use ferroflux_helm::chart::{File, Metadata};
use kube::api::ListParams;
use kube::{Api, ResourceExt};

use super::build;
use super::chart::{download_error, secure_join};
use super::error::{BuildReason, HelmError};
use super::http::RepoClient;
use super::index::{self, ChartVersion, IndexFile};
use super::repository::HelmLimits;
use ferroflux_runtime::driver::Context;

/// One chart's versions from a stored JSON index file.
pub async fn versions_from_file(
    path: PathBuf,
    chart: String,
) -> Result<Option<Vec<ChartVersion>>, HelmError> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        index::chart_versions(file, &chart).map_err(std::io::Error::other)
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|r| r)
    .map_err(|e| {
        HelmError::build(
            BuildReason::ChartPull,
            format!("failed to get chart version for remote reference: failed to load index: {e}"),
        )
    })
}

/// Downloads a chart version's first URL, resolved against the repository.
pub async fn download(
    client: &RepoClient,
    chosen: &ChartVersion,
    max: u64,
) -> Result<Vec<u8>, HelmError> {
    let Some(reference) = chosen.urls.first() else {
        return Err(HelmError::build(
            BuildReason::ChartPull,
            format!(
                "failed to download chart for remote reference: chart '{}' has no downloadable URLs",
                chosen.name
            ),
        ));
    };
    let url = client
        .resolve(reference)
        .map_err(|e| download_error(e, max))?;
    client
        .get(&url, max)
        .await
        .map_err(|e| download_error(e, max))
}

/// Adds every dependency of `metadata` missing from `charts/` to `files` as
/// `charts/<name>-<version>.tgz`; returns how many were resolved.
#[expect(clippy::too_many_arguments, reason = "one call site")]
pub async fn build_dependencies(
    context: &Context,
    object: &HelmChart,
    root: &Path,
    chart_dir: &Path,
    metadata: &Metadata,
    files: &mut Vec<File>,
    storage: &Arc<Storage>,
    limits: &HelmLimits,
) -> Result<usize, HelmError> {
    let mut resolved = 0;
    for dependency in &metadata.dependencies {
        let present = files.iter().any(|f| {
            f.name == format!("charts/{}/Chart.yaml", dependency.name)
                || (f.name.starts_with(&format!("charts/{}-", dependency.name))
                    && Path::new(&f.name)
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("tgz")))
        });
        if present {
            continue;
        }
        let fail = |why: String| {
            HelmError::build(
                BuildReason::DependencyBuild,
                format!("failed to add dependency '{}': {why}", dependency.name),
            )
        };
        let (name, version, data) =
            if let Some(path) = dependency.repository.strip_prefix("file://") {
                local_dependency(root, chart_dir, path).map_err(fail)?
            } else if dependency.repository.starts_with("http://")
                || dependency.repository.starts_with("https://")
            {
                let (chosen, data) = remote_dependency(
                    context,
                    object,
                    &dependency.name,
                    &dependency.version,
                    &dependency.repository,
                    storage,
                    limits,
                )
                .await
                .map_err(|e| fail(e.to_string()))?;
                (chosen.name, chosen.version, data)
            } else {
                return Err(fail(format!(
                    "repository '{}' is not supported (file://, http:// and https:// are)",
                    dependency.repository
                )));
            };
        files.push(File {
            name: format!("charts/{name}-{version}.tgz"),
            data,
        });
        resolved += 1;
    }
    Ok(resolved)
}

/// Packages the chart directory a `file://` dependency points at (inside the source).
fn local_dependency(
    root: &Path,
    chart_dir: &Path,
    path: &str,
) -> Result<(String, String, Vec<u8>), String> {
    let relative = chart_dir
        .strip_prefix(root)
        .map_err(|e| e.to_string())?
        .join(path);
    let mut normalized = PathBuf::new();
    for component in relative.components() {
        match component {
            std::path::Component::ParentDir if !normalized.pop() => {
                return Err(format!("path '{path}' leaves the source"));
            }
            std::path::Component::Normal(part) => normalized.push(part),
            _ => {}
        }
    }
    let dir = secure_join(root, &normalized.to_string_lossy())
        .ok_or_else(|| format!("path '{path}' leaves the source"))?;
    let metadata = build::metadata_at(&dir)?;
    let files = ferroflux_helm::loader::collect_dir_files(&dir).map_err(|e| e.to_string())?;
    let data = build::write_archive(&metadata.name, &files)?;
    Ok((metadata.name, metadata.version, data))
}

/// Resolves a repository dependency through the namespace's HelmRepositories.
async fn remote_dependency(
    context: &Context,
    object: &HelmChart,
    name: &str,
    constraint: &str,
    url: &str,
    storage: &Arc<Storage>,
    limits: &HelmLimits,
) -> Result<(ChartVersion, Vec<u8>), HelmError> {
    let namespace = object.namespace().unwrap_or_default();
    let api: Api<HelmRepository> = Api::namespaced(context.client.clone(), &namespace);
    let wanted = url.trim_end_matches('/');
    let repo = api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .find(|r| {
            r.spec.type_ != Some(HelmRepositoryType::Oci)
                && r.spec.url.trim_end_matches('/') == wanted
        });
    #[expect(clippy::single_match_else, reason = "two real branches, both long")]
    let (client, versions) = match repo {
        Some(repo) => {
            let client = RepoClient::for_repository(&context.client, &repo).await?;
            let stored = repo.status.as_ref().and_then(|s| s.artifact.clone());
            let versions = match stored {
                Some(artifact) => {
                    let path = storage
                        .local_path(&ArtifactRecord::from(artifact))
                        .map_err(|e| HelmError::Fetch(e.to_string()))?;
                    versions_from_file(path, name.to_owned()).await?
                }
                None => fetch_versions(&client, name, limits.index_max_size).await?,
            };
            (client, versions)
        }
        None => {
            let client = RepoClient::anonymous(url)?;
            let versions = fetch_versions(&client, name, limits.index_max_size).await?;
            (client, versions)
        }
    };
    let chosen = index::select_version(name, versions, constraint)
        .map_err(|e| HelmError::Fetch(e.to_string()))?;
    let data = download(&client, &chosen, limits.chart_max_size).await?;
    Ok((chosen, data))
}

/// Downloads and loads a repository's index, keeping one chart's versions.
async fn fetch_versions(
    client: &RepoClient,
    name: &str,
    max: u64,
) -> Result<Option<Vec<ChartVersion>>, HelmError> {
    let raw = client
        .get(&client.index_url(), max)
        .await
        .map_err(|e| HelmError::Fetch(format!("failed to fetch Helm repository index: {e:?}")))?;
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        IndexFile::parse(&raw).map(|mut index| index.entries.remove(&name))
    })
    .await
    .map_err(|e| HelmError::Indexation(e.to_string()))?
    .map_err(|e| HelmError::Indexation(format!("failed to load index: {e}")))
}
