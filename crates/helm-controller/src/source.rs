//! The HelmRelease's chart source: the HelmChart it owns (`spec.chart`) or the object of
//! `spec.chartRef`; its artifact; the download (digest-verified) and loading of the chart.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ferroflux_api::helm::v2::{ChartRefKind, HelmRelease};
use ferroflux_api::meta::Artifact;
use ferroflux_api::source::v1::{ExternalArtifact, HelmChart, OCIRepository};
use ferroflux_artifact::{FetchError, FetchOptions, Fetcher};
use ferroflux_runtime::FluxObject;
use ferroflux_runtime::conditions;
use ferroflux_runtime::watches::cached_get;
use kube::api::{Patch, PatchParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Client, ResourceExt};
use serde_json::json;

use crate::error::HelmError;

/// The field manager of everything the controller writes.
pub const MANAGER: &str = "helm-controller";
/// Label naming the HelmRelease that owns an object.
pub const NAME_LABEL: &str = "helm.toolkit.fluxcd.io/name";
/// Label naming the namespace of the HelmRelease that owns an object.
pub const NAMESPACE_LABEL: &str = "helm.toolkit.fluxcd.io/namespace";

/// Settings of source access.
#[derive(Clone, Debug)]
pub struct SourceSettings {
    /// Refuse sources in other namespaces.
    pub no_cross_namespace_refs: bool,
    /// Accept ExternalArtifact chart references.
    pub external_artifacts: bool,
    /// How long to wait for a source that is not ready.
    pub requeue_dependency: Duration,
    /// Flux's AdditiveCELDependencyCheck feature gate: a `dependsOn[].readyExpr` adds to the
    /// built-in readiness check instead of replacing it.
    pub additive_cel_dependency_check: bool,
    /// Artifact download retries.
    pub http_retry: u32,
    /// The controller's watch caches of chart sources, read instead of the API server
    /// (as Flux reads through its informer cache); `None` reads every time.
    pub stores: Option<SourceStores>,
}

/// Watch caches of the chart source kinds the controller watches anyway (to enqueue the
/// HelmReleases of a source with a new artifact). An object missing from a cache (not
/// listed yet, or created a moment ago) is read from the API server.
#[derive(Clone, Debug)]
pub struct SourceStores {
    /// Every HelmChart.
    pub charts: Store<HelmChart>,
    /// Every OCIRepository.
    pub oci_repositories: Store<OCIRepository>,
}

/// A usable chart source.
pub struct Source {
    /// `Kind/namespace/name`, for messages.
    pub display: String,
    /// Its artifact.
    pub artifact: Artifact,
    /// Whether it is an OCIRepository (digest tracking).
    pub oci: bool,
}

/// The HelmChart name Flux generates: `<namespace>-<name>`.
pub fn helm_chart_name(object: &HelmRelease) -> String {
    format!(
        "{}-{}",
        object.namespace().unwrap_or_default(),
        object.name_any()
    )
}

/// Creates or updates the HelmChart of `spec.chart` (server-side apply); returns
/// `<namespace>/<name>` and the change (`created`/`configured`/`None`).
pub async fn ensure_helm_chart(
    client: &Client,
    object: &HelmRelease,
    settings: &SourceSettings,
) -> Result<Option<(String, Option<&'static str>)>, HelmError> {
    let Some(template) = &object.spec.chart else {
        return Ok(None);
    };
    let own_namespace = object.namespace().unwrap_or_default();
    let namespace = template
        .spec
        .source_ref
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| own_namespace.clone());
    let name = helm_chart_name(object);
    let mut labels = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(NAME_LABEL.to_owned(), object.name_any());
    labels.insert(NAMESPACE_LABEL.to_owned(), own_namespace);
    let annotations = template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.clone())
        .unwrap_or_default();
    let spec = &template.spec;
    let mut chart_spec = json!({
        "chart": spec.chart,
        "version": spec.version.clone().unwrap_or_else(|| "*".to_owned()),
        "sourceRef": {"kind": spec.source_ref.kind, "name": spec.source_ref.name},
        "interval": spec.interval.clone().unwrap_or_else(|| object.spec.interval.clone()),
        "reconcileStrategy": spec.reconcile_strategy.unwrap_or_default(),
    });
    if let Some(files) = &spec.values_files {
        chart_spec["valuesFiles"] = json!(files);
    }
    if let Some(ignore) = spec.ignore_missing_values_files {
        chart_spec["ignoreMissingValuesFiles"] = json!(ignore);
    }
    if let Some(verify) = &spec.verify {
        chart_spec["verify"] = json!(verify);
    }
    let charts = settings.stores.as_ref().map(|s| &s.charts);
    // A synced cache without the HelmChart: it is new (or created a moment ago by an
    // earlier reconciliation, and the apply below is a no-op then), so it is not read from
    // the API server first.
    let before = match charts.filter(|store| ferroflux_runtime::watches::is_synced(store)) {
        Some(store) => store
            .get(&ObjectRef::new(&name).within(&namespace))
            .map(|chart| chart.as_ref().clone()),
        None => cached_get(client, charts, &namespace, &name).await?,
    };
    if let Some(before) = &before
        && up_to_date(before, &chart_spec, &labels, &annotations)
    {
        return Ok(Some((format!("{namespace}/{name}"), None)));
    }
    let mut metadata = json!({"name": name, "namespace": namespace, "labels": labels});
    // An empty annotations map would be recorded as owned on every apply without being
    // stored, so each apply would bump the HelmChart's resourceVersion and re-trigger the
    // HelmRelease through its source watch.
    if !annotations.is_empty() {
        metadata["annotations"] = json!(annotations);
    }
    let body = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmChart",
        "metadata": metadata,
        "spec": chart_spec,
    });
    let api: Api<HelmChart> = Api::namespaced(client.clone(), &namespace);
    let after = api
        .patch(
            &name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(body),
        )
        .await?;
    let change = match before {
        None => Some("created"),
        Some(before)
            if before.spec != after.spec || before.metadata.labels != after.metadata.labels =>
        {
            Some("configured")
        }
        Some(_) => None,
    };
    Ok(Some((format!("{namespace}/{name}"), change)))
}

/// Whether the live HelmChart already has the desired spec and carries the desired labels
/// and annotations, so that no apply (and no new resourceVersion) is needed.
fn up_to_date(
    live: &HelmChart,
    spec: &serde_json::Value,
    labels: &std::collections::BTreeMap<String, String>,
    annotations: &std::collections::BTreeMap<String, String>,
) -> bool {
    let contains = |have: Option<&std::collections::BTreeMap<String, String>>,
                    want: &std::collections::BTreeMap<String, String>| {
        want.iter()
            .all(|(k, v)| have.and_then(|h| h.get(k)) == Some(v))
    };
    let live_spec = serde_json::to_value(&live.spec).unwrap_or_default();
    // Every field the HelmChart template sets, so that one removed from the template
    // (valuesFiles, verify, ...) is removed from the HelmChart too.
    let managed = [
        "chart",
        "version",
        "sourceRef",
        "interval",
        "reconcileStrategy",
        "valuesFiles",
        "ignoreMissingValuesFiles",
        "verify",
    ];
    let spec_matches = managed.iter().all(|k| live_spec.get(k) == spec.get(k));
    spec_matches
        && contains(live.metadata.labels.as_ref(), labels)
        && contains(live.metadata.annotations.as_ref(), annotations)
}

/// Deletes the HelmChart recorded in `status.helmChart`, if any.
pub async fn delete_helm_chart(client: &Client, reference: Option<&str>) -> Result<(), HelmError> {
    let Some((namespace, name)) = reference.and_then(|r| r.split_once('/')) else {
        return Ok(());
    };
    let api: Api<HelmChart> = Api::namespaced(client.clone(), namespace);
    match api.delete(name, &kube::api::DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Looks up the chart source and checks it is usable.
pub async fn resolve(
    client: &Client,
    object: &HelmRelease,
    settings: &SourceSettings,
) -> Result<Source, HelmError> {
    let own_namespace = object.namespace().unwrap_or_default();
    let (kind, namespace, name) = if let Some(template) = &object.spec.chart {
        let namespace = template
            .spec
            .source_ref
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| own_namespace.clone());
        (ChartRefKind::HelmChart, namespace, helm_chart_name(object))
    } else if let Some(reference) = &object.spec.chart_ref {
        let namespace = reference
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| own_namespace.clone());
        (reference.kind, namespace, reference.name.clone())
    } else {
        return Err(HelmError::InvalidSpec(
            "either chart or chartRef must be set".to_owned(),
        ));
    };
    let kind_name = match kind {
        ChartRefKind::HelmChart => "HelmChart",
        ChartRefKind::OciRepository => "OCIRepository",
        ChartRefKind::ExternalArtifact => "ExternalArtifact",
    };
    let display = format!("{kind_name}/{namespace}/{name}");
    if object.spec.chart_ref.is_some()
        && settings.no_cross_namespace_refs
        && namespace != own_namespace
    {
        return Err(HelmError::AccessDenied(format!(
            "can't access '{display}', cross-namespace references have been blocked"
        )));
    }
    if kind == ChartRefKind::ExternalArtifact && !settings.external_artifacts {
        return Err(HelmError::AccessDenied(format!(
            "can't access '{display}', the ExternalArtifact feature gate is disabled"
        )));
    }
    let not_ready = |why: String| {
        HelmError::SourceNotReady(
            format!("{kind_name} '{namespace}/{name}' is not ready: {why}"),
            settings.requeue_dependency,
        )
    };
    let found = match kind {
        ChartRefKind::HelmChart => {
            let store = settings.stores.as_ref().map(|s| &s.charts);
            usable::<HelmChart>(client, store, &namespace, &name, |o| {
                o.status.as_ref().and_then(|s| s.artifact.clone())
            })
            .await?
        }
        ChartRefKind::OciRepository => {
            let store = settings.stores.as_ref().map(|s| &s.oci_repositories);
            usable::<OCIRepository>(client, store, &namespace, &name, |o| {
                o.status.as_ref().and_then(|s| s.artifact.clone())
            })
            .await?
        }
        ChartRefKind::ExternalArtifact => {
            let api: Api<ExternalArtifact> = Api::namespaced(client.clone(), &namespace);
            match api.get_opt(&name).await? {
                None => Usable::Missing,
                Some(found) => found.status.and_then(|s| s.artifact).map_or_else(
                    || Usable::NotReady("does not have an artifact".to_owned()),
                    Usable::Ready,
                ),
            }
        }
    };
    match found {
        Usable::Missing => Err(not_ready("not found".to_owned())),
        Usable::NotReady(why) => Err(not_ready(why)),
        Usable::Ready(artifact) => Ok(Source {
            display,
            artifact,
            oci: kind == ChartRefKind::OciRepository,
        }),
    }
}

enum Usable {
    Missing,
    NotReady(String),
    Ready(Artifact),
}

/// Flux's rule: observedGeneration current, not Stalled, and an artifact (an older one of
/// a failing source is still used).
async fn usable<K>(
    client: &Client,
    store: Option<&Store<K>>,
    namespace: &str,
    name: &str,
    artifact: impl Fn(&K) -> Option<Artifact>,
) -> Result<Usable, HelmError>
where
    K: FluxObject + kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
{
    let Some(found) = cached_get(client, store, namespace, name).await? else {
        return Ok(Usable::Missing);
    };
    let status = found.status();
    let observed = status.and_then(ferroflux_runtime::FluxStatus::observed_generation);
    if observed != found.meta().generation {
        return Ok(Usable::NotReady(
            "latest generation of object has not been reconciled".to_owned(),
        ));
    }
    let list = status
        .map(ferroflux_runtime::FluxStatus::conditions)
        .unwrap_or_default();
    if let Some(stalled) = conditions::get(list, "Stalled")
        .filter(|c| c.status == ferroflux_api::meta::ConditionStatus::True)
    {
        return Ok(Usable::NotReady(stalled.message.clone()));
    }
    match artifact(&found) {
        Some(artifact) => Ok(Usable::Ready(artifact)),
        None => Ok(Usable::NotReady("does not have an artifact".to_owned())),
    }
}

/// How many loaded charts are kept, by artifact digest.
const CHART_CACHE_SIZE: usize = 16;

/// Charts loaded recently, keyed by artifact digest, newest last: many HelmReleases
/// install the same chart (one HelmChart each, same digest), and a verified digest names
/// exactly one archive.
static CHART_CACHE: Mutex<VecDeque<(String, ferroflux_helm::Chart)>> = Mutex::new(VecDeque::new());

/// The process's artifact fetcher: one HTTP client (connection pool, TLS roots) for every
/// download, built on first use with the settings' retries.
fn shared_fetcher(settings: &SourceSettings) -> Result<&'static Fetcher, HelmError> {
    static FETCHER: OnceLock<Fetcher> = OnceLock::new();
    if let Some(fetcher) = FETCHER.get() {
        return Ok(fetcher);
    }
    let fetcher = Fetcher::new(FetchOptions {
        retries: settings.http_retry,
        backoff_min: Duration::from_secs(1),
        backoff_max: Duration::from_secs(10),
        ..FetchOptions::default()
    })
    .map_err(|e| HelmError::Artifact {
        message: e.to_string(),
        retry_after: None,
    })?;
    Ok(FETCHER.get_or_init(|| fetcher))
}

/// The chart of `source`: from the cache when an archive with the same digest was loaded
/// recently, otherwise downloaded (digest-verified) and loaded.
pub async fn load_chart(
    source: &Source,
    dir: &Path,
    settings: &SourceSettings,
) -> Result<ferroflux_helm::Chart, HelmError> {
    let digest = &source.artifact.digest;
    if digest.is_empty() {
        return download_chart(source, dir, settings).await;
    }
    if let Ok(cache) = CHART_CACHE.lock()
        && let Some((_, chart)) = cache.iter().find(|(d, _)| d == digest)
    {
        return Ok(chart.clone());
    }
    let chart = download_chart(source, dir, settings).await?;
    if let Ok(mut cache) = CHART_CACHE.lock() {
        if cache.len() >= CHART_CACHE_SIZE {
            cache.pop_front();
        }
        cache.push_back((digest.clone(), chart.clone()));
    }
    Ok(chart)
}

/// Downloads the chart archive (digest-verified) and loads it.
async fn download_chart(
    source: &Source,
    dir: &Path,
    settings: &SourceSettings,
) -> Result<ferroflux_helm::Chart, HelmError> {
    let fetcher = shared_fetcher(settings)?;
    let file = dir.join("chart.tgz");
    match fetcher
        .download(&source.artifact.url, &source.artifact.digest, &file)
        .await
    {
        Ok(_) => {}
        Err(FetchError::NotFound { .. }) => {
            return Err(HelmError::Artifact {
                message: format!(
                    "Source is not ready, artifact not found, retrying in {}",
                    ferroflux_runtime::duration::format(settings.requeue_dependency)
                ),
                retry_after: Some(settings.requeue_dependency),
            });
        }
        Err(e) => {
            return Err(HelmError::Artifact {
                message: format!("failed to download artifact: {e}"),
                retry_after: None,
            });
        }
    }
    ferroflux_helm::loader::load(&file).map_err(|e| HelmError::Artifact {
        message: format!("failed to load chart: {e}"),
        retry_after: None,
    })
}
