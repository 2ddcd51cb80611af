//! HelmRepository and HelmChart: Helm repository indexes and charts as artifacts.
//!
//! [`repository`] turns a HelmRepository's `index.yaml` into a stored JSON index;
//! [`chart`] resolves a HelmChart against a HelmRepository index or an OCI registry
//! ([`oci`]), or packages it from a GitRepository or Bucket artifact ([`build`]), storing
//! `<name>-<version>.tgz`.

pub mod build;
pub mod chart;
pub mod deps;
pub mod error;
pub mod fast_yaml;
pub mod http;
pub mod index;
pub mod oci;
pub mod repository;
pub mod status;
pub mod watch;

use std::sync::Arc;

use ferroflux_api::source::v1::{
    Bucket, GitRepository, HelmChart, HelmChartSourceKind, HelmRepository,
};
use ferroflux_runtime::bootstrap::Bootstrap;
use ferroflux_runtime::driver::Context;
use ferroflux_runtime::watches::watch_source;
use kube::runtime::reflector;

use crate::args::Args;
use crate::storage::SourceStorage;

/// Runs the HelmRepository and HelmChart controllers (HelmCharts also react to artifact
/// changes of their HelmRepository, GitRepository or Bucket).
pub async fn run_controllers(
    process: &Bootstrap,
    storage: ferroflux_artifact::Storage,
    args: &Args,
    context: Arc<Context>,
) {
    let limits = repository::HelmLimits {
        index_max_size: args.helm_index_max_size,
        chart_max_size: args.helm_chart_max_size,
        chart_file_max_size: args.helm_chart_file_max_size,
    };
    let files = Arc::new(storage.clone());
    let retention = SourceStorage::new(
        storage,
        args.artifact_retention_ttl,
        args.artifact_retention_records,
    );
    let repositories = process.reconcile::<HelmRepository, _>(
        Arc::new(repository::HelmRepositoryReconciler::new(
            retention.clone(),
            files.clone(),
            limits,
        )),
        context.clone(),
        args.concurrent,
        "helmrepository",
        |c, _| c,
    );
    let client = process.client.clone();
    // The source watches that enqueue HelmCharts also keep the caches the reconciler
    // reads its sources from (as Flux reads through its informer cache).
    let (helm_repositories, helm_writer) = reflector::store::<HelmRepository>();
    let (git_repositories, git_writer) = reflector::store::<GitRepository>();
    let (buckets, bucket_writer) = reflector::store::<Bucket>();
    let stores = chart::SourceStores {
        helm_repositories,
        git_repositories,
        buckets,
    };
    let charts = process.reconcile::<HelmChart, _>(
        Arc::new(chart::HelmChartReconciler::new(retention, files, limits).with_stores(stores)),
        context,
        args.concurrent,
        "helmchart",
        move |controller, store| {
            let controller = watch_source(
                controller,
                &client,
                &store,
                helm_writer,
                watch::wants::<HelmRepository>(HelmChartSourceKind::HelmRepository),
            );
            let controller = watch_source(
                controller,
                &client,
                &store,
                git_writer,
                watch::wants::<GitRepository>(HelmChartSourceKind::GitRepository),
            );
            watch_source(
                controller,
                &client,
                &store,
                bucket_writer,
                watch::wants::<Bucket>(HelmChartSourceKind::Bucket),
            )
        },
    );
    tokio::join!(repositories, charts);
}
