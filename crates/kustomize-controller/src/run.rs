//! Wiring: the shared controller bootstrap, source watches and the reconciler.

use std::sync::Arc;

use ferroflux_api::kustomize::v1::{Kustomization, SourceKind};
use ferroflux_api::source::v1::{Bucket, ExternalArtifact, GitRepository, OCIRepository};
use ferroflux_runtime::bootstrap;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use tracing::info;

use crate::args::Args;
use crate::build::BuildSettings;
use crate::clients::Clients;
use crate::reconciler::KustomizationReconciler;
use crate::source::SourceSettings;

/// Runs the controller until it is stopped or loses leadership.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let process = bootstrap::start("kustomize-controller", &args.runtime).await?;
    let context = process.context("gotk-kustomize-controller");
    let external_artifacts = args.runtime.feature_enabled("ExternalArtifact", false);
    let reconciler = Arc::new(KustomizationReconciler {
        sources: SourceSettings {
            no_cross_namespace_refs: args.runtime.no_cross_namespace_refs,
            external_artifacts,
            requeue_dependency: args.runtime.requeue_dependency,
            http_retry: args.http_retry,
        },
        build: BuildSettings {
            allow_remote: !args.no_remote_bases,
            keep_encrypted: false,
            strict_substitution: args
                .runtime
                .feature_enabled("StrictPostBuildSubstitutions", true),
        },
        clients: Arc::new(Clients::new(
            process.config.clone(),
            Some(args.default_service_account.clone()),
        )),
        shared_manager: std::sync::OnceLock::new(),
    });
    let client = process.client.clone();
    info!("starting controllers");
    let controller = process.reconcile::<Kustomization, _>(
        reconciler,
        context,
        args.concurrent,
        "kustomization",
        move |controller, store| {
            let controller = watch_source::<GitRepository>(
                controller,
                &client,
                &store,
                SourceKind::GitRepository,
                |s| {
                    s.status
                        .as_ref()
                        .and_then(|s| s.artifact.as_ref())
                        .map(|a| a.revision.clone())
                },
            );
            let controller = watch_source::<OCIRepository>(
                controller,
                &client,
                &store,
                SourceKind::OciRepository,
                |s| {
                    s.status
                        .as_ref()
                        .and_then(|s| s.artifact.as_ref())
                        .map(|a| a.revision.clone())
                },
            );
            let controller =
                watch_source::<Bucket>(controller, &client, &store, SourceKind::Bucket, |s| {
                    s.status
                        .as_ref()
                        .and_then(|s| s.artifact.as_ref())
                        .map(|a| a.revision.clone())
                });
            if external_artifacts {
                watch_source::<ExternalArtifact>(
                    controller,
                    &client,
                    &store,
                    SourceKind::ExternalArtifact,
                    |s| {
                        s.status
                            .as_ref()
                            .and_then(|s| s.artifact.as_ref())
                            .map(|a| a.revision.clone())
                    },
                )
            } else {
                controller
            }
        },
    );
    process.run(controller).await
}

/// Enqueues the Kustomizations that read a source when its artifact revision is not the
/// one they last attempted (Flux's source watch).
fn watch_source<S>(
    controller: Controller<Kustomization>,
    client: &kube::Client,
    store: &Store<Kustomization>,
    kind: SourceKind,
    revision: impl Fn(&S) -> Option<String> + Send + Sync + 'static,
) -> Controller<Kustomization>
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
                .filter(|ks| {
                    let reference = &ks.spec.source_ref;
                    let ks_namespace = ks.namespace().unwrap_or_default();
                    reference.kind == kind
                        && reference.name == name
                        && reference
                            .namespace
                            .clone()
                            .filter(|n| !n.is_empty())
                            .unwrap_or(ks_namespace)
                            == namespace
                        && ks
                            .status
                            .as_ref()
                            .and_then(|s| s.last_attempted_revision.as_deref())
                            != Some(current.as_str())
                })
                .map(|ks| ObjectRef::from_obj(ks.as_ref()))
                .collect::<Vec<_>>()
        },
    )
}
