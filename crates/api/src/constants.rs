//! Strings Flux controllers put on the wire: condition types, reasons, annotations,
//! labels, finalizers and field managers. Users alert on these, so they are Flux's exactly.
//!
//! Names follow Flux's Go identifiers in SCREAMING_SNAKE_CASE with a kind suffix:
//! `*_CONDITION` for condition types, `*_REASON` for reasons, `*_ANNOTATION` and `*_LABEL`
//! for metadata keys, `*_FIELD_MANAGER` for server-side apply managers.

// ---------------------------------------------------------------------------------------
// Finalizers
// ---------------------------------------------------------------------------------------

/// The finalizer every reconciled Flux kind carries (sources, Kustomization, HelmRelease,
/// Receiver); Alert and Provider only have it removed.
pub const FINALIZER: &str = "finalizers.fluxcd.io";

// ---------------------------------------------------------------------------------------
// Condition types
// ---------------------------------------------------------------------------------------

/// Summary condition of every reconciled kind; Unknown while work is in progress.
pub const READY_CONDITION: &str = "Ready";
/// Present (and True) only while the reconciler is working towards a new state.
pub const RECONCILING_CONDITION: &str = "Reconciling";
/// Present (and True) when the reconciler gave up until the spec changes.
pub const STALLED_CONDITION: &str = "Stalled";
/// Result of a Kustomization's health checks; removed when none are configured.
pub const HEALTHY_CONDITION: &str = "Healthy";
/// True once a source has stored an artifact for its current spec.
pub const ARTIFACT_IN_STORAGE_CONDITION: &str = "ArtifactInStorage";
/// True when the stored artifact no longer reflects the origin (new revision, chart or
/// include).
pub const ARTIFACT_OUTDATED_CONDITION: &str = "ArtifactOutdated";
/// True when fetching from the origin failed (network, authentication, bad address).
pub const FETCH_FAILED_CONDITION: &str = "FetchFailed";
/// True when a HelmChart could not be built or packaged.
pub const BUILD_FAILED_CONDITION: &str = "BuildFailed";
/// True when a file system operation on artifact storage failed.
pub const STORAGE_OPERATION_FAILED_CONDITION: &str = "StorageOperationFailed";
/// True when an included GitRepository has no usable artifact.
pub const INCLUDE_UNAVAILABLE_CONDITION: &str = "IncludeUnavailable";
/// Outcome of signature verification; present only when verification is configured, and
/// when False it forces Ready to False.
pub const SOURCE_VERIFIED_CONDITION: &str = "SourceVerified";
/// Result of the last Helm install or upgrade of a HelmRelease.
pub const RELEASED_CONDITION: &str = "Released";
/// Result of the last Helm test run of a HelmRelease.
pub const TEST_SUCCESS_CONDITION: &str = "TestSuccess";
/// Set when a HelmRelease was rolled back or uninstalled to remediate a failure.
pub const REMEDIATED_CONDITION: &str = "Remediated";
/// Whether the cluster state of a HelmRelease drifted from its release manifest; only
/// with drift detection set to `warn` or `enabled`.
pub const DRIFTED_CONDITION: &str = "Drifted";

// ---------------------------------------------------------------------------------------
// Generic reasons (fluxcd/pkg/apis/meta)
// ---------------------------------------------------------------------------------------

/// The operation completed successfully.
pub const SUCCEEDED_REASON: &str = "Succeeded";
/// The operation failed.
pub const FAILED_REASON: &str = "Failed";
/// Work is in progress (Ready Unknown, Reconciling True).
pub const PROGRESSING_REASON: &str = "Progressing";
/// Work is in progress again after a failed attempt.
pub const PROGRESSING_WITH_RETRY_REASON: &str = "ProgressingWithRetry";
/// Reconciliation is suspended by `spec.suspend`.
pub const SUSPENDED_REASON: &str = "Suspended";
/// A `dependsOn` entry is not ready yet.
pub const DEPENDENCY_NOT_READY_REASON: &str = "DependencyNotReady";
/// A path in the spec (or in an artifact) is invalid or missing.
pub const INVALID_PATH_REASON: &str = "InvalidPath";
/// An address in the spec cannot be parsed or used.
pub const INVALID_URL_REASON: &str = "InvalidURL";
/// A plain-HTTP address was refused because insecure connections are disabled.
pub const INSECURE_CONNECTIONS_DISALLOWED_REASON: &str = "InsecureConnectionsDisallowed";
/// The address uses a scheme the reconciler does not support.
pub const UNSUPPORTED_CONNECTION_TYPE_REASON: &str = "UnsupportedConnectionType";
/// Garbage collection of removed objects failed.
pub const PRUNE_FAILED_REASON: &str = "PruneFailed";
/// The source artifact could not be fetched, verified or extracted.
pub const ARTIFACT_FAILED_REASON: &str = "ArtifactFailed";
/// Building the manifests (or chart) failed.
pub const BUILD_FAILED_REASON: &str = "BuildFailed";
/// Health checks failed or timed out.
pub const HEALTH_CHECK_FAILED_REASON: &str = "HealthCheckFailed";
/// Health checks were cancelled before they finished.
pub const HEALTH_CHECK_CANCELED_REASON: &str = "HealthCheckCanceled";
/// A full reconciliation succeeded.
pub const RECONCILIATION_SUCCEEDED_REASON: &str = "ReconciliationSucceeded";
/// A reconciliation failed (apply, inventory or another step without its own reason).
pub const RECONCILIATION_FAILED_REASON: &str = "ReconciliationFailed";
/// A CEL expression in the spec does not compile.
pub const INVALID_CEL_EXPRESSION_REASON: &str = "InvalidCELExpression";
/// The spec needs a feature gate that is turned off.
pub const FEATURE_GATE_DISABLED_REASON: &str = "FeatureGateDisabled";
/// A cross-namespace (or otherwise forbidden) reference was refused.
pub const ACCESS_DENIED_REASON: &str = "AccessDenied";

// ---------------------------------------------------------------------------------------
// source-controller reasons
// ---------------------------------------------------------------------------------------

/// The source address is invalid.
pub const URL_INVALID_REASON: &str = "URLInvalid";
/// Credentials were missing, malformed or rejected.
pub const AUTHENTICATION_FAILED_REASON: &str = "AuthenticationFailed";
/// Signature verification could not be performed or failed.
pub const VERIFICATION_ERROR_REASON: &str = "VerificationError";
/// A storage directory could not be created.
pub const DIRECTORY_CREATION_FAILED_REASON: &str = "DirectoryCreationFailed";
/// Stat of a storage path failed.
pub const STAT_OPERATION_FAILED_REASON: &str = "StatOperationFailed";
/// Reading a file failed.
pub const READ_OPERATION_FAILED_REASON: &str = "ReadOperationFailed";
/// The lock file of an artifact could not be acquired.
pub const ACQUIRE_LOCK_FAILED_REASON: &str = "AcquireLockFailed";
/// Writing the artifact archive failed.
pub const ARCHIVE_OPERATION_FAILED_REASON: &str = "ArchiveOperationFailed";
/// Updating the `latest`/`index.yaml` symlink of an artifact failed.
pub const SYMLINK_UPDATE_FAILED_REASON: &str = "SymlinkUpdateFailed";
/// The stored artifact already matches the origin revision.
pub const ARTIFACT_UP_TO_DATE_REASON: &str = "ArtifactUpToDate";
/// A cache operation (such as the Helm index cache) failed.
pub const CACHE_OPERATION_FAILED_REASON: &str = "CacheOperationFailed";
/// Patching the object or its status failed.
pub const PATCH_OPERATION_FAILED_REASON: &str = "PatchOperationFailed";
/// A Bucket's `sts` configuration is invalid.
pub const INVALID_STS_CONFIGURATION_REASON: &str = "InvalidSTSConfiguration";
/// The provider configuration (for example a ServiceAccount for workload identity) is
/// invalid.
pub const INVALID_PROVIDER_CONFIGURATION_REASON: &str = "InvalidProviderConfiguration";
/// A Git operation succeeded.
pub const GIT_OPERATION_SUCCEEDED_REASON: &str = "GitOperationSucceeded";
/// A Git operation (clone, fetch, checkout) failed.
pub const GIT_OPERATION_FAILED_REASON: &str = "GitOperationFailed";
/// A Helm repository index could not be downloaded, parsed or stored.
pub const INDEXATION_FAILED_REASON: &str = "IndexationFailed";
/// A Helm chart was pulled and stored as published.
pub const CHART_PULL_SUCCEEDED_REASON: &str = "ChartPullSucceeded";
/// A Helm chart was (re)packaged and stored.
pub const CHART_PACKAGE_SUCCEEDED_REASON: &str = "ChartPackageSucceeded";
/// A Bucket operation succeeded.
pub const BUCKET_OPERATION_SUCCEEDED_REASON: &str = "BucketOperationSucceeded";
/// A Bucket operation (listing, download) failed.
pub const BUCKET_OPERATION_FAILED_REASON: &str = "BucketOperationFailed";
/// Pulling an OCI artifact failed.
pub const OCI_ARTIFACT_PULL_FAILED_REASON: &str = "OCIArtifactPullFailed";
/// Extracting or copying the selected OCI layer failed.
pub const OCI_ARTIFACT_LAYER_OPERATION_FAILED_REASON: &str = "OCIArtifactLayerOperationFailed";
/// ArtifactOutdated: the origin has a new revision.
pub const NEW_REVISION_REASON: &str = "NewRevision";
/// ArtifactOutdated: a HelmChart resolves to a new chart.
pub const NEW_CHART_REASON: &str = "NewChart";
/// ArtifactOutdated: the artifacts of included GitRepositories changed.
pub const INCLUDE_CHANGE_REASON: &str = "IncludeChange";
/// Event: old artifacts were garbage-collected.
pub const GARBAGE_COLLECTION_SUCCEEDED_REASON: &str = "GarbageCollectionSucceeded";
/// Event: garbage collection of old artifacts failed.
pub const GARBAGE_COLLECTION_FAILED_REASON: &str = "GarbageCollectionFailed";
/// Event: a new artifact was stored.
pub const NEW_ARTIFACT_REASON: &str = "NewArtifact";
/// Event: a stored artifact no longer matched its digest and was removed.
pub const ARTIFACT_VERIFICATION_FAILED_REASON: &str = "ArtifactVerificationFailed";
/// Stalled: a HelmChart's chart or version cannot be found in its source.
pub const INVALID_CHART_REFERENCE_REASON: &str = "InvalidChartReference";

// ---------------------------------------------------------------------------------------
// helm-controller reasons
// ---------------------------------------------------------------------------------------

/// Helm install succeeded.
pub const INSTALL_SUCCEEDED_REASON: &str = "InstallSucceeded";
/// Helm install failed.
pub const INSTALL_FAILED_REASON: &str = "InstallFailed";
/// Helm upgrade succeeded.
pub const UPGRADE_SUCCEEDED_REASON: &str = "UpgradeSucceeded";
/// Helm upgrade failed.
pub const UPGRADE_FAILED_REASON: &str = "UpgradeFailed";
/// Helm tests passed.
pub const TEST_SUCCEEDED_REASON: &str = "TestSucceeded";
/// Helm tests failed.
pub const TEST_FAILED_REASON: &str = "TestFailed";
/// Helm rollback succeeded.
pub const ROLLBACK_SUCCEEDED_REASON: &str = "RollbackSucceeded";
/// Helm rollback failed.
pub const ROLLBACK_FAILED_REASON: &str = "RollbackFailed";
/// Helm uninstall succeeded.
pub const UNINSTALL_SUCCEEDED_REASON: &str = "UninstallSucceeded";
/// Helm uninstall failed.
pub const UNINSTALL_FAILED_REASON: &str = "UninstallFailed";
/// The cluster state differs from the release manifest.
pub const DRIFT_DETECTED_REASON: &str = "DriftDetected";
/// The cluster state matches the release manifest.
pub const NO_DRIFT_DETECTED_REASON: &str = "NoDriftDetected";
/// The chart source is not ready.
pub const SOURCE_NOT_READY_REASON: &str = "SourceNotReady";
/// The values could not be composed from `values` and `valuesFrom`.
pub const VALUES_ERROR_REASON: &str = "ValuesError";
/// The loaded chart could not be adjusted (for example its version metadata).
pub const CHART_MUTATE_ERROR_REASON: &str = "ChartMutateError";
/// A Kubernetes client for the target cluster could not be built.
pub const REST_CLIENT_ERROR_REASON: &str = "RESTClientError";
/// The resource manager for the target cluster could not be built.
pub const RESOURCE_MANAGER_ERROR_REASON: &str = "ResourceManagerError";
/// A Helm action configuration could not be built.
pub const FACTORY_ERROR_REASON: &str = "FactoryError";
/// The release state could not be determined.
pub const STATE_ERROR_REASON: &str = "StateError";
/// A reconciliation step failed without a more specific reason.
pub const RECONCILE_ERROR_REASON: &str = "ReconcileError";
/// Stalled: install or upgrade retries are used up.
pub const RETRIES_EXCEEDED_REASON: &str = "RetriesExceeded";
/// Stalled: no earlier release to roll back to.
pub const MISSING_ROLLBACK_TARGET_REASON: &str = "MissingRollbackTarget";
/// Event: the generated HelmChart could not be created or updated.
pub const HELM_CHART_SYNC_ERR_REASON: &str = "HelmChartSyncErr";
/// The inventory of the release could not be built.
pub const INVENTORY_BUILD_FAILED_REASON: &str = "InventoryBuildFailed";
/// The check of the target namespace was skipped.
pub const NAMESPACE_CHECK_SKIPPED_REASON: &str = "NamespaceCheckSkipped";

// ---------------------------------------------------------------------------------------
// Annotations and labels
// ---------------------------------------------------------------------------------------

/// Annotation that asks for a reconciliation now; its value is an opaque token.
pub const RECONCILE_REQUESTED_AT_ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";
/// Annotation that asks a HelmRelease for a forced install or upgrade.
pub const FORCE_REQUESTED_AT_ANNOTATION: &str = "reconcile.fluxcd.io/forceAt";
/// Annotation that asks a HelmRelease to reset its failure counters.
pub const RESET_REQUESTED_AT_ANNOTATION: &str = "reconcile.fluxcd.io/resetAt";
/// Label on ConfigMaps and Secrets whose changes re-trigger the objects referring to them.
pub const WATCH_LABEL: &str = "reconcile.fluxcd.io/watch";
/// The value of [`WATCH_LABEL`] that turns watching on.
pub const WATCH_ENABLED_VALUE: &str = "Enabled";
/// Label or annotation (on a managed object) that skips its apply and prune when
/// [`DISABLED_VALUE`].
pub const RECONCILE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/reconcile";
/// Label or annotation (on a managed object) that keeps it from being garbage-collected
/// when [`DISABLED_VALUE`].
pub const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";
/// Label or annotation (on a managed object) choosing the apply policy: one of the
/// `SSA_*_VALUE` constants.
pub const SSA_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/ssa";
/// Label or annotation (on a managed object) that recreates it on immutable-field
/// changes when [`ENABLED_VALUE`].
pub const FORCE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/force";
/// Annotation (on CRDs and applied objects) that turns off postBuild substitution.
pub const SUBSTITUTE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/substitute";
/// Label or annotation (on a managed object) that skips SOPS decryption when
/// [`DISABLED_VALUE`].
pub const DECRYPT_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/decrypt";
/// Label with the name of the Kustomization that applied an object.
pub const KUSTOMIZE_NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
/// Label with the namespace of the Kustomization that applied an object.
pub const KUSTOMIZE_NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";
/// Label with the name of the HelmRelease that rendered an object (or generated a
/// HelmChart).
pub const HELM_NAME_LABEL: &str = "helm.toolkit.fluxcd.io/name";
/// Label with the namespace of the HelmRelease that rendered an object (or generated a
/// HelmChart).
pub const HELM_NAMESPACE_LABEL: &str = "helm.toolkit.fluxcd.io/namespace";
/// Annotation (on a rendered object) that excludes it from drift detection when
/// [`DISABLED_VALUE`].
pub const HELM_DRIFT_DETECTION_ANNOTATION: &str = "helm.toolkit.fluxcd.io/driftDetection";
/// Prefix of annotations on any Flux object that are copied into its events' metadata.
pub const EVENT_ANNOTATION_PREFIX: &str = "event.toolkit.fluxcd.io/";
/// Annotation kustomize adds to built objects with `buildMetadata: [originAnnotations]`.
pub const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";

/// Value that turns an annotation-controlled behaviour on.
pub const ENABLED_VALUE: &str = "enabled";
/// Value that turns an annotation-controlled behaviour off.
pub const DISABLED_VALUE: &str = "disabled";
/// [`SSA_ANNOTATION`] value: apply and take over every field (the default).
pub const SSA_OVERRIDE_VALUE: &str = "Override";
/// [`SSA_ANNOTATION`] value: apply but keep fields owned by other managers.
pub const SSA_MERGE_VALUE: &str = "Merge";
/// [`SSA_ANNOTATION`] value: create the object if missing, never update it.
pub const SSA_IF_NOT_PRESENT_VALUE: &str = "IfNotPresent";
/// [`SSA_ANNOTATION`] value: never apply and never prune the object.
pub const SSA_IGNORE_VALUE: &str = "Ignore";

// ---------------------------------------------------------------------------------------
// Controller names and field managers
// ---------------------------------------------------------------------------------------

/// Controller name of the source kinds; also the field manager of their status patches.
pub const SOURCE_CONTROLLER: &str = "source-controller";
/// Controller name and server-side apply field manager of Kustomizations.
pub const KUSTOMIZE_CONTROLLER: &str = "kustomize-controller";
/// Field manager of Kustomization status patches.
pub const KUSTOMIZE_STATUS_FIELD_MANAGER: &str = "gotk-kustomize-controller";
/// Controller name and field manager (apply, drift detection) of HelmReleases.
pub const HELM_CONTROLLER: &str = "helm-controller";
/// Controller name of the notification kinds.
pub const NOTIFICATION_CONTROLLER: &str = "notification-controller";
/// Field manager the `flux` CLI applies with (install, bootstrap).
pub const FLUX_CLI_FIELD_MANAGER: &str = "flux";

// ---------------------------------------------------------------------------------------
// Artifact storage (source-controller)
// ---------------------------------------------------------------------------------------

/// Default root directory of artifact storage (`--storage-path`).
pub const DEFAULT_STORAGE_PATH: &str = "/data";
/// Default listen address of the artifact HTTP server (`--storage-addr`).
pub const DEFAULT_STORAGE_ADDR: &str = ":9090";
/// Default age after which superseded artifacts are garbage-collected
/// (`--artifact-retention-ttl`).
pub const DEFAULT_ARTIFACT_RETENTION_TTL: &str = "60s";
/// Default number of artifact files kept per object (`--artifact-retention-records`).
pub const DEFAULT_ARTIFACT_RETENTION_RECORDS: usize = 2;
/// Suffix of the lock file kept next to each artifact file.
pub const ARTIFACT_LOCK_SUFFIX: &str = ".lock";
/// Symlink to the newest artifact of OCIRepositories, HelmCharts and Buckets.
pub const LATEST_SYMLINK: &str = "latest.tar.gz";
/// Symlink to the newest stored index of a HelmRepository.
pub const INDEX_SYMLINK: &str = "index.yaml";
/// Per-directory file with extra gitignore-style exclusions for artifacts.
pub const SOURCE_IGNORE_FILE: &str = ".sourceignore";
/// Exclusions always applied to artifacts: version-control files.
pub const IGNORE_VCS: &[&str] = &[".git/", ".gitignore", ".gitmodules", ".gitattributes"];
/// Default exclusions by extension, dropped when `.sourceignore` or `spec.ignore` give
/// patterns.
pub const IGNORE_EXTENSIONS: &[&str] = &[
    "*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip",
];
/// Default exclusions of CI configuration, dropped when `.sourceignore` or `spec.ignore`
/// give patterns.
pub const IGNORE_CI: &[&str] = &[
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
];
/// Default exclusions of tool configuration, dropped when `.sourceignore` or
/// `spec.ignore` give patterns.
pub const IGNORE_EXTRA: &[&str] = &["**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml"];

// ---------------------------------------------------------------------------------------
// OCI media types (source-controller)
// ---------------------------------------------------------------------------------------

/// Config media type of artifacts pushed with `flux push artifact`.
pub const OCI_FLUX_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.flux.config.v1+json";
/// Prefix of the layer media types of Flux artifacts.
pub const OCI_FLUX_CONTENT_MEDIA_TYPE_PREFIX: &str = "application/vnd.cncf.flux.content.v1";
/// Layer media type of Flux artifacts: a gzipped tarball.
pub const OCI_FLUX_CONTENT_MEDIA_TYPE: &str = "application/vnd.cncf.flux.content.v1.tar+gzip";
/// Layer media type of Helm charts stored in OCI registries.
pub const OCI_HELM_CHART_CONTENT_MEDIA_TYPE: &str =
    "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Manifest annotation with the source address an OCI artifact was built from.
pub const OCI_SOURCE_ANNOTATION: &str = "org.opencontainers.image.source";
/// Manifest annotation with the source revision an OCI artifact was built from.
pub const OCI_REVISION_ANNOTATION: &str = "org.opencontainers.image.revision";
/// Manifest annotation with the creation time of an OCI artifact.
pub const OCI_CREATED_ANNOTATION: &str = "org.opencontainers.image.created";
