//! The GitRepository reconciler: from a Git reference to a stored artifact.
//!
//! Phases, as Flux's: storage housekeeping (GC, the advertised artifact still exists) →
//! credentials → ask the remote for the commit (and stop there when the artifact is up to
//! date) → fetch and check out → includes → archive with ignore rules → status and event.
//! Failures set Flux's negative condition (FetchFailed, StorageOperationFailed,
//! IncludeUnavailable) before returning; the driver turns them into Ready=False.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use ferroflux_api::meta::Artifact;
use ferroflux_api::source::v1::{GitRepository, GitRepositoryStatus};
use ferroflux_runtime::conditions::{self, Conditions};
use ferroflux_runtime::driver::{Context, Outcome, Reconciler};
use ferroflux_runtime::events::EventType;
use ferroflux_runtime::{FluxStatus, ReconcileError};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, ResourceExt};
use tracing::info;

use super::checkout::{self, CheckoutOptions, GitReference};
use super::upload_pack;
use super::verify;
use crate::args::Args;
use crate::error::SourceError;
use crate::storage::SourceStorage;

/// Negative-polarity conditions of a GitRepository (True means trouble).
const NEGATIVE: [&str; 6] = [
    "StorageOperationFailed",
    "FetchFailed",
    "IncludeUnavailable",
    "ArtifactOutdated",
    "Reconciling",
    "Stalled",
];
/// The conditions `Ready` summarizes, in priority order.
const SUMMARY: [&str; 8] = [
    "StorageOperationFailed",
    "FetchFailed",
    "IncludeUnavailable",
    "ArtifactOutdated",
    "ArtifactInStorage",
    "SourceVerified",
    "Stalled",
    "Reconciling",
];
const KIND: &str = "gitrepository";
/// Conditions whose disappearance is a recovery worth an event (Flux's
/// `gitRepositoryFailConditions`).
const FAIL_CONDITIONS: [&str; 3] = [
    "FetchFailed",
    "IncludeUnavailable",
    "StorageOperationFailed",
];

/// Reconciles GitRepositories into artifacts.
pub struct GitRepositoryReconciler {
    storage: SourceStorage,
}

impl GitRepositoryReconciler {
    /// A reconciler storing artifacts in `storage`.
    pub fn new(storage: ferroflux_artifact::Storage, args: &Args) -> Self {
        Self {
            storage: SourceStorage::new(
                storage,
                args.artifact_retention_ttl,
                args.artifact_retention_records,
            ),
        }
    }
}

impl Reconciler<GitRepository> for GitRepositoryReconciler {
    type Error = SourceError;

    async fn reconcile(
        &self,
        context: &Context,
        object: &GitRepository,
        status: &mut GitRepositoryStatus,
    ) -> Result<Outcome, SourceError> {
        let generation = object.metadata.generation.unwrap_or_default();
        let result = self.run(context, object, status).await;
        let mut conditions =
            Conditions::new(status.conditions_mut(), generation, context.clock.as_ref());
        match &result {
            Ok(_) => {
                for negative in [
                    "FetchFailed",
                    "StorageOperationFailed",
                    "IncludeUnavailable",
                    "ArtifactOutdated",
                ] {
                    conditions.delete(negative);
                }
                conditions.delete("Reconciling");
                if let Some(ready) =
                    conditions::summarize(conditions.list(), "Ready", &SUMMARY, &NEGATIVE)
                {
                    conditions.put(ready);
                }
            }
            Err(error) => {
                match error.condition() {
                    // SourceVerified is positive: a failed verification makes it False.
                    Some("SourceVerified") => {
                        conditions.mark_false("SourceVerified", error.reason(), error.to_string());
                    }
                    Some(condition) => {
                        conditions.mark_true(condition, error.reason(), error.to_string());
                    }
                    None => {}
                }
            }
        }
        result
    }

    async fn cleanup(&self, _: &Context, object: &GitRepository) -> Result<(), SourceError> {
        self.storage.remove_all(
            KIND,
            &object.namespace().unwrap_or_default(),
            &object.name_any(),
        )
    }
}

impl GitRepositoryReconciler {
    async fn run(
        &self,
        context: &Context,
        object: &GitRepository,
        status: &mut GitRepositoryStatus,
    ) -> Result<Outcome, SourceError> {
        let namespace = object.namespace().unwrap_or_default();
        let name = object.name_any();
        let generation = object.metadata.generation.unwrap_or_default();

        self.housekeeping(context, status, &namespace, &name, generation);
        let failed_before = status
            .conditions
            .iter()
            .flatten()
            .any(|condition| FAIL_CONDITIONS.contains(&condition.type_.as_str()));
        let verify_mode = object
            .spec
            .verify
            .as_ref()
            .map(|verify| verify::Mode::of(verify.mode));
        if verify_mode.is_none() {
            status.source_verification_mode = None;
            Conditions::new(status.conditions_mut(), generation, context.clock.as_ref())
                .delete("SourceVerified");
        }
        let remote = super::remote::from_object(context, object).await?;
        let (remote, _bridge) = super::bridge::attach(remote).await?;
        let reference = GitReference::from_spec(object.spec.reference.as_ref());
        let resolve_remote = remote.clone();
        let resolve_reference = reference.clone();
        let resolved = blocking(remote.timeout, move || {
            checkout::resolve(&resolve_remote, &resolve_reference)
        })
        .await?;

        if let Some(artifact) = up_to_date(object, status, resolved.as_ref(), verify_mode) {
            info!(%name, %namespace, revision = %artifact.revision, "no changes since last reconciliation");
            mark_stored(context, status, generation, &artifact.revision);
            if failed_before {
                let message = format!("stored artifact for commit '{}'", artifact.revision);
                notify(context, object, "Succeeded", &message, &artifact).await;
            }
            return Ok(Outcome::Done);
        }

        if let Some(resolved) = &resolved {
            let message = format!("building artifact: new revision '{}'", resolved.revision());
            let mut conditions =
                Conditions::new(status.conditions_mut(), generation, context.clock.as_ref());
            conditions.mark_true("ArtifactOutdated", "NewRevision", message.clone());
            context.mark_reconciling(object, status, &message).await?;
        }

        let workspace = tempfile::tempdir().map_err(|e| SourceError::Storage {
            reason: "DirectoryCreationFailed",
            message: format!("failed to create temporary working directory: {e}"),
        })?;
        let checkout_dir = workspace.path().join("checkout");
        let options = CheckoutOptions {
            sparse: object.spec.sparse_checkout.clone().unwrap_or_default(),
            submodules: object.spec.recurse_submodules.unwrap_or(false),
        };
        let (dir, fetch_remote) = (checkout_dir.clone(), remote.clone());
        let checked_out = if upload_pack::eligible(&remote, &options) {
            let pack = workspace.path().join("fetched.pack");
            let fetched = tokio::time::timeout(
                remote.timeout,
                upload_pack::fetch(&remote, &reference, &pack),
            )
            .await
            .map_err(|_| checkout::timeout_error(&remote))??;
            blocking(remote.timeout, move || {
                checkout::checkout_pack(&fetch_remote, &fetched, &dir, &options)
            })
            .await?
        } else {
            blocking(remote.timeout, move || {
                checkout::checkout(&fetch_remote, &reference, resolved.as_ref(), &dir, &options)
            })
            .await?
        };
        let revision = checked_out.resolved.revision();
        if let Some(mode) = verify_mode {
            self.verify(context, object, status, mode, &checked_out)
                .await?;
        }

        let included = self.include(context, object, &checkout_dir).await?;
        let ignore = object.spec.ignore.clone();
        let artifact = self
            .storage
            .archive(
                KIND,
                &namespace,
                &name,
                &revision,
                &format!("{}.tar.gz", checked_out.resolved.commit),
                &checkout_dir,
                ignore.as_deref(),
            )
            .await?;
        let new_artifact = record(object, status, &artifact, included);
        mark_stored(context, status, generation, &revision);
        let message = format!("stored artifact for commit '{}'", checked_out.subject);
        if new_artifact {
            notify(context, object, "NewArtifact", &message, &artifact).await;
        } else if failed_before {
            notify(context, object, "Succeeded", &message, &artifact).await;
        }
        Ok(Outcome::Done)
    }

    /// Storage housekeeping: drops an advertised artifact that is gone, refreshes its URL
    /// and collects old artifacts.
    fn housekeeping(
        &self,
        context: &Context,
        status: &mut GitRepositoryStatus,
        namespace: &str,
        name: &str,
        generation: i64,
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

    /// Verifies the commit and/or tag signature against the keys of `spec.verify.secretRef`,
    /// recording the mode and Flux's SourceVerified message on success.
    async fn verify(
        &self,
        context: &Context,
        object: &GitRepository,
        status: &mut GitRepositoryStatus,
        mode: verify::Mode,
        checked_out: &checkout::CheckedOut,
    ) -> Result<(), SourceError> {
        let generation = object.metadata.generation.unwrap_or_default();
        let secret_name = object
            .spec
            .verify
            .as_ref()
            .map(|verify| verify.secret_ref.name.clone())
            .unwrap_or_default();
        let secrets: Api<Secret> = Api::namespaced(
            context.client.clone(),
            &object.namespace().unwrap_or_default(),
        );
        let namespace = object.namespace().unwrap_or_default();
        let secret = secrets
            .get_opt(&secret_name)
            .await?
            .ok_or_else(|| SourceError::Verification {
                reason: "VerificationError",
                message: format!(
                    "public keys secret error: secrets \"{secret_name}\" not found in namespace '{namespace}'"
                ),
                stalled: false,
            })?;
        let data = secret
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(key, value)| (key, value.0))
            .collect();
        let keys = verify::TrustedKeys::from_secret_data(&data);
        let message = verify::verify_checkout(
            mode,
            &keys,
            &checked_out.resolved.commit,
            &checked_out.commit_signature,
            checked_out.tag.as_ref(),
        )?;
        status.source_verification_mode = Some(mode.name.to_owned());
        Conditions::new(status.conditions_mut(), generation, context.clock.as_ref()).mark_true(
            "SourceVerified",
            "Succeeded",
            message,
        );
        Ok(())
    }

    /// Copies the artifacts of `spec.include` into the checkout.
    async fn include(
        &self,
        context: &Context,
        object: &GitRepository,
        checkout: &Path,
    ) -> Result<Vec<Artifact>, SourceError> {
        let mut artifacts = Vec::new();
        let namespace = object.namespace().unwrap_or_default();
        let api: Api<GitRepository> = Api::namespaced(context.client.clone(), &namespace);
        for include in object.spec.include.iter().flatten() {
            let name = &include.repository.name;
            let unavailable = |why: String| {
                SourceError::IncludeUnavailable(format!(
                    "could not get resource for include '{name}': {why}"
                ))
            };
            let included = api
                .get_opt(name)
                .await?
                .ok_or_else(|| unavailable("not found".to_owned()))?;
            let artifact = included
                .status
                .and_then(|s| s.artifact)
                .ok_or_else(|| unavailable("no artifact available".to_owned()))?;
            let target = include.to_path.clone().unwrap_or_else(|| name.clone());
            let from = include.from_path.clone().unwrap_or_default();
            let copy_failure = |why: String| SourceError::Storage {
                reason: "CopyFailure",
                message: format!("failed to copy '{name}' include from {from} to {target}: {why}"),
            };
            let destination = include_destination(checkout, &target).map_err(copy_failure)?;
            self.storage
                .copy_included(&artifact, include.from_path.as_deref(), &destination)
                .await
                .map_err(|e| copy_failure(e.to_string()))?;
            artifacts.push(artifact);
        }
        Ok(artifacts)
    }
}

/// The current artifact when it already holds `resolved` with the same content settings
/// (ignore, submodules, sparse checkout, no includes, verification): nothing to rebuild.
/// As Flux, other spec changes (interval, secretRef, timeout...) do not rebuild it.
fn up_to_date(
    object: &GitRepository,
    status: &GitRepositoryStatus,
    resolved: Option<&checkout::Resolved>,
    verify_mode: Option<verify::Mode>,
) -> Option<Artifact> {
    let artifact = status.artifact.as_ref()?;
    let config_unchanged = status.observed_ignore == object.spec.ignore
        && status.observed_recurse_submodules == object.spec.recurse_submodules
        && status.observed_sparse_checkout == object.spec.sparse_checkout
        && object.spec.include.as_ref().is_none_or(Vec::is_empty)
        && verify_mode
            .is_none_or(|mode| mode.satisfied_by(status.source_verification_mode.as_deref()));
    (config_unchanged && artifact.revision == resolved?.revision()).then(|| artifact.clone())
}

/// Records a stored artifact and the settings it was built with; true when it differs from
/// the previous one.
fn record(
    object: &GitRepository,
    status: &mut GitRepositoryStatus,
    artifact: &Artifact,
    included: Vec<Artifact>,
) -> bool {
    let new_artifact = status.artifact.as_ref().is_none_or(|previous| {
        previous.digest != artifact.digest || previous.revision != artifact.revision
    });
    status.artifact = Some(artifact.clone());
    status.included_artifacts = (!included.is_empty()).then_some(included);
    status.observed_ignore.clone_from(&object.spec.ignore);
    status.observed_recurse_submodules = object.spec.recurse_submodules;
    status.observed_include.clone_from(&object.spec.include);
    status
        .observed_sparse_checkout
        .clone_from(&object.spec.sparse_checkout);
    new_artifact
}

/// Where an include's `toPath` lands: inside the checkout whatever symlinks and `..` it
/// meets (Flux's `SecureJoin`), and, as Flux's rename of the whole tree, never into an
/// existing non-empty directory or over a file, so nothing is written through a symlink of
/// the repository.
fn include_destination(checkout: &Path, to_path: &str) -> Result<std::path::PathBuf, String> {
    let destination =
        super::securejoin::secure_join(checkout, to_path).map_err(|e| e.to_string())?;
    match std::fs::symlink_metadata(&destination) {
        Err(_) => Ok(destination),
        Ok(metadata) if metadata.is_dir() => {
            let empty = std::fs::read_dir(&destination)
                .map_err(|e| e.to_string())?
                .next()
                .is_none();
            if empty {
                Ok(destination)
            } else {
                Err(format!("destination '{to_path}' exists and is not empty"))
            }
        }
        Ok(_) => Err(format!(
            "destination '{to_path}' exists and is not a directory"
        )),
    }
}

/// A Normal event about the stored `artifact`, with its revision and digest as metadata
/// (Flux's NewArtifact, or Succeeded when recovering from a failure).
async fn notify(
    context: &Context,
    object: &GitRepository,
    reason: &str,
    message: &str,
    artifact: &Artifact,
) {
    let metadata = BTreeMap::from([
        ("revision".to_owned(), artifact.revision.clone()),
        ("digest".to_owned(), artifact.digest.clone()),
    ]);
    context
        .recorder
        .publish(object, EventType::Normal, reason, message, metadata)
        .await;
}

/// ArtifactInStorage and Ready True for `revision`.
fn mark_stored(
    context: &Context,
    status: &mut GitRepositoryStatus,
    generation: i64,
    revision: &str,
) {
    let message = format!("stored artifact for revision '{revision}'");
    let mut conditions =
        Conditions::new(status.conditions_mut(), generation, context.clock.as_ref());
    conditions.mark_true("ArtifactInStorage", "Succeeded", message.clone());
    conditions.mark_true("Ready", "Succeeded", message);
}

/// Runs blocking Git work on a blocking thread, failing after `timeout` (plus slack for
/// the work to notice its own deadline).
async fn blocking<T: Send + 'static>(
    timeout: Duration,
    work: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    let handle = tokio::task::spawn_blocking(work);
    match tokio::time::timeout(timeout + Duration::from_secs(5), handle).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(SourceError::Fetch(format!("git operation failed: {join}"))),
        Err(_) => Err(SourceError::Fetch(format!(
            "git operation timed out after {}",
            ferroflux_runtime::duration::format(timeout)
        ))),
    }
}
