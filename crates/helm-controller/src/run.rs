//! Wiring: the shared controller bootstrap, source watches and the reconciler.

use std::sync::Arc;

use ferroflux_api::helm::v2::{ChartRefKind, HelmRelease};
use ferroflux_api::meta::ValuesReferenceKind;
use ferroflux_api::source::v1::{HelmChart, OCIRepository};
use ferroflux_runtime::bootstrap;
use ferroflux_runtime::watches::{ArtifactSource, refers_to, watch_source};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher;
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
            additive_cel_dependency_check: args
                .runtime
                .feature_enabled("AdditiveCELDependencyCheck", false),
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
    let configs_selector = args.runtime.watch_configs_label_selector.clone();
    info!("starting controllers");
    let controller = process.reconcile::<HelmRelease, _>(
        reconciler,
        context,
        args.concurrent,
        "helmrelease",
        move |controller, store| {
            let controller = watch_source(
                controller,
                &client,
                &store,
                chart_writer,
                wants::<HelmChart>(ChartRefKind::HelmChart),
            );
            let controller = watch_source(
                controller,
                &client,
                &store,
                oci_writer,
                wants::<OCIRepository>(ChartRefKind::OciRepository),
            );
            if configs_selector.is_empty() {
                return controller;
            }
            let controller = watch_values::<ConfigMap>(
                controller,
                &client,
                &store,
                &configs_selector,
                ValuesReferenceKind::ConfigMap,
            );
            watch_values::<Secret>(
                controller,
                &client,
                &store,
                &configs_selector,
                ValuesReferenceKind::Secret,
            )
        },
    );
    process.run(controller).await
}

/// A HelmRelease wants the chart source of `kind` it uses (its `chartRef`, or the
/// HelmChart generated for `spec.chart`) whenever that source has an artifact.
fn wants<S: ArtifactSource>(
    kind: ChartRefKind,
) -> impl Fn(&HelmRelease, &S, &str) -> bool + Send + Sync + 'static {
    move |hr, source, _revision| {
        let own = hr.namespace().unwrap_or_default();
        if let Some(reference) = &hr.spec.chart_ref {
            reference.kind == kind
                && refers_to(
                    source,
                    &reference.name,
                    reference.namespace.as_deref(),
                    &own,
                )
        } else if let Some(template) = &hr.spec.chart {
            kind == ChartRefKind::HelmChart
                && refers_to(
                    source,
                    &format!("{own}-{}", hr.name_any()),
                    template.spec.source_ref.namespace.as_deref(),
                    &own,
                )
        } else {
            false
        }
    }
}

/// Flux's config watches (`--watch-configs-label-selector`): a change to a ConfigMap or
/// Secret carrying the label enqueues the HelmReleases whose `valuesFrom` names it.
fn watch_values<C>(
    controller: Controller<HelmRelease>,
    client: &kube::Client,
    store: &Store<HelmRelease>,
    selector: &str,
    kind: ValuesReferenceKind,
) -> Controller<HelmRelease>
where
    C: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let store = store.clone();
    controller.watches(
        Api::<C>::all(client.clone()),
        watcher::Config::default().labels(selector).any_semantic(),
        move |config: C| {
            let (name, namespace) = (config.name_any(), config.namespace());
            store
                .state()
                .into_iter()
                .filter(|hr| {
                    hr.namespace() == namespace
                        && hr
                            .spec
                            .values_from
                            .iter()
                            .flatten()
                            .any(|r| r.kind == kind && r.name == name)
                })
                .map(|hr| ObjectRef::from_obj(hr.as_ref()))
                .collect::<Vec<_>>()
        },
    )
}
