//! The HelmRelease reconciler (flux-api.md §5.1): chart source → dependencies → values →
//! chart → release state machine (install, upgrade, test, rollback, uninstall, unlock) →
//! status, history and events.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferroflux_api::helm::v2::{CRDsPolicy, DeletionPropagation};
use ferroflux_api::helm::v2::{
    HelmRelease, HelmReleaseStatus, ReleaseAction, ReleaseStrategyName, RemediationStrategy,
};
use ferroflux_runtime::cel::StatusReaders;
use ferroflux_runtime::conditions::Conditions;
use ferroflux_runtime::driver::{Context, Outcome, Reconciler};
use ferroflux_runtime::events::EventType;
use ferroflux_runtime::ssa::ResourceManager;
use ferroflux_runtime::{FluxObject, FluxStatus};
use kube::ResourceExt;
use serde_json::{Map, Value};

use crate::actions::{ActionOptions, CrdPolicy, Helm};
use crate::clients::Clients;
use crate::error::HelmError;
use crate::history;
use crate::render::PostRender;
use crate::source::{self, NAME_LABEL, NAMESPACE_LABEL, SourceSettings};
use crate::state::{Observation, ObservedRelease};
use crate::storage::SecretStorage;

/// Reconciles HelmReleases.
pub struct HelmReleaseReconciler {
    /// Source access settings.
    pub sources: SourceSettings,
    /// Clients for the target cluster.
    pub clients: Arc<Clients>,
}

/// The release name: `spec.releaseName`, else `[targetNamespace-]name`, shortened past
/// 53 characters to 40 + `-` + 12 hex of its sha256.
pub fn release_name(object: &HelmRelease) -> String {
    if let Some(name) = object.spec.release_name.clone().filter(|n| !n.is_empty()) {
        return name;
    }
    let name = match object
        .spec
        .target_namespace
        .as_deref()
        .filter(|n| !n.is_empty())
    {
        Some(target) => format!("{target}-{}", object.name_any()),
        None => object.name_any(),
    };
    shorten(&name)
}

fn shorten(name: &str) -> String {
    use sha2::{Digest, Sha256};
    if name.len() <= 53 {
        return name.to_owned();
    }
    let digest = hex::encode(Sha256::digest(name.as_bytes()));
    format!("{}-{}", &name[..40], &digest[..12])
}

/// The release namespace.
pub fn target_namespace(object: &HelmRelease) -> String {
    object
        .spec
        .target_namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| object.namespace().unwrap_or_default())
}

/// The storage namespace.
pub fn storage_namespace(object: &HelmRelease) -> String {
    object
        .spec
        .storage_namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| object.namespace().unwrap_or_default())
}

fn duration(value: Option<&str>, fallback: Duration) -> Duration {
    value
        .and_then(|v| ferroflux_runtime::duration::parse(v).ok())
        .unwrap_or(fallback)
}

/// `spec.timeout` (5m0s by default).
fn timeout_of(object: &HelmRelease) -> Duration {
    duration(object.spec.timeout.as_deref(), Duration::from_secs(300))
}

/// What one reconciliation works with.
pub(crate) struct DesiredRef<'a> {
    /// The chart (version with OCI digest tracking applied).
    pub chart: ferroflux_helm::Chart,
    /// The composed values.
    pub values: &'a Map<String, Value>,
    /// Their digest.
    pub config_digest: String,
    /// `name@version`.
    pub chart_display: String,
    /// The OCI artifact digest, for OCIRepository sources.
    pub oci_digest: Option<&'a str>,
}

impl Reconciler<HelmRelease> for HelmReleaseReconciler {
    type Error = HelmError;

    async fn reconcile(
        &self,
        context: &Context,
        object: &HelmRelease,
        status: &mut HelmReleaseStatus,
    ) -> Result<Outcome, HelmError> {
        if object.spec.chart.is_some() == object.spec.chart_ref.is_some() {
            return Err(HelmError::InvalidSpec(
                "Spec.chart and Spec.chartRef are mutually exclusive, exactly one must be set"
                    .to_owned(),
            ));
        }
        refresh_status(context, object, status).await;
        self.reconcile_chart_template(context, object, status)
            .await?;
        // Progress is published only when a Helm action runs (crate::atomic): a no-op
        // reconciliation leaves the status as it was.
        crate::dependencies::check(
            &context.client,
            object,
            self.sources.requeue_dependency,
            self.sources.additive_cel_dependency_check,
        )
        .await?;
        let source = source::resolve(&context.client, object, &self.sources).await?;
        let values = crate::values::compose(
            ferroflux_runtime::lookup::Lookup::Cluster(&context.client),
            object,
        )
        .await?;
        let workspace = tempfile::tempdir().map_err(|e| HelmError::Artifact {
            message: format!("failed to create temporary directory: {e}"),
            retry_after: None,
        })?;
        let mut chart = source::load_chart(&source, workspace.path(), &self.sources).await?;
        let oci_digest = source.oci.then(|| source.artifact.digest.clone());
        if let Some(digest) = source
            .artifact
            .revision
            .split_once("sha256:")
            .map(|(_, d)| d.to_owned())
            .filter(|_| source.oci)
        {
            chart.metadata.version = format!(
                "{}+{}",
                chart.metadata.version,
                &digest[..digest.len().min(12)]
            );
        }
        let desired = DesiredRef {
            chart_display: format!("{}@{}", chart.metadata.name, chart.metadata.version),
            config_digest: crate::values::digest(&values),
            values: &values,
            chart,
            oci_digest: oci_digest.as_deref(),
        };
        let readers = StatusReaders::new(
            object
                .spec
                .health_check_exprs
                .as_deref()
                .unwrap_or_default(),
        )
        .map_err(|e| HelmError::InvalidCel(e.to_string()))?;
        let client = self.clients.for_object(context, object).await?;
        let helm = Helm {
            health: (!readers.is_empty()).then(|| std::sync::Arc::new(readers)),
            manager: ResourceManager::new(client.clone(), source::MANAGER),
            storage: SecretStorage::new(context.client.clone(), &storage_namespace(object)),
            kube_version: kube_version(&client).await,
            client,
            name: release_name(object),
            namespace: target_namespace(object),
            post_render: post_render(object),
            max_history: usize::try_from(object.spec.max_history.unwrap_or(5)).unwrap_or(0),
        };
        self.prepare_attempt(object, status, &desired, &helm)
            .await?;
        self.atomic_release(context, object, status, &desired, &helm)
            .await
    }

    async fn cleanup(&self, context: &Context, object: &HelmRelease) -> Result<(), HelmError> {
        let status = object.status.clone().unwrap_or_default();
        if !object.suspended() && status.storage_namespace.is_some() {
            let client = match self.clients.for_object(context, object).await {
                Ok(client) => client,
                Err(error) => {
                    tracing::info!(error = %error, "skipping uninstall of a deleted HelmRelease");
                    return source::delete_helm_chart(
                        &context.client,
                        status.helm_chart.as_deref(),
                    )
                    .await;
                }
            };
            let helm = Helm {
                health: None,
                manager: ResourceManager::new(client.clone(), source::MANAGER),
                storage: SecretStorage::new(
                    context.client.clone(),
                    status.storage_namespace.as_deref().unwrap_or_default(),
                ),
                kube_version: ferroflux_helm::kube::KubeVersion::default(),
                client,
                name: release_name(object),
                namespace: target_namespace(object),
                post_render: PostRender::default(),
                max_history: 0,
            };
            let uninstall = object.spec.uninstall.clone().unwrap_or_default();
            let options = ActionOptions {
                timeout: duration(uninstall.timeout.as_deref(), timeout_of(object)),
                wait: !uninstall.disable_wait.unwrap_or(false),
                hooks: !uninstall.disable_hooks.unwrap_or(false),
                force: false,
                crds: CrdPolicy::Skip,
                skip_schema_validation: true,
            };
            helm.uninstall(
                &options,
                uninstall.keep_history.unwrap_or(false),
                uninstall.deletion_propagation.unwrap_or_default(),
            )
            .await
            .map_err(|message| HelmError::Release {
                reason: "UninstallFailed",
                message,
            })?;
        }
        source::delete_helm_chart(&context.client, status.helm_chart.as_deref()).await
    }
}

/// Replaces `status` with our own last status patch when the informer cache lags behind
/// it (Flux waits for its cache for the same reason): the release history must never be
/// read stale. Read from the API server only when that patch is not kept (another
/// generation, or this process has not written the status yet).
async fn refresh_status(context: &Context, object: &HelmRelease, status: &mut HelmReleaseStatus) {
    if context.status_versions.is_current(object) {
        return;
    }
    // The watch has not caught up with our last write yet: that write is the status.
    if let Some(written) = context.status_versions.last_written(object) {
        *status = written;
        return;
    }
    // Never reconciled (a new HelmRelease: the API server defaults observedGeneration to
    // -1): there is no release history to lose.
    if object.status.as_ref().is_none_or(|s| {
        s.observed_generation
            .is_none_or(|generation| generation < 1)
            && s.history.is_none()
    }) {
        return;
    }
    let api: kube::Api<HelmRelease> = kube::Api::namespaced(
        context.client.clone(),
        &object.namespace().unwrap_or_default(),
    );
    if let Ok(live) = api.get(&object.name_any()).await
        && live.metadata.generation == object.metadata.generation
        && let Some(live_status) = live.status
    {
        *status = live_status;
    }
}

async fn kube_version(client: &kube::Client) -> ferroflux_helm::kube::KubeVersion {
    match client.apiserver_version().await {
        Ok(info) => {
            let minor: String = info
                .minor
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            ferroflux_helm::kube::KubeVersion {
                version: info
                    .git_version
                    .split('-')
                    .next()
                    .unwrap_or(&info.git_version)
                    .to_owned(),
                major: info.major,
                minor,
            }
        }
        Err(_) => ferroflux_helm::kube::KubeVersion::default(),
    }
}

/// The digests of `spec.postRenderers` and `spec.commonMetadata` (`None` when unset).
pub(crate) fn render_digests(object: &HelmRelease) -> (Option<String>, Option<String>) {
    use sha2::{Digest, Sha256};
    let digest = |value: serde_json::Value| {
        format!(
            "sha256:{}",
            hex::encode(Sha256::digest(value.to_string().as_bytes()))
        )
    };
    (
        object
            .spec
            .post_renderers
            .as_ref()
            .filter(|p| !p.is_empty())
            .map(|p| digest(serde_json::to_value(p).unwrap_or_default())),
        object
            .spec
            .common_metadata
            .as_ref()
            .map(|c| digest(serde_json::to_value(c).unwrap_or_default())),
    )
}

/// Flux's post-rendering of `object`: its kustomize post-renderers, common metadata and
/// the origin labels.
pub fn post_render(object: &HelmRelease) -> PostRender {
    let mut render = PostRender {
        kustomize: object
            .spec
            .post_renderers
            .iter()
            .flatten()
            .filter_map(|p| p.kustomize.clone())
            .collect(),
        ..PostRender::default()
    };
    if let Some(common) = &object.spec.common_metadata {
        render
            .labels
            .extend(common.labels.clone().unwrap_or_default());
        render
            .annotations
            .extend(common.annotations.clone().unwrap_or_default());
    }
    render
        .labels
        .insert(NAME_LABEL.to_owned(), object.name_any());
    render.labels.insert(
        NAMESPACE_LABEL.to_owned(),
        object.namespace().unwrap_or_default(),
    );
    render
}

impl HelmReleaseReconciler {
    async fn reconcile_chart_template(
        &self,
        context: &Context,
        object: &HelmRelease,
        status: &mut HelmReleaseStatus,
    ) -> Result<(), HelmError> {
        if object.spec.chart.is_none() {
            if status.helm_chart.is_some() {
                source::delete_helm_chart(&context.client, status.helm_chart.as_deref()).await?;
                status.helm_chart = None;
            }
            return Ok(());
        }
        if let Some((reference, change)) =
            source::ensure_helm_chart(&context.client, object, &self.sources).await?
        {
            if let (Some(change), Some(template)) = (change, &object.spec.chart) {
                let source_ref = &template.spec.source_ref;
                let source_namespace = source_ref
                    .namespace
                    .clone()
                    .unwrap_or_else(|| object.namespace().unwrap_or_default());
                let kind = serde_json::to_value(source_ref.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let message = format!(
                    "{change} HelmChart/{reference} with SourceRef '{kind}/{source_namespace}/{}'",
                    source_ref.name
                );
                context
                    .recorder
                    .publish(
                        object,
                        EventType::Trace,
                        if change == "created" {
                            "HelmChartCreated"
                        } else {
                            "HelmChartConfigured"
                        },
                        &message,
                        BTreeMap::new(),
                    )
                    .await;
            }
            status.helm_chart = Some(reference);
        }
        Ok(())
    }

    /// Target changes, failure counter reset and the lastAttempted* fields.
    async fn prepare_attempt(
        &self,
        object: &HelmRelease,
        status: &mut HelmReleaseStatus,
        desired: &DesiredRef<'_>,
        helm: &Helm,
    ) -> Result<(), HelmError> {
        let latest = status.history.as_ref().and_then(|h| h.first()).cloned();
        let moved = status
            .storage_namespace
            .as_deref()
            .is_some_and(|n| n != helm.storage.namespace())
            || latest
                .as_ref()
                .is_some_and(|s| s.name != helm.name || s.namespace != helm.namespace);
        if moved {
            // Uninstall the release at its old place (best effort), then start afresh.
            if let (Some(snapshot), Some(old_storage)) = (latest, status.storage_namespace.clone())
            {
                let old = Helm {
                    health: None,
                    client: helm.client.clone(),
                    manager: helm.manager.clone(),
                    storage: SecretStorage::new(helm.storage_client(), &old_storage),
                    name: snapshot.name.clone(),
                    namespace: snapshot.namespace.clone(),
                    kube_version: helm.kube_version.clone(),
                    post_render: PostRender::default(),
                    max_history: 0,
                };
                let options = ActionOptions {
                    timeout: timeout_of(object),
                    wait: false,
                    hooks: true,
                    force: false,
                    crds: CrdPolicy::Skip,
                    skip_schema_validation: true,
                };
                let _ = old
                    .uninstall(&options, false, DeletionPropagation::default())
                    .await;
            }
            status.history = None;
            status.failures = None;
            status.install_failures = None;
            status.upgrade_failures = None;
        }
        status.storage_namespace = Some(helm.storage.namespace().to_owned());
        let generation = object.metadata.generation.unwrap_or_default();
        let reset_token = object
            .annotations()
            .get("reconcile.fluxcd.io/resetAt")
            .cloned();
        let requested = object
            .annotations()
            .get("reconcile.fluxcd.io/requestedAt")
            .cloned();
        let reset = reset_token.is_some()
            && reset_token == requested
            && reset_token != status.last_handled_reset_at;
        if status.last_attempted_generation != Some(generation)
            || status.last_attempted_revision.as_deref()
                != Some(desired.chart.metadata.version.as_str())
            || status.last_attempted_config_digest.as_deref()
                != Some(desired.config_digest.as_str())
            || reset
        {
            status.failures = None;
            status.install_failures = None;
            status.upgrade_failures = None;
        }
        if reset {
            status.last_handled_reset_at = reset_token;
        }
        status.last_attempted_generation = Some(generation);
        status.last_attempted_revision = Some(desired.chart.metadata.version.clone());
        status.last_attempted_revision_digest = desired.oci_digest.map(str::to_owned);
        status.last_attempted_config_digest = Some(desired.config_digest.clone());
        status.last_attempted_values_checksum = None;
        status.last_release_revision = None;
        Ok(())
    }

    pub(crate) async fn observe(
        &self,
        object: &HelmRelease,
        status: &HelmReleaseStatus,
        desired: &DesiredRef<'_>,
        helm: &Helm,
    ) -> Result<Observation, HelmError> {
        let latest = helm.storage.last(&helm.name).await?;
        let snapshot = status.history.as_ref().and_then(|h| h.first());
        let install = status.last_attempted_release_action != Some(ReleaseAction::Upgrade);
        let spec_install = object.spec.install.clone().unwrap_or_default();
        let spec_upgrade = object.spec.upgrade.clone().unwrap_or_default();
        let test = object.spec.test.clone().unwrap_or_default();
        let (retries, remediate_last, ignore_tests, strategy) = if install {
            let r = spec_install.remediation.clone().unwrap_or_default();
            (
                r.retries.unwrap_or(0),
                r.remediate_last_failure.unwrap_or(false),
                r.ignore_test_failures,
                spec_install.strategy.as_ref().map(|s| s.name),
            )
        } else {
            let r = spec_upgrade.remediation.clone().unwrap_or_default();
            let retries = r.retries.unwrap_or(0);
            (
                retries,
                r.remediate_last_failure.unwrap_or(retries > 0),
                r.ignore_test_failures,
                spec_upgrade.strategy.as_ref().map(|s| s.name),
            )
        };
        let force_token = object
            .annotations()
            .get("reconcile.fluxcd.io/forceAt")
            .cloned();
        let requested = object
            .annotations()
            .get("reconcile.fluxcd.io/requestedAt")
            .cloned();
        let rollback_target = status
            .history
            .iter()
            .flatten()
            .skip(1)
            .find(|s| s.status == "deployed" || s.status == "superseded")
            .map(|s| s.version);
        Ok(Observation {
            latest: latest.map(|release| {
                let (tested, test_failed) = snapshot.map(history::tests_of).unwrap_or_default();
                ObservedRelease {
                    version: release.version,
                    status: release.status().to_owned(),
                    chart_name: release.chart_name().to_owned(),
                    chart_version: release.chart_version().to_owned(),
                    config_digest: crate::values::digest(&release.config),
                    matches_snapshot: snapshot.is_some_and(|s| {
                        s.version == release.version
                            && s.digest == history::release_digest(&release)
                    }),
                    tested,
                    test_failed,
                }
            }),
            history_empty: status.history.as_ref().is_none_or(Vec::is_empty),
            chart_name: desired.chart.metadata.name.clone(),
            chart_version: desired.chart.metadata.version.clone(),
            config_digest: desired.config_digest.clone(),
            render_config_changed: render_digests(object).0
                != status.observed_post_renderers_digest
                || render_digests(object).1 != status.observed_common_metadata_digest,
            tests_enabled: test.enable.unwrap_or(false),
            ignore_test_failures: ignore_tests.or(test.ignore_failures).unwrap_or(false),
            drifted: false,
            correct_drift: false,
            last_action_install: install,
            failures: if install {
                status.install_failures.unwrap_or(0)
            } else {
                status.upgrade_failures.unwrap_or(0)
            },
            retries,
            remediate_last_failure: remediate_last,
            retry_on_failure: strategy == Some(ReleaseStrategyName::RetryOnFailure),
            uninstall_remediation: spec_upgrade.remediation.as_ref().and_then(|r| r.strategy)
                == Some(RemediationStrategy::Uninstall),
            force: force_token.is_some()
                && force_token == requested
                && force_token != status.last_handled_force_at,
            rollback_target,
        })
    }
}

impl Helm {
    /// A client for the storage namespace (the controller's own).
    fn storage_client(&self) -> kube::Client {
        self.client.clone()
    }
}

/// Action options of install.
pub fn install_options(object: &HelmRelease) -> ActionOptions {
    let install = object.spec.install.clone().unwrap_or_default();
    ActionOptions {
        timeout: duration(install.timeout.as_deref(), timeout_of(object)),
        wait: !install.disable_wait.unwrap_or(false),
        hooks: !install.disable_hooks.unwrap_or(false),
        force: false,
        crds: match install.crds {
            Some(CRDsPolicy::Skip) => CrdPolicy::Skip,
            Some(CRDsPolicy::CreateReplace) => CrdPolicy::CreateReplace,
            _ if install.skip_crds.unwrap_or(false) => CrdPolicy::Skip,
            _ => CrdPolicy::Create,
        },
        skip_schema_validation: install.disable_schema_validation.unwrap_or(false),
    }
}

/// Action options of upgrade.
pub fn upgrade_options(object: &HelmRelease) -> ActionOptions {
    let upgrade = object.spec.upgrade.clone().unwrap_or_default();
    ActionOptions {
        timeout: duration(upgrade.timeout.as_deref(), timeout_of(object)),
        wait: !upgrade.disable_wait.unwrap_or(false),
        hooks: !upgrade.disable_hooks.unwrap_or(false),
        force: upgrade.force.unwrap_or(false),
        crds: match upgrade.crds {
            Some(CRDsPolicy::Create) => CrdPolicy::Create,
            Some(CRDsPolicy::CreateReplace) => CrdPolicy::CreateReplace,
            _ => CrdPolicy::Skip,
        },
        skip_schema_validation: upgrade.disable_schema_validation.unwrap_or(false),
    }
}

/// Action options of rollback.
pub fn rollback_options(object: &HelmRelease) -> ActionOptions {
    let rollback = object.spec.rollback.clone().unwrap_or_default();
    ActionOptions {
        timeout: duration(rollback.timeout.as_deref(), timeout_of(object)),
        wait: !rollback.disable_wait.unwrap_or(false),
        hooks: !rollback.disable_hooks.unwrap_or(false),
        force: rollback.force.unwrap_or(false),
        crds: CrdPolicy::Skip,
        skip_schema_validation: true,
    }
}

pub(crate) fn mark(
    context: &Context,
    object: &HelmRelease,
    status: &mut HelmReleaseStatus,
    kind: &str,
    ok: bool,
    reason: &str,
    message: &str,
) {
    let generation = object.metadata.generation.unwrap_or_default();
    let mut conditions =
        Conditions::new(status.conditions_mut(), generation, context.clock.as_ref());
    if ok {
        conditions.mark_true(kind, reason, message);
    } else {
        conditions.mark_false(kind, reason, message);
    }
}

pub(crate) fn elapsed(started: Instant) -> String {
    ferroflux_runtime::duration::format(Duration::from_millis(
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    ))
}
