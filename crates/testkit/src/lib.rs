//! Test-only helpers for tests that run against the real control plane started by
//! `cargo xtask testenv up`.
//!
//! Tests never skip silently: without `KUBECONFIG` pointing at a reachable cluster,
//! [`client`] panics with instructions. Each test works in its own namespace
//! ([`TestNamespace`]) and waits on conditions with timeouts, never on sleeps alone.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, Config};
use tokio::sync::OnceCell;

pub mod controller;
pub mod git_server;
pub mod helm_repo;
pub mod registry;
pub mod s3;
pub mod tools;
pub mod yaml_corpus;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// A client for the test cluster. Panics with instructions when there is none.
pub async fn client() -> Client {
    let hint = "these tests need the real control plane: run `cargo xtask testenv up` and \
                `export KUBECONFIG=...` as it prints (or run the whole suite with `cargo xtask ci`)";
    assert!(
        std::env::var_os("KUBECONFIG").is_some(),
        "KUBECONFIG is not set; {hint}"
    );
    let config = Config::infer()
        .await
        .unwrap_or_else(|e| panic!("cannot load KUBECONFIG ({e}); {hint}"));
    let client =
        Client::try_from(config).unwrap_or_else(|e| panic!("cannot build a client ({e}); {hint}"));
    client
        .apiserver_version()
        .await
        .unwrap_or_else(|e| panic!("the API server does not answer ({e}); {hint}"));
    client
}

/// Installs ferroflux's CRDs (server-side apply) once per test process and waits until
/// they are established.
pub async fn install_crds(client: &Client) {
    static INSTALLED: OnceCell<()> = OnceCell::const_new();
    INSTALLED
        .get_or_init(|| async {
            let api: Api<CustomResourceDefinition> = Api::all(client.clone());
            let params = PatchParams::apply("ferroflux-tests").force();
            for crd in ferroflux_api::crds() {
                let name = crd.crd.metadata.name.clone().expect("CRDs have names");
                api.patch(&name, &params, &Patch::Apply(&crd.crd))
                    .await
                    .unwrap_or_else(|e| panic!("applying CRD {name}: {e}"));
                wait_for(
                    Duration::from_secs(30),
                    &format!("CRD {name} to be established"),
                    || {
                        let api = api.clone();
                        let name = name.clone();
                        async move {
                            api.get(&name)
                                .await
                                .ok()
                                .and_then(|crd| crd.status)
                                .and_then(|s| s.conditions)
                                .is_some_and(|conditions| {
                                    conditions
                                        .iter()
                                        .any(|c| c.type_ == "Established" && c.status == "True")
                                })
                        }
                    },
                )
                .await;
            }
        })
        .await;
}

/// A namespace that exists for one test and is deleted (in the background) when dropped.
pub struct TestNamespace {
    name: String,
}

impl TestNamespace {
    /// Creates `<prefix>-<random>`.
    pub async fn new(client: &Client, prefix: &str) -> Self {
        let name = format!("{prefix}-{:08x}", rand::random::<u32>());
        let api: Api<Namespace> = Api::all(client.clone());
        let namespace: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"ferroflux.dev/test": "true"}}
        }))
        .expect("a valid Namespace");
        api.create(&PostParams::default(), &namespace)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
        Self { name }
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        // The test's runtime is shutting down here, so an async delete would never run:
        // ask kubectl (same KUBECONFIG) in the background, without waiting. The test's
        // controllers are gone by now, so the finalizers of their Flux objects are removed
        // too; otherwise the namespace would stay Terminating and the namespace controller
        // would keep listing every kind in it, loading the API server for later tests.
        let script = format!(
            "kubectl delete namespace {ns} --wait=false --ignore-not-found; \
             kubectl get {FLUX_KINDS} -n {ns} -o name 2>/dev/null \
             | xargs -r -n 50 kubectl patch -n {ns} --type=merge -p '{{\"metadata\":{{\"finalizers\":null}}}}'",
            ns = self.name
        );
        let _ = std::process::Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

/// Every Flux kind whose controller puts a finalizer on it.
const FLUX_KINDS: &str = "gitrepositories.source.toolkit.fluxcd.io,\
helmrepositories.source.toolkit.fluxcd.io,helmcharts.source.toolkit.fluxcd.io,\
ocirepositories.source.toolkit.fluxcd.io,buckets.source.toolkit.fluxcd.io,\
kustomizations.kustomize.toolkit.fluxcd.io,helmreleases.helm.toolkit.fluxcd.io,\
alerts.notification.toolkit.fluxcd.io,providers.notification.toolkit.fluxcd.io,\
receivers.notification.toolkit.fluxcd.io";

/// Copies the directory tree `from` to `to` (test fixtures); panics on any error.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Polls `check` every 100 ms until it returns true; panics naming `what` after `timeout`.
pub async fn wait_for<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `get` until it returns `Some`, returning the value; panics after `timeout`.
pub async fn wait_for_value<T, F, Fut>(timeout: Duration, what: &str, mut get: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = get().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
