//! Wiring: client, servers, leader election, the artifact server and the controllers.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ferroflux_api::constants::RECONCILE_REQUESTED_AT_ANNOTATION;
use ferroflux_api::source::v1::GitRepository;
use ferroflux_runtime::clock::SystemClock;
use ferroflux_runtime::driver::{self, Context};
use ferroflux_runtime::events::EventRecorder;
use ferroflux_runtime::leader::{LeaderElectionConfig, LeaderElector};
use ferroflux_runtime::metrics::Metrics;
use ferroflux_runtime::{logging, server};
use futures::StreamExt;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client, ResourceExt};
use tracing::{error, info};

use crate::args::Args;
use crate::git::reconciler::GitRepositoryReconciler;

/// Runs the controller until it is stopped or loses leadership.
pub async fn run(args: Args) -> anyhow::Result<()> {
    logging::init(&args.runtime.log_level, &args.runtime.log_encoding);
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = client(&args).await?;
    let metrics = Metrics::new();
    tokio::spawn(log_failure(
        "metrics server",
        server::serve_metrics(args.runtime.metrics_addr, metrics.clone()),
    ));
    tokio::spawn(log_failure(
        "health server",
        server::serve_health(args.runtime.health_addr),
    ));

    let namespace = ferroflux_runtime::flags::RuntimeArgs::runtime_namespace();
    let mut leading = None;
    if args.runtime.enable_leader_election {
        let config = LeaderElectionConfig::new("source-controller", &namespace, &args.runtime);
        leading = Some(LeaderElector::new(client.clone(), config).run().await);
    }

    let storage =
        ferroflux_artifact::Storage::new(args.storage_path.clone(), args.advertised_address());
    // The artifact server runs only on the leader, as in Flux.
    tokio::spawn(log_failure(
        "artifact server",
        ferroflux_artifact::serve(args.storage_path.clone(), args.storage_addr),
    ));

    let context = Arc::new(Context {
        client: client.clone(),
        controller: "source-controller",
        status_manager: "source-controller".to_owned(),
        recorder: EventRecorder::new(
            client.clone(),
            "source-controller",
            Some(&args.runtime.events_addr),
        ),
        metrics,
        clock: Arc::new(SystemClock),
        jitter_percent: args.runtime.interval_jitter_percentage,
    });
    let reconciler = Arc::new(GitRepositoryReconciler::new(storage, &args));
    let api: Api<GitRepository> = if args.runtime.watch_all_namespaces {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), &namespace)
    };
    let controller = watch(api, &args, reconciler, context);
    info!("starting controllers");
    match leading.as_mut() {
        Some(leading) => {
            tokio::select! {
                () = controller => {}
                _ = leading.wait_for(|leader| !leader) => anyhow::bail!("leader election lost"),
            }
        }
        None => controller.await,
    }
    Ok(())
}

async fn client(args: &Args) -> anyhow::Result<Client> {
    let config = if args.runtime.kubeconfig.is_empty() {
        kube::Config::infer()
            .await
            .context("loading the Kubernetes configuration")?
    } else {
        let kubeconfig = kube::config::Kubeconfig::read_from(&args.runtime.kubeconfig)
            .with_context(|| format!("reading kubeconfig {}", args.runtime.kubeconfig))?;
        kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .context("loading the kubeconfig")?
    };
    Client::try_from(config).context("creating the Kubernetes client")
}

async fn log_failure<E: std::fmt::Display>(
    what: &'static str,
    task: impl Future<Output = Result<(), E>>,
) {
    if let Err(e) = task.await {
        error!(error = %e, "{what} failed");
    }
}

/// What makes an object worth reconciling again: a new generation, a new
/// `reconcile.fluxcd.io/requestedAt` token, or deletion. Status updates (including our
/// own) are ignored, as Flux's predicates ignore them.
#[expect(
    clippy::unnecessary_wraps,
    reason = "kube's predicate signature returns Option"
)]
fn trigger_hash(object: &GitRepository) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    object.metadata.generation.hash(&mut hasher);
    object
        .annotations()
        .get(RECONCILE_REQUESTED_AT_ANNOTATION)
        .hash(&mut hasher);
    object
        .metadata
        .deletion_timestamp
        .is_some()
        .hash(&mut hasher);
    object.finalizers().hash(&mut hasher);
    Some(hasher.finish())
}

async fn watch(
    api: Api<GitRepository>,
    args: &Args,
    reconciler: Arc<GitRepositoryReconciler>,
    context: Arc<Context>,
) {
    let mut config = watcher::Config::default().any_semantic();
    if !args.runtime.watch_label_selector.is_empty() {
        config = config.labels(&args.runtime.watch_label_selector);
    }
    let (reader, writer) = reflector::store();
    let stream = watcher(api, config)
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(trigger_hash, kube::runtime::PredicateConfig::default());
    let controller_config =
        kube::runtime::controller::Config::default().concurrency(args.concurrent);
    let min_retry = args.runtime.min_retry_delay;
    let metrics = context.metrics.clone();
    Controller::for_stream(stream, reader)
        .with_config(controller_config)
        .shutdown_on_signal()
        .run(
            move |object, context| {
                let reconciler = reconciler.clone();
                async move { driver::reconcile(object, reconciler, context).await }
            },
            move |object: Arc<GitRepository>, error, _| {
                error!(name = %object.name_any(), namespace = object.namespace().unwrap_or_default(), error = %error, "reconciliation failed");
                Action::requeue(min_retry.max(Duration::from_secs(1)))
            },
            context,
        )
        .for_each(move |result| {
            let metrics = metrics.clone();
            async move {
                let outcome = if result.is_ok() { "success" } else { "error" };
                metrics.observe_result("gitrepository", outcome, Duration::ZERO);
            }
        })
        .await;
}
