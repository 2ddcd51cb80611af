//! The Kustomization's source: which object, its artifact, and the download.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use ferroflux_api::kustomize::v1::{Kustomization, SourceKind};
use ferroflux_api::meta::Artifact;
use ferroflux_api::source::v1::{Bucket, ExternalArtifact, GitRepository, OCIRepository};
use ferroflux_artifact::{FetchError, FetchOptions, Fetcher};
use ferroflux_runtime::watches::{ArtifactSource, cached_get};
use kube::runtime::reflector::Store;
use kube::{Client, ResourceExt};

use crate::error::KustomizeError;

/// What the reconciler needs to know about the source.
pub struct Source {
    /// The artifact to build from.
    pub artifact: Artifact,
}

/// Settings of source access.
#[derive(Clone, Debug)]
pub struct SourceSettings {
    /// Refuse sources in other namespaces.
    pub no_cross_namespace_refs: bool,
    /// Accept ExternalArtifact sources (Flux's `ExternalArtifact` feature gate).
    pub external_artifacts: bool,
    /// How long to wait for a source that has no artifact yet.
    pub requeue_dependency: Duration,
    /// Flux's AdditiveCELDependencyCheck feature gate: a `dependsOn[].readyExpr` adds to the
    /// built-in checks instead of replacing them.
    pub additive_cel_dependency_check: bool,
    /// Artifact download retries.
    pub http_retry: u32,
    /// The controller's watch caches of the sources (read instead of the API server, as
    /// Flux reads through its informer cache); `None` reads every time.
    pub stores: Option<SourceStores>,
}

/// Watch caches of the source kinds the controller watches anyway.
#[derive(Clone, Debug)]
pub struct SourceStores {
    /// Every GitRepository.
    pub git_repositories: Store<GitRepository>,
    /// Every OCIRepository.
    pub oci_repositories: Store<OCIRepository>,
    /// Every Bucket.
    pub buckets: Store<Bucket>,
    /// Every ExternalArtifact (when the feature gate is on).
    pub external_artifacts: Store<ExternalArtifact>,
}

/// Looks up the Kustomization's source and its artifact.
pub async fn resolve(
    client: &Client,
    object: &Kustomization,
    settings: &SourceSettings,
) -> Result<Source, KustomizeError> {
    let reference = &object.spec.source_ref;
    let own_namespace = object.namespace().unwrap_or_default();
    let namespace = reference
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| own_namespace.clone());
    let kind = match reference.kind {
        SourceKind::GitRepository => "GitRepository",
        SourceKind::OciRepository => "OCIRepository",
        SourceKind::Bucket => "Bucket",
        SourceKind::ExternalArtifact => "ExternalArtifact",
    };
    let display = format!("{kind}/{namespace}/{}", reference.name);
    if settings.no_cross_namespace_refs && namespace != own_namespace {
        return Err(KustomizeError::AccessDenied(format!(
            "can't access '{display}', cross-namespace references have been blocked"
        )));
    }
    if reference.kind == SourceKind::ExternalArtifact && !settings.external_artifacts {
        return Err(KustomizeError::AccessDenied(format!(
            "can't access '{display}', the ExternalArtifact feature gate is disabled"
        )));
    }
    let stores = settings.stores.as_ref();
    let name = &reference.name;
    let artifact = match reference.kind {
        SourceKind::GitRepository => {
            let cache = stores.map(|s| &s.git_repositories);
            artifact_of(client, cache, &namespace, name).await
        }
        SourceKind::OciRepository => {
            let cache = stores.map(|s| &s.oci_repositories);
            artifact_of(client, cache, &namespace, name).await
        }
        SourceKind::Bucket => {
            let cache = stores.map(|s| &s.buckets);
            artifact_of(client, cache, &namespace, name).await
        }
        SourceKind::ExternalArtifact => {
            let cache = stores.map(|s| &s.external_artifacts);
            artifact_of(client, cache, &namespace, name).await
        }
    }?;
    match artifact {
        None => Err(KustomizeError::Artifact {
            message: format!("Source '{display}' not found"),
            retry_after: None,
        }),
        Some(None) => Err(KustomizeError::Artifact {
            message: format!(
                "Source artifact not found, retrying in {}",
                ferroflux_runtime::duration::format(settings.requeue_dependency)
            ),
            retry_after: Some(settings.requeue_dependency),
        }),
        Some(Some(artifact)) => Ok(Source { artifact }),
    }
}

/// `None`: no such object; `Some(None)`: no artifact yet.
async fn artifact_of<S: ArtifactSource>(
    client: &Client,
    cache: Option<&Store<S>>,
    namespace: &str,
    name: &str,
) -> Result<Option<Option<Artifact>>, KustomizeError> {
    Ok(cached_get(client, cache, namespace, name)
        .await?
        .map(|object| object.artifact().cloned()))
}

/// The process's artifact fetcher: one HTTP client (connection pool, TLS roots) for every
/// download, built on first use with the settings' retries.
fn shared_fetcher(settings: &SourceSettings) -> Result<&'static Fetcher, KustomizeError> {
    static FETCHER: OnceLock<Fetcher> = OnceLock::new();
    if let Some(fetcher) = FETCHER.get() {
        return Ok(fetcher);
    }
    let options = FetchOptions {
        retries: settings.http_retry,
        backoff_min: Duration::from_secs(1),
        backoff_max: Duration::from_secs(10),
        // kustomize-controller unpacks without a size limit, as Flux does.
        limits: ferroflux_artifact::ExtractLimits {
            max_total_size: None,
            ..FetchOptions::default().limits
        },
        ..FetchOptions::default()
    };
    let fetcher = Fetcher::new(options).map_err(|e| KustomizeError::Artifact {
        message: e.to_string(),
        retry_after: None,
    })?;
    Ok(FETCHER.get_or_init(|| fetcher))
}

/// Downloads and unpacks the artifact into `dir`, verifying its digest.
pub async fn fetch(
    source: &Source,
    dir: &Path,
    settings: &SourceSettings,
) -> Result<(), KustomizeError> {
    let fetcher = shared_fetcher(settings)?;
    match fetcher
        .fetch(&source.artifact.url, &source.artifact.digest, dir)
        .await
    {
        Ok(_) => Ok(()),
        Err(FetchError::NotFound { .. }) => Err(KustomizeError::Artifact {
            message: format!(
                "Source is not ready, artifact not found, retrying in {}",
                ferroflux_runtime::duration::format(settings.requeue_dependency)
            ),
            retry_after: Some(settings.requeue_dependency),
        }),
        Err(e) => Err(KustomizeError::Artifact {
            message: format!("failed to download artifact, error: {e}"),
            retry_after: None,
        }),
    }
}
