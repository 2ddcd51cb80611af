//! Wiring: the shared controller bootstrap, source watches and the reconciler.

use std::sync::Arc;

use ferroflux_api::kustomize::v1::{Kustomization, SourceKind};
use ferroflux_api::source::v1::{Bucket, ExternalArtifact, GitRepository, OCIRepository};
use ferroflux_runtime::bootstrap;
use ferroflux_runtime::watches::{ArtifactSource, refers_to, watch_source};
use kube::ResourceExt;
use kube::runtime::reflector;
use tracing::info;

use crate::args::Args;
use crate::build::BuildSettings;
use crate::clients::Clients;
use crate::reconciler::KustomizationReconciler;
use crate::source::{SourceSettings, SourceStores};

/// Runs the controller until it is stopped or loses leadership.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let process = bootstrap::start("kustomize-controller", &args.runtime).await?;
    let context = process.context("gotk-kustomize-controller");
    let external_artifacts = args.runtime.feature_enabled("ExternalArtifact", false);
    let (git_repositories, git_writer) = reflector::store();
    let (oci_repositories, oci_writer) = reflector::store();
    let (buckets, bucket_writer) = reflector::store();
    let (external_store, external_writer) = reflector::store();
    let reconciler = Arc::new(KustomizationReconciler {
        sources: SourceSettings {
            no_cross_namespace_refs: args.runtime.no_cross_namespace_refs,
            external_artifacts,
            requeue_dependency: args.runtime.requeue_dependency,
            additive_cel_dependency_check: args
                .runtime
                .feature_enabled("AdditiveCELDependencyCheck", false),
            http_retry: args.http_retry,
            stores: Some(SourceStores {
                git_repositories,
                oci_repositories,
                buckets,
                external_artifacts: external_store,
            }),
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
            let controller = watch_source(
                controller,
                &client,
                &store,
                git_writer,
                wants::<GitRepository>(SourceKind::GitRepository),
            );
            let controller = watch_source(
                controller,
                &client,
                &store,
                oci_writer,
                wants::<OCIRepository>(SourceKind::OciRepository),
            );
            let controller = watch_source(
                controller,
                &client,
                &store,
                bucket_writer,
                wants::<Bucket>(SourceKind::Bucket),
            );
            if external_artifacts {
                watch_source(
                    controller,
                    &client,
                    &store,
                    external_writer,
                    wants::<ExternalArtifact>(SourceKind::ExternalArtifact),
                )
            } else {
                controller
            }
        },
    );
    process.run(controller).await
}

/// Flux's source watch: a Kustomization wants a source of `kind` it refers to whose
/// artifact revision is not the one it last attempted.
fn wants<S: ArtifactSource>(
    kind: SourceKind,
) -> impl Fn(&Kustomization, &S, &str) -> bool + Send + Sync + 'static {
    move |ks, source, revision| {
        let reference = &ks.spec.source_ref;
        reference.kind == kind
            && refers_to(
                source,
                &reference.name,
                reference.namespace.as_deref(),
                &ks.namespace().unwrap_or_default(),
            )
            && ks
                .status
                .as_ref()
                .and_then(|s| s.last_attempted_revision.as_deref())
                != Some(revision)
    }
}
