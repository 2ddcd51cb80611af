//! The OCIRepository reconciler: from an OCI artifact in a registry to a stored artifact.
//!
//! Phases, as Flux's: storage housekeeping → credentials (dockerconfigjson `secretRef`,
//! the ServiceAccount's imagePullSecrets), TLS (`certSecretRef`), proxy → the reference
//! (digest > semver > tag > `latest`) → the manifest digest, which makes the revision
//! `<tag>@sha256:<hex>` (no pull when the stored artifact has that revision and the
//! content settings did not change) → pull the manifest and the selected layer → extract
//! it (with ignore rules) or copy it as is → status (`artifact` with the manifest
//! annotations as metadata, `url` of `latest.tar.gz`) and the `NewArtifact` event.

use std::collections::BTreeMap;
use std::path::Path;

use ferroflux_api::meta::{Artifact, ConditionStatus};
use ferroflux_api::source::v1::{
    OCILayerOperation, OCIProvider, OCIRepository, OCIRepositoryStatus,
};
use ferroflux_artifact::Storage;
use ferroflux_runtime::FluxStatus;
use ferroflux_runtime::conditions::Conditions;
use ferroflux_runtime::driver::{Context, Outcome, Reconciler};
use ferroflux_runtime::events::EventType;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::{Api, ResourceExt};
use tracing::info;

use super::client::{
    ClientOptions, Credentials, OciError, RegistryClient, Repository, ResolvedManifest, TlsOptions,
};
use super::store;
use crate::args::Args;
use crate::error::SourceError;
use crate::storage::SourceStorage;

/// Negative-polarity conditions of an OCIRepository.
const NEGATIVE: [&str; 5] = [
    "StorageOperationFailed",
    "FetchFailed",
    "ArtifactOutdated",
    "Reconciling",
    "Stalled",
];
/// The conditions `Ready` summarizes, in Flux's priority order.
const SUMMARY: [&str; 7] = [
    "StorageOperationFailed",
    "FetchFailed",
    "ArtifactOutdated",
    "ArtifactInStorage",
    "SourceVerified",
    "Stalled",
    "Reconciling",
];
const KIND: &str = "ocirepository";
/// Helm's chart layer media type: semver tags map `+` to `_` for it.
const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/// Reconciles OCIRepositories into artifacts.
pub struct OCIRepositoryReconciler {
    storage: SourceStorage,
    files: Storage,
}

impl OCIRepositoryReconciler {
    /// A reconciler storing artifacts in `storage`.
    pub fn new(storage: Storage, args: &Args) -> Self {
        Self {
            storage: SourceStorage::new(
                storage.clone(),
                args.artifact_retention_ttl,
                args.artifact_retention_records,
            ),
            files: storage,
        }
    }
}

impl Reconciler<OCIRepository> for OCIRepositoryReconciler {
    type Error = SourceError;

    async fn reconcile(
        &self,
        context: &Context,
        object: &OCIRepository,
        status: &mut OCIRepositoryStatus,
    ) -> Result<Outcome, SourceError> {
        let generation = object.metadata.generation.unwrap_or_default();
        let result = self.run(context, object, status).await;
        store::summarize(
            status.conditions_mut(),
            generation,
            context,
            result.as_ref().map(|_| ()),
            &SUMMARY,
            &NEGATIVE,
        );
        result
    }

    async fn cleanup(&self, _: &Context, object: &OCIRepository) -> Result<(), SourceError> {
        self.storage.remove_all(
            KIND,
            &object.namespace().unwrap_or_default(),
            &object.name_any(),
        )
    }
}

/// What the reference resolved to.
struct Resolved {
    /// The tag or digest the manifest is fetched by.
    reference: String,
    /// `<tag>@sha256:<hex>` or `sha256:<hex>`.
    revision: String,
    /// The manifest digest.
    digest: String,
}

impl OCIRepositoryReconciler {
    async fn run(
        &self,
        context: &Context,
        object: &OCIRepository,
        status: &mut OCIRepositoryStatus,
    ) -> Result<Outcome, SourceError> {
        let namespace = object.namespace().unwrap_or_default();
        let name = object.name_any();
        let generation = object.metadata.generation.unwrap_or_default();
        self.housekeeping(context, object, status);

        super::cosign::reset_verified(
            &mut Conditions::new(status.conditions_mut(), generation, context.clock.as_ref()),
            object.spec.verify.is_some(),
        );
        let timeout = store::timeout(object.spec.timeout.as_deref())?;
        let repository =
            Repository::parse_url(&object.spec.url).map_err(|e| SourceError::InvalidSpec {
                reason: "URLInvalid",
                message: format!("URL validation failed for '{}': {e}", object.spec.url),
            })?;
        let client = client(context, object, &repository, timeout).await?;
        let resolved = tokio::time::timeout(timeout, resolve(&client, object, &repository))
            .await
            .map_err(|_| timed_out("failed to determine artifact digest", timeout))??;

        if object.spec.verify.is_some() {
            self.verify(context, object, status, &client, &repository, &resolved)
                .await?;
        }

        let content_unchanged = status.observed_ignore == object.spec.ignore
            && status.observed_layer_selector == object.spec.layer_selector;
        if let Some(artifact) = &status.artifact
            && artifact.revision == resolved.revision
            && content_unchanged
        {
            info!(%name, %namespace, revision = %artifact.revision, "artifact up-to-date");
            status.url = store::link_latest(&self.files, artifact);
            mark_stored(context, status, generation, &resolved.revision);
            return Ok(Outcome::Done);
        }

        let message = format!(
            "new revision '{}' for '{}'",
            resolved.revision,
            reference_name(&repository, &resolved.reference)
        );
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

        let workspace = store::workspace()?;
        let pulled = tokio::time::timeout(
            timeout,
            pull(&client, object, &repository, &resolved, workspace.path()),
        )
        .await
        .map_err(|_| timed_out("failed to pull artifact", timeout))??;

        let file_name = format!("{}.tar.gz", resolved.digest);
        let mut artifact = match pulled.content {
            Content::Directory(dir) => {
                self.storage
                    .archive(
                        KIND,
                        &namespace,
                        &name,
                        &resolved.revision,
                        &file_name,
                        &dir,
                        object.spec.ignore.as_deref(),
                    )
                    .await?
            }
            Content::File(path) => {
                store::store_file(
                    &self.files,
                    (KIND, &namespace, &name),
                    &resolved.revision,
                    &file_name,
                    path,
                )
                .await?
            }
        };
        artifact.metadata = pulled.annotations;
        let previous_digest = status.artifact.as_ref().map(|a| a.digest.clone());
        status.url = store::link_latest(&self.files, &artifact);
        status.artifact = Some(artifact.clone());
        status.observed_ignore.clone_from(&object.spec.ignore);
        status
            .observed_layer_selector
            .clone_from(&object.spec.layer_selector);
        mark_stored(context, status, generation, &resolved.revision);
        if previous_digest.as_deref() != Some(artifact.digest.as_str()) {
            publish_new_artifact(context, object, &artifact).await;
        }
        Ok(Outcome::Done)
    }

    /// Checks the signature of the resolved manifest (`spec.verify`) unless the stored
    /// artifact already has this revision and it was verified for this generation.
    async fn verify(
        &self,
        context: &Context,
        object: &OCIRepository,
        status: &mut OCIRepositoryStatus,
        client: &RegistryClient,
        repository: &Repository,
        resolved: &Resolved,
    ) -> Result<(), SourceError> {
        let Some(verify) = &object.spec.verify else {
            return Ok(());
        };
        let generation = object.metadata.generation.unwrap_or_default();
        let verified =
            ferroflux_runtime::conditions::get(status.conditions_mut(), "SourceVerified")
                .is_some_and(|c| {
                    c.status == ConditionStatus::True && c.observed_generation == Some(generation)
                });
        if verified
            && status
                .artifact
                .as_ref()
                .is_some_and(|a| a.revision == resolved.revision)
        {
            return Ok(());
        }
        let secret = verify.secret_ref.as_ref().map(|r| r.name.as_str());
        let provider = super::cosign::provider_name(verify.provider, secret.is_some());
        let failed = |message: String, stalled: bool| SourceError::Verification {
            reason: "VerificationError",
            message: format!(
                "failed to verify the signature using provider '{provider}': {message}"
            ),
            stalled,
        };
        let namespace = object.namespace().unwrap_or_default();
        let keys =
            super::cosign::trusted_keys(&context.client, &namespace, verify.provider, secret)
                .await
                .map_err(|e| failed(e.message, e.stalled))?;
        let reference = format!("{repository}@{}", resolved.digest);
        let timeout = store::timeout(object.spec.timeout.as_deref())?;
        let result = tokio::time::timeout(
            timeout,
            super::cosign::verify(client, repository, &resolved.digest, &keys),
        )
        .await
        .map_err(|_| {
            failed(
                format!(
                    "timed out after {}",
                    ferroflux_runtime::duration::format(timeout)
                ),
                false,
            )
        })?;
        if let Err(error) = result {
            info!(name = %object.name_any(), %namespace, %reference, "signature not verified: {error}");
            return Err(failed(
                format!("no matching signatures were found for '{reference}'"),
                false,
            ));
        }
        Conditions::new(status.conditions_mut(), generation, context.clock.as_ref()).mark_true(
            "SourceVerified",
            "Succeeded",
            format!("verified signature of revision {}", resolved.revision),
        );
        Ok(())
    }

    /// GC, and forget an advertised artifact whose file disappeared.
    fn housekeeping(
        &self,
        context: &Context,
        object: &OCIRepository,
        status: &mut OCIRepositoryStatus,
    ) {
        let generation = object.metadata.generation.unwrap_or_default();
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
        self.storage.collect_garbage(
            KIND,
            &object.namespace().unwrap_or_default(),
            &object.name_any(),
            status.artifact.as_ref(),
        );
    }
}

/// `<registry>/<repo>:<tag>` or `<registry>/<repo>@<digest>`, as go-containerregistry
/// prints references.
fn reference_name(repository: &Repository, reference: &str) -> String {
    if super::client::is_digest(reference) {
        format!("{repository}@{reference}")
    } else {
        format!("{repository}:{reference}")
    }
}

fn timed_out(what: &str, timeout: std::time::Duration) -> SourceError {
    SourceError::Pull {
        reason: "OCIArtifactPullFailed",
        message: format!(
            "{what}: timed out after {}",
            ferroflux_runtime::duration::format(timeout)
        ),
    }
}

async fn publish_new_artifact(context: &Context, object: &OCIRepository, artifact: &Artifact) {
    let mut message = format!(
        "stored artifact with revision '{}' from '{}'",
        artifact.revision, object.spec.url
    );
    if let Some(metadata) = &artifact.metadata
        && let (Some(source), Some(revision)) = (
            metadata.get("org.opencontainers.image.source"),
            metadata.get("org.opencontainers.image.revision"),
        )
    {
        message = format!("{message}, origin source '{source}', origin revision '{revision}'");
    }
    let metadata = BTreeMap::from([
        ("revision".to_owned(), artifact.revision.clone()),
        ("digest".to_owned(), artifact.digest.clone()),
    ]);
    info!(name = %object.name_any(), "{message}");
    context
        .recorder
        .publish(object, EventType::Normal, "NewArtifact", &message, metadata)
        .await;
}

/// ArtifactInStorage and Ready True for `revision`, with Flux's message.
fn mark_stored(
    context: &Context,
    status: &mut OCIRepositoryStatus,
    generation: i64,
    revision: &str,
) {
    let message = format!("stored artifact for digest '{revision}'");
    let mut conditions =
        Conditions::new(status.conditions_mut(), generation, context.clock.as_ref());
    conditions.delete("ArtifactOutdated");
    conditions.mark_true("ArtifactInStorage", "Succeeded", message.clone());
    conditions.mark_true("Ready", "Succeeded", message);
}

/// A registry client with the object's credentials, TLS settings and proxy.
async fn client(
    context: &Context,
    object: &OCIRepository,
    repository: &Repository,
    timeout: std::time::Duration,
) -> Result<RegistryClient, SourceError> {
    let spec = &object.spec;
    let namespace = object.namespace().unwrap_or_default();
    let credentials = credentials(context, object, repository).await?;
    if credentials.is_none()
        && let Some(provider) = spec.provider.filter(|p| *p != OCIProvider::Generic)
    {
        let provider = format!("{provider:?}").to_lowercase();
        return Err(SourceError::InvalidSpec {
            reason: "AuthenticationFailed",
            message: format!(
                "failed to get credential from {provider}: the '{provider}' provider is not supported by ferroflux yet; use provider 'generic' with a secretRef"
            ),
        });
    }
    let transport_error = |message: String| {
        SourceError::Authentication(format!(
            "failed to generate transport for '{}': {message}",
            spec.url
        ))
    };
    let tls = match &spec.cert_secret_ref {
        Some(reference) => {
            let data = store::secret_data(context, &namespace, &reference.name)
                .await?
                .ok_or_else(|| {
                    transport_error(format!("secret '{namespace}/{}' not found", reference.name))
                })?;
            TlsOptions::from_secret_data(&reference.name, &data)
                .map_err(|e| transport_error(e.to_string()))?
        }
        None => TlsOptions::default(),
    };
    let proxy = match &spec.proxy_secret_ref {
        Some(reference) => {
            let data = store::secret_data(context, &namespace, &reference.name)
                .await?
                .ok_or_else(|| {
                    SourceError::Authentication(format!(
                        "failed to get proxy address: secret '{namespace}/{}' not found",
                        reference.name
                    ))
                })?;
            Some(store::proxy_url(&reference.name, &data)?)
        }
        None => None,
    };
    RegistryClient::new(ClientOptions {
        credentials,
        tls,
        insecure: spec.insecure.unwrap_or(false),
        timeout,
        proxy,
    })
    .map_err(|e| transport_error(e.to_string()))
}

/// Credentials from `secretRef` and the ServiceAccount's imagePullSecrets, in that order.
async fn credentials(
    context: &Context,
    object: &OCIRepository,
    repository: &Repository,
) -> Result<Option<Credentials>, SourceError> {
    let namespace = object.namespace().unwrap_or_default();
    let failed = |message: String| {
        SourceError::Authentication(format!("failed to get credential: {message}"))
    };
    let mut secret_names = Vec::new();
    if let Some(reference) = &object.spec.secret_ref {
        secret_names.push(reference.name.clone());
    }
    if let Some(account) = &object.spec.service_account_name {
        let accounts: Api<ServiceAccount> = Api::namespaced(context.client.clone(), &namespace);
        let account = accounts
            .get_opt(account)
            .await?
            .ok_or_else(|| failed(format!("serviceaccounts '{namespace}/{account}' not found")))?;
        secret_names.extend(
            account
                .image_pull_secrets
                .unwrap_or_default()
                .into_iter()
                .map(|reference| reference.name),
        );
    }
    for secret in secret_names {
        let data = store::secret_data(context, &namespace, &secret)
            .await?
            .ok_or_else(|| {
                failed(format!(
                    "failed to get secret '{namespace}/{secret}': secret not found"
                ))
            })?;
        let Some(config) = data
            .get(".dockerconfigjson")
            .or_else(|| data.get(".dockercfg"))
        else {
            return Err(failed(format!(
                "secret '{namespace}/{secret}' has no '.dockerconfigjson' key"
            )));
        };
        if let Some(credentials) = Credentials::from_docker_config(&config.0, &repository.registry)
            .map_err(|e| failed(e.to_string()))?
        {
            return Ok(Some(credentials));
        }
    }
    Ok(None)
}

/// The reference to pull and the revision it makes.
async fn resolve(
    client: &RegistryClient,
    object: &OCIRepository,
    repository: &Repository,
) -> Result<Resolved, SourceError> {
    let reference = object.spec.reference.clone().unwrap_or_default();
    let non_empty = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    if let Some(digest) = non_empty(&reference.digest) {
        return Ok(Resolved {
            reference: digest.clone(),
            revision: digest.clone(),
            digest,
        });
    }
    let tag = match non_empty(&reference.semver) {
        Some(range) => {
            let media_type = layer_media_type(object);
            latest_semver_tag(
                client,
                repository,
                &range,
                reference.semver_filter.as_deref(),
                media_type.as_deref(),
            )
            .await
            .map_err(|message| SourceError::Pull {
                reason: "ReadOperationFailed",
                message: format!(
                    "failed to determine the artifact tag for '{}': {message}",
                    object.spec.url
                ),
            })?
        }
        None => non_empty(&reference.tag).unwrap_or_else(|| "latest".to_owned()),
    };
    let digest = client
        .resolve_digest(repository, &tag)
        .await
        .map_err(|e| SourceError::Pull {
            reason: "OCIArtifactPullFailed",
            message: format!("failed to determine artifact digest: {e}"),
        })?;
    Ok(Resolved {
        revision: format!("{tag}@{digest}"),
        reference: tag,
        digest,
    })
}

fn layer_media_type(object: &OCIRepository) -> Option<String> {
    object
        .spec
        .layer_selector
        .as_ref()
        .and_then(|s| s.media_type.clone())
        .filter(|m| !m.is_empty())
}

/// The highest tag matching `range` (after `filter`), as Flux picks it.
async fn latest_semver_tag(
    client: &RegistryClient,
    repository: &Repository,
    range: &str,
    filter: Option<&str>,
    media_type: Option<&str>,
) -> Result<String, String> {
    let tags = client
        .list_tags(repository)
        .await
        .map_err(|e| e.to_string())?;
    select_semver_tag(&tags, range, filter, media_type)
}

/// Pure tag selection: regex pre-filter, Masterminds constraint, highest version.
fn select_semver_tag(
    tags: &[String],
    range: &str,
    filter: Option<&str>,
    media_type: Option<&str>,
) -> Result<String, String> {
    let filter = filter
        .filter(|f| !f.is_empty())
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| format!("failed to compile regex: {e}"))?;
    let constraints = ferroflux_semver::Constraints::parse(range)
        .map_err(|e| format!("semver '{range}' parse error: {e}"))?;
    let helm = media_type == Some(HELM_CHART_LAYER);
    let candidates: Vec<String> = tags
        .iter()
        .filter(|tag| filter.as_ref().is_none_or(|f| f.is_match(tag)))
        .map(|tag| {
            if helm {
                tag.replace('_', "+")
            } else {
                tag.clone()
            }
        })
        .collect();
    let (_, tag) =
        ferroflux_semver::latest_matching(&constraints, candidates.iter().map(String::as_str))
            .ok_or_else(|| format!("no match found for semver: {range}"))?;
    Ok(if helm {
        tag.replace('+', "_")
    } else {
        tag.to_owned()
    })
}

/// What a pull produced.
enum Content {
    /// The extracted layer.
    Directory(std::path::PathBuf),
    /// The layer blob as is.
    File(std::path::PathBuf),
}

struct Pulled {
    content: Content,
    annotations: Option<BTreeMap<String, String>>,
}

/// Pulls the manifest and the selected layer into `workspace`.
async fn pull(
    client: &RegistryClient,
    object: &OCIRepository,
    repository: &Repository,
    resolved: &Resolved,
    workspace: &Path,
) -> Result<Pulled, SourceError> {
    let pull_failed = |e: OciError| SourceError::Pull {
        reason: "OCIArtifactPullFailed",
        message: format!("failed to pull artifact from '{}': {e}", object.spec.url),
    };
    let layer_failed = |message: String| SourceError::Pull {
        reason: "OCIArtifactLayerOperationFailed",
        message,
    };
    let manifest: ResolvedManifest = client
        .resolve(repository, &resolved.digest)
        .await
        .map_err(pull_failed)?;
    let layer = select_layer(&manifest, layer_media_type(object).as_deref())
        .map_err(layer_failed)?
        .clone();
    let blob_path = workspace.join("layer.blob");
    let mut file = std::fs::File::create(&blob_path).map_err(|e| SourceError::Storage {
        reason: "DirectoryCreationFailed",
        message: format!("failed to create file to copy layer to: {e}"),
    })?;
    client
        .fetch_blob_to(
            repository,
            &layer,
            ferroflux_artifact::DEFAULT_MAX_TOTAL_SIZE,
            &mut file,
        )
        .await
        .map_err(|e| {
            layer_failed(format!(
                "failed to extract the first layer from artifact: {e}"
            ))
        })?;
    drop(file);
    let operation = object
        .spec
        .layer_selector
        .as_ref()
        .and_then(|s| s.operation)
        .unwrap_or(OCILayerOperation::Extract);
    let content = match operation {
        OCILayerOperation::Extract => {
            let dir = workspace.join("content");
            store::extract(&blob_path, &dir).await.map_err(|e| {
                layer_failed(format!(
                    "failed to extract layer contents from artifact: {e}"
                ))
            })?;
            Content::Directory(dir)
        }
        OCILayerOperation::Copy => Content::File(blob_path),
    };
    Ok(Pulled {
        content,
        annotations: manifest.manifest.annotations.clone(),
    })
}

/// The layer with `media_type`, else the first one (Flux's `selectLayer`).
fn select_layer<'m>(
    manifest: &'m ResolvedManifest,
    media_type: Option<&str>,
) -> Result<&'m super::client::Descriptor, String> {
    let layers = &manifest.manifest.layers;
    if layers.is_empty() {
        return Err("failed to parse artifact manifest: no layers found in artifact".to_owned());
    }
    match media_type {
        Some(media_type) => layers
            .iter()
            .find(|l| l.media_type == media_type)
            .ok_or_else(|| {
                format!("failed to find layer with media type '{media_type}' in artifact")
            }),
        None => Ok(&layers[0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(&["v1.0.0", "v1.2.0", "v2.0.0-rc.1", "latest"], ">=1.0.0", None, None, "v1.2.0")]
    #[case(&["1.0.0", "1.1.0", "2.0.0"], "<2", None, None, "1.1.0")]
    #[case(&["1.0.0-dev", "1.1.0", "1.2.0-dev"], ">=1.0.0-0", Some(".*-dev$"), None, "1.2.0-dev")]
    #[case(&["0.1.0", "0.2.0_build.1"], "0.x", None, Some(HELM_CHART_LAYER), "0.2.0_build.1")]
    fn selects_semver_tags(
        #[case] tags: &[&str],
        #[case] range: &str,
        #[case] filter: Option<&str>,
        #[case] media_type: Option<&str>,
        #[case] expected: &str,
    ) {
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        assert_eq!(
            select_semver_tag(&tags, range, filter, media_type).unwrap(),
            expected
        );
    }

    #[test]
    fn semver_errors_are_flux_messages() {
        let tags = vec!["1.0.0".to_owned()];
        assert_eq!(
            select_semver_tag(&tags, ">=2", None, None).unwrap_err(),
            "no match found for semver: >=2"
        );
        assert!(
            select_semver_tag(&tags, "abc", None, None)
                .unwrap_err()
                .starts_with("semver 'abc' parse error")
        );
    }
}
