//! HelmRepository and HelmChart: Helm repository indexes and charts as artifacts.
//!
//! [`repository`] turns a HelmRepository's `index.yaml` into a stored JSON index;
//! [`chart`] resolves a HelmChart against a HelmRepository index or packages it from a
//! GitRepository or Bucket artifact ([`build`]), storing `<name>-<version>.tgz`.

pub mod build;
pub mod chart;
pub mod deps;
pub mod error;
pub mod fast_yaml;
pub mod http;
pub mod index;
pub mod repository;
pub mod status;
pub mod watch;

use std::sync::Arc;

use ferroflux_api::source::v1::{
    Bucket, GitRepository, HelmChart, HelmChartSourceKind, HelmRepository,
};
use ferroflux_runtime::bootstrap::Bootstrap;
use ferroflux_runtime::driver::Context;

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
    let charts = process.reconcile::<HelmChart, _>(
        Arc::new(chart::HelmChartReconciler::new(retention, files, limits)),
        context,
        args.concurrent,
        "helmchart",
        move |controller, store| {
            let revision =
                |a: Option<&ferroflux_api::meta::Artifact>| a.map(|a| a.revision.clone());
            let controller = watch::watch_source::<HelmRepository>(
                controller,
                &client,
                &store,
                HelmChartSourceKind::HelmRepository,
                move |s| revision(s.status.as_ref().and_then(|s| s.artifact.as_ref())),
            );
            let controller = watch::watch_source::<GitRepository>(
                controller,
                &client,
                &store,
                HelmChartSourceKind::GitRepository,
                move |s| revision(s.status.as_ref().and_then(|s| s.artifact.as_ref())),
            );
            watch::watch_source::<Bucket>(
                controller,
                &client,
                &store,
                HelmChartSourceKind::Bucket,
                move |s| revision(s.status.as_ref().and_then(|s| s.artifact.as_ref())),
            )
        },
    );
    tokio::join!(repositories, charts);
}
