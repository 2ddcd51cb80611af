//! Wiring: client, metrics and health servers, the in-memory index, the event and
//! webhook servers (every replica), and the Receiver controller (leader only).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ferroflux_api::constants::NOTIFICATION_CONTROLLER;
use ferroflux_api::notification::v1::Receiver;
use ferroflux_runtime::clock::SystemClock;
use ferroflux_runtime::driver::{self, Context};
use ferroflux_runtime::events::EventRecorder;
use ferroflux_runtime::flags::RuntimeArgs;
use ferroflux_runtime::leader::{LeaderElectionConfig, LeaderElector};
use ferroflux_runtime::metrics::Metrics;
use ferroflux_runtime::{logging, server};
use futures::StreamExt;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client, ResourceExt};
use tracing::{error, info};

use crate::args::Args;
use crate::dispatch::{DispatchMetrics, Dispatcher};
use crate::event::ratelimit::RateLimiter;
use crate::event::server::{self as event_server, EventServer};
use crate::http_metrics::HttpMetrics;
use crate::index::Index;
use crate::provider::send::Backoff;
use crate::receiver::reconciler::ReceiverReconciler;
use crate::receiver::server::{self as receiver_server, ReceiverServer};

/// Runs the controller until it is stopped or loses leadership.
pub async fn run(args: Args) -> anyhow::Result<()> {
    logging::init(&args.runtime.log_level, &args.runtime.log_encoding);
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let events_addr = args
        .events_addr()
        .map_err(|e| anyhow::anyhow!("--events-addr: {e}"))?;
    let client = client(&args).await?;
    let metrics = Metrics::new();
    let dispatch_metrics = DispatchMetrics::register(&metrics);
    let event_metrics =
        HttpMetrics::register(&metrics, "gotk_event", "/", args.export_http_path_metrics);
    let receiver_metrics = HttpMetrics::register(
        &metrics,
        "gotk_receiver",
        crate::receiver::WEBHOOK_PATH_PREFIX,
        args.export_http_path_metrics,
    );
    tokio::spawn(log_failure(
        "metrics server",
        server::serve_metrics(args.runtime.metrics_addr, metrics.clone()),
    ));
    tokio::spawn(log_failure(
        "health server",
        server::serve_health(args.runtime.health_addr),
    ));

    let namespace = RuntimeArgs::runtime_namespace();
    let scope = (!args.runtime.watch_all_namespaces).then_some(namespace.as_str());
    let index = Index::start(&client, scope);
    let recorder = EventRecorder::new(client.clone(), NOTIFICATION_CONTROLLER, None);
    let dispatcher = Arc::new(Dispatcher {
        client: client.clone(),
        recorder: recorder.clone(),
        index: index.clone(),
        metrics: dispatch_metrics,
        no_cross_namespace_refs: args.runtime.no_cross_namespace_refs,
        backoff: Backoff::default(),
    });
    let events = Arc::new(EventServer {
        client: client.clone(),
        index: index.clone(),
        limiter: RateLimiter::new(args.rate_limit_interval),
        dispatcher,
        recorder: recorder.clone(),
    });
    let receivers = Arc::new(ReceiverServer {
        client: client.clone(),
        receivers: index.receivers(),
        no_cross_namespace_refs: args.runtime.no_cross_namespace_refs,
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()?,
        gcr_certs_url: args.gcr_certs_url.clone(),
    });
    let receiver_addr = args.receiver_addr;
    let ready = index.clone();
    tokio::spawn(async move {
        // Serve only once the watches have listed everything: an event matched against
        // an empty index would be dropped.
        ready.wait_ready().await;
        tokio::spawn(log_failure(
            "event server",
            event_server::serve(events_addr, event_server::router(events, event_metrics)),
        ));
        log_failure(
            "webhook receiver server",
            receiver_server::serve(
                receiver_addr,
                receiver_server::router(receivers, receiver_metrics),
            ),
        )
        .await;
    });

    let mut leading = None;
    if args.runtime.enable_leader_election {
        let config = LeaderElectionConfig::new(NOTIFICATION_CONTROLLER, &namespace, &args.runtime);
        leading = Some(LeaderElector::new(client.clone(), config).run().await);
    }
    let context = Arc::new(Context {
        client: client.clone(),
        controller: NOTIFICATION_CONTROLLER,
        status_manager: NOTIFICATION_CONTROLLER.to_owned(),
        recorder,
        metrics,
        clock: Arc::new(SystemClock),
        jitter_percent: args.runtime.interval_jitter_percentage,
        status_versions: ferroflux_runtime::driver::StatusVersions::default(),
    });
    let api: Api<Receiver> = match scope {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    };
    let controller = watch_receivers(api, &args, context);
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
        // A server that cannot listen makes the controller useless, as in Flux.
        std::process::exit(1);
    }
}

async fn watch_receivers(api: Api<Receiver>, args: &Args, context: Arc<Context>) {
    let mut config = watcher::Config::default().any_semantic();
    if !args.runtime.watch_label_selector.is_empty() {
        config = config.labels(&args.runtime.watch_label_selector);
    }
    let (reader, writer) = reflector::store();
    let stream = watcher(api, config)
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(
            ferroflux_runtime::bootstrap::trigger_hash::<Receiver>,
            kube::runtime::PredicateConfig::default(),
        );
    let controller_config =
        kube::runtime::controller::Config::default().concurrency(args.concurrent);
    let min_retry = args.runtime.min_retry_delay;
    let metrics = context.metrics.clone();
    let reconciler = Arc::new(ReceiverReconciler);
    Controller::for_stream(stream, reader)
        .with_config(controller_config)
        .shutdown_on_signal()
        .run(
            move |object, context| {
                let reconciler = reconciler.clone();
                async move { driver::reconcile(object, reconciler, context).await }
            },
            move |object: Arc<Receiver>, error, _| {
                error!(name = %object.name_any(), namespace = object.namespace().unwrap_or_default(), error = %error, "reconciliation failed");
                Action::requeue(min_retry.max(Duration::from_secs(1)))
            },
            context,
        )
        .for_each(move |result| {
            let metrics = metrics.clone();
            async move {
                let outcome = if result.is_ok() { "success" } else { "error" };
                metrics.observe_result("receiver", outcome, Duration::ZERO);
            }
        })
        .await;
}
