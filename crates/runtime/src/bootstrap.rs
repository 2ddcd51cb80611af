//! What every controller binary does before and around its reconcilers: logging, the
//! Kubernetes client, the metrics and health servers, leader election, and running a
//! kube `Controller` over a filtered watch with the reconcile [`driver`](crate::driver).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ferroflux_api::constants::RECONCILE_REQUESTED_AT_ANNOTATION;
use futures::StreamExt;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::Store;
use kube::runtime::{PredicateConfig, WatchStreamExt, reflector, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use tokio::sync::watch;
use tracing::error;

use crate::clock::SystemClock;
use crate::driver::{self, Context, Reconciler};
use crate::events::EventRecorder;
use crate::flags::RuntimeArgs;
use crate::leader::{LeaderElectionConfig, LeaderElector};
use crate::metrics::Metrics;
use crate::object::FluxObject;
use crate::{logging, server};

/// A started controller process: client, metrics, and leadership.
pub struct Bootstrap {
    /// The controller's name (`source-controller`, ...).
    pub controller: &'static str,
    /// The Kubernetes client.
    pub client: Client,
    /// The configuration the client was built from (for impersonating clients).
    pub config: kube::Config,
    /// The controller's metrics, served on `--metrics-addr`.
    pub metrics: Metrics,
    /// The namespace the controller runs in.
    pub namespace: String,
    /// Turns false when leadership is lost (`None` without leader election).
    pub leading: Option<watch::Receiver<bool>>,
    args: RuntimeArgs,
}

/// Sets up logging, the client, the servers and (if enabled) waits for leadership.
pub async fn start(controller: &'static str, args: &RuntimeArgs) -> anyhow::Result<Bootstrap> {
    logging::init(&args.log_level, &args.log_encoding);
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let config = if args.kubeconfig.is_empty() {
        kube::Config::infer()
            .await
            .context("loading the Kubernetes configuration")?
    } else {
        let kubeconfig = kube::config::Kubeconfig::read_from(&args.kubeconfig)
            .with_context(|| format!("reading kubeconfig {}", args.kubeconfig))?;
        kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .context("loading the kubeconfig")?
    };
    let client = Client::try_from(config.clone()).context("creating the Kubernetes client")?;
    let metrics = Metrics::new();
    tokio::spawn(log_failure(
        "metrics server",
        server::serve_metrics(args.metrics_addr, metrics.clone()),
    ));
    tokio::spawn(log_failure(
        "health server",
        server::serve_health(args.health_addr),
    ));
    let namespace = RuntimeArgs::runtime_namespace();
    let leading = if args.enable_leader_election {
        let election = LeaderElectionConfig::new(controller, &namespace, args);
        Some(LeaderElector::new(client.clone(), election).run().await)
    } else {
        None
    };
    Ok(Bootstrap {
        controller,
        client,
        config,
        metrics,
        namespace,
        leading,
        args: args.clone(),
    })
}

/// Logs the error of a background task that ended.
pub async fn log_failure<E: std::fmt::Display>(
    what: &'static str,
    task: impl Future<Output = Result<(), E>>,
) {
    if let Err(e) = task.await {
        error!(error = %e, "{what} failed");
    }
}

impl Bootstrap {
    /// The reconcile context, with the given status field manager.
    pub fn context(&self, status_manager: &str) -> Arc<Context> {
        Arc::new(Context {
            client: self.client.clone(),
            controller: self.controller,
            status_manager: status_manager.to_owned(),
            recorder: EventRecorder::new(
                self.client.clone(),
                self.controller,
                Some(&self.args.events_addr),
            ),
            metrics: self.metrics.clone(),
            clock: Arc::new(SystemClock),
            jitter_percent: self.args.interval_jitter_percentage,
            status_versions: crate::driver::StatusVersions::default(),
        })
    }

    /// The API of `K` in the watched namespaces (all, or the runtime namespace).
    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>,
    {
        if self.args.watch_all_namespaces {
            Api::all(self.client.clone())
        } else {
            Api::namespaced(self.client.clone(), &self.namespace)
        }
    }

    /// Runs `controllers` until they end or leadership is lost.
    pub async fn run(&self, controllers: impl Future<Output = ()>) -> anyhow::Result<()> {
        if let Some(mut leading) = self.leading.clone() {
            tokio::select! {
                () = controllers => Ok(()),
                _ = leading.wait_for(|leader| !leader) => anyhow::bail!("leader election lost"),
            }
        } else {
            controllers.await;
            Ok(())
        }
    }

    /// Reconciles objects of `K` with `reconciler`, `concurrency` at a time. Only a new
    /// generation, a new `reconcile.fluxcd.io/requestedAt` token or deletion trigger a
    /// reconciliation, as with Flux's predicates; `customize` adds
    /// watches of related kinds, given the store of `K` objects.
    pub async fn reconcile<K, R>(
        &self,
        reconciler: Arc<R>,
        context: Arc<Context>,
        concurrency: u16,
        metrics_name: &'static str,
        customize: impl FnOnce(Controller<K>, Store<K>) -> Controller<K>,
    ) where
        K: FluxObject,
        R: Reconciler<K>,
    {
        let mut config = watcher::Config::default().any_semantic();
        if !self.args.watch_label_selector.is_empty() {
            config = config.labels(&self.args.watch_label_selector);
        }
        let (reader, writer) = reflector::store();
        let stream = watcher(self.api::<K>(), config)
            .default_backoff()
            .reflect(writer)
            .applied_objects()
            .predicate_filter(trigger_hash::<K>, PredicateConfig::default());
        let controller = Controller::for_stream(stream, reader.clone())
            .with_config(kube::runtime::controller::Config::default().concurrency(concurrency));
        let controller = customize(controller, reader);
        let min_retry = self.args.min_retry_delay.max(Duration::from_secs(1));
        let metrics = self.metrics.clone();
        controller
            .shutdown_on_signal()
            .run(
                move |object, context| {
                    let reconciler = reconciler.clone();
                    async move { driver::reconcile(object, reconciler, context).await }
                },
                move |object: Arc<K>, error, _| {
                    error!(name = %object.name_any(), namespace = object.namespace().unwrap_or_default(), error = %error, "reconciliation failed");
                    Action::requeue(min_retry)
                },
                context,
            )
            .for_each(move |result| {
                let metrics = metrics.clone();
                async move {
                    metrics.observe_result(metrics_name, if result.is_ok() { "success" } else { "error" }, Duration::ZERO);
                }
            })
            .await;
    }
}

/// The part of an object whose change warrants a reconciliation.
pub fn trigger_hash<K: Resource>(object: &K) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    object.meta().generation.hash(&mut hasher);
    object
        .annotations()
        .get(RECONCILE_REQUESTED_AT_ANNOTATION)
        .hash(&mut hasher);
    object.meta().deletion_timestamp.is_some().hash(&mut hasher);
    // Finalizers are left out: the driver adds its own and carries on in the same
    // reconciliation, and that change must not start a second one.
    Some(hasher.finish())
}
