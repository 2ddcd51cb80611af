//! A namespace, the objects a test needs, and a running notification-controller.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ferroflux_testkit::{TestNamespace, client, install_crds, wait_for_value};
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{Api, ListParams, PostParams};
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub struct Harness {
    pub client: Client,
    pub namespace: TestNamespace,
    pub events_url: String,
    pub receiver_url: String,
    pub metrics_url: String,
    controller: Option<Child>,
    dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Harness {
    /// A namespace with CRDs installed; the controller starts with [`Harness::start`],
    /// after the test created its objects (the event server only listens once its
    /// watches have listed them).
    pub async fn new(prefix: &str) -> Self {
        let client = client().await;
        install_crds(&client).await;
        let namespace = TestNamespace::new(&client, prefix).await;
        Self {
            client,
            namespace,
            events_url: String::new(),
            receiver_url: String::new(),
            metrics_url: String::new(),
            controller: None,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn ns(&self) -> &str {
        self.namespace.name()
    }

    /// Starts the controller on free loopback ports and waits until both servers listen;
    /// when a port was taken in the meantime (the process exits), tries new ones.
    pub async fn start(&mut self, extra: &[&str]) {
        for _ in 0..3 {
            if self.spawn(extra).await {
                return;
            }
        }
        panic!(
            "the notification-controller did not start; log: {}",
            self.log()
        );
    }

    async fn spawn(&mut self, extra: &[&str]) -> bool {
        let (events, receiver, metrics) = (free_port(), free_port(), free_port());
        let log = self.dir.path().join("controller.log");
        let mut args = vec![
            "--watch-all-namespaces=false".to_owned(),
            format!("--events-addr=127.0.0.1:{events}"),
            format!("--receiverAddr=127.0.0.1:{receiver}"),
            format!("--metrics-addr=127.0.0.1:{metrics}"),
            "--health-addr=127.0.0.1:0".to_owned(),
            "--log-level=debug".to_owned(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_notification-controller"))
            .args(&args)
            .env("RUNTIME_NAMESPACE", self.ns())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the notification-controller binary starts");
        self.events_url = format!("http://127.0.0.1:{events}/");
        self.receiver_url = format!("http://127.0.0.1:{receiver}");
        self.metrics_url = format!("http://127.0.0.1:{metrics}/metrics");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            let listening = tokio::net::TcpStream::connect(("127.0.0.1", events))
                .await
                .is_ok()
                && tokio::net::TcpStream::connect(("127.0.0.1", receiver))
                    .await
                    .is_ok()
                && tokio::net::TcpStream::connect(("127.0.0.1", metrics))
                    .await
                    .is_ok();
            if listening {
                self.controller = Some(child);
                return true;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for the servers to listen; log: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("controller.log")).unwrap_or_default()
    }

    pub async fn create<K>(&self, object: K) -> K
    where
        K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
            + Clone
            + std::fmt::Debug
            + Serialize
            + DeserializeOwned,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), self.ns());
        api.create(&PostParams::default(), &object).await.unwrap()
    }

    pub async fn apply_yaml<K>(&self, value: Value) -> K
    where
        K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
            + Clone
            + std::fmt::Debug
            + Serialize
            + DeserializeOwned,
    {
        let object: K = serde_json::from_value(value).unwrap();
        self.create(object).await
    }

    pub async fn secret(&self, name: &str, data: &[(&str, &str)]) {
        let mut secret = Secret::default();
        secret.metadata.name = Some(name.to_owned());
        secret.string_data = Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
        );
        self.create(secret).await;
    }

    /// A Provider of `type_` whose Secret holds `address` (and `token` when given).
    pub async fn provider(
        &self,
        name: &str,
        type_: &str,
        address: &str,
        token: Option<&str>,
        timeout: &str,
    ) {
        let mut data = vec![("address", address)];
        if let Some(token) = token {
            data.push(("token", token));
        }
        self.secret(&format!("{name}-secret"), &data).await;
        let _: ferroflux_api::notification::v1beta3::Provider = self
            .apply_yaml(json!({
                "apiVersion": "notification.toolkit.fluxcd.io/v1beta3",
                "kind": "Provider",
                "metadata": {"name": name},
                "spec": {"type": type_, "secretRef": {"name": format!("{name}-secret")}, "timeout": timeout},
            }))
            .await;
    }

    /// An Alert for every Kustomization in the namespace.
    pub async fn alert(&self, name: &str, provider: &str, severity: &str, extra: Value) {
        let mut spec = json!({
            "providerRef": {"name": provider},
            "eventSeverity": severity,
            "eventSources": [{"kind": "Kustomization", "name": "*"}],
        });
        if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
            spec.extend(extra);
        }
        let _: ferroflux_api::notification::v1beta3::Alert = self
            .apply_yaml(json!({
                "apiVersion": "notification.toolkit.fluxcd.io/v1beta3",
                "kind": "Alert",
                "metadata": {"name": name},
                "spec": spec,
            }))
            .await;
    }

    /// A Kustomization event as the kustomize-controller posts it.
    pub fn event(&self, severity: &str, reason: &str, message: &str, revision: &str) -> Value {
        json!({
            "involvedObject": {
                "kind": "Kustomization",
                "namespace": self.ns(),
                "name": "webapp",
                "uid": "2b5cbf10-3c3b-4d8e-9b1f-0b7c6a2e0001",
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "resourceVersion": "1",
            },
            "severity": severity,
            "timestamp": "2026-01-01T00:00:00Z",
            "message": message,
            "reason": reason,
            "metadata": {
                "kustomize.toolkit.fluxcd.io/revision": revision,
                "kustomize.toolkit.fluxcd.io/checksum": "dropped",
            },
            "reportingController": "kustomize-controller",
            "reportingInstance": "kustomize-controller-0",
        })
    }

    pub async fn post_event(&self, event: &Value) -> u16 {
        reqwest::Client::new()
            .post(&self.events_url)
            .json(event)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(&self.metrics_url)
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Waits for a Kubernetes Event with `reason` on the named object; returns its message.
    pub async fn wait_event(&self, object: &str, reason: &str) -> String {
        let api: Api<Event> = Api::namespaced(self.client.clone(), self.ns());
        let what = format!("event {reason} on {object}; log: {}", self.log());
        wait_for_value(Duration::from_secs(60), &what, || {
            let api = api.clone();
            async move {
                let params = ListParams::default()
                    .fields(&format!("involvedObject.name={object},reason={reason}"));
                api.list(&params)
                    .await
                    .ok()?
                    .items
                    .into_iter()
                    .next()
                    .and_then(|e| e.message)
            }
        })
        .await
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(mut child) = self.controller.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
