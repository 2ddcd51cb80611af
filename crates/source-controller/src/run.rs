//! Wiring: the shared controller bootstrap, the artifact server and the reconcilers.

use std::sync::Arc;

use ferroflux_api::source::v1::{Bucket, GitRepository, OCIRepository};
use ferroflux_runtime::bootstrap::{self, log_failure};
use tracing::info;

use crate::args::Args;
use crate::bucket::reconciler::BucketReconciler;
use crate::git::reconciler::GitRepositoryReconciler;
use crate::oci::reconciler::OCIRepositoryReconciler;

/// Runs the controller until it is stopped or loses leadership.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let process = bootstrap::start("source-controller", &args.runtime).await?;
    let storage =
        ferroflux_artifact::Storage::new(args.storage_path.clone(), args.advertised_address());
    // Started after leader election: only the leader serves artifacts, as in Flux.
    tokio::spawn(log_failure(
        "artifact server",
        ferroflux_artifact::serve(args.storage_path.clone(), args.storage_addr),
    ));
    // Flux's source-controller writes status with its own name as field manager.
    let context = process.context("source-controller");
    let reconciler = Arc::new(GitRepositoryReconciler::new(storage.clone(), &args));
    info!("starting controllers");
    let git = process.reconcile::<GitRepository, _>(
        reconciler,
        context.clone(),
        args.concurrent,
        "gitrepository",
        |c, _| c,
    );
    let oci = process.reconcile::<OCIRepository, _>(
        Arc::new(OCIRepositoryReconciler::new(storage.clone(), &args)),
        context.clone(),
        args.concurrent,
        "ocirepository",
        |c, _| c,
    );
    let bucket = process.reconcile::<Bucket, _>(
        Arc::new(BucketReconciler::new(storage.clone(), &args)),
        context.clone(),
        args.concurrent,
        "bucket",
        |c, _| c,
    );
    let helm = crate::helm::run_controllers(&process, storage.clone(), &args, context.clone());
    // One line per kind below; each reconciler runs its own watch and work queue.
    let controllers = async move {
        tokio::join!(git, oci, bucket, helm);
    };
    Box::pin(process.run(controllers)).await
}
