//! Watches that re-enqueue HelmCharts when their source's artifact changes (Flux's
//! `requestsForHelmRepositoryChange` and friends): a chart is enqueued when the source's
//! artifact revision differs from its `observedSourceArtifactRevision`.

use ferroflux_api::source::v1::{HelmChart, HelmChartSourceKind};
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};

/// Adds a watch on source kind `S` to the HelmChart controller.
pub fn watch_source<S>(
    controller: Controller<HelmChart>,
    client: &kube::Client,
    store: &Store<HelmChart>,
    kind: HelmChartSourceKind,
    revision: impl Fn(&S) -> Option<String> + Send + Sync + 'static,
) -> Controller<HelmChart>
where
    S: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let store = store.clone();
    let api: Api<S> = Api::all(client.clone());
    controller.watches(
        api,
        watcher::Config::default().any_semantic(),
        move |source: S| {
            let Some(current) = revision(&source) else {
                return Vec::new();
            };
            let (name, namespace) = (source.name_any(), source.namespace().unwrap_or_default());
            store
                .state()
                .into_iter()
                .filter(|chart| {
                    chart.spec.source_ref.kind == kind
                        && chart.spec.source_ref.name == name
                        && chart.namespace().unwrap_or_default() == namespace
                        && chart
                            .status
                            .as_ref()
                            .and_then(|s| s.observed_source_artifact_revision.as_deref())
                            != Some(current.as_str())
                })
                .map(|chart| ObjectRef::from_obj(chart.as_ref()))
                .collect::<Vec<_>>()
        },
    )
}
