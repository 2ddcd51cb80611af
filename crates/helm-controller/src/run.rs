//! Wiring: the shared controller bootstrap, source watches and the reconciler.

use std::sync::Arc;

use ferroflux_api::helm::v2::{ChartRefKind, HelmRelease};
use ferroflux_api::source::v1::{HelmChart, OCIRepository};
use ferroflux_runtime::bootstrap;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource, ResourceExt};
use tracing::info;

use crate::args::Args;
use crate::clients::Clients;
use crate::reconciler::HelmReleaseReconciler;
use crate::source::{SourceSettings, SourceStores};

/// Runs the controller until it is stopped or loses leadership.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let process = bootstrap::start("helm-controller", &args.runtime).await?;
    let context = process.context("gotk-helm-controller");
    let (charts, chart_writer) = reflector::store();
    let (oci_repositories, oci_writer) = reflector::store();
    let reconciler = Arc::new(HelmReleaseReconciler {
        sources: SourceSettings {
            no_cross_namespace_refs: args.runtime.no_cross_namespace_refs,
            external_artifacts: args.runtime.feature_enabled("ExternalArtifact", false),
            requeue_dependency: args.runtime.requeue_dependency,
            http_retry: args.http_retry,
            stores: Some(SourceStores {
                charts,
                oci_repositories,
            }),
        },
        clients: Arc::new(Clients::new(
            process.config.clone(),
            Some(args.default_service_account.clone()),
        )),
    });
    let client = process.client.clone();
    info!("starting controllers");
    let controller = process.reconcile::<HelmRelease, _>(
        reconciler,
        context,
        args.concurrent,
        "helmrelease",
        move |controller, store| {
            let controller = watch_source::<HelmChart>(
                controller,
                &client,
                chart_writer,
                &store,
                ChartRefKind::HelmChart,
                |s| {
                    s.status
                        .as_ref()
                        .and_then(|s| s.artifact.as_ref())
                        .map(|a| a.revision.clone())
                },
            );
            watch_source::<OCIRepository>(
                controller,
                &client,
                oci_writer,
                &store,
                ChartRefKind::OciRepository,
                |s| {
                    s.status
                        .as_ref()
                        .and_then(|s| s.artifact.as_ref())
                        .map(|a| a.revision.clone())
                },
            )
        },
    );
    process.run(controller).await
}

/// Enqueues the HelmReleases whose chart source got a new artifact revision, and keeps
/// the sources in `cache` (updated before the HelmReleases are enqueued, so that their
/// reconciliation reads what triggered it).
fn watch_source<S>(
    controller: Controller<HelmRelease>,
    client: &kube::Client,
    cache: reflector::store::Writer<S>,
    store: &Store<HelmRelease>,
    kind: ChartRefKind,
    revision: impl Fn(&S) -> Option<String> + Send + Sync + 'static,
) -> Controller<HelmRelease>
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
    let stream = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(cache)
        .touched_objects();
    controller.watches_stream(stream, move |source: S| {
        if revision(&source).is_none() {
            return Vec::new();
        }
        let (name, namespace) = (source.name_any(), source.namespace().unwrap_or_default());
        store
            .state()
            .into_iter()
            .filter(|hr| {
                let own = hr.namespace().unwrap_or_default();
                if let Some(reference) = &hr.spec.chart_ref {
                    reference.kind == kind
                        && reference.name == name
                        && reference
                            .namespace
                            .clone()
                            .filter(|n| !n.is_empty())
                            .unwrap_or(own)
                            == namespace
                } else if let Some(template) = &hr.spec.chart {
                    kind == ChartRefKind::HelmChart
                        && name == format!("{own}-{}", hr.name_any())
                        && template
                            .spec
                            .source_ref
                            .namespace
                            .clone()
                            .filter(|n| !n.is_empty())
                            .unwrap_or(own)
                            == namespace
                } else {
                    false
                }
            })
            .map(|hr| ObjectRef::from_obj(hr.as_ref()))
            .collect::<Vec<_>>()
    })
}
